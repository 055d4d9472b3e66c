package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"kforge.dev/kforge/controlplane/etcd"
)

// commandContext ends on SIGINT or SIGTERM, so long-running components stop cleanly.
func commandContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
}

// etcdStopTimeout bounds a member's shutdown after a signal.
const etcdStopTimeout = 30 * time.Second

func newEtcdCommand(s Streams) *cobra.Command {
	c := etcd.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "etcd [flags]",
		Short: "Run an etcd member (etcd's flags), or operate on an etcd cluster",
		Long: `kforge etcd runs an etcd member inside the kforge binary. It takes etcd's own flags, so a
kubeadm-style etcd static pod or systemd unit runs 'kforge etcd' in place of 'etcd'. It logs
to stderr and stops cleanly on SIGINT or SIGTERM.

A stacked control-plane member, as kubeadm lays it out:

  kforge etcd --name cp1 --data-dir /var/lib/etcd \
    --listen-client-urls https://127.0.0.1:2379,https://10.0.0.5:2379 \
    --advertise-client-urls https://10.0.0.5:2379 \
    --listen-peer-urls https://10.0.0.5:2380 --initial-advertise-peer-urls https://10.0.0.5:2380 \
    --initial-cluster cp1=https://10.0.0.5:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --cert-file /etc/kubernetes/pki/etcd/server.crt --key-file /etc/kubernetes/pki/etcd/server.key \
    --trusted-ca-file /etc/kubernetes/pki/etcd/ca.crt --client-cert-auth \
    --peer-cert-file /etc/kubernetes/pki/etcd/peer.crt --peer-key-file /etc/kubernetes/pki/etcd/peer.key \
    --peer-trusted-ca-file /etc/kubernetes/pki/etcd/ca.crt --peer-client-cert-auth

The subcommands operate on a running cluster and take etcdctl's connection flags:

  kforge etcd health --endpoints https://127.0.0.1:2379 --cacert /etc/kubernetes/pki/etcd/ca.crt \
    --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.LogOutput = s.ErrOut
			return runEtcdMember(cmd, s, c)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&c.Name, "name", c.Name, "Human-readable name for this member")
	f.StringVar(&c.DataDir, "data-dir", c.DataDir, "Path to the data directory")
	f.StringSliceVar(&c.ListenClientURLs, "listen-client-urls", c.ListenClientURLs, "List of URLs to listen on for client traffic")
	f.StringSliceVar(&c.AdvertiseClientURLs, "advertise-client-urls", c.AdvertiseClientURLs, "List of this member's client URLs to advertise to the public")
	f.StringSliceVar(&c.ListenPeerURLs, "listen-peer-urls", c.ListenPeerURLs, "List of URLs to listen on for peer traffic")
	f.StringSliceVar(&c.InitialAdvertisePeerURLs, "initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, "List of this member's peer URLs to advertise to the rest of the cluster")
	f.StringVar(&c.InitialCluster, "initial-cluster", c.InitialCluster, "Initial cluster configuration for bootstrapping (name=peerURL,...)")
	f.StringVar(&c.InitialClusterState, "initial-cluster-state", c.InitialClusterState, "Initial cluster state: new, or existing to join a running cluster after 'kforge etcd member add'")
	f.StringVar(&c.InitialClusterToken, "initial-cluster-token", c.InitialClusterToken, "Initial cluster token for the etcd cluster during bootstrap")
	f.StringSliceVar(&c.ListenMetricsURLs, "listen-metrics-urls", nil, "List of URLs to serve /metrics and /health on (for probes)")
	f.StringVar(&c.CertFile, "cert-file", "", "Path to the client server TLS cert file (etcd/server.crt)")
	f.StringVar(&c.KeyFile, "key-file", "", "Path to the client server TLS key file (etcd/server.key)")
	f.StringVar(&c.TrustedCAFile, "trusted-ca-file", "", "Path to the client server TLS trusted CA cert file (etcd/ca.crt)")
	f.BoolVar(&c.ClientCertAuth, "client-cert-auth", false, "Enable client cert authentication")
	f.StringVar(&c.PeerCertFile, "peer-cert-file", "", "Path to the peer server TLS cert file (etcd/peer.crt)")
	f.StringVar(&c.PeerKeyFile, "peer-key-file", "", "Path to the peer server TLS key file (etcd/peer.key)")
	f.StringVar(&c.PeerTrustedCAFile, "peer-trusted-ca-file", "", "Path to the peer server TLS trusted CA file (etcd/ca.crt)")
	f.BoolVar(&c.PeerClientCertAuth, "peer-client-cert-auth", false, "Enable peer client cert authentication")
	f.Uint64Var(&c.SnapshotCount, "snapshot-count", c.SnapshotCount, "Number of committed transactions to trigger a snapshot to disk")
	f.StringVar(&c.AutoCompactionRetention, "auto-compaction-retention", c.AutoCompactionRetention, "Auto compaction retention: a duration (1h) or hours in periodic mode, revisions in revision mode; 0 disables")
	f.StringVar(&c.AutoCompactionMode, "auto-compaction-mode", c.AutoCompactionMode, "Interpret --auto-compaction-retention as periodic or revision")
	f.Int64Var(&c.QuotaBackendBytes, "quota-backend-bytes", 0, "Raise alarms when backend size exceeds the given quota (0 defaults to 2 GiB)")
	f.StringVar(&c.LogLevel, "log-level", c.LogLevel, "Log level: debug, info, warn, error, panic or fatal")

	cmd.AddCommand(newEtcdMemberCommand(s), newEtcdHealthCommand(s), newEtcdSnapshotCommand(s))
	return cmd
}

// runEtcdMember runs the member until a signal, or until it fails.
func runEtcdMember(cmd *cobra.Command, s Streams, c etcd.Config) error {
	ctx, cancel := commandContext(cmd)
	defer cancel()
	m := etcd.NewMember(c)
	if err := m.Init(ctx); err != nil {
		return err
	}
	if err := m.Start(ctx); err != nil {
		return err
	}
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), etcdStopTimeout)
		defer cancel()
		return m.Stop(sctx)
	}
	if err := m.WaitReady(ctx); err != nil {
		if ctx.Err() != nil { // a signal while waiting for peers
			return stop()
		}
		return errors.Join(err, stop())
	}
	fmt.Fprintf(s.ErrOut, "etcd member %s (%x) ready, serving clients on %s\n", c.Name, m.ID(), strings.Join(m.ClientURLs(), ","))
	select {
	case <-ctx.Done():
		return stop()
	case <-m.Done():
		err := m.Err()
		if err == nil {
			err = fmt.Errorf("etcd: member %s stopped", c.Name)
		}
		return errors.Join(err, stop())
	}
}

// addEtcdClientFlags adds etcdctl's connection flags.
func addEtcdClientFlags(f *pflag.FlagSet, cc *etcd.ClientConfig) {
	f.StringSliceVar(&cc.Endpoints, "endpoints", []string{"127.0.0.1:2379"}, "gRPC endpoints (https://... for TLS; without a scheme TLS is used when --cacert or --cert is given)")
	f.StringVar(&cc.CAFile, "cacert", "", "Verify certificates of TLS-enabled secure servers using this CA bundle (/etc/kubernetes/pki/etcd/ca.crt)")
	f.StringVar(&cc.CertFile, "cert", "", "Identify secure client using this TLS certificate file (/etc/kubernetes/pki/etcd/healthcheck-client.crt)")
	f.StringVar(&cc.KeyFile, "key", "", "Identify secure client using this TLS key file (/etc/kubernetes/pki/etcd/healthcheck-client.key)")
	f.DurationVar(&cc.DialTimeout, "dial-timeout", 2*time.Second, "Dial timeout for client connections")
	f.DurationVar(&cc.CommandTimeout, "command-timeout", 5*time.Second, "Timeout for each operation")
}

// withEtcdClient connects with the connection flags and runs fn until it ends or a signal.
func withEtcdClient(cmd *cobra.Command, cc *etcd.ClientConfig, fn func(context.Context, *etcd.Client) error) error {
	ctx, cancel := commandContext(cmd)
	defer cancel()
	c, err := etcd.NewClient(*cc)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

func parseMemberID(op, s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("etcd: %s: %q is not a hexadecimal member ID; see 'kforge etcd member list'", op, s)
	}
	return id, nil
}

func newEtcdMemberCommand(s Streams) *cobra.Command {
	cc := &etcd.ClientConfig{}
	cmd := &cobra.Command{Use: "member", Short: "List, add, remove and promote members", Args: cobra.NoArgs}
	addEtcdClientFlags(cmd.PersistentFlags(), cc)

	list := &cobra.Command{
		Use:   "list",
		Short: "List the cluster's members, in etcdctl's format (ID, status, name, peer URLs, client URLs, learner)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withEtcdClient(cmd, cc, func(ctx context.Context, c *etcd.Client) error {
				ms, err := c.MemberList(ctx)
				if err != nil {
					return err
				}
				for _, m := range ms {
					status := "started"
					if !m.Started() {
						status = "unstarted"
					}
					fmt.Fprintf(s.Out, "%x, %s, %s, %s, %s, %t\n", m.ID, status, m.Name,
						strings.Join(m.PeerURLs, ","), strings.Join(m.ClientURLs, ","), m.IsLearner)
				}
				return nil
			})
		},
	}

	var peerURLs []string
	var learner bool
	add := &cobra.Command{
		Use:   "add NAME --peer-urls URL[,URL]",
		Short: "Add a member; prints the flags it must start with",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if len(peerURLs) == 0 {
				return fmt.Errorf("etcd: member add: --peer-urls is required: the new member's --initial-advertise-peer-urls")
			}
			return withEtcdClient(cmd, cc, func(ctx context.Context, c *etcd.Client) error {
				add := c.MemberAdd
				if learner {
					add = c.MemberAddAsLearner
				}
				a, err := add(ctx, peerURLs)
				if err != nil {
					return err
				}
				what := "Member"
				if learner {
					what = "Learner"
				}
				urls := strings.Join(peerURLs, ",")
				fmt.Fprintf(s.Out, "%s %x added to the cluster\n\n", what, a.Member.ID)
				fmt.Fprintf(s.Out, "ETCD_NAME=%q\nETCD_INITIAL_CLUSTER=%q\nETCD_INITIAL_ADVERTISE_PEER_URLS=%q\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n\n",
					name, a.InitialCluster(name), urls)
				fmt.Fprintf(s.Out, "Start it with an empty --data-dir and:\n  kforge etcd --name %s --initial-advertise-peer-urls %s --initial-cluster %s --initial-cluster-state existing ...\n",
					name, urls, a.InitialCluster(name))
				if learner {
					fmt.Fprintf(s.Out, "then, once it caught up:\n  kforge etcd member promote %x\n", a.Member.ID)
				}
				return nil
			})
		},
	}
	add.Flags().StringSliceVar(&peerURLs, "peer-urls", nil, "The new member's peer URLs (its --initial-advertise-peer-urls)")
	add.Flags().BoolVar(&learner, "learner", false, "Add a non-voting learner, to promote once it caught up (the safe way to grow a cluster)")

	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a member by its hexadecimal ID",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseMemberID("member remove", args[0])
			if err != nil {
				return err
			}
			return withEtcdClient(cmd, cc, func(ctx context.Context, c *etcd.Client) error {
				if err := c.MemberRemove(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "Member %x removed from the cluster\n", id)
				return nil
			})
		},
	}

	promote := &cobra.Command{
		Use:   "promote ID",
		Short: "Promote a learner that caught up to a voting member",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseMemberID("member promote", args[0])
			if err != nil {
				return err
			}
			return withEtcdClient(cmd, cc, func(ctx context.Context, c *etcd.Client) error {
				if err := c.MemberPromote(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "Member %x promoted in the cluster\n", id)
				return nil
			})
		},
	}
	cmd.AddCommand(list, add, remove, promote)
	return cmd
}

func newEtcdHealthCommand(s Streams) *cobra.Command {
	cc := &etcd.ClientConfig{}
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check each endpoint as 'etcdctl endpoint health' does; exit 1 if any is unhealthy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withEtcdClient(cmd, cc, func(ctx context.Context, c *etcd.Client) error {
				hs := c.Health(ctx)
				bad := 0
				for _, h := range hs {
					if h.Healthy {
						fmt.Fprintf(s.Out, "%s is healthy: successfully committed proposal: took = %s\n", h.Endpoint, h.Took.Round(time.Microsecond))
					} else {
						bad++
						fmt.Fprintf(s.Out, "%s is unhealthy: %s\n", h.Endpoint, h.Error)
					}
				}
				if bad > 0 {
					return fmt.Errorf("etcd: %d of %d endpoints unhealthy", bad, len(hs))
				}
				return nil
			})
		},
	}
	addEtcdClientFlags(cmd.Flags(), cc)
	return cmd
}

func newEtcdSnapshotCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{Use: "snapshot", Short: "Save a snapshot of a member, or restore one into a new data directory", Args: cobra.NoArgs}

	cc := &etcd.ClientConfig{}
	save := &cobra.Command{
		Use:   "save FILE",
		Short: "Save a snapshot of the first endpoint's member to FILE",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEtcdClient(cmd, cc, func(ctx context.Context, c *etcd.Client) error {
				if err := c.SnapshotSave(ctx, args[0]); err != nil {
					return err
				}
				size := ""
				if fi, err := os.Stat(args[0]); err == nil {
					size = fmt.Sprintf(" (%d bytes)", fi.Size())
				}
				fmt.Fprintf(s.Out, "Snapshot saved at %s%s\n", args[0], size)
				return nil
			})
		},
	}
	addEtcdClientFlags(save.Flags(), cc)

	rc := etcd.RestoreConfig{}
	restore := &cobra.Command{
		Use:   "restore FILE --data-dir DIR",
		Short: "Restore a snapshot into a new data directory, for a member started with the same --name and peer URLs",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rc.SnapshotPath = args[0]
			if rc.DataDir == "" {
				return fmt.Errorf("etcd: snapshot restore: --data-dir is required: a directory that does not exist yet")
			}
			if err := etcd.SnapshotRestore(rc); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "Snapshot restored into %s; start the member on it with --data-dir %s --name %s and --initial-cluster-state new\n",
				rc.DataDir, rc.DataDir, rc.Name)
			return nil
		},
	}
	rf := restore.Flags()
	rf.StringVar(&rc.DataDir, "data-dir", "", "Path to the new data directory (must not exist)")
	rf.StringVar(&rc.Name, "name", "default", "Human-readable name for the restored member")
	rf.StringSliceVar(&rc.PeerURLs, "initial-advertise-peer-urls", []string{etcd.DefaultPeerURL}, "The restored member's peer URLs")
	rf.StringVar(&rc.InitialCluster, "initial-cluster", "", "Initial cluster configuration for the restored cluster (default: this member alone)")
	rf.StringVar(&rc.InitialClusterToken, "initial-cluster-token", etcd.DefaultInitialClusterToken, "Initial cluster token for the restored cluster")
	rf.BoolVar(&rc.SkipHashCheck, "skip-hash-check", false, "Ignore the snapshot integrity hash (for a copied member/snap/db file)")
	rf.Uint64Var(&rc.RevisionBump, "bump-revision", 0, "Raise the revision by this much, so watchers (the apiserver) notice the restore; needs --mark-compacted")
	rf.BoolVar(&rc.MarkCompacted, "mark-compacted", false, "Mark the restored revisions compacted; needs --bump-revision")
	cmd.AddCommand(save, restore)
	return cmd
}
