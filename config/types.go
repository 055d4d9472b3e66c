package config

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GroupVersion is the apiVersion of kforge's own configuration kinds.
const GroupVersion = "kforge.dev/v1beta1"

// Kind names, shared with kubeadm.
const (
	KindInit    = "InitConfiguration"
	KindCluster = "ClusterConfiguration"
	KindJoin    = "JoinConfiguration"
)

// InitConfiguration holds what is specific to the node running `kforge init`: its registration,
// its API endpoint and the bootstrap tokens it creates. The cluster-wide settings travel in a
// separate ClusterConfiguration document, as in kubeadm.
type InitConfiguration struct {
	metav1.TypeMeta `json:",inline"`
	// BootstrapTokens are created by init so that nodes can join.
	BootstrapTokens []BootstrapToken `json:"bootstrapTokens,omitempty"`
	// NodeRegistration describes how this node registers itself.
	NodeRegistration NodeRegistrationOptions `json:"nodeRegistration,omitempty"`
	// LocalAPIEndpoint is where this node's apiserver listens and what it advertises.
	LocalAPIEndpoint APIEndpoint `json:"localAPIEndpoint,omitempty"`
	// CertificateKey encrypts the control-plane certificates uploaded for joining control planes.
	CertificateKey string `json:"certificateKey,omitempty"`
	// SkipPhases lists phases `kforge init` skips, as --skip-phases does.
	SkipPhases []string `json:"skipPhases,omitempty"`
	// Timeouts bound the waits of init.
	Timeouts *Timeouts `json:"timeouts,omitempty"`
	// ClusterConfiguration is read from its own document in the same file.
	ClusterConfiguration ClusterConfiguration `json:"-"`
}

// ClusterConfiguration holds the settings every node of the cluster shares.
type ClusterConfiguration struct {
	metav1.TypeMeta `json:",inline"`
	// Etcd says whether the control plane runs etcd itself (local) or uses an external cluster.
	Etcd Etcd `json:"etcd,omitempty"`
	// Networking holds the cluster's address ranges and DNS domain.
	Networking Networking `json:"networking,omitempty"`
	// KubernetesVersion is recorded for kubeadm compatibility; kforge's components are built in.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// ControlPlaneEndpoint is a stable address (host or host:port) for the apiservers, usually a
	// load balancer; empty means this node's advertise address.
	ControlPlaneEndpoint string `json:"controlPlaneEndpoint,omitempty"`
	// APIServer, ControllerManager and Scheduler carry per-component settings.
	APIServer         APIServer        `json:"apiServer,omitempty"`
	ControllerManager ControlPlaneComp `json:"controllerManager,omitempty"`
	Scheduler         ControlPlaneComp `json:"scheduler,omitempty"`
	// DNS configures the cluster DNS addon.
	DNS DNS `json:"dns,omitempty"`
	// Proxy configures the service proxy addon.
	Proxy Proxy `json:"proxy,omitempty"`
	// CertificatesDir is where the PKI lives (/etc/kubernetes/pki).
	CertificatesDir string `json:"certificatesDir,omitempty"`
	// ImageRepository is where workload images the cluster needs (pause) are pulled from.
	ImageRepository string `json:"imageRepository,omitempty"`
	// FeatureGates toggles kforge features by name.
	FeatureGates map[string]bool `json:"featureGates,omitempty"`
	// ClusterName names the cluster in kubeconfig files.
	ClusterName string `json:"clusterName,omitempty"`
	// EncryptionAlgorithm is the key type of every generated key: RSA-2048, RSA-3072, RSA-4096
	// or ECDSA-P256.
	EncryptionAlgorithm string `json:"encryptionAlgorithm,omitempty"`
	// CertificateValidityPeriod and CACertificateValidityPeriod override 1 year and 10 years.
	CertificateValidityPeriod   *metav1.Duration `json:"certificateValidityPeriod,omitempty"`
	CACertificateValidityPeriod *metav1.Duration `json:"caCertificateValidityPeriod,omitempty"`
}

// JoinConfiguration holds what `kforge join` needs to find the cluster and register a node.
type JoinConfiguration struct {
	metav1.TypeMeta `json:",inline"`
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
	// Timeouts bound the waits of join.
	Timeouts *Timeouts `json:"timeouts,omitempty"`
}

// BootstrapToken is a short-lived credential joining nodes use (kubeadm's format).
type BootstrapToken struct {
	// Token is "[a-z0-9]{6}.[a-z0-9]{16}"; generated when empty.
	Token string `json:"token,omitempty"`
	// Description says what the token is for.
	Description string `json:"description,omitempty"`
	// TTL is how long the token lives; 0 means forever. Default 24h.
	TTL *metav1.Duration `json:"ttl,omitempty"`
	// Expires is an absolute expiry; it wins over TTL.
	Expires *metav1.Time `json:"expires,omitempty"`
	// Usages are "signing" and/or "authentication".
	Usages []string `json:"usages,omitempty"`
	// Groups are extra groups the token authenticates as.
	Groups []string `json:"groups,omitempty"`
}

// Arg is a command-line flag for a component, given without the leading dashes; a list rather
// than a map so that a flag can repeat, as in kubeadm v1beta4.
type Arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// NodeRegistrationOptions describe how a node registers itself with the cluster.
type NodeRegistrationOptions struct {
	// Name is the Node object's name; defaults to the host name.
	Name string `json:"name,omitempty"`
	// CRISocket is the container runtime's socket.
	CRISocket string `json:"criSocket,omitempty"`
	// Taints the node registers with. Unset means the control-plane taint on control planes;
	// an empty list means none.
	Taints []corev1.Taint `json:"taints"`
	// KubeletExtraArgs are extra flags for the kubelet.
	KubeletExtraArgs []Arg `json:"kubeletExtraArgs,omitempty"`
	// IgnorePreflightErrors lists preflight checks whose failure is only a warning ("all" for all).
	IgnorePreflightErrors []string `json:"ignorePreflightErrors,omitempty"`
	// ImagePullPolicy is used when pre-pulling images: Always, IfNotPresent or Never.
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
}

