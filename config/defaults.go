package config

import (
	"crypto/rand"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/version"
)

// Defaults, kubeadm's values.
const (
	DefaultServiceSubnet    = "10.96.0.0/12"
	DefaultDNSDomain        = "cluster.local"
	DefaultCertificatesDir  = "/etc/kubernetes/pki"
	DefaultAPIBindPort      = 6443
	DefaultClusterName      = "kubernetes"
	DefaultEtcdDataDir      = "/var/lib/etcd"
	DefaultCRISocket        = "unix:///var/run/containerd/containerd.sock"
	DefaultImageRepository  = "registry.k8s.io"
	DefaultEncryption       = "RSA-2048"
	DefaultCACertPath       = "/etc/kubernetes/pki/ca.crt"
	DefaultTokenGroup       = "system:bootstrappers:kubeadm:default-node-token"
	ControlPlaneTaintKey    = "node-role.kubernetes.io/control-plane"
	placeholderToken        = "abcdef.0123456789abcdef"
	placeholderAddress      = "1.2.3.4"
	placeholderNodeName     = "node"
	placeholderJoinEndpoint = "kube-apiserver:6443"
)

// Default lifetimes, kubeadm's values.
var (
	DefaultTokenTTL            = 24 * time.Hour
	DefaultCertValidity        = 365 * 24 * time.Hour
	DefaultCACertValidity      = 10 * 365 * 24 * time.Hour
	defaultTokenUsages         = []string{"signing", "authentication"}
	defaultControlPlaneTimeout = 4 * time.Minute
)

// ControlPlaneTaint keeps ordinary workloads off control-plane nodes.
var ControlPlaneTaint = corev1.Taint{Key: ControlPlaneTaintKey, Effect: corev1.TaintEffectNoSchedule}

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// SetInitDefaults fills every static default of an InitConfiguration and its
// ClusterConfiguration; values already set are kept. Host-dependent values are left to
// SetInitDynamicDefaults.
func SetInitDefaults(c *InitConfiguration) {
	c.TypeMeta = metav1.TypeMeta{APIVersion: GroupVersion, Kind: KindInit}
	if c.BootstrapTokens == nil {
		c.BootstrapTokens = []BootstrapToken{{}}
	}
	for i := range c.BootstrapTokens {
		t := &c.BootstrapTokens[i]
		if t.TTL == nil && t.Expires == nil {
			t.TTL = dur(DefaultTokenTTL)
		}
		if len(t.Usages) == 0 {
			t.Usages = append([]string{}, defaultTokenUsages...)
		}
		if len(t.Groups) == 0 {
			t.Groups = []string{DefaultTokenGroup}
		}
	}
	setNodeRegistrationDefaults(&c.NodeRegistration)
	if c.NodeRegistration.Taints == nil {
		c.NodeRegistration.Taints = []corev1.Taint{ControlPlaneTaint}
	}
	if c.LocalAPIEndpoint.BindPort == 0 {
		c.LocalAPIEndpoint.BindPort = DefaultAPIBindPort
	}
	c.Timeouts = setTimeoutDefaults(c.Timeouts)
	SetClusterDefaults(&c.ClusterConfiguration)
}

// SetClusterDefaults fills the static defaults of a ClusterConfiguration.
func SetClusterDefaults(c *ClusterConfiguration) {
	c.TypeMeta = metav1.TypeMeta{APIVersion: GroupVersion, Kind: KindCluster}
	if c.Etcd.External == nil && c.Etcd.Local == nil {
		c.Etcd.Local = &LocalEtcd{}
	}
	if l := c.Etcd.Local; l != nil && l.DataDir == "" {
		l.DataDir = DefaultEtcdDataDir
	}
	n := &c.Networking
	if n.ServiceSubnet == "" {
		n.ServiceSubnet = DefaultServiceSubnet
	}
	if n.DNSDomain == "" {
		n.DNSDomain = DefaultDNSDomain
	}
	if c.KubernetesVersion == "" {
		c.KubernetesVersion = version.KubernetesAPILevel
	}
	if c.CertificatesDir == "" {
		c.CertificatesDir = DefaultCertificatesDir
	}
	if c.ImageRepository == "" {
		c.ImageRepository = DefaultImageRepository
	}
	if c.ClusterName == "" {
		c.ClusterName = DefaultClusterName
	}
	if c.EncryptionAlgorithm == "" {
		c.EncryptionAlgorithm = DefaultEncryption
	}
	if c.CertificateValidityPeriod == nil {
		c.CertificateValidityPeriod = dur(DefaultCertValidity)
	}
	if c.CACertificateValidityPeriod == nil {
		c.CACertificateValidityPeriod = dur(DefaultCACertValidity)
	}
}

