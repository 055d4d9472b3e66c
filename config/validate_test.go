package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validInit() *InitConfiguration {
	c := &InitConfiguration{
		NodeRegistration: NodeRegistrationOptions{Name: "cp1"},
		LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: "10.0.0.5"},
		BootstrapTokens:  []BootstrapToken{{Token: "abcdef.0123456789abcdef"}},
	}
	SetInitDefaults(c)
	return c
}

func TestValidateInitConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *InitConfiguration, cc *ClusterConfiguration)
		want   string // the exact field error, one line of the message
	}{
		{"pod subnet prefix", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.PodSubnet = "10.244.0.0/33" },
			`networking.podSubnet "10.244.0.0/33": invalid CIDR; write an address and prefix length, e.g. 10.244.0.0/16`},
		{"pod subnet garbage in dual-stack", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.PodSubnet = "10.244.0.0/16,nope" },
			`networking.podSubnet "nope": invalid CIDR`},
		{"three subnets", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.Networking.PodSubnet = "10.1.0.0/16,10.2.0.0/16,fd00::/64"
		},
			`networking.podSubnet "10.1.0.0/16,10.2.0.0/16,fd00::/64": at most two CIDRs (one IPv4, one IPv6) for dual-stack`},
		{"service subnet invalid", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.ServiceSubnet = "10.96.0.0" },
			`networking.serviceSubnet "10.96.0.0": invalid CIDR`},
		{"service subnet too large", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.ServiceSubnet = "10.0.0.0/8" },
			`networking.serviceSubnet "10.0.0.0/8": too large: at most /12 for IPv4 (20 host bits); use e.g. 10.96.0.0/12`},
		{"service subnet v6 too large", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.ServiceSubnet = "fd00::/64" },
			`networking.serviceSubnet "fd00::/64": too large: at most /108 for IPv6 (20 host bits)`},
		{"service subnet too small", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.ServiceSubnet = "10.96.0.0/30" },
			`networking.serviceSubnet "10.96.0.0/30": too small: the DNS Service takes the 10th address, so use at least a /28`},
		{"overlap", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.PodSubnet = "10.96.0.0/16" },
			`networking.podSubnet "10.96.0.0/16": overlaps networking.serviceSubnet 10.96.0.0/12; pick disjoint ranges, e.g. 10.244.0.0/16 for pods and 10.96.0.0/12 for services`},
		{"host bits", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.PodSubnet = "10.244.1.0/16" },
			`networking.podSubnet "10.244.1.0/16": has host bits set; the network address is 10.244.0.0/16`},
		{"dual stack same family", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.Networking.PodSubnet = "10.244.0.0/16,10.245.0.0/16"
		},
			`networking.podSubnet "10.244.0.0/16,10.245.0.0/16": a dual-stack pair needs one IPv4 and one IPv6 CIDR`},
		{"dns domain", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.DNSDomain = "Cluster_Local" },
			`networking.dnsDomain "Cluster_Local": not a DNS domain: `},
		{"dns domain empty", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Networking.DNSDomain = "" },
			`networking.dnsDomain: required, e.g. "cluster.local"`},
		{"advertise address", func(c *InitConfiguration, _ *ClusterConfiguration) { c.LocalAPIEndpoint.AdvertiseAddress = "cp1.local" },
			`localAPIEndpoint.advertiseAddress "cp1.local": not an IP address; give this node's address, e.g. 10.0.0.5`},
		{"advertise address missing", func(c *InitConfiguration, _ *ClusterConfiguration) { c.LocalAPIEndpoint.AdvertiseAddress = "" },
			`localAPIEndpoint.advertiseAddress: required: the IP address this node's apiserver advertises; set it or pass --apiserver-advertise-address`},
		{"advertise address unspecified", func(c *InitConfiguration, _ *ClusterConfiguration) { c.LocalAPIEndpoint.AdvertiseAddress = "0.0.0.0" },
			`localAPIEndpoint.advertiseAddress "0.0.0.0": cannot be the unspecified address`},
		{"bind port high", func(c *InitConfiguration, _ *ClusterConfiguration) { c.LocalAPIEndpoint.BindPort = 70000 },
			`localAPIEndpoint.bindPort "70000": must be a port between 1 and 65535 (default 6443)`},
		{"bind port negative", func(c *InitConfiguration, _ *ClusterConfiguration) { c.LocalAPIEndpoint.BindPort = -1 },
			`localAPIEndpoint.bindPort "-1": must be a port between 1 and 65535`},
		{"endpoint port", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.ControlPlaneEndpoint = "lb:http" },
			`controlPlaneEndpoint "lb:http": port "http" is not between 1 and 65535; write a host or IP with an optional port, e.g. lb.example.com:6443`},
		{"endpoint port zero", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.ControlPlaneEndpoint = "lb.example.com:0" },
			`controlPlaneEndpoint "lb.example.com:0": port "0" is not between 1 and 65535`},
		{"endpoint host", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.ControlPlaneEndpoint = "lb_1:6443" },
			`controlPlaneEndpoint "lb_1:6443": host "lb_1" is neither an IP address nor a DNS name`},
		{"cert SAN", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.APIServer.CertSANs = []string{"*.ok.example.com", "10.0.0.1", "fd00::1", "not valid"}
		}, `apiServer.certSANs[3] "not valid": neither an IP address nor a DNS name (wildcards like *.example.com are allowed)`},
		{"etcd SAN", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Etcd.Local.PeerCertSANs = []string{"a b"} },
			`etcd.local.peerCertSANs[0] "a b": neither an IP address nor a DNS name`},
		{"token", func(c *InitConfiguration, _ *ClusterConfiguration) {
			c.BootstrapTokens[0].Token = "ABCDEF.s3cr3ts3cr3ts3cr"
		},
			`bootstrapTokens[0].token "ABCDEF.<redacted>": invalid token; a bootstrap token is 6 then 16 characters of [a-z0-9] joined by a dot, e.g. "abcdef.0123456789abcdef"`},
		{"token usage", func(c *InitConfiguration, _ *ClusterConfiguration) {
			c.BootstrapTokens[0].Usages = []string{"signing", "everything"}
		},
			`bootstrapTokens[0].usages[1] "everything": unknown usage; use "signing" and/or "authentication"`},
		{"token group", func(c *InitConfiguration, _ *ClusterConfiguration) {
			c.BootstrapTokens[0].Groups = []string{"system:masters"}
		},
			`bootstrapTokens[0].groups[0] "system:masters": extra groups of a bootstrap token must start with "system:bootstrappers:"`},
		{"token ttl", func(c *InitConfiguration, _ *ClusterConfiguration) { c.BootstrapTokens[0].TTL = d(-time.Hour) },
			`bootstrapTokens[0].ttl "-1h0m0s": must not be negative (0 means the token never expires)`},
		{"node name", func(c *InitConfiguration, _ *ClusterConfiguration) { c.NodeRegistration.Name = "CP_1" },
			`nodeRegistration.name "CP_1": invalid node name: `},
		{"node name missing", func(c *InitConfiguration, _ *ClusterConfiguration) { c.NodeRegistration.Name = "" },
			`nodeRegistration.name: required: set it or pass --node-name`},
		{"cri socket", func(c *InitConfiguration, _ *ClusterConfiguration) { c.NodeRegistration.CRISocket = "tcp://1.2.3.4:1" },
			`nodeRegistration.criSocket "tcp://1.2.3.4:1": must be a unix socket, e.g. "unix:///var/run/containerd/containerd.sock"`},
		{"taint effect", func(c *InitConfiguration, _ *ClusterConfiguration) {
			c.NodeRegistration.Taints = []corev1.Taint{{Key: "a", Effect: "Sometimes"}}
		}, `nodeRegistration.taints[0].effect "Sometimes": must be NoSchedule, PreferNoSchedule or NoExecute`},
		{"taint key", func(c *InitConfiguration, _ *ClusterConfiguration) {
			c.NodeRegistration.Taints = []corev1.Taint{{Key: "bad key", Effect: corev1.TaintEffectNoSchedule}}
		}, `nodeRegistration.taints[0].key "bad key": invalid taint key: `},
		{"certificate key", func(c *InitConfiguration, _ *ClusterConfiguration) { c.CertificateKey = "abc" },
			`certificateKey: must be 64 hexadecimal characters (32 bytes), not 3 characters; 'kforge certs certificate-key' prints one`},
		{"external etcd without files", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.Etcd = Etcd{External: &ExternalEtcd{Endpoints: []string{"https://10.0.0.20:2379"}}}
		}, "etcd.external.caFile: required for https endpoints: the etcd CA, and the client certificate and key the apiservers use"},
		{"external etcd without endpoints", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.Etcd = Etcd{External: &ExternalEtcd{}} },
			"etcd.external.endpoints: required: the client URLs of the external etcd, e.g. https://10.0.0.20:2379"},
		{"external etcd url", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.Etcd = Etcd{External: &ExternalEtcd{Endpoints: []string{"10.0.0.20:2379"}}}
		}, `etcd.external.endpoints[0] "10.0.0.20:2379": must be a URL starting with https:// (or http://)`},
		{"both etcds", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.Etcd.External = &ExternalEtcd{Endpoints: []string{"http://e:2379"}}
		}, "etcd: local and external are mutually exclusive; keep one"},
		{"encryption", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.EncryptionAlgorithm = "DSA" },
			`encryptionAlgorithm "DSA": unknown; use one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384`},
		{"validity", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.CertificateValidityPeriod = &metav1.Duration{Duration: -time.Hour}
		}, `certificateValidityPeriod "-1h0m0s": must be positive, e.g. 8760h0m0s`},
		{"certificates dir", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.CertificatesDir = "" },
			"certificatesDir: required, e.g. /etc/kubernetes/pki"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validInit()
			tc.mutate(c, &c.ClusterConfiguration)
			err := ValidateInitConfiguration(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.ExitCode() != 3 {
				t.Errorf("error %T is not a *ValidationError with exit code 3", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("a token secret leaked into the error: %v", err)
			}
		})
	}
}

