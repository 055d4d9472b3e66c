package config

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GroupVersion is the apiVersion of kforge's own configuration kinds; files written by
// `kforge config print` carry it, and Load reads them strictly.
const GroupVersion = "kforge.dev/v1beta1"

// Kind names, the same as kubeadm's so that a kubeadm file maps kind for kind.
const (
	// KindInit is the kind of InitConfiguration documents.
	KindInit = "InitConfiguration"
	// KindCluster is the kind of ClusterConfiguration documents.
	KindCluster = "ClusterConfiguration"
	// KindJoin is the kind of JoinConfiguration documents.
	KindJoin = "JoinConfiguration"
)

// InitConfiguration holds what is specific to the node running `kforge init`: its registration,
// its API endpoint and the bootstrap tokens it creates. The cluster-wide settings travel in a
// separate ClusterConfiguration document of the same file, as in kubeadm.
type InitConfiguration struct {
	metav1.TypeMeta `json:",inline"`
	// BootstrapTokens are created by init so that nodes can join.
	BootstrapTokens []BootstrapToken `json:"bootstrapTokens,omitempty"`
	// DryRun asks init to change nothing and only say what it would do, as --dry-run does.
	DryRun bool `json:"dryRun,omitempty"`
	// NodeRegistration describes how this node registers itself.
	NodeRegistration NodeRegistrationOptions `json:"nodeRegistration,omitempty"`
	// LocalAPIEndpoint is where this node's apiserver listens and what it advertises.
	LocalAPIEndpoint APIEndpoint `json:"localAPIEndpoint,omitempty"`
	// CertificateKey encrypts the control-plane certificates uploaded for joining control
	// planes: 32 bytes, hex encoded.
	CertificateKey string `json:"certificateKey,omitempty"`
	// SkipPhases lists phases `kforge init` skips, as --skip-phases does.
	SkipPhases []string `json:"skipPhases,omitempty"`
	// Timeouts bound the waits of init.
	Timeouts *Timeouts `json:"timeouts,omitempty"`
	// ClusterConfiguration is read from, and written as, its own document in the same file.
	ClusterConfiguration ClusterConfiguration `json:"-"`
}

// ClusterConfiguration holds the settings every node of the cluster shares.
type ClusterConfiguration struct {
	metav1.TypeMeta `json:",inline"`
	// Etcd says whether the control plane runs etcd itself (local) or uses an external cluster.
	Etcd Etcd `json:"etcd,omitempty"`
	// Networking holds the cluster's address ranges and DNS domain.
	Networking Networking `json:"networking,omitempty"`
	// KubernetesVersion is recorded for kubeadm compatibility; kforge's components are built
	// into its binary at version.KubernetesAPILevel, so this picks nothing.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// ControlPlaneEndpoint is a stable address (host or host:port) for the apiservers, usually a
	// load balancer; empty means this node's advertise address and bind port.
	ControlPlaneEndpoint string `json:"controlPlaneEndpoint,omitempty"`
	// APIServer carries the apiserver's extra flags and certificate SANs.
	APIServer APIServer `json:"apiServer,omitempty"`
	// ControllerManager carries the controller-manager's extra flags.
	ControllerManager ControlPlaneComponent `json:"controllerManager,omitempty"`
	// Scheduler carries the scheduler's extra flags.
	Scheduler ControlPlaneComponent `json:"scheduler,omitempty"`
	// DNS configures the cluster DNS addon.
	DNS DNS `json:"dns,omitempty"`
	// Proxy configures the service proxy addon.
	Proxy Proxy `json:"proxy,omitempty"`
	// CertificatesDir is where the PKI lives (/etc/kubernetes/pki).
	CertificatesDir string `json:"certificatesDir,omitempty"`
	// ImageRepository is recorded for kubeadm compatibility; kforge's components are built in.
	ImageRepository string `json:"imageRepository,omitempty"`
	// FeatureGates toggles kforge features by name.
	FeatureGates map[string]bool `json:"featureGates,omitempty"`
	// ClusterName names the cluster in kubeconfig files.
	ClusterName string `json:"clusterName,omitempty"`
	// EncryptionAlgorithm is the key type of every generated key: RSA-2048 (default),
	// RSA-3072, RSA-4096, ECDSA-P256 or ECDSA-P384.
	EncryptionAlgorithm string `json:"encryptionAlgorithm,omitempty"`
	// CertificateValidityPeriod is the lifetime of leaf certificates (default one year).
	CertificateValidityPeriod *metav1.Duration `json:"certificateValidityPeriod,omitempty"`
	// CACertificateValidityPeriod is the lifetime of CA certificates (default ten years).
	CACertificateValidityPeriod *metav1.Duration `json:"caCertificateValidityPeriod,omitempty"`
}

