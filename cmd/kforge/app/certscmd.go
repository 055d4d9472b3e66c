package app

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	initphases "kforge.dev/kforge/phases/init"
	"kforge.dev/kforge/pki"
	"kforge.dev/kforge/pki/kubeconfig"
)

// certsOptions are the flags shared by the certs subcommands that read a cluster's PKI.
type certsOptions struct {
	init initOptions
	fs   *pflag.FlagSet
}

func newCertsOptions() *certsOptions {
	o := &certsOptions{}
	all := o.init.flagSet()
	o.fs = pflag.NewFlagSet("certs", pflag.ContinueOnError)
	for _, n := range []string{"config", "cert-dir", "kubeconfig-dir"} {
		o.fs.AddFlag(all.Lookup(n))
	}
	return o
}

// params loads the configuration the same way init does, so renewals use the same key
// algorithm and validity the cluster was created with.
func (o *certsOptions) params(s Streams) (pki.Params, string, error) {
	cfg, err := loadInitConfiguration(s, &o.init, o.fs)
	if err != nil {
		return pki.Params{}, "", err
	}
	d := &initphases.Data{Cfg: cfg, CertDir: cfg.ClusterConfiguration.CertificatesDir, KubeconfigDir: o.init.kubeconfigDir}
	return d.PKIParams(), cfg.ClusterConfiguration.ClusterName, nil
}

func newCertsCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Commands related to handling kubernetes certificates",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCertsCheckExpirationCommand(s), newCertsRenewCommand(s),
		newCertsCertificateKeyCommand(s), newCertsCACertHashCommand(s))
	return cmd
}

func newCertsCheckExpirationCommand(s Streams) *cobra.Command {
	o := newCertsOptions()
	cmd := &cobra.Command{
		Use:   "check-expiration",
		Short: "Check certificates expiration for a Kubernetes cluster",
		Long: "Checks expiration for the certificates in the local PKI and the client certificates " +
			"embedded in the kubeconfig files managed by kforge.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p, _, err := o.params(s)
			if err != nil {
				return err
			}
			certs, cas, err := pki.CheckExpiration(p.CertificatesDir, o.init.kubeconfigDir, p)
			if err != nil {
				return fmt.Errorf("certs check-expiration: %w", err)
			}
			now := time.Now()
			if p.Now != nil {
				now = p.Now()
			}
			return pki.WriteExpirationTable(s.Out, certs, cas, now)
		},
	}
	cmd.Flags().AddFlagSet(o.fs)
	return cmd
}

func newCertsRenewCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "renew",
		Short: "Renew certificates for a Kubernetes cluster",
		Long: "Renew certificates and the client certificates of kubeconfig files, keeping their subjects, " +
			"key usages and SANs and the CA that signed them.",
		Args: cobra.NoArgs,
	}
	all := func(p pki.Params) []string { return pki.RenewableNames(p) }
	add := func(use, short string, names func(pki.Params) []string) {
		o := newCertsOptions()
		c := &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				p, _, err := o.params(s)
				if err != nil {
					return err
				}
				for _, n := range names(p) {
					if err := renewOne(p, o.init.kubeconfigDir, n); err != nil {
						return fmt.Errorf("certs renew %s: %w", n, err)
					}
					fmt.Fprintf(s.Out, "[renew] %s renewed\n", n)
				}
				fmt.Fprintln(s.Out, "\nDone renewing certificates. Restart the control-plane components so they use the new certificates.")
				return nil
			},
		}
		c.Flags().AddFlagSet(o.fs)
		cmd.AddCommand(c)
	}
	add("all", "Renew all available certificates", all)
	for _, n := range pki.RenewableNames(pki.Params{}) {
		name := n
		add(name, "Renew the certificate "+name, func(pki.Params) []string { return []string{name} })
	}
	return cmd
}

func renewOne(p pki.Params, kubeconfigDir, name string) error {
	if filepath.Ext(name) == ".conf" {
		return kubeconfig.Renew(kubeconfigDir, name, p)
	}
	return pki.RenewCert(p, name)
}

func newCertsCertificateKeyCommand(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "certificate-key",
		Short: "Generate certificate keys",
		Long: "This command will print out a secure randomly-generated certificate key that can be used with\n" +
			"the \"init\" command. You can also use \"kforge init --upload-certs\" without specifying a certificate\n" +
			"key and it will generate and print one for you.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			k, err := pki.NewCertificateKey()
			if err != nil {
				return err
			}
			fmt.Fprintln(s.Out, k)
			return nil
		},
	}
}

func newCertsCACertHashCommand(s Streams) *cobra.Command {
	var caFile, certDir string
	cmd := &cobra.Command{
		Use:   "ca-cert-hash",
		Short: "Print the --discovery-token-ca-cert-hash value that pins the cluster CA",
		Long: "Print sha256:<hash> of the cluster CA's public key (its DER SubjectPublicKeyInfo), the value\n" +
			"'kforge join' and 'kubeadm join' take as --discovery-token-ca-cert-hash.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, base := certDir, "ca"
			if caFile != "" {
				dir, base = filepath.Dir(caFile), trimExt(filepath.Base(caFile))
			}
			ca, err := pki.LoadCert(dir, base)
			if err != nil {
				return fmt.Errorf("certs ca-cert-hash: %w", err)
			}
			fmt.Fprintln(s.Out, pki.CACertHash(ca))
			return nil
		},
	}
	cmd.Flags().StringVar(&certDir, "cert-dir", "/etc/kubernetes/pki", "The directory holding ca.crt")
	cmd.Flags().StringVar(&caFile, "ca-cert", "", "Path of a CA certificate (overrides --cert-dir)")
	return cmd
}

func trimExt(name string) string { return name[:len(name)-len(filepath.Ext(name))] }