func TestValidConfigurations(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *InitConfiguration, cc *ClusterConfiguration)
	}{
		{"defaults", func(*InitConfiguration, *ClusterConfiguration) {}},
		{"dual-stack", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.Networking.PodSubnet = "10.244.0.0/16,fd00:10:244::/56"
			cc.Networking.ServiceSubnet = "10.96.0.0/12,fd00:10:96::/112"
		}},
		{"endpoint forms", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.ControlPlaneEndpoint = "[fd00::1]:6443" }},
		{"bare IPv6 endpoint", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.ControlPlaneEndpoint = "fd00::1" }},
		{"host endpoint", func(_ *InitConfiguration, cc *ClusterConfiguration) { cc.ControlPlaneEndpoint = "lb.example.com" }},
		{"no taints, ECDSA-P384, certificate key", func(c *InitConfiguration, cc *ClusterConfiguration) {
			c.NodeRegistration.Taints = []corev1.Taint{}
			cc.EncryptionAlgorithm = "ECDSA-P384"
			c.CertificateKey = strings.Repeat("e6", 32)
		}},
		{"plain-http external etcd needs no files", func(_ *InitConfiguration, cc *ClusterConfiguration) {
			cc.Etcd = Etcd{External: &ExternalEtcd{Endpoints: []string{"http://10.0.0.20:2379"}}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validInit()
			tc.mutate(c, &c.ClusterConfiguration)
			if err := ValidateInitConfiguration(c); err != nil {
				t.Errorf("rejected: %v", err)
			}
		})
	}
}