// JoinConfiguration holds what `kforge join` needs to find the cluster and register a node.
type JoinConfiguration struct {
	metav1.TypeMeta `json:",inline"`
	// DryRun asks join to change nothing and only say what it would do, as --dry-run does.
	DryRun bool `json:"dryRun,omitempty"`
	// NodeRegistration describes how the joining node registers itself.
	NodeRegistration NodeRegistrationOptions `json:"nodeRegistration,omitempty"`
	// CACertPath is where the cluster CA is written on the node.
	CACertPath string `json:"caCertPath,omitempty"`
	// Discovery says how the node finds and trusts the cluster.
	Discovery Discovery `json:"discovery"`
	// ControlPlane, when set, makes the node an additional control plane.
	ControlPlane *JoinControlPlane `json:"controlPlane,omitempty"`
	// SkipPhases lists phases `kforge join` skips.
	SkipPhases []string `json:"skipPhases,omitempty"`
	// Timeouts bound the waits of join (timeouts.discovery replaces v1beta3's
	// discovery.timeout).
	Timeouts *Timeouts `json:"timeouts,omitempty"`
}

// BootstrapToken is a short-lived credential joining nodes use, in kubeadm's format.
type BootstrapToken struct {
	// Token is "[a-z0-9]{6}.[a-z0-9]{16}"; init generates one when it is empty.
	Token string `json:"token,omitempty"`
	// Description says what the token is for.
	Description string `json:"description,omitempty"`
	// TTL is how long the token lives; 0 means forever. Default 24h.
	TTL *metav1.Duration `json:"ttl,omitempty"`
	// Expires is an absolute expiry; it wins over TTL.
	Expires *metav1.Time `json:"expires,omitempty"`
	// Usages are "signing" and/or "authentication".
	Usages []string `json:"usages,omitempty"`
	// Groups are extra groups the token authenticates as, each "system:bootstrappers:...".
	Groups []string `json:"groups,omitempty"`
}

// Arg is one command-line flag for a component, named without the leading dashes. Args are a
// list rather than a map so that a flag can repeat, as in kubeadm v1beta4.
type Arg struct {
	// Name is the flag name, e.g. "authorization-mode".
	Name string `json:"name"`
	// Value is the flag value.
	Value string `json:"value"`
}

// NodeRegistrationOptions describe how a node registers itself with the cluster.
type NodeRegistrationOptions struct {
	// Name is the Node object's name; defaults to the lower-cased host name.
	Name string `json:"name,omitempty"`
	// CRISocket is the container runtime's socket.
	CRISocket string `json:"criSocket,omitempty"`
	// Taints the node registers with. Unset (null) means the control-plane taint on control
	// planes; an empty list means none.
	Taints []corev1.Taint `json:"taints"`
	// KubeletExtraArgs are extra flags for the kubelet.
	KubeletExtraArgs []Arg `json:"kubeletExtraArgs,omitempty"`
	// IgnorePreflightErrors lists preflight checks whose failure is only a warning ("all" for all).
	IgnorePreflightErrors []string `json:"ignorePreflightErrors,omitempty"`
	// ImagePullPolicy is used when pulling images: Always, IfNotPresent or Never.
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
}

