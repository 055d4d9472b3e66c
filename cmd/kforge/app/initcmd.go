package app

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"kforge.dev/kforge/config"
	initphases "kforge.dev/kforge/phases/init"
)

// initOptions holds the raw values of init's flags; only flags the user set override the file.
type initOptions struct {
	configPath    string
	kubeconfigDir string
	dryRun        bool
	skipPhases    []string

	advertiseAddress     string
	bindPort             int32
	controlPlaneEndpoint string
	serviceCIDR          string
	podNetworkCIDR       string
	serviceDNSDomain     string
	certExtraSANs        []string
	certDir              string
	kubernetesVersion    string
	nodeName             string
	token                string
	tokenTTL             time.Duration
	criSocket            string
}

// flagSet declares init's flags, kubeadm's names and meanings.
func (o *initOptions) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("init", pflag.ContinueOnError)
	fs.StringVar(&o.configPath, "config", "", "Path to a kforge (or kubeadm v1beta3/v1beta4) configuration file")
	fs.StringVar(&o.kubeconfigDir, "kubeconfig-dir", initphases.DefaultKubeconfigDir, "The path where to save the kubeconfig file")
	fs.BoolVar(&o.dryRun, "dry-run", false, "Don't apply any changes; just output what would be done")
	fs.StringSliceVar(&o.skipPhases, "skip-phases", nil, "List of phases to be skipped")
	fs.StringVar(&o.advertiseAddress, "apiserver-advertise-address", "", "The IP address the API Server will advertise it's listening on. If not set the default network interface will be used")
	fs.Int32Var(&o.bindPort, "apiserver-bind-port", 6443, "Port for the API Server to bind to")
	fs.StringVar(&o.controlPlaneEndpoint, "control-plane-endpoint", "", "Specify a stable IP address or DNS name for the control plane")
	fs.StringVar(&o.serviceCIDR, "service-cidr", "10.96.0.0/12", "Use alternative range of IP address for service VIPs")
	fs.StringVar(&o.podNetworkCIDR, "pod-network-cidr", "", "Specify range of IP addresses for the pod network. If set, the control plane will automatically allocate CIDRs for every node")
	fs.StringVar(&o.serviceDNSDomain, "service-dns-domain", "cluster.local", `Use alternative domain for services, e.g. "myorg.internal"`)
	fs.StringSliceVar(&o.certExtraSANs, "apiserver-cert-extra-sans", nil, "Optional extra Subject Alternative Names (SANs) to use for the API Server serving certificate. Can be both IP addresses and DNS names")
	fs.StringVar(&o.certDir, "cert-dir", "/etc/kubernetes/pki", "The path where to save and store the certificates")
	fs.StringVar(&o.kubernetesVersion, "kubernetes-version", "", "Accepted for kubeadm compatibility; kforge always runs its own components at its built-in Kubernetes API level")
	fs.StringVar(&o.nodeName, "node-name", "", "Specify the node name")
	fs.StringVar(&o.token, "token", "", "The token to use for establishing bidirectional trust between nodes and control-plane nodes. The format is [a-z0-9]{6}\\.[a-z0-9]{16} - e.g. abcdef.0123456789abcdef")
	fs.DurationVar(&o.tokenTTL, "token-ttl", 24*time.Hour, "The duration before the token is automatically deleted (e.g. 1s, 2m, 3h). If set to '0', the token will never expire")
	fs.StringVar(&o.criSocket, "cri-socket", "", "Path to the CRI socket to connect")
	return fs
}

