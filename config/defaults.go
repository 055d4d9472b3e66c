package config

import (
	"crypto/rand"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/version"
)

// Defaults, kubeadm's values, so that a kubeadm user finds what they expect.
const (
	// DefaultServiceSubnet is the Service ClusterIP range.
	DefaultServiceSubnet = "10.96.0.0/12"
	// DefaultDNSDomain is the cluster's DNS domain.
	DefaultDNSDomain = "cluster.local"
	// DefaultCertificatesDir is where the PKI lives.
	DefaultCertificatesDir = "/etc/kubernetes/pki"
	// DefaultAPIBindPort is the apiserver's secure port.
	DefaultAPIBindPort = 6443
	// DefaultClusterName names the cluster in kubeconfig files.
	DefaultClusterName = "kubernetes"
	// DefaultEtcdDataDir is where the local etcd member keeps its data.
	DefaultEtcdDataDir = "/var/lib/etcd"
	// DefaultCRISocket is containerd's socket.
	DefaultCRISocket = "unix:///var/run/containerd/containerd.sock"
	// DefaultImageRepository is recorded for kubeadm compatibility.
	DefaultImageRepository = "registry.k8s.io"
	// DefaultEncryptionAlgorithm is the key type of generated keys.
	DefaultEncryptionAlgorithm = "RSA-2048"
	// DefaultCACertPath is where join writes the cluster CA.
	DefaultCACertPath = "/etc/kubernetes/pki/ca.crt"
	// DefaultTokenGroup is the extra group of bootstrap tokens, which RBAC lets join.
	DefaultTokenGroup = "system:bootstrappers:kubeadm:default-node-token"
	// ControlPlaneTaintKey keeps ordinary workloads off control-plane nodes.
	ControlPlaneTaintKey = "node-role.kubernetes.io/control-plane"

	// DefaultTokenTTL is how long a bootstrap token lives.
	DefaultTokenTTL = 24 * time.Hour
	// DefaultCertificateValidity is the lifetime of leaf certificates (8760h).
	DefaultCertificateValidity = 365 * 24 * time.Hour
	// DefaultCACertificateValidity is the lifetime of CA certificates (87600h).
	DefaultCACertificateValidity = 10 * 365 * 24 * time.Hour
)

// Placeholders `kforge config print` uses where a real run takes this machine's values.
const (
	placeholderToken        = "abcdef.0123456789abcdef"
	placeholderAddress      = "1.2.3.4"
	placeholderNodeName     = "node"
	placeholderJoinEndpoint = "kube-apiserver:6443"
)

// defaultTokenUsages are what a bootstrap token may do unless it says otherwise.
func defaultTokenUsages() []string { return []string{"signing", "authentication"} }

// ControlPlaneTaint is the taint a control-plane node registers with when its configuration
// leaves taints unset.
func ControlPlaneTaint() corev1.Taint {
	return corev1.Taint{Key: ControlPlaneTaintKey, Effect: corev1.TaintEffectNoSchedule}
}

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// SetInitDefaults fills every static default of an InitConfiguration and its
// ClusterConfiguration, keeping values already set; host-dependent values (node name,
// advertise address, token secrets, the control-plane taint) are left to SetInitDynamicDefaults.
func SetInitDefaults(c *InitConfiguration) {
	c.TypeMeta = metav1.TypeMeta{APIVersion: GroupVersion, Kind: KindInit}
	if len(c.BootstrapTokens) == 0 {
		// As in kubeadm, init always creates one token; its secret is generated later.
		c.BootstrapTokens = []BootstrapToken{{}}
	}
	for i := range c.BootstrapTokens {
		t := &c.BootstrapTokens[i]
		if t.TTL == nil && t.Expires == nil {
			t.TTL = dur(DefaultTokenTTL)
		}
		if len(t.Usages) == 0 {
			t.Usages = defaultTokenUsages()
		}
		if len(t.Groups) == 0 {
			t.Groups = []string{DefaultTokenGroup}
		}
	}
	setNodeRegistrationDefaults(&c.NodeRegistration)
	if c.LocalAPIEndpoint.BindPort == 0 {
		c.LocalAPIEndpoint.BindPort = DefaultAPIBindPort
	}
	c.Timeouts = setTimeoutDefaults(c.Timeouts)
	SetClusterDefaults(&c.ClusterConfiguration)
}