// APIEndpoint is an apiserver's advertised address and bind port.
type APIEndpoint struct {
	// AdvertiseAddress is the IP address the apiserver advertises to the cluster.
	AdvertiseAddress string `json:"advertiseAddress,omitempty"`
	// BindPort is the apiserver's secure port (default 6443).
	BindPort int32 `json:"bindPort,omitempty"`
}

// Etcd is either Local (run by kforge on the control-plane nodes) or External; never both.
type Etcd struct {
	// Local configures the etcd member kforge runs on each control-plane node.
	Local *LocalEtcd `json:"local,omitempty"`
	// External points the apiservers at an etcd cluster kforge does not run.
	External *ExternalEtcd `json:"external,omitempty"`
}

// LocalEtcd configures the etcd member kforge runs on each control-plane node.
type LocalEtcd struct {
	// ImageRepository is accepted for kubeadm files; kforge's etcd is built in.
	ImageRepository string `json:"imageRepository,omitempty"`
	// ImageTag is accepted for kubeadm files; kforge's etcd is built in.
	ImageTag string `json:"imageTag,omitempty"`
	// DataDir is where etcd keeps its data (/var/lib/etcd).
	DataDir string `json:"dataDir,omitempty"`
	// ExtraArgs are extra etcd flags.
	ExtraArgs []Arg `json:"extraArgs,omitempty"`
	// ServerCertSANs are extra SANs of etcd's serving certificate.
	ServerCertSANs []string `json:"serverCertSANs,omitempty"`
	// PeerCertSANs are extra SANs of etcd's peer certificate.
	PeerCertSANs []string `json:"peerCertSANs,omitempty"`
}

// ExternalEtcd points the apiservers at an etcd cluster kforge does not run.
type ExternalEtcd struct {
	// Endpoints are the client URLs of the etcd members, e.g. https://10.0.0.20:2379.
	Endpoints []string `json:"endpoints"`
	// CAFile is the CA that signed the etcd serving certificates (required for https).
	CAFile string `json:"caFile,omitempty"`
	// CertFile is the client certificate the apiservers present (required for https).
	CertFile string `json:"certFile,omitempty"`
	// KeyFile is the key of CertFile (required for https).
	KeyFile string `json:"keyFile,omitempty"`
}

// Networking holds the cluster's address ranges.
type Networking struct {
	// ServiceSubnet is the Service ClusterIP range (a comma list when dual-stack).
	ServiceSubnet string `json:"serviceSubnet,omitempty"`
	// PodSubnet is the Pod address range nodes' pod CIDRs are cut from (comma list when
	// dual-stack).
	PodSubnet string `json:"podSubnet,omitempty"`
	// DNSDomain is the cluster's DNS domain (cluster.local).
	DNSDomain string `json:"dnsDomain,omitempty"`
}

// ControlPlaneComponent holds the settings shared by the control-plane components.
type ControlPlaneComponent struct {
	// ExtraArgs are extra flags for the component; later entries win.
	ExtraArgs []Arg `json:"extraArgs,omitempty"`
}

// APIServer holds the apiserver's settings.
type APIServer struct {
	// ExtraArgs are extra apiserver flags; later entries win.
	ExtraArgs []Arg `json:"extraArgs,omitempty"`
	// CertSANs are extra SANs (IP addresses or DNS names) for the apiserver's serving
	// certificate.
	CertSANs []string `json:"certSANs,omitempty"`
}

// DNS configures the cluster DNS addon.
type DNS struct {
	// ImageRepository is accepted for kubeadm files; kforge's DNS server is built in.
	ImageRepository string `json:"imageRepository,omitempty"`
	// ImageTag is accepted for kubeadm files; kforge's DNS server is built in.
	ImageTag string `json:"imageTag,omitempty"`
	// Disabled skips the DNS addon.
	Disabled bool `json:"disabled,omitempty"`
}

