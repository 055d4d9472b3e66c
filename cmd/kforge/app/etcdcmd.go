package app

import (
	"context"
	"fmt"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"kforge.dev/kforge/controlplane/etcd"
)

// commandContext ends on SIGINT or SIGTERM, so long-running components stop cleanly.
func commandContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
}

func newEtcdCommand(s Streams) *cobra.Command {
	c := etcd.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "etcd",
		Short: "Run an etcd member (etcd's flags), or operate on an etcd cluster",
		Long: `kforge etcd runs an etcd member inside the kforge binary. It takes etcd's own flags, so a
kubeadm-style etcd static pod or systemd unit works with 'kforge etcd' in place of 'etcd'.

The subcommands operate on a running cluster with etcdctl's connection flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			m := etcd.NewMember(c)
			if err := m.Init(ctx); err != nil {
				return err
			}
			if err := m.Start(ctx); err != nil {
				return err
			}
			fmt.Fprintf(s.ErrOut, "etcd member %s serving clients on %s\n", c.Name, strings.Join(m.ClientURLs(), ","))
			select {
			case <-ctx.Done():
			case err := <-m.Done():
				m.Stop(context.WithoutCancel(ctx))
				return fmt.Errorf("etcd: member stopped: %w", err)
			}
			return m.Stop(context.WithoutCancel(ctx))
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.Name, "name", c.Name, "Human-readable name for this member")
	f.StringVar(&c.DataDir, "data-dir", c.DataDir, "Path to the data directory")
	f.StringSliceVar(&c.ListenClientURLs, "listen-client-urls", c.ListenClientURLs, "List of URLs to listen on for client traffic")
	f.StringSliceVar(&c.AdvertiseClientURLs, "advertise-client-urls", c.AdvertiseClientURLs, "List of this member's client URLs to advertise to the public")
	f.StringSliceVar(&c.ListenPeerURLs, "listen-peer-urls", c.ListenPeerURLs, "List of URLs to listen on for peer traffic")
	f.StringSliceVar(&c.InitialAdvertisePeerURLs, "initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, "List of this member's peer URLs to advertise to the rest of the cluster")
	f.StringSliceVar(&c.ListenMetricsURLs, "listen-metrics-urls", nil, "List of URLs to listen on for the metrics and health endpoints")
	f.StringVar(&c.InitialCluster, "initial-cluster", c.InitialCluster, "Initial cluster configuration for bootstrapping (name=peerURL,...)")
	f.StringVar(&c.InitialClusterState, "initial-cluster-state", c.InitialClusterState, "Initial cluster state ('new' or 'existing')")
	f.StringVar(&c.InitialClusterToken, "initial-cluster-token", c.InitialClusterToken, "Initial cluster token for the etcd cluster during bootstrap")
	f.StringVar(&c.CertFile, "cert-file", "", "Path to the client server TLS cert file")
	f.StringVar(&c.KeyFile, "key-file", "", "Path to the client server TLS key file")
	f.StringVar(&c.TrustedCAFile, "trusted-ca-file", "", "Path to the client server TLS trusted CA cert file")
	f.BoolVar(&c.ClientCertAuth, "client-cert-auth", false, "Enable client cert authentication")
	f.StringVar(&c.PeerCertFile, "peer-cert-file", "", "Path to the peer server TLS cert file")
	f.StringVar(&c.PeerKeyFile, "peer-key-file", "", "Path to the peer server TLS key file")
	f.StringVar(&c.PeerTrustedCAFile, "peer-trusted-ca-file", "", "Path to the peer server TLS trusted CA file")
	f.BoolVar(&c.PeerClientCertAuth, "peer-client-cert-auth", false, "Enable peer client cert authentication")
	f.Uint64Var(&c.SnapshotCount, "snapshot-count", c.SnapshotCount, "Number of committed transactions to trigger a snapshot to disk")
	f.StringVar(&c.AutoCompactionMode, "auto-compaction-mode", c.AutoCompactionMode, "Interpret 'auto-compaction-retention' as 'periodic' or 'revision'")
	f.StringVar(&c.AutoCompactionRetention, "auto-compaction-retention", "", "Auto compaction retention (e.g. 1h, or a revision count)")
	f.Int64Var(&c.QuotaBackendBytes, "quota-backend-bytes", 0, "Raise alarms when backend size exceeds the given quota (0 defaults to low space quota)")
	f.StringVar(&c.LogLevel, "log-level", c.LogLevel, "Log level: debug, info, warn, error")

	conn := &etcd.ClientConfig{}
	p := cmd.PersistentFlags()
	p.StringSliceVar(&conn.Endpoints, "endpoints", []string{"https://127.0.0.1:2379"}, "gRPC endpoints (subcommands)")
	p.StringVar(&conn.CAFile, "cacert", "", "Verify certificates of TLS-enabled secure servers using this CA bundle (subcommands)")
	p.StringVar(&conn.CertFile, "cert", "", "Identify secure client using this TLS certificate file (subcommands)")
	p.StringVar(&conn.KeyFile, "key", "", "Identify secure client using this TLS key file (subcommands)")
	cmd.AddCommand(newEtcdMemberCommand(s, conn), newEtcdHealthCommand(s, conn), newEtcdSnapshotCommand(s, conn))
	return cmd
}

// withClient connects with the subcommand flags and runs fn.
func withClient(cmd *cobra.Command, conn *etcd.ClientConfig, fn func(context.Context, *etcd.Client) error) error {
	ctx, cancel := commandContext(cmd)
	defer cancel()
	c, err := etcd.NewClient(*conn)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

func newEtcdMemberCommand(s Streams, conn *etcd.ClientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "member", Short: "Membership commands", Args: cobra.NoArgs}
	list := &cobra.Command{Use: "list", Short: "List the cluster's members", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, conn, func(ctx context.Context, c *etcd.Client) error {
				ms, err := c.MemberList(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tPEER ADDRS\tCLIENT ADDRS\tLEARNER")
				for _, m := range ms {
					fmt.Fprintf(tw, "%x\t%s\t%s\t%s\t%v\n", m.ID, m.Name, strings.Join(m.PeerURLs, ","), strings.Join(m.ClientURLs, ","), m.IsLearner)
				}
				return tw.Flush()
			})
		}}
	var peerURLs []string
	var learner bool
	add := &cobra.Command{Use: "add NAME --peer-urls URL", Short: "Add a member; prints the --initial-cluster it must start with", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(peerURLs) == 0 {
				return fmt.Errorf("member add: --peer-urls is required (the new member's --initial-advertise-peer-urls)")
			}
			return withClient(cmd, conn, func(ctx context.Context, c *etcd.Client) error {
				m, cluster, err := c.MemberAdd(ctx, args[0], peerURLs, learner)
				if err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "Member %x added to the cluster\n\nETCD_NAME=%q\nETCD_INITIAL_CLUSTER=%q\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n", m.ID, args[0], cluster)
				return nil
			})
		}}
	add.Flags().StringSliceVar(&peerURLs, "peer-urls", nil, "The new member's peer URLs")
	add.Flags().BoolVar(&learner, "learner", false, "Add as a learner (promote it once it caught up)")
	remove := &cobra.Command{Use: "remove ID", Short: "Remove a member by its hexadecimal ID", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 16, 64)
			if err != nil {
				return fmt.Errorf("member remove: %q is not a hexadecimal member ID (see 'kforge etcd member list')", args[0])
			}
			return withClient(cmd, conn, func(ctx context.Context, c *etcd.Client) error {
				if err := c.MemberRemove(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "Member %x removed from the cluster\n", id)
				return nil
			})
		}}
	promote := &cobra.Command{Use: "promote ID", Short: "Promote a learner to a voting member", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 16, 64)
			if err != nil {
				return fmt.Errorf("member promote: %q is not a hexadecimal member ID", args[0])
			}
			return withClient(cmd, conn, func(ctx context.Context, c *etcd.Client) error {
				if err := c.MemberPromote(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "Member %x promoted\n", id)
				return nil
			})
		}}
	cmd.AddCommand(list, add, remove, promote)
	return cmd
}

func newEtcdHealthCommand(s Streams, conn *etcd.ClientConfig) *cobra.Command {
	return &cobra.Command{Use: "health", Short: "Check the health of each endpoint", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			c, err := etcd.NewClient(*conn)
			if err != nil {
				return err
			}
			defer c.Close()
			bad := 0
			for _, h := range c.Health(ctx) {
				if h.Healthy {
					fmt.Fprintf(s.Out, "%s is healthy: took = %s\n", h.Endpoint, h.Took.Round(1000))
				} else {
					bad++
					fmt.Fprintf(s.Out, "%s is unhealthy: %s\n", h.Endpoint, h.Error)
				}
			}
			if bad > 0 {
				return fmt.Errorf("etcd: %d unhealthy endpoint(s)", bad)
			}
			return nil
		}}
}

func newEtcdSnapshotCommand(s Streams, conn *etcd.ClientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "snapshot", Short: "Save or restore etcd snapshots", Args: cobra.NoArgs}
	save := &cobra.Command{Use: "save FILE", Short: "Save a snapshot of the first endpoint's member", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, conn, func(ctx context.Context, c *etcd.Client) error {
				if err := c.SnapshotSave(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "Snapshot saved at %s\n", args[0])
				return nil
			})
		}}
	rc := etcd.RestoreConfig{}
	restore := &cobra.Command{Use: "restore FILE --data-dir DIR", Short: "Restore a snapshot into a new data directory", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rc.SnapshotPath = args[0]
			if rc.DataDir == "" {
				return fmt.Errorf("snapshot restore: --data-dir is required (a directory that does not exist yet)")
			}
			if err := etcd.SnapshotRestore(rc); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "Snapshot restored into %s; start the member with --data-dir %s\n", rc.DataDir, rc.DataDir)
			return nil
		}}
	restore.Flags().StringVar(&rc.DataDir, "data-dir", "", "Path to the new data directory")
	restore.Flags().StringVar(&rc.Name, "name", "default", "Human-readable name for the restored member")
	restore.Flags().StringSliceVar(&rc.PeerURLs, "initial-advertise-peer-urls", []string{"http://localhost:2380"}, "The restored member's peer URLs")
	restore.Flags().StringVar(&rc.InitialCluster, "initial-cluster", "", "Initial cluster configuration (default: this member alone)")
	restore.Flags().StringVar(&rc.InitialClusterToken, "initial-cluster-token", "etcd-cluster", "Initial cluster token")
	cmd.AddCommand(save, restore)
	return cmd
}
