package app

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"kforge.dev/kforge/lab"
)

// labFlags are the flags every lab subcommand shares.
type labFlags struct {
	stateDir string
	name     string
}

func (f *labFlags) ref() lab.Ref { return lab.Ref{StateDir: f.stateDir, Name: f.name} }

// signalContext ends when the user interrupts, so lab commands can clean up what they started.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

func newLabCommand(s Streams) *cobra.Command {
	f := &labFlags{}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a multi-machine lab on this box (systemd-nspawn machines on a private LAN)",
		Long: `kforge lab boots fresh Debian machines with systemd-nspawn, each with its own root
(an overlay over one shared node image), network namespace and address on a private LAN,
plus a bastion namespace from which the operator reaches them over SSH with recorded host keys.
It needs root and the Debian packages systemd-container, debootstrap, iproute2 and openssh-client.

  kforge lab up --machines cp1,cp2,cp3,w1,w2,lb1
  kforge lab ssh cp1 -- systemctl is-system-running
  kforge lab partition cp2 && kforge lab heal cp2
  kforge lab down

See docs/lab.md.`,
	}
	cmd.PersistentFlags().StringVar(&f.stateDir, "state-dir", lab.DefaultStateDir, "directory holding node images and labs")
	cmd.PersistentFlags().StringVar(&f.name, "name", "", "lab name (default: \"demo\" for up, otherwise the only lab)")
	cmd.AddCommand(
		newLabImageCommand(s, f),
		newLabUpCommand(s, f),
		newLabDownCommand(s, f),
		newLabStatusCommand(s, f),
		newLabSSHCommand(s, f),
		newLabCpCommand(s, f),
		newLabExecCommand(s, f),
		newLabKillCommand(f),
		newLabStartCommand(s, f),
		newLabLinkCommand(f, "partition", "Cut a machine off the LAN (its link on the switch goes down)", lab.Partition),
		newLabLinkCommand(f, "heal", "Reconnect a partitioned machine to the LAN", lab.Heal),
	)
	return cmd
}

func newLabImageCommand(s Streams, f *labFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage the lab's node image"}
	var mirror string
	var force bool
	build := &cobra.Command{
		Use:   "build",
		Short: "Build the node image (Debian with systemd, sshd, containerd, runc) unless it is cached",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext(cmd)
			defer cancel()
			_, err := lab.BuildImage(ctx, lab.ImageConfig{StateDir: f.stateDir, Mirror: mirror, Force: force, Out: s.Out})
			return err
		},
	}
	build.Flags().StringVar(&mirror, "mirror", "", "Debian mirror URL (default: the host's apt source for bookworm)")
	build.Flags().BoolVar(&force, "force", false, "rebuild even if an image with the same recipe exists")
	cmd.AddCommand(build)
	return cmd
}

func newLabUpCommand(s Streams, f *labFlags) *cobra.Command {
	var (
		machines               string
		controlPlanes, workers int
		withLB, keepOnFailure  bool
		subnet, mirror         string
		bootTimeout            time.Duration
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create a lab and boot its machines",
		Long: `Create a lab: a LAN, a bastion namespace, an SSH key authorized on every machine, and the
machines, booted in parallel. Machines are named with --machines (roles from the name: cp*,
w*, lb*, etcd*, or name=role) or counted with --control-planes/--workers/--lb.
Prints the inventory (cluster.yaml) once every machine answers SSH.`,
		Example: `  kforge lab up --name demo --machines cp1,cp2,cp3,w1,w2,lb1
  kforge lab up --control-planes 3 --workers 2 --lb --subnet 172.31.251.0/24`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := labUpConfig(cmd, f, machines, controlPlanes, workers, withLB, subnet)
			if err != nil {
				return err
			}
			cfg.BootTimeout, cfg.Mirror, cfg.KeepOnFailure, cfg.Out = bootTimeout, mirror, keepOnFailure, s.Out
			ctx, cancel := signalContext(cmd)
			defer cancel()
			st, err := lab.Up(ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "\n# %s\n%s", st.Inventory, lab.RenderInventory(st))
			return nil
		},
	}
	cmd.Flags().StringVar(&machines, "machines", "", "comma-separated machine names, e.g. cp1,cp2,cp3,w1,w2,lb1")
	cmd.Flags().IntVar(&controlPlanes, "control-planes", 0, "number of control-plane machines (cp1..cpN)")
	cmd.Flags().IntVar(&workers, "workers", 0, "number of worker machines (w1..wN)")
	cmd.Flags().BoolVar(&withLB, "lb", false, "add a load-balancer machine lb1")
	cmd.Flags().StringVar(&subnet, "subnet", lab.DefaultSubnet, "IPv4 subnet of the lab LAN")
	cmd.Flags().StringVar(&mirror, "mirror", "", "Debian mirror URL for an image build (default: the host's apt source)")
	cmd.Flags().DurationVar(&bootTimeout, "boot-timeout", lab.DefaultBootTimeout, "how long each machine may take to answer SSH")
	cmd.Flags().BoolVar(&keepOnFailure, "keep-on-failure", false, "leave a lab that failed to come up in place for inspection")
	return cmd
}