func setNodeRegistrationDefaults(n *NodeRegistrationOptions) {
	if n.CRISocket == "" {
		n.CRISocket = DefaultCRISocket
	}
	if n.ImagePullPolicy == "" {
		n.ImagePullPolicy = corev1.PullIfNotPresent
	}
}

func setTimeoutDefaults(t *Timeouts) *Timeouts {
	if t == nil {
		t = &Timeouts{}
	}
	for _, f := range []struct {
		p **metav1.Duration
		d time.Duration
	}{
		{&t.ControlPlaneComponentHealthCheck, defaultControlPlaneTimeout},
		{&t.KubeletHealthCheck, 4 * time.Minute},
		{&t.KubernetesAPICall, time.Minute},
		{&t.EtcdAPICall, 2 * time.Minute},
		{&t.TLSBootstrap, 5 * time.Minute},
		{&t.Discovery, 5 * time.Minute},
		{&t.UpgradeManifests, 5 * time.Minute},
	} {
		if *f.p == nil {
			*f.p = dur(f.d)
		}
	}
	return t
}

// SetJoinDefaults fills the static defaults of a JoinConfiguration.
func SetJoinDefaults(c *JoinConfiguration) {
	c.TypeMeta = metav1.TypeMeta{APIVersion: GroupVersion, Kind: KindJoin}
	setNodeRegistrationDefaults(&c.NodeRegistration)
	if c.CACertPath == "" {
		c.CACertPath = DefaultCACertPath
	}
	if bt := c.Discovery.BootstrapToken; bt != nil && c.Discovery.TLSBootstrapToken == "" {
		c.Discovery.TLSBootstrapToken = bt.Token
	}
	if cp := c.ControlPlane; cp != nil && cp.LocalAPIEndpoint.BindPort == 0 {
		cp.LocalAPIEndpoint.BindPort = DefaultAPIBindPort
	}
	c.Timeouts = setTimeoutDefaults(c.Timeouts)
}

// SetInitDynamicDefaults fills what depends on the machine: the node name and advertise
// address when unset, and a fresh random value for every bootstrap token left empty.
func SetInitDynamicDefaults(c *InitConfiguration, h HostInfo) error {
	if c.NodeRegistration.Name == "" {
		c.NodeRegistration.Name = h.Hostname
	}
	if c.LocalAPIEndpoint.AdvertiseAddress == "" && h.DefaultIP != nil {
		c.LocalAPIEndpoint.AdvertiseAddress = h.DefaultIP.String()
	}
	for i := range c.BootstrapTokens {
		if c.BootstrapTokens[i].Token == "" {
			t, err := GenerateToken()
			if err != nil {
				return err
			}
			c.BootstrapTokens[i].Token = t
		}
	}
	return nil
}

// GenerateToken returns a random bootstrap token in kubeadm's format.
func GenerateToken() (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 22)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate bootstrap token: %w", err)
	}
	out := make([]byte, 0, 23)
	for i, c := range b {
		if i == 6 {
			out = append(out, '.')
		}
		// 256 % 36 = 4: the bias toward the first four letters is tiny and harmless for a
		// 24-hour credential, and keeps the token exactly as long as kubeadm's.
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out), nil
}

// DefaultInitConfiguration is what `kforge config print init-defaults` prints: every default
// filled, with placeholders (token, node name, address) where a real run uses this machine's.
func DefaultInitConfiguration() *InitConfiguration {
	c := &InitConfiguration{
		BootstrapTokens:  []BootstrapToken{{Token: placeholderToken}},
		NodeRegistration: NodeRegistrationOptions{Name: placeholderNodeName},
		LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: placeholderAddress},
	}
	SetInitDefaults(c)
	return c
}

// DefaultJoinConfiguration is what `kforge config print join-defaults` prints.
func DefaultJoinConfiguration() *JoinConfiguration {
	c := &JoinConfiguration{
		NodeRegistration: NodeRegistrationOptions{Name: placeholderNodeName},
		Discovery: Discovery{BootstrapToken: &BootstrapTokenDiscovery{
			Token: placeholderToken, APIServerEndpoint: placeholderJoinEndpoint, UnsafeSkipCAVerification: true,
		}},
	}
	SetJoinDefaults(c)
	return c
}

// InitFromDocuments combines a file's InitConfiguration and ClusterConfiguration documents into
// one InitConfiguration (either may be absent).
func InitFromDocuments(d *Documents) *InitConfiguration {
	c := &InitConfiguration{}
	if d.Init != nil {
		cp := *d.Init
		c = &cp
	}
	if d.Cluster != nil {
		c.ClusterConfiguration = *d.Cluster
	}
	if d.controlPlaneTimeout != nil {
		if c.Timeouts == nil {
			c.Timeouts = &Timeouts{}
		}
		if c.Timeouts.ControlPlaneComponentHealthCheck == nil {
			c.Timeouts.ControlPlaneComponentHealthCheck = d.controlPlaneTimeout
		}
	}
	return c
}
