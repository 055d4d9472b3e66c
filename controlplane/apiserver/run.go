package apiserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"kforge.dev/kforge/controlplane/apiserver/audit"
	"kforge.dev/kforge/controlplane/etcd"
	"kforge.dev/kforge/controlplane/storage/encryption"
)

// Options are `kforge apiserver`'s settings, named after kube-apiserver's flags.
type Options struct {
	// EtcdServers lists etcd client URLs, or is ["embedded"] to run a member in-process with
	// its data in EtcdDataDir (one process is then a whole API).
	EtcdServers                           []string
	EtcdDataDir                           string
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// BindAddress and SecurePort are where the API listens; AdvertiseAddress is the address
	// other members of the cluster reach it on (the kubernetes Service's endpoint).
	BindAddress      string
	AdvertiseAddress string
	SecurePort       int
	// TLSCertFile and TLSPrivateKeyFile are the serving certificate (apiserver.crt/key);
	// ClientCAFile verifies client certificates (ca.crt).
	TLSCertFile, TLSPrivateKeyFile, ClientCAFile string
	// Authentication, authorization, admission, encryption at rest and audit.
	Auth AuthOptions
	// Kubelet is how pod logs, exec, attach and port-forward reach kubelets.
	Kubelet KubeletClientConfig
	// API tunes storage.
	API APIOptions
	// Log receives start-up lines.
	Log io.Writer
}

// AuthOptions are the security flags of kube-apiserver, with its names and meanings.
type AuthOptions struct {
	// AnonymousAuth lets requests without credentials in as system:anonymous; RBAC then lets
	// them read only health, version and the cluster-info ConfigMap.
	AnonymousAuth bool
	// EnableBootstrapTokenAuth accepts bootstrap tokens (Secrets bootstrap-token-<id> in
	// kube-system), which joining nodes use.
	EnableBootstrapTokenAuth bool
	// ServiceAccountKeyFiles verify service-account tokens; ServiceAccountSigningKeyFile signs
	// the tokens of the TokenRequest API; ServiceAccountIssuers are accepted issuers, the first
	// being the one that signs; APIAudiences are the audiences tokens must be for (default the
	// issuers).
	ServiceAccountKeyFiles           []string
	ServiceAccountSigningKeyFile     string
	ServiceAccountIssuers            []string
	APIAudiences                     []string
	ServiceAccountMaxTokenExpiry     time.Duration
	ServiceAccountLookup             bool
	RequestHeaderClientCAFile        string
	RequestHeaderAllowedNames        []string
	RequestHeaderUsernameHeaders     []string
	RequestHeaderGroupHeaders        []string
	RequestHeaderExtraHeaderPrefixes []string
	// AuthorizationModes are tried in order: Node, RBAC, AlwaysAllow, AlwaysDeny.
	AuthorizationModes []string
	// EnableAdmissionPlugins and DisableAdmissionPlugins adjust the default admission chain.
	EnableAdmissionPlugins, DisableAdmissionPlugins []string
	// EncryptionProviderConfig is an EncryptionConfiguration file for encryption at rest.
	EncryptionProviderConfig string
	// AuditLogPath ("-" for standard output) turns on the audit log; AuditPolicyFile chooses
	// what is logged (everything at Metadata level by default).
	AuditLogPath                                       string
	AuditPolicyFile                                    string
	AuditLogMaxAge, AuditLogMaxBackup, AuditLogMaxSize int
}

// DefaultAuthOptions are kforge's defaults: kube-apiserver's, except that authorization is
// Node,RBAC (as kubeadm configures it) rather than AlwaysAllow.
func DefaultAuthOptions() AuthOptions {
	return AuthOptions{AnonymousAuth: true, ServiceAccountLookup: true, AuthorizationModes: []string{"Node", "RBAC"}}
}

