package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"kforge.dev/kforge/controlplane/apiserver"
)

func newAPIServerCommand(s Streams) *cobra.Command {
	o := apiserver.Options{BindAddress: "0.0.0.0", SecurePort: 6443}
	cmd := &cobra.Command{
		Use:   "apiserver",
		Short: "Run kforge's Kubernetes API server (kube-apiserver's flags)",
		Long: `kforge apiserver serves the Kubernetes API from etcd over TLS; kubectl and client-go use it
unchanged. --etcd-servers=embedded runs an etcd member in the same process, so one command is a
working API for a single machine:

  kforge init phase certs all --cert-dir ./pki
  kforge apiserver --etcd-servers=embedded --etcd-data-dir ./etcd \
    --tls-cert-file ./pki/apiserver.crt --tls-private-key-file ./pki/apiserver.key --client-ca-file ./pki/ca.crt

Authentication, authorization and admission control are not enforced yet: do not expose it
beyond a trusted network.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			o.Log = s.ErrOut
			return apiserver.Run(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.EtcdServers, "etcd-servers", nil, `List of etcd servers to connect with (scheme://ip:port), or "embedded"`)
	f.StringVar(&o.EtcdDataDir, "etcd-data-dir", "", "Data directory of the embedded etcd (with --etcd-servers=embedded)")
	f.StringVar(&o.EtcdCAFile, "etcd-cafile", "", "SSL Certificate Authority file used to secure etcd communication")
	f.StringVar(&o.EtcdCertFile, "etcd-certfile", "", "SSL certification file used to secure etcd communication")
	f.StringVar(&o.EtcdKeyFile, "etcd-keyfile", "", "SSL key file used to secure etcd communication")
	f.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "The IP address on which to listen for the --secure-port port")
	f.StringVar(&o.AdvertiseAddress, "advertise-address", "", "The IP address on which to advertise the apiserver to members of the cluster (the kubernetes Service's endpoint); defaults to --bind-address")
	f.StringVar(&o.API.ServiceClusterIPRange, "service-cluster-ip-range", "10.96.0.0/12", "A CIDR notation IP range from which to assign service cluster IPs")
	f.Var(&portRange{base: &o.API.NodePortBase, size: &o.API.NodePortSize}, "service-node-port-range", "A port range to reserve for services with NodePort visibility (default 30000-32767)")
	f.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "The port on which to serve HTTPS")
	f.StringVar(&o.TLSCertFile, "tls-cert-file", "", "File containing the default x509 Certificate for HTTPS")
	f.StringVar(&o.TLSPrivateKeyFile, "tls-private-key-file", "", "File containing the default x509 private key matching --tls-cert-file")
	f.StringVar(&o.ClientCAFile, "client-ca-file", "", "Client certificates presented are verified against this CA bundle")
	return cmd
}

// portRange is a pflag value for "30000-32767".
type portRange struct{ base, size *int }

func (p *portRange) String() string {
	if p.base == nil || *p.base == 0 {
		return ""
	}
	return fmt.Sprintf("%d-%d", *p.base, *p.base+*p.size-1)
}

func (p *portRange) Set(s string) error {
	var lo, hi int
	if _, err := fmt.Sscanf(s, "%d-%d", &lo, &hi); err != nil || lo < 1 || hi > 65535 || hi < lo {
		return fmt.Errorf("%q is not a port range like 30000-32767", s)
	}
	*p.base, *p.size = lo, hi-lo+1
	return nil
}

func (p *portRange) Type() string { return "portRange" }
