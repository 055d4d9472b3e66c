package app

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"kforge.dev/kforge/controlplane/apiserver"
)

func newAPIServerCommand(s Streams) *cobra.Command {
	o := apiserver.Options{BindAddress: "0.0.0.0", SecurePort: 6443, Auth: apiserver.DefaultAuthOptions()}
	cmd := &cobra.Command{
		Use:   "apiserver",
		Short: "Run kforge's Kubernetes API server (kube-apiserver's flags)",
		Long: `kforge apiserver serves the Kubernetes API from etcd over TLS; kubectl and client-go use it
unchanged. --etcd-servers=embedded runs an etcd member in the same process, so one command is a
working API for a single machine:

  kforge init phase certs all --cert-dir ./pki
  kforge apiserver --etcd-servers=embedded --etcd-data-dir ./etcd \
    --tls-cert-file ./pki/apiserver.crt --tls-private-key-file ./pki/apiserver.key --client-ca-file ./pki/ca.crt

Requests are authenticated (client certificates, bootstrap and service-account tokens,
front-proxy headers), authorized (Node,RBAC by default) and admitted as kube-apiserver does.`,
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
	addAuthFlags(f, &o.Auth)
	f.StringVar(&o.Kubelet.CertFile, "kubelet-client-certificate", "", "Path to a client cert file for TLS to kubelets (pod logs, exec, attach, port-forward)")
	f.StringVar(&o.Kubelet.KeyFile, "kubelet-client-key", "", "Path to a client key file for TLS to kubelets")
	f.StringVar(&o.Kubelet.CAFile, "kubelet-certificate-authority", "", "Path to a cert file for the certificate authority of kubelets' serving certificates (unverified without it)")
	f.DurationVar(&o.Kubelet.Timeout, "kubelet-timeout", 5*time.Second, "Timeout for kubelet operations")
	f.Var(&addressTypes{&o.Kubelet.PreferredAddressTypes}, "kubelet-preferred-address-types", "List of the preferred NodeAddressTypes to use for kubelet connections (default Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP)")
	return cmd
}

// addressTypes is --kubelet-preferred-address-types: a comma-separated list of Node address
// types, checked so a typo fails at start rather than at the first kubectl logs.
type addressTypes struct{ out *[]corev1.NodeAddressType }

func (a *addressTypes) String() string {
	var s []string
	for _, t := range *a.out {
		s = append(s, string(t))
	}
	return strings.Join(s, ",")
}

func (a *addressTypes) Set(v string) error {
	*a.out = nil
	for _, t := range strings.Split(v, ",") {
		switch at := corev1.NodeAddressType(strings.TrimSpace(t)); at {
		case corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeInternalIP, corev1.NodeExternalDNS, corev1.NodeExternalIP:
			*a.out = append(*a.out, at)
		default:
			return fmt.Errorf("%q is not a node address type; use Hostname, InternalDNS, InternalIP, ExternalDNS or ExternalIP", t)
		}
	}
	return nil
}

func (a *addressTypes) Type() string { return "strings" }

// addAuthFlags adds kube-apiserver's authentication, authorization, admission, encryption and
// audit flags.
func addAuthFlags(f *pflag.FlagSet, a *apiserver.AuthOptions) {
	f.BoolVar(&a.AnonymousAuth, "anonymous-auth", a.AnonymousAuth, "Enables anonymous requests to the secure port (user system:anonymous, group system:unauthenticated)")
	f.BoolVar(&a.EnableBootstrapTokenAuth, "enable-bootstrap-token-auth", false, "Enable to allow secrets of type 'bootstrap.kubernetes.io/token' in the 'kube-system' namespace to be used for TLS bootstrapping authentication")
	f.StringSliceVar(&a.ServiceAccountKeyFiles, "service-account-key-file", nil, "File containing PEM-encoded x509 RSA or ECDSA public or private keys, used to verify ServiceAccount tokens (repeatable)")
	f.StringVar(&a.ServiceAccountSigningKeyFile, "service-account-signing-key-file", "", "Path to the file that contains the current private key of the service account token issuer")
	f.StringSliceVar(&a.ServiceAccountIssuers, "service-account-issuer", nil, "Identifier of the service account token issuer; the first signs, all are accepted (repeatable)")
	f.StringSliceVar(&a.APIAudiences, "api-audiences", nil, "Identifiers of the API; service account tokens must be for one of them (default: the issuers)")
	f.DurationVar(&a.ServiceAccountMaxTokenExpiry, "service-account-max-token-expiration", 0, "The maximum validity duration of a token created by the service account token issuer")
	f.BoolVar(&a.ServiceAccountLookup, "service-account-lookup", a.ServiceAccountLookup, "If true, validate ServiceAccount tokens exist in etcd as part of authentication")
	f.StringVar(&a.RequestHeaderClientCAFile, "requestheader-client-ca-file", "", "Root certificate bundle to verify client certificates on incoming requests before trusting usernames in headers specified by --requestheader-username-headers")
	f.StringSliceVar(&a.RequestHeaderAllowedNames, "requestheader-allowed-names", nil, "List of client certificate common names to allow to provide usernames in headers; empty allows any")
	f.StringSliceVar(&a.RequestHeaderUsernameHeaders, "requestheader-username-headers", nil, "List of request headers to inspect for usernames. X-Remote-User is common")
	f.StringSliceVar(&a.RequestHeaderGroupHeaders, "requestheader-group-headers", nil, "List of request headers to inspect for groups. X-Remote-Group is suggested")
	f.StringSliceVar(&a.RequestHeaderExtraHeaderPrefixes, "requestheader-extra-headers-prefix", nil, "List of request header prefixes to inspect. X-Remote-Extra- is suggested")
	f.StringSliceVar(&a.AuthorizationModes, "authorization-mode", a.AuthorizationModes, "Ordered list of plug-ins to do authorization on secure port: Node, RBAC, AlwaysAllow, AlwaysDeny")
	f.StringSliceVar(&a.EnableAdmissionPlugins, "enable-admission-plugins", nil, "Admission plugins to enable in addition to the default ones")
	f.StringSliceVar(&a.DisableAdmissionPlugins, "disable-admission-plugins", nil, "Admission plugins to disable, even if in the default list")
	f.StringVar(&a.EncryptionProviderConfig, "encryption-provider-config", "", "The file containing configuration for encryption providers to be used for storing secrets in etcd")
	f.StringVar(&a.AuditLogPath, "audit-log-path", "", "If set, all requests coming to the apiserver will be logged to this file. '-' means standard out")
	f.StringVar(&a.AuditPolicyFile, "audit-policy-file", "", "Path to the file that defines the audit policy configuration (default: every request at Metadata level)")
	f.IntVar(&a.AuditLogMaxAge, "audit-log-maxage", 0, "The maximum number of days to retain old audit log files")
	f.IntVar(&a.AuditLogMaxBackup, "audit-log-maxbackup", 0, "The maximum number of old audit log files to retain")
	f.IntVar(&a.AuditLogMaxSize, "audit-log-maxsize", 0, "The maximum size in megabytes of the audit log file before it gets rotated")
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