func TestValidationErrorListsEveryProblem(t *testing.T) {
	c := validInit()
	c.ClusterConfiguration.Networking.PodSubnet = "x"
	c.LocalAPIEndpoint.AdvertiseAddress = "y"
	err := ValidateInitConfiguration(c)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 2 {
		t.Fatalf("want two problems, got %v", err)
	}
	want := "invalid configuration (2 problems):\n" +
		`  - localAPIEndpoint.advertiseAddress "y": not an IP address; give this node's address, e.g. 10.0.0.5` + "\n" +
		`  - networking.podSubnet "x": invalid CIDR; write an address and prefix length, e.g. 10.244.0.0/16`
	if err.Error() != want {
		t.Errorf("message:\n%s\nwant:\n%s", err, want)
	}
	c = validInit()
	c.ClusterConfiguration.Networking.PodSubnet = "10.244.0.0/33"
	if got := ValidateInitConfiguration(c).Error(); got != `invalid configuration: networking.podSubnet "10.244.0.0/33": invalid CIDR; write an address and prefix length, e.g. 10.244.0.0/16` {
		t.Errorf("single problem message %q", got)
	}
}

func TestValidateJoinConfiguration(t *testing.T) {
	hash := "sha256:" + strings.Repeat("ab", 32)
	valid := func() *JoinConfiguration {
		j := &JoinConfiguration{
			NodeRegistration: NodeRegistrationOptions{Name: "w1"},
			Discovery: Discovery{BootstrapToken: &BootstrapTokenDiscovery{Token: "abcdef.0123456789abcdef",
				APIServerEndpoint: "10.0.0.5:6443", CACertHashes: []string{hash}}},
		}
		SetJoinDefaults(j)
		return j
	}
	tests := []struct {
		name   string
		mutate func(j *JoinConfiguration)
		want   string
	}{
		{"no discovery", func(j *JoinConfiguration) { j.Discovery.BootstrapToken = nil },
			"discovery: set bootstrapToken (with --token and --discovery-token-ca-cert-hash) or file (--discovery-file)"},
		{"both discoveries", func(j *JoinConfiguration) { j.Discovery.File = &FileDiscovery{KubeConfigPath: "/x"} },
			"discovery: bootstrapToken and file are mutually exclusive; keep one"},
		{"bad token", func(j *JoinConfiguration) { j.Discovery.BootstrapToken.Token = "abcdef" },
			`discovery.bootstrapToken.token "<redacted>": invalid token`},
		{"endpoint without port", func(j *JoinConfiguration) { j.Discovery.BootstrapToken.APIServerEndpoint = "10.0.0.5" },
			`discovery.bootstrapToken.apiServerEndpoint "10.0.0.5": not host:port; write e.g. 10.0.0.5:6443`},
		{"no CA pin", func(j *JoinConfiguration) { j.Discovery.BootstrapToken.CACertHashes = nil },
			"discovery.bootstrapToken.caCertHashes: required unless unsafeSkipCAVerification is true"},
		{"bad CA pin", func(j *JoinConfiguration) { j.Discovery.BootstrapToken.CACertHashes = []string{"md5:abc"} },
			`discovery.bootstrapToken.caCertHashes[0] "md5:abc": must be "sha256:" and 64 hexadecimal characters`},
		{"bad control-plane key", func(j *JoinConfiguration) {
			j.ControlPlane = &JoinControlPlane{CertificateKey: "zz", LocalAPIEndpoint: APIEndpoint{BindPort: 6443}}
		}, "controlPlane.certificateKey: must be 64 hexadecimal characters (32 bytes), not 2 characters"},
		{"bad control-plane address", func(j *JoinConfiguration) {
			j.ControlPlane = &JoinControlPlane{LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: "x", BindPort: 6443}}
		}, `controlPlane.localAPIEndpoint.advertiseAddress "x": not an IP address`},
		{"file without path", func(j *JoinConfiguration) {
			j.Discovery.BootstrapToken = nil
			j.Discovery.File = &FileDiscovery{}
		}, "discovery.file.kubeConfigPath: required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := valid()
			tc.mutate(j)
			err := ValidateJoinConfiguration(j)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.ExitCode() != 3 {
				t.Errorf("error %T is not a *ValidationError with exit code 3", err)
			}
		})
	}
	if err := ValidateJoinConfiguration(valid()); err != nil {
		t.Errorf("valid join rejected: %v", err)
	}
}
