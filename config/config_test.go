package config

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/version"
)

func loadInit(t *testing.T, path string) (*InitConfiguration, []string) {
	t.Helper()
	docs, warnings, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile(%s): %v", path, err)
	}
	return InitFromDocuments(docs), warnings
}

func args(kv ...string) []Arg {
	var out []Arg
	for i := 0; i < len(kv); i += 2 {
		out = append(out, Arg{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// TestKubeadmFiles loads kubeadm's documented examples and checks each field lands in place.
func TestKubeadmFiles(t *testing.T) {
	taint := []corev1.Taint{{Key: "kubeadmNode", Value: "someValue", Effect: corev1.TaintEffectNoSchedule}}
	tests := []struct {
		file         string
		kubeletArgs  []Arg
		etcdArgs     []Arg
		apiArgs      []Arg
		cmArgs       []Arg
		schedArgs    []Arg
		tokens       int
		cpTimeout    time.Duration
		encryption   string
		wantWarnings []string
	}{
		{
			file:        "testdata/kubeadm-v1beta4.yaml",
			kubeletArgs: args("v", "5"), etcdArgs: args("listen-client-urls", "http://10.100.0.1:2379"),
			apiArgs: args("authorization-mode", "Node,RBAC"), cmArgs: args("node-cidr-mask-size", "20"),
			schedArgs: args("address", "10.100.0.1"), tokens: 2, cpTimeout: time.Minute, encryption: "ECDSA-P256",
			wantWarnings: []string{
				`kubernetesVersion "v1.21.0": kforge runs its own built-in components at Kubernetes API level ` + version.KubernetesAPILevel,
				`imageRepository "registry.k8s.io": kforge runs its own built-in control-plane components`,
				`etcd.local.imageRepository "registry.k8s.io": kforge runs its own built-in etcd`,
				`etcd.local.imageTag "3.2.24": kforge runs its own built-in etcd`,
				`unknown field "apiServer.extraVolumes" is a kubeadm setting kforge does not use; ignored`,
				`kubelet.config.k8s.io/v1beta1 KubeletConfiguration is not read by kforge and is ignored`,
				`kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration is not read by kforge and is ignored`,
			},
		},
		{
			file:        "testdata/kubeadm-v1beta3.yaml",
			kubeletArgs: args("cgroup-driver", "systemd", "v", "4"), etcdArgs: args("listen-client-urls", "http://10.100.0.1:2379"),
			apiArgs: args("authorization-mode", "Node,RBAC"), cmArgs: args("node-cidr-mask-size", "20"),
			schedArgs: args("bind-address", "10.100.0.1"), tokens: 1, cpTimeout: 4 * time.Minute,
			wantWarnings: []string{
				`kubernetesVersion "v1.21.0"`,
				`imageRepository "registry.k8s.io"`,
				`etcd.local.imageRepository "registry.k8s.io"`,
				`etcd.local.imageTag "3.2.24"`,
				`unknown field "patches" is a kubeadm setting kforge does not use; ignored`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, warnings := loadInit(t, tc.file)
			if c.APIVersion != GroupVersion || c.Kind != KindInit || c.ClusterConfiguration.APIVersion != GroupVersion {
				t.Errorf("type meta %v / %v", c.TypeMeta, c.ClusterConfiguration.TypeMeta)
			}
			if len(c.BootstrapTokens) != tc.tokens || c.BootstrapTokens[0].Token != "9a08jv.c0izixklcxtmnze7" ||
				c.BootstrapTokens[0].Description != "kubeadm bootstrap token" || c.BootstrapTokens[0].TTL.Duration != 24*time.Hour {
				t.Errorf("bootstrapTokens %+v", c.BootstrapTokens)
			}
			n := c.NodeRegistration
			if n.Name != "ec2-10-100-0-1" || !reflect.DeepEqual(n.Taints, taint) || !reflect.DeepEqual(n.KubeletExtraArgs, tc.kubeletArgs) ||
				!slices.Equal(n.IgnorePreflightErrors, []string{"IsPrivilegedUser"}) {
				t.Errorf("nodeRegistration %+v", n)
			}
			if c.LocalAPIEndpoint != (APIEndpoint{AdvertiseAddress: "10.100.0.1", BindPort: 6443}) {
				t.Errorf("localAPIEndpoint %+v", c.LocalAPIEndpoint)
			}
			if c.CertificateKey != "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204" {
				t.Errorf("certificateKey %q", c.CertificateKey)
			}
			if c.Timeouts == nil || c.Timeouts.ControlPlaneComponentHealthCheck.Duration != tc.cpTimeout {
				t.Errorf("timeouts %+v", c.Timeouts)
			}
			cc := c.ClusterConfiguration
			l := cc.Etcd.Local
			if l == nil || l.DataDir != "/var/lib/etcd" || !reflect.DeepEqual(l.ExtraArgs, tc.etcdArgs) ||
				!slices.Equal(l.ServerCertSANs, []string{"ec2-10-100-0-1.compute-1.amazonaws.com"}) || !slices.Equal(l.PeerCertSANs, []string{"10.100.0.1"}) ||
				l.ImageTag != "3.2.24" {
				t.Errorf("etcd.local %+v", l)
			}
			if cc.Networking != (Networking{ServiceSubnet: "10.96.0.0/16", PodSubnet: "10.244.0.0/24", DNSDomain: "cluster.local"}) {
				t.Errorf("networking %+v", cc.Networking)
			}
			if cc.KubernetesVersion != "v1.21.0" || cc.ControlPlaneEndpoint != "10.100.0.1:6443" || cc.CertificatesDir != "/etc/kubernetes/pki" ||
				cc.ImageRepository != "registry.k8s.io" || cc.ClusterName != "example-cluster" || cc.EncryptionAlgorithm != tc.encryption {
				t.Errorf("cluster fields %+v", cc)
			}
			if !reflect.DeepEqual(cc.APIServer.ExtraArgs, tc.apiArgs) || !slices.Equal(cc.APIServer.CertSANs, []string{"10.100.1.1", "ec2-10-100-0-1.compute-1.amazonaws.com"}) {
				t.Errorf("apiServer %+v", cc.APIServer)
			}
			if !reflect.DeepEqual(cc.ControllerManager.ExtraArgs, tc.cmArgs) || !reflect.DeepEqual(cc.Scheduler.ExtraArgs, tc.schedArgs) {
				t.Errorf("controllerManager %+v scheduler %+v", cc.ControllerManager, cc.Scheduler)
			}
			if len(warnings) != len(tc.wantWarnings) {
				t.Errorf("%d warnings, want %d:\n%s", len(warnings), len(tc.wantWarnings), strings.Join(warnings, "\n"))
			}
			for _, w := range tc.wantWarnings {
				if !slices.ContainsFunc(warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no warning containing %q in:\n%s", w, strings.Join(warnings, "\n"))
				}
			}
			for _, w := range warnings {
				if strings.Contains(w, "\n") || !strings.HasPrefix(w, "warning: "+tc.file) {
					t.Errorf("warning is not one line naming the file: %q", w)
				}
			}
			// A kubeadm file is a valid kforge configuration once defaulted.
			SetInitDefaults(c)
			if err := ValidateInitConfiguration(c); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestKubeadmExternalEtcdAndJoin(t *testing.T) {
	c, warnings := loadInit(t, "testdata/kubeadm-v1beta3-external-etcd.yaml")
	e := c.ClusterConfiguration.Etcd.External
	if e == nil || !slices.Equal(e.Endpoints, []string{"https://10.0.0.20:2379", "https://10.0.0.21:2379"}) ||
		e.CAFile != "/etc/kubernetes/pki/etcd/ca.crt" || e.CertFile != "/etc/kubernetes/pki/apiserver-etcd-client.crt" ||
		e.KeyFile != "/etc/kubernetes/pki/apiserver-etcd-client.key" || c.ClusterConfiguration.Etcd.Local != nil {
		t.Errorf("etcd %+v", c.ClusterConfiguration.Etcd)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `kubernetesVersion "stable"`) {
		t.Errorf("warnings %q", warnings)
	}
	SetInitDefaults(c)
	if c.ClusterConfiguration.Etcd.Local != nil || !c.ClusterConfiguration.IsExternalEtcd() {
		t.Error("defaulting added local etcd next to external")
	}

	docs, warnings, err := LoadFile("testdata/kubeadm-v1beta4-join.yaml")
	if err != nil || len(warnings) != 0 || docs.Join == nil {
		t.Fatalf("join: %v %q", err, warnings)
	}
	j := docs.Join
	if j.Discovery.BootstrapToken.APIServerEndpoint != "10.0.0.5:6443" || j.Discovery.BootstrapToken.Token != "abcdef.0123456789abcdef" ||
		len(j.Discovery.BootstrapToken.CACertHashes) != 1 || j.ControlPlane.LocalAPIEndpoint.AdvertiseAddress != "10.0.0.6" ||
		!reflect.DeepEqual(j.NodeRegistration.KubeletExtraArgs, args("node-ip", "10.0.0.21")) {
		t.Errorf("join %+v", j)
	}
	SetJoinDefaults(j)
	if err := ValidateJoinConfiguration(j); err != nil {
		t.Errorf("validate join: %v", err)
	}
	if j.Discovery.TLSBootstrapToken != "abcdef.0123456789abcdef" || j.ControlPlane.LocalAPIEndpoint.BindPort != 6443 {
		t.Errorf("join defaults %+v", j)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown field in kforge kind", "apiVersion: kforge.dev/v1beta1\nkind: ClusterConfiguration\nnetworkin:\n  podSubnet: 10.0.0.0/16\n", `unknown field "networkin"`},
		{"unknown kind", "apiVersion: kforge.dev/v1beta1\nkind: Nonsense\n", `unknown kind "Nonsense"`},
		{"unknown apiVersion", "apiVersion: example.com/v1\nkind: Thing\n", "unknown apiVersion/kind example.com/v1 Thing"},
		{"missing apiVersion", "kind: InitConfiguration\n", "missing apiVersion"},
		{"not yaml", "apiVersion: [\n", "document 1: not valid YAML"},
		{"duplicate kind", "apiVersion: kforge.dev/v1beta1\nkind: InitConfiguration\n---\napiVersion: kforge.dev/v1beta1\nkind: InitConfiguration\n", "document 2: a second InitConfiguration"},
		{"empty", "# nothing\n", "no InitConfiguration, ClusterConfiguration or JoinConfiguration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func valid() *InitConfiguration {
	c := &InitConfiguration{
		NodeRegistration: NodeRegistrationOptions{Name: "cp1"},
		LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: "10.0.0.5"},
		BootstrapTokens:  []BootstrapToken{{Token: "abcdef.0123456789abcdef"}},
	}
	SetInitDefaults(c)
	return c
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *InitConfiguration)
		want   string
	}{
		{"pod subnet prefix", func(c *InitConfiguration) { c.ClusterConfiguration.Networking.PodSubnet = "10.244.0.0/33" }, `networking.podSubnet "10.244.0.0/33": invalid CIDR`},
		{"service subnet too big", func(c *InitConfiguration) { c.ClusterConfiguration.Networking.ServiceSubnet = "10.0.0.0/8" }, `networking.serviceSubnet "10.0.0.0/8": too large: at most /12`},
		{"overlap", func(c *InitConfiguration) { c.ClusterConfiguration.Networking.PodSubnet = "10.96.0.0/16" }, `networking.podSubnet "10.96.0.0/16": overlaps networking.serviceSubnet`},
		{"host bits", func(c *InitConfiguration) { c.ClusterConfiguration.Networking.PodSubnet = "10.244.1.0/16" }, `has host bits set; the network address is 10.244.0.0/16`},
		{"dual stack same family", func(c *InitConfiguration) {
			c.ClusterConfiguration.Networking.PodSubnet = "10.244.0.0/16,10.245.0.0/16"
		}, "one IPv4 and one IPv6"},
		{"dns domain", func(c *InitConfiguration) { c.ClusterConfiguration.Networking.DNSDomain = "Cluster_Local" }, `networking.dnsDomain "Cluster_Local": not a DNS domain`},
		{"advertise address", func(c *InitConfiguration) { c.LocalAPIEndpoint.AdvertiseAddress = "cp1.local" }, `localAPIEndpoint.advertiseAddress "cp1.local": not an IP address`},
		{"bind port", func(c *InitConfiguration) { c.LocalAPIEndpoint.BindPort = 70000 }, `localAPIEndpoint.bindPort "70000": must be a port between 1 and 65535`},
		{"endpoint port", func(c *InitConfiguration) { c.ClusterConfiguration.ControlPlaneEndpoint = "lb:http" }, `controlPlaneEndpoint "lb:http": port "http" is not between 1 and 65535`},
		{"cert SAN", func(c *InitConfiguration) {
			c.ClusterConfiguration.APIServer.CertSANs = []string{"*.ok.example.com", "not valid"}
		}, `apiServer.certSANs[1] "not valid": neither an IP address nor a DNS name`},
		{"token", func(c *InitConfiguration) { c.BootstrapTokens[0].Token = "ABCDEF.0123456789abcdef" }, `bootstrapTokens[0].token "ABCDEF.0123456789abcdef": invalid token`},
		{"token usage", func(c *InitConfiguration) { c.BootstrapTokens[0].Usages = []string{"signing", "everything"} }, `bootstrapTokens[0].usages[1] "everything": unknown usage`},
		{"token group", func(c *InitConfiguration) { c.BootstrapTokens[0].Groups = []string{"system:masters"} }, `bootstrapTokens[0].groups[0] "system:masters": extra groups of a bootstrap token must start with "system:bootstrappers:"`},
		{"node name", func(c *InitConfiguration) { c.NodeRegistration.Name = "CP_1" }, `nodeRegistration.name "CP_1": invalid node name`},
		{"taint effect", func(c *InitConfiguration) {
			c.NodeRegistration.Taints = []corev1.Taint{{Key: "a", Effect: "Sometimes"}}
		}, `nodeRegistration.taints[0].effect "Sometimes": must be NoSchedule`},
		{"certificate key", func(c *InitConfiguration) { c.CertificateKey = "abc" }, `certificateKey "abc": must be 64 hexadecimal characters`},
		{"external etcd files", func(c *InitConfiguration) {
			c.ClusterConfiguration.Etcd = Etcd{External: &ExternalEtcd{Endpoints: []string{"https://10.0.0.20:2379"}}}
		}, "etcd.external.caFile: required for https endpoints"},
		{"external etcd url", func(c *InitConfiguration) {
			c.ClusterConfiguration.Etcd = Etcd{External: &ExternalEtcd{Endpoints: []string{"10.0.0.20:2379"}}}
		}, `etcd.external.endpoints[0] "10.0.0.20:2379": must be a URL starting with https://`},
		{"both etcds", func(c *InitConfiguration) {
			c.ClusterConfiguration.Etcd.External = &ExternalEtcd{Endpoints: []string{"http://e:2379"}}
		}, "etcd: local and external are mutually exclusive"},
		{"encryption", func(c *InitConfiguration) { c.ClusterConfiguration.EncryptionAlgorithm = "DSA" }, `encryptionAlgorithm "DSA": unknown; use one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256`},
		{"validity", func(c *InitConfiguration) {
			c.ClusterConfiguration.CertificateValidityPeriod = &metav1.Duration{Duration: -time.Hour}
		}, `certificateValidityPeriod "-1h0m0s": must be positive`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.mutate(c)
			err := ValidateInitConfiguration(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			ve, ok := err.(*ValidationError)
			if !ok || ve.ExitCode() != 3 {
				t.Errorf("error %T is not a *ValidationError with exit code 3", err)
			}
		})
	}
	if err := ValidateInitConfiguration(valid()); err != nil {
		t.Errorf("valid configuration rejected: %v", err)
	}
	c := valid()
	c.ClusterConfiguration.Networking.PodSubnet = "10.244.0.0/16,fd00:10:244::/56"
	c.ClusterConfiguration.Networking.ServiceSubnet = "10.96.0.0/12,fd00:10:96::/112"
	if err := ValidateInitConfiguration(c); err != nil {
		t.Errorf("dual-stack rejected: %v", err)
	}
	// Several problems are reported together.
	c = valid()
	c.ClusterConfiguration.Networking.PodSubnet = "x"
	c.LocalAPIEndpoint.AdvertiseAddress = "y"
	if err := ValidateInitConfiguration(c); err == nil || len(err.(*ValidationError).Errors) != 2 {
		t.Errorf("want two problems, got %v", err)
	}
}

func TestDefaultsRoundTrip(t *testing.T) {
	init := DefaultInitConfiguration()
	if err := ValidateInitConfiguration(init); err != nil {
		t.Fatalf("init-defaults do not validate: %v", err)
	}
	b, err := MarshalInitConfiguration(init)
	if err != nil {
		t.Fatal(err)
	}
	docs, warnings, err := Load(b)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("read back: %v %q\n%s", err, warnings, b)
	}
	if got := InitFromDocuments(docs); !reflect.DeepEqual(got, init) {
		t.Errorf("init-defaults changed on the round trip:\n%s\n got %+v\nwant %+v", b, got, init)
	}
	for _, want := range []string{"token: abcdef.0123456789abcdef", "name: node", "advertiseAddress: 1.2.3.4", "kind: ClusterConfiguration",
		"serviceSubnet: 10.96.0.0/12", "kubernetesVersion: " + version.KubernetesAPILevel, "key: node-role.kubernetes.io/control-plane"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("init-defaults lack %q:\n%s", want, b)
		}
	}

	join := DefaultJoinConfiguration()
	if err := ValidateJoinConfiguration(join); err != nil {
		t.Fatalf("join-defaults do not validate: %v", err)
	}
	b, err = MarshalJoinConfiguration(join)
	if err != nil {
		t.Fatal(err)
	}
	docs, _, err = Load(b)
	if err != nil || !reflect.DeepEqual(docs.Join, join) {
		t.Errorf("join-defaults changed on the round trip (%v):\n%s", err, b)
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	c, _ := loadInit(t, "testdata/kubeadm-v1beta4.yaml")
	s := func(v string) *string { return &v }
	port := int32(7443)
	ttl := 2 * time.Hour
	warnings := InitFlags{
		AdvertiseAddress: s("10.0.0.9"), BindPort: &port, PodNetworkCIDR: s("10.240.0.0/16"),
		APIServerCertExtraSANs: []string{"x.example.com"}, NodeName: s("cp9"), Token: s("zzzzzz.zzzzzzzzzzzzzzzz"), TokenTTL: &ttl,
		KubernetesVersion: s("v1.30.2"),
	}.Apply(c)
	if c.LocalAPIEndpoint != (APIEndpoint{"10.0.0.9", 7443}) || c.ClusterConfiguration.Networking.PodSubnet != "10.240.0.0/16" ||
		!slices.Equal(c.ClusterConfiguration.APIServer.CertSANs, []string{"x.example.com"}) || c.NodeRegistration.Name != "cp9" ||
		c.BootstrapTokens[0].Token != "zzzzzz.zzzzzzzzzzzzzzzz" || c.BootstrapTokens[0].TTL.Duration != ttl {
		t.Errorf("flags not applied: %+v", c)
	}
	// Flags not given leave the file's values.
	if c.ClusterConfiguration.Networking.ServiceSubnet != "10.96.0.0/16" || c.ClusterConfiguration.ControlPlaneEndpoint != "10.100.0.1:6443" ||
		c.BootstrapTokens[1].Token != "783bde.3f89s0fje9f38fhf" {
		t.Errorf("file values lost: %+v", c.ClusterConfiguration)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `--kubernetes-version: kubernetesVersion "v1.30.2"`) {
		t.Errorf("warnings %q", warnings)
	}
}

func TestDynamicDefaultsAndURLs(t *testing.T) {
	c := &InitConfiguration{}
	SetInitDefaults(c)
	if err := SetInitDynamicDefaults(c, HostInfo{Hostname: "cp7", DefaultIP: []byte{10, 0, 0, 7}}); err != nil {
		t.Fatal(err)
	}
	if c.NodeRegistration.Name != "cp7" || c.LocalAPIEndpoint.AdvertiseAddress != "10.0.0.7" || !tokenRE.MatchString(c.BootstrapTokens[0].Token) {
		t.Errorf("dynamic defaults %+v", c)
	}
	if err := ValidateInitConfiguration(c); err != nil {
		t.Errorf("defaulted config invalid: %v", err)
	}
	if got := c.APIServerURL(); got != "https://10.0.0.7:6443" {
		t.Errorf("APIServerURL without endpoint %q", got)
	}
	for ep, want := range map[string]string{"lb.example.com": "https://lb.example.com:6443", "lb.example.com:8443": "https://lb.example.com:8443", "fd00::1": "https://[fd00::1]:6443"} {
		c.ClusterConfiguration.ControlPlaneEndpoint = ep
		if got := c.APIServerURL(); got != want {
			t.Errorf("APIServerURL(%s) = %s, want %s", ep, got, want)
		}
	}
	if got := c.LocalAPIServerURL(); got != "https://10.0.0.7:6443" {
		t.Errorf("LocalAPIServerURL %s", got)
	}
	for subnet, want := range map[string][2]string{"10.96.0.0/12": {"10.96.0.1", "10.96.0.10"}, "fd00:10:96::/112,10.96.0.0/12": {"fd00:10:96::1", "fd00:10:96::a"}} {
		first, _ := FirstServiceIP(subnet)
		dns, _ := DNSServiceIP(subnet)
		if first.String() != want[0] || dns.String() != want[1] {
			t.Errorf("%s: first %s dns %s", subnet, first, dns)
		}
	}
	if _, err := DNSServiceIP("10.96.0.0/30"); err == nil {
		t.Error("a /30 has no tenth address")
	}
}

func TestDetectHost(t *testing.T) {
	h, err := DetectHost()
	if h.Hostname == "" {
		t.Errorf("no host name (%v)", err)
	}
	route := t.TempDir() + "/route"
	os.WriteFile(route, []byte("Iface\tDestination\tGateway\nlo\t0000007F\t00000000\neth9\t00000000\t0100000A\n"), 0o644)
	if got := defaultRouteInterface(route); got != "eth9" {
		t.Errorf("default route interface %q", got)
	}
}

func TestJoinFlags(t *testing.T) {
	s := func(v string) *string { return &v }
	yes := true
	j := &JoinConfiguration{}
	err := JoinFlags{Token: s("abcdef.0123456789abcdef"), DiscoveryTokenAPIServer: s("10.0.0.5:6443"),
		DiscoveryTokenCACertHashes: []string{"sha256:" + strings.Repeat("ab", 32)}, NodeName: s("cp2"),
		ControlPlane: &yes, CertificateKey: s(strings.Repeat("cd", 32)), AdvertiseAddress: s("10.0.0.6")}.Apply(j)
	if err != nil {
		t.Fatal(err)
	}
	SetJoinDefaults(j)
	if err := ValidateJoinConfiguration(j); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if j.Discovery.BootstrapToken.Token != "abcdef.0123456789abcdef" || j.Discovery.TLSBootstrapToken != "abcdef.0123456789abcdef" ||
		j.ControlPlane == nil || j.ControlPlane.LocalAPIEndpoint != (APIEndpoint{"10.0.0.6", 6443}) || j.NodeRegistration.Name != "cp2" {
		t.Errorf("join flags: %+v %+v", j.Discovery, j.ControlPlane)
	}
	j = &JoinConfiguration{}
	if err := (JoinFlags{DiscoveryFile: s("/tmp/x"), DiscoveryToken: s("a")}).Apply(j); err == nil {
		t.Error("--discovery-file with --discovery-token accepted")
	}
	j = &JoinConfiguration{NodeRegistration: NodeRegistrationOptions{Name: "w1"}}
	JoinFlags{Token: s("abcdef.0123456789abcdef"), DiscoveryTokenAPIServer: s("10.0.0.5:6443")}.Apply(j)
	SetJoinDefaults(j)
	if err := ValidateJoinConfiguration(j); err == nil || !strings.Contains(err.Error(), "discovery.bootstrapToken.caCertHashes: required unless unsafeSkipCAVerification") {
		t.Errorf("missing CA pin: %v", err)
	}
}