// labUpConfig turns up's flags into a lab.UpConfig; --machines and the counts exclude each other.
func labUpConfig(cmd *cobra.Command, f *labFlags, machines string, cps, workers int, withLB bool, subnet string) (lab.UpConfig, error) {
	counted := cmd.Flags().Changed("control-planes") || cmd.Flags().Changed("workers") || withLB
	specs, err := lab.SelectMachines(machines, cps, workers, withLB, counted)
	if err != nil {
		return lab.UpConfig{}, err
	}
	pfx, err := netip.ParsePrefix(subnet)
	if err != nil {
		return lab.UpConfig{}, fmt.Errorf("lab up: --subnet %q is not a CIDR such as %s", subnet, lab.DefaultSubnet)
	}
	return lab.UpConfig{Ref: f.ref(), Machines: specs, Subnet: pfx}, nil
}

func newLabDownCommand(s Streams, f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop every machine of a lab and remove its namespaces, mounts and state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lab.Down(cmd.Context(), lab.DownConfig{Ref: f.ref(), Out: s.Out})
		},
	}
}

func newLabStatusCommand(s Streams, f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show a lab's machines, addresses and whether they run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, ms, err := lab.Status(cmd.Context(), f.ref())
			if err != nil {
				return err
			}
			lab.WriteStatus(s.Out, st, ms)
			return nil
		},
	}
}

func newLabSSHCommand(s Streams, f *labFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ssh MACHINE [-- COMMAND...]",
		Short: "Open an SSH session to a machine, or run a command there (its exit status is kforge's)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return lab.SSH(cmd.Context(), f.ref(), args[0], dropDash(args[1:]), lab.IO{In: s.In, Out: s.Out, Err: s.ErrOut})
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func newLabCpCommand(s Streams, f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "cp SRC DST",
		Short:   "Copy files between this host and a machine (one side is MACHINE:PATH)",
		Example: "  kforge lab cp ./bin/tool cp1:/usr/local/bin/\n  kforge lab cp cp1:/etc/kubernetes/admin.conf ./admin.conf",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return lab.Copy(cmd.Context(), f.ref(), args[0], args[1], lab.IO{In: s.In, Out: s.Out, Err: s.ErrOut})
		},
	}
}

func newLabExecCommand(s Streams, f *labFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "exec -- COMMAND...",
		Short:   "Run a command in the lab's bastion namespace, where every machine is reachable",
		Example: "  kforge lab exec -- kubectl --kubeconfig admin.conf get nodes",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return lab.Exec(cmd.Context(), f.ref(), dropDash(args), lab.IO{In: s.In, Out: s.Out, Err: s.ErrOut})
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// dropDash removes the "--" that separates a command from kforge's own arguments; with
// interspersed flags off, cobra leaves it in the arguments after the first one.
func dropDash(args []string) []string {
	if len(args) > 0 && args[0] == "--" {
		return args[1:]
	}
	return args
}

func newLabKillCommand(f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "kill MACHINE",
		Short: "Power a machine off hard (SIGKILL); its disks are kept for 'lab start'",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return lab.Kill(cmd.Context(), f.ref(), args[0])
		},
	}
}

func newLabStartCommand(s Streams, f *labFlags) *cobra.Command {
	var bootTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "start MACHINE",
		Short: "Boot a stopped machine again and wait until it answers SSH",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext(cmd)
			defer cancel()
			return lab.Start(ctx, lab.StartConfig{Ref: f.ref(), Machine: args[0], BootTimeout: bootTimeout, Out: s.Out})
		},
	}
	cmd.Flags().DurationVar(&bootTimeout, "boot-timeout", lab.DefaultBootTimeout, "how long the machine may take to answer SSH")
	return cmd
}

func newLabLinkCommand(f *labFlags, use, short string, fn func(context.Context, lab.Ref, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use + " MACHINE",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return fn(cmd.Context(), f.ref(), args[0])
		},
	}
}