// SetClusterDefaults fills the static defaults of a ClusterConfiguration; SetInitDefaults
// calls it, and it stands alone for code that reads only the cluster-wide settings.
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
		c.EncryptionAlgorithm = DefaultEncryptionAlgorithm
	}
	if c.CertificateValidityPeriod == nil {
		c.CertificateValidityPeriod = dur(DefaultCertificateValidity)
	}
	if c.CACertificateValidityPeriod == nil {
		c.CACertificateValidityPeriod = dur(DefaultCACertificateValidity)
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
		{&t.ControlPlaneComponentHealthCheck, 4 * time.Minute},
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

// SetJoinDefaults fills the static defaults of a JoinConfiguration, keeping values already set.
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

// SetInitDynamicDefaults fills what depends on the machine, only where the configuration leaves
// it open: the node name, the advertise address (also when it is 0.0.0.0 or ::), the
// control-plane taint when taints are unset, and a fresh secret for every empty bootstrap token.
func SetInitDynamicDefaults(c *InitConfiguration, h HostInfo) error {
	if c.NodeRegistration.Name == "" {
		c.NodeRegistration.Name = h.Hostname
	}
	c.LocalAPIEndpoint.AdvertiseAddress = advertiseDefault(c.LocalAPIEndpoint.AdvertiseAddress, h)
	if c.NodeRegistration.Taints == nil {
		c.NodeRegistration.Taints = []corev1.Taint{ControlPlaneTaint()}
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

// SetJoinDynamicDefaults fills the node name from the machine and, for a joining control
// plane, its advertise address and the control-plane taint, only where they are unset.
func SetJoinDynamicDefaults(c *JoinConfiguration, h HostInfo) {
	if c.NodeRegistration.Name == "" {
		c.NodeRegistration.Name = h.Hostname
	}
	if cp := c.ControlPlane; cp != nil {
		cp.LocalAPIEndpoint.AdvertiseAddress = advertiseDefault(cp.LocalAPIEndpoint.AdvertiseAddress, h)
		if c.NodeRegistration.Taints == nil {
			c.NodeRegistration.Taints = []corev1.Taint{ControlPlaneTaint()}
		}
	}
}

// advertiseDefault keeps a concrete address and replaces an empty or unspecified one with the
// host's default-route address.
func advertiseDefault(addr string, h HostInfo) string {
	if ip := net.ParseIP(addr); (addr == "" || ip != nil && ip.IsUnspecified()) && h.DefaultIP != nil {
		return h.DefaultIP.String()
	}
	return addr
}

// GenerateToken returns a random bootstrap token in kubeadm's format, [a-z0-9]{6}.[a-z0-9]{16}.
func GenerateToken() (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	// 252 is the largest multiple of 36 below 256: bytes above it are drawn again, so every
	// character is equally likely.
	const limit = 252
	out := make([]byte, 0, 23)
	buf := make([]byte, 32)
	for len(out) < 23 {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate bootstrap token: %w", err)
		}
		for _, b := range buf {
			if len(out) == 23 {
				break
			}
			if len(out) == 6 {
				out = append(out, '.')
			}
			if b < limit {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// DefaultInitConfiguration is what `kforge config print init-defaults` prints, kubeadm's shape:
// every static default filled, with placeholders (token, node name, address) where a real run
// uses this machine's values.
func DefaultInitConfiguration() *InitConfiguration {
	c := &InitConfiguration{
		BootstrapTokens:  []BootstrapToken{{Token: placeholderToken}},
		NodeRegistration: NodeRegistrationOptions{Name: placeholderNodeName},
		LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: placeholderAddress},
	}
	SetInitDefaults(c)
	return c
}

// DefaultJoinConfiguration is what `kforge config print join-defaults` prints, kubeadm's shape.
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