// overrides turns the flags the user actually gave into config overrides.
func (o *initOptions) overrides(fs *pflag.FlagSet) config.InitFlags {
	var f config.InitFlags
	set := func(name string) bool { fl := fs.Lookup(name); return fl != nil && fl.Changed }
	if set("apiserver-advertise-address") {
		f.AdvertiseAddress = &o.advertiseAddress
	}
	if set("apiserver-bind-port") {
		f.BindPort = &o.bindPort
	}
	if set("control-plane-endpoint") {
		f.ControlPlaneEndpoint = &o.controlPlaneEndpoint
	}
	if set("service-cidr") {
		f.ServiceCIDR = &o.serviceCIDR
	}
	if set("pod-network-cidr") {
		f.PodNetworkCIDR = &o.podNetworkCIDR
	}
	if set("service-dns-domain") {
		f.ServiceDNSDomain = &o.serviceDNSDomain
	}
	if set("apiserver-cert-extra-sans") {
		f.APIServerCertExtraSANs = o.certExtraSANs
	}
	if set("cert-dir") {
		f.CertDir = &o.certDir
	}
	if set("kubernetes-version") {
		f.KubernetesVersion = &o.kubernetesVersion
	}
	if set("node-name") {
		f.NodeName = &o.nodeName
	}
	if set("token") {
		f.Token = &o.token
	}
	if set("token-ttl") {
		f.TokenTTL = &o.tokenTTL
	}
	if set("cri-socket") {
		f.CRISocket = &o.criSocket
	}
	return f
}

// loadInitConfiguration reads --config (or starts from defaults), applies flags, fills defaults
// from this host and validates: the one path every init command takes to its configuration.
func loadInitConfiguration(s Streams, o *initOptions, fs *pflag.FlagSet) (*config.InitConfiguration, error) {
	var cfg *config.InitConfiguration
	if o.configPath != "" {
		docs, warnings, err := config.LoadFile(o.configPath)
		for _, w := range warnings {
			fmt.Fprintln(s.ErrOut, w)
		}
		if err != nil {
			return nil, err
		}
		cfg = config.InitFromDocuments(docs)
	} else {
		cfg = &config.InitConfiguration{}
	}
	for _, w := range o.overrides(fs).Apply(cfg) {
		fmt.Fprintln(s.ErrOut, w)
	}
	config.SetInitDefaults(cfg)
	host, err := config.DetectHost()
	if err != nil && (cfg.NodeRegistration.Name == "" || cfg.LocalAPIEndpoint.AdvertiseAddress == "") {
		return nil, fmt.Errorf("init: %w; set --node-name and --apiserver-advertise-address (or the config fields) explicitly", err)
	}
	if err := config.SetInitDynamicDefaults(cfg, host); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	if err := config.ValidateInitConfiguration(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func newInitCommand(s Streams) *cobra.Command {
	o := &initOptions{}
	fs := o.flagSet()
	wf := initphases.Workflow()

	exec := func(cmd *cobra.Command, _ []string, run func(context.Context, *initphases.Data) error) error {
		cfg, err := loadInitConfiguration(s, o, fs)
		if err != nil {
			return err
		}
		d := &initphases.Data{Cfg: cfg, CertDir: cfg.ClusterConfiguration.CertificatesDir, KubeconfigDir: o.kubeconfigDir, Out: s.Out}
		if o.dryRun || cfg.DryRun {
			if err := d.StartDryRun(); err != nil {
				return err
			}
			defer d.DiscardDryRun()
		}
		if err := run(cmd.Context(), d); err != nil {
			return err
		}
		return d.FinishDryRun()
	}

	cmd := &cobra.Command{
		Use:   "init",
		Short: "Run this command in order to set up the Kubernetes control plane",
		Long: "Run this command in order to set up the Kubernetes control plane on this machine.\n\n" +
			"This version of kforge runs the phases listed below; later phases (etcd, control-plane, kubelet,\n" +
			"bootstrap tokens, addons) are added as they are built.\n\n" + wf.Listing(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exec(cmd, args, func(ctx context.Context, d *initphases.Data) error {
				// Phases the config file asks to skip are skipped too, as in kubeadm. A kubeadm file
				// may name phases this kforge does not have yet (preflight): nothing to skip.
				skip := append([]string{}, o.skipPhases...)
				for _, p := range d.Cfg.SkipPhases {
					if err := wf.ValidateSkip([]string{p}); err != nil {
						fmt.Fprintf(s.ErrOut, "warning: skipPhases %q in the configuration: this kforge has no such phase; nothing to skip\n", p)
						continue
					}
					skip = append(skip, p)
				}
				if err := wf.Run(ctx, d, skip); err != nil {
					return err
				}
				fmt.Fprintf(d.Out, "\nThe certificates and kubeconfig files of this control-plane node are in place.\n")
				return nil
			})
		},
	}
	cmd.Flags().AddFlagSet(fs)
	cmd.AddCommand(wf.PhaseCommand(fs, exec))
	return cmd
}