// Proxy configures the service proxy addon.
type Proxy struct {
	// Disabled skips the proxy addon.
	Disabled bool `json:"disabled,omitempty"`
}

// Discovery says how a joining node finds the cluster and decides to trust it: by a bootstrap
// token and CA pin, or from a kubeconfig file.
type Discovery struct {
	// BootstrapToken finds the cluster with a token and pins its CA.
	BootstrapToken *BootstrapTokenDiscovery `json:"bootstrapToken,omitempty"`
	// File reads the cluster's address and CA from a kubeconfig file or URL.
	File *FileDiscovery `json:"file,omitempty"`
	// TLSBootstrapToken authenticates the kubelet's first certificate request.
	TLSBootstrapToken string `json:"tlsBootstrapToken,omitempty"`
}

// BootstrapTokenDiscovery finds the cluster with a token and pins its CA.
type BootstrapTokenDiscovery struct {
	// Token is the bootstrap token used to fetch and verify cluster-info.
	Token string `json:"token"`
	// APIServerEndpoint is host:port of an apiserver to fetch cluster-info from.
	APIServerEndpoint string `json:"apiServerEndpoint,omitempty"`
	// CACertHashes are "sha256:<hex>" pins of the cluster CA's public key.
	CACertHashes []string `json:"caCertHashes,omitempty"`
	// UnsafeSkipCAVerification trusts the cluster without a CA pin.
	UnsafeSkipCAVerification bool `json:"unsafeSkipCAVerification,omitempty"`
}

// FileDiscovery reads the cluster's address and CA from a kubeconfig file or URL.
type FileDiscovery struct {
	// KubeConfigPath is the path or https URL of that kubeconfig.
	KubeConfigPath string `json:"kubeConfigPath"`
}

// JoinControlPlane makes a joining node a control plane.
type JoinControlPlane struct {
	// LocalAPIEndpoint is where the new control plane's apiserver listens.
	LocalAPIEndpoint APIEndpoint `json:"localAPIEndpoint,omitempty"`
	// CertificateKey decrypts the control-plane certificates uploaded by init.
	CertificateKey string `json:"certificateKey,omitempty"`
}

// Timeouts bound the waits of init and join, with kubeadm v1beta4's names and defaults.
type Timeouts struct {
	// ControlPlaneComponentHealthCheck bounds the wait for the control plane to be healthy (4m).
	ControlPlaneComponentHealthCheck *metav1.Duration `json:"controlPlaneComponentHealthCheck,omitempty"`
	// KubeletHealthCheck bounds the wait for the kubelet to be healthy (4m).
	KubeletHealthCheck *metav1.Duration `json:"kubeletHealthCheck,omitempty"`
	// KubernetesAPICall bounds one call to the Kubernetes API (1m).
	KubernetesAPICall *metav1.Duration `json:"kubernetesAPICall,omitempty"`
	// EtcdAPICall bounds one call to etcd (2m).
	EtcdAPICall *metav1.Duration `json:"etcdAPICall,omitempty"`
	// TLSBootstrap bounds the kubelet's TLS bootstrap (5m).
	TLSBootstrap *metav1.Duration `json:"tlsBootstrap,omitempty"`
	// Discovery bounds join's discovery of the cluster (5m).
	Discovery *metav1.Duration `json:"discovery,omitempty"`
	// UpgradeManifests bounds the replacement of static pods during upgrades (5m).
	UpgradeManifests *metav1.Duration `json:"upgradeManifests,omitempty"`
}

// IsExternalEtcd reports whether the apiservers use an etcd cluster kforge does not run, which
// decides whether kforge issues etcd certificates and runs an etcd member.
func (c *ClusterConfiguration) IsExternalEtcd() bool { return c.Etcd.External != nil }

// ArgValue returns the last value of flag name in args (later flags win, as on a command line).
func ArgValue(args []Arg, name string) (string, bool) {
	for i := len(args) - 1; i >= 0; i-- {
		if args[i].Name == name {
			return args[i].Value, true
		}
	}
	return "", false
}