// Validate checks the options and names the flag to fix.
func (o Options) Validate() error {
	var problems []string
	if len(o.EtcdServers) == 0 {
		problems = append(problems, "--etcd-servers is required (etcd client URLs, or \"embedded\" to run etcd in this process)")
	}
	if o.embedded() && o.EtcdDataDir == "" {
		problems = append(problems, "--etcd-servers=embedded needs --etcd-data-dir")
	}
	if o.TLSCertFile == "" || o.TLSPrivateKeyFile == "" {
		problems = append(problems, "--tls-cert-file and --tls-private-key-file are required; 'kforge init phase certs apiserver --cert-dir DIR' makes apiserver.crt and apiserver.key")
	}
	if o.SecurePort < 1 || o.SecurePort > 65535 {
		problems = append(problems, fmt.Sprintf("--secure-port %d: must be between 1 and 65535", o.SecurePort))
	}
	if net.ParseIP(o.BindAddress) == nil {
		problems = append(problems, fmt.Sprintf("--bind-address %q: not an IP address", o.BindAddress))
	}
	if len(problems) > 0 {
		return fmt.Errorf("apiserver: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (o Options) embedded() bool { return len(o.EtcdServers) == 1 && o.EtcdServers[0] == "embedded" }

// Run serves the API until ctx ends.
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	tlsCfg, err := TLSConfig(o.TLSCertFile, o.TLSPrivateKeyFile, o.ClientCAFile, o.Auth.RequestHeaderClientCAFile)
	if err != nil {
		return err
	}
	secCfg, err := o.Auth.Load(o.ClientCAFile)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if f := o.Auth.EncryptionProviderConfig; f != "" {
		enc, err := encryption.LoadConfig(f)
		if err != nil {
			return fmt.Errorf("apiserver: --encryption-provider-config: %w", err)
		}
		o.API.Encryption = enc
		fmt.Fprintf(o.Log, "%s\n", enc.Summary())
	}
	var auditLog *audit.Logger
	if o.Auth.AuditLogPath != "" {
		policy := audit.DefaultPolicy()
		if o.Auth.AuditPolicyFile != "" {
			if policy, err = audit.LoadPolicy(o.Auth.AuditPolicyFile); err != nil {
				return fmt.Errorf("apiserver: --audit-policy-file: %w", err)
			}
		}
		auditLog, err = audit.NewLogger(audit.LoggerConfig{Path: o.Auth.AuditLogPath, MaxAgeDays: o.Auth.AuditLogMaxAge,
			MaxBackups: o.Auth.AuditLogMaxBackup, MaxSizeMB: o.Auth.AuditLogMaxSize, Policy: policy})
		if err != nil {
			return fmt.Errorf("apiserver: --audit-log-path: %w", err)
		}
		defer auditLog.Close()
	}
	endpoints := o.EtcdServers
	if o.embedded() {
		m, err := etcd.StartEmbedded(ctx, o.EtcdDataDir)
		if err != nil {
			return fmt.Errorf("apiserver: embedded etcd: %w", err)
		}
		defer m.Stop(context.WithoutCancel(ctx))
		endpoints = m.ClientURLs()
		fmt.Fprintf(o.Log, "embedded etcd serving on %s (data in %s)\n", strings.Join(endpoints, ","), o.EtcdDataDir)
	}
	client, err := etcd.NewClient(etcd.ClientConfig{Endpoints: endpoints, CAFile: o.EtcdCAFile, CertFile: o.EtcdCertFile, KeyFile: o.EtcdKeyFile})
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	defer client.Close()
	if h := client.Health(ctx); len(h) > 0 && !h[0].Healthy {
		return fmt.Errorf("apiserver: etcd is not reachable: %s", h[0].Error)
	}
	api, err := NewAPI(client.Raw(), o.API)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if err := api.Run(ctx); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if err := api.Bootstrap(ctx); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if err := api.ReconcileBootstrapPolicy(ctx); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	go api.RunClusterRoleAggregation(ctx)
	if err := api.EnableSecurity(secCfg); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	api.SetAudit(auditLog)
	if err := api.SetKubeletClient(o.Kubelet); err != nil {
		return err
	}
	advertise := net.ParseIP(o.AdvertiseAddress)
	if advertise == nil {
		advertise = net.ParseIP(o.BindAddress)
		if advertise == nil || advertise.IsUnspecified() {
			advertise = net.IPv4(127, 0, 0, 1)
		}
	}
	if err := api.RunEndpointReconciler(ctx, client.Raw(), advertise, o.SecurePort, 10*time.Second); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	addr := net.JoinHostPort(o.BindAddress, strconv.Itoa(o.SecurePort))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("apiserver: listen on %s: %w; is another apiserver running? choose --secure-port or --bind-address", addr, err)
	}
	fmt.Fprintf(o.Log, "kforge apiserver serving on https://%s\n", l.Addr())
	return api.Serve(ctx, l, tlsCfg)
}