// APIEndpoint is an apiserver's advertised address and bind port.
type APIEndpoint struct {
	AdvertiseAddress string `json:"advertiseAddress,omitempty"`
	BindPort         int32  `json:"bindPort,omitempty"`
}

// Etcd is either Local (run by kforge on the control-plane nodes) or External.
type Etcd struct {
	Local    *LocalEtcd    `json:"local,omitempty"`
	External *ExternalEtcd `json:"external,omitempty"`
}

// LocalEtcd configures the etcd member kforge runs on each control-plane node.
type LocalEtcd struct {
	// ImageRepository and ImageTag are accepted for kubeadm files; kforge's etcd is built in.
	ImageRepository string `json:"imageRepository,omitempty"`
	ImageTag        string `json:"imageTag,omitempty"`
	// DataDir is where etcd keeps its data (/var/lib/etcd).
	DataDir string `json:"dataDir,omitempty"`
	// ExtraArgs are extra etcd flags.
	ExtraArgs []Arg `json:"extraArgs,omitempty"`
	// ServerCertSANs and PeerCertSANs are extra SANs of etcd's serving and peer certificates.
	ServerCertSANs []string `json:"serverCertSANs,omitempty"`
	PeerCertSANs   []string `json:"peerCertSANs,omitempty"`
}

// ExternalEtcd points the apiservers at an etcd cluster kforge does not run.
type ExternalEtcd struct {
	Endpoints []string `json:"endpoints"`
	CAFile    string   `json:"caFile,omitempty"`
	CertFile  string   `json:"certFile,omitempty"`
	KeyFile   string   `json:"keyFile,omitempty"`
}

// Networking holds the cluster's address ranges.
type Networking struct {
	// ServiceSubnet is the Service ClusterIP range (a comma list when dual-stack).
	ServiceSubnet string `json:"serviceSubnet,omitempty"`
	// PodSubnet is the Pod address range nodes' pod CIDRs are cut from.
	PodSubnet string `json:"podSubnet,omitempty"`
	// DNSDomain is the cluster's DNS domain.
	DNSDomain string `json:"dnsDomain,omitempty"`
}

// ControlPlaneComp holds settings shared by the control-plane components.
type ControlPlaneComp struct {
	ExtraArgs []Arg `json:"extraArgs,omitempty"`
}

// APIServer holds the apiserver's settings.
type APIServer struct {
	ControlPlaneComp `json:",inline"`
	// CertSANs are extra SANs for the apiserver's serving certificate.
	CertSANs []string `json:"certSANs,omitempty"`
}

// DNS configures the cluster DNS addon.
type DNS struct {
	// ImageRepository and ImageTag are accepted for kubeadm files; kforge's DNS is built in.
	ImageRepository string `json:"imageRepository,omitempty"`
	ImageTag        string `json:"imageTag,omitempty"`
	// Disabled skips the DNS addon.
	Disabled bool `json:"disabled,omitempty"`
}

// Proxy configures the service proxy addon.
type Proxy struct {
	// Disabled skips the proxy addon.
	Disabled bool `json:"disabled,omitempty"`
}

// Discovery says how a joining node finds the cluster and decides to trust it.
type Discovery struct {
	BootstrapToken *BootstrapTokenDiscovery `json:"bootstrapToken,omitempty"`
	File           *FileDiscovery           `json:"file,omitempty"`
	// TLSBootstrapToken authenticates the kubelet's first certificate request.
	TLSBootstrapToken string `json:"tlsBootstrapToken,omitempty"`
}

// BootstrapTokenDiscovery finds the cluster with a token and pins its CA.
type BootstrapTokenDiscovery struct {
	Token                    string   `json:"token"`
	APIServerEndpoint        string   `json:"apiServerEndpoint,omitempty"`
	CACertHashes             []string `json:"caCertHashes,omitempty"`
	UnsafeSkipCAVerification bool     `json:"unsafeSkipCAVerification,omitempty"`
}

// FileDiscovery reads the cluster's address and CA from a kubeconfig file or URL.
type FileDiscovery struct {
	KubeConfigPath string `json:"kubeConfigPath"`
}

// JoinControlPlane makes a joining node a control plane.
type JoinControlPlane struct {
	LocalAPIEndpoint APIEndpoint `json:"localAPIEndpoint,omitempty"`
	CertificateKey   string      `json:"certificateKey,omitempty"`
}

// Timeouts bound the waits of init and join (kubeadm v1beta4's names).
type Timeouts struct {
	ControlPlaneComponentHealthCheck *metav1.Duration `json:"controlPlaneComponentHealthCheck,omitempty"`
	KubeletHealthCheck               *metav1.Duration `json:"kubeletHealthCheck,omitempty"`
	KubernetesAPICall                *metav1.Duration `json:"kubernetesAPICall,omitempty"`
	EtcdAPICall                      *metav1.Duration `json:"etcdAPICall,omitempty"`
	TLSBootstrap                     *metav1.Duration `json:"tlsBootstrap,omitempty"`
	Discovery                        *metav1.Duration `json:"discovery,omitempty"`
	UpgradeManifests                 *metav1.Duration `json:"upgradeManifests,omitempty"`
}

// IsExternalEtcd reports whether the apiservers use an etcd cluster kforge does not run.
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
