package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"kforge.dev/kforge/version"
)

func TestSetInitDefaults(t *testing.T) {
	c := &InitConfiguration{}
	SetInitDefaults(c)
	cc := c.ClusterConfiguration
	checks := []struct {
		field     string
		got, want any
	}{
		{"apiVersion", c.APIVersion, GroupVersion},
		{"kind", c.Kind, KindInit},
		{"networking.serviceSubnet", cc.Networking.ServiceSubnet, "10.96.0.0/12"},
		{"networking.dnsDomain", cc.Networking.DNSDomain, "cluster.local"},
		{"networking.podSubnet", cc.Networking.PodSubnet, ""},
		{"certificatesDir", cc.CertificatesDir, "/etc/kubernetes/pki"},
		{"localAPIEndpoint.bindPort", c.LocalAPIEndpoint.BindPort, int32(6443)},
		{"clusterName", cc.ClusterName, "kubernetes"},
		{"etcd.local.dataDir", cc.Etcd.Local.DataDir, "/var/lib/etcd"},
		{"encryptionAlgorithm", cc.EncryptionAlgorithm, "RSA-2048"},
		{"certificateValidityPeriod", cc.CertificateValidityPeriod.Duration, 8760 * time.Hour},
		{"caCertificateValidityPeriod", cc.CACertificateValidityPeriod.Duration, 87600 * time.Hour},
		{"kubernetesVersion", cc.KubernetesVersion, version.KubernetesAPILevel},
		{"imageRepository", cc.ImageRepository, "registry.k8s.io"},
		{"nodeRegistration.criSocket", c.NodeRegistration.CRISocket, "unix:///var/run/containerd/containerd.sock"},
		{"nodeRegistration.imagePullPolicy", c.NodeRegistration.ImagePullPolicy, corev1.PullIfNotPresent},
		{"nodeRegistration.taints (left to dynamic defaults)", c.NodeRegistration.Taints == nil, true},
		{"bootstrapTokens (one, secret generated later)", len(c.BootstrapTokens), 1},
		{"bootstrapTokens[0].ttl", c.BootstrapTokens[0].TTL.Duration, 24 * time.Hour},
		{"bootstrapTokens[0].usages", c.BootstrapTokens[0].Usages, []string{"signing", "authentication"}},
		{"bootstrapTokens[0].groups", c.BootstrapTokens[0].Groups, []string{"system:bootstrappers:kubeadm:default-node-token"}},
		{"timeouts.controlPlaneComponentHealthCheck", c.Timeouts.ControlPlaneComponentHealthCheck.Duration, 4 * time.Minute},
		{"timeouts.discovery", c.Timeouts.Discovery.Duration, 5 * time.Minute},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.field, ch.got, ch.want)
		}
	}

	// Values already set are kept.
	kept := &InitConfiguration{
		BootstrapTokens:  []BootstrapToken{{Token: "abcdef.0123456789abcdef", TTL: d(time.Hour), Usages: []string{"signing"}}},
		LocalAPIEndpoint: APIEndpoint{BindPort: 7443},
		ClusterConfiguration: ClusterConfiguration{
			Networking:          Networking{ServiceSubnet: "10.100.0.0/16", DNSDomain: "corp.internal"},
			Etcd:                Etcd{External: &ExternalEtcd{Endpoints: []string{"http://e:2379"}}},
			EncryptionAlgorithm: "ECDSA-P256",
		},
	}
	SetInitDefaults(kept)
	kc := kept.ClusterConfiguration
	if kept.LocalAPIEndpoint.BindPort != 7443 || kc.Networking.ServiceSubnet != "10.100.0.0/16" || kc.Networking.DNSDomain != "corp.internal" ||
		kc.EncryptionAlgorithm != "ECDSA-P256" || kc.Etcd.Local != nil || kept.BootstrapTokens[0].TTL.Duration != time.Hour ||
		!slices.Equal(kept.BootstrapTokens[0].Usages, []string{"signing"}) {
		t.Errorf("defaulting overwrote set values: %+v", kept)
	}
}

func TestSetJoinDefaults(t *testing.T) {
	j := &JoinConfiguration{
		Discovery:    Discovery{BootstrapToken: &BootstrapTokenDiscovery{Token: "abcdef.0123456789abcdef"}},
		ControlPlane: &JoinControlPlane{},
	}
	SetJoinDefaults(j)
	if j.Kind != KindJoin || j.CACertPath != "/etc/kubernetes/pki/ca.crt" || j.Discovery.TLSBootstrapToken != "abcdef.0123456789abcdef" ||
		j.ControlPlane.LocalAPIEndpoint.BindPort != 6443 || j.NodeRegistration.CRISocket != DefaultCRISocket || j.Timeouts.TLSBootstrap.Duration != 5*time.Minute {
		t.Errorf("join defaults %+v", j)
	}
}

func TestDynamicDefaults(t *testing.T) {
	host := HostInfo{Hostname: "cp7", DefaultIP: []byte{10, 0, 0, 7}}
	tests := []struct {
		name                string
		in                  InitConfiguration
		wantName, wantAddr  string
		wantTaints          []corev1.Taint
		wantTokenUnchanged  string
		wantGeneratedTokens int
	}{
		{name: "empty takes the host's", wantName: "cp7", wantAddr: "10.0.0.7",
			wantTaints: []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}, wantGeneratedTokens: 1},
		{name: "set values stay",
			in: InitConfiguration{NodeRegistration: NodeRegistrationOptions{Name: "mine", Taints: []corev1.Taint{}},
				LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: "192.168.1.5"}, BootstrapTokens: []BootstrapToken{{Token: "abcdef.0123456789abcdef"}}},
			wantName: "mine", wantAddr: "192.168.1.5", wantTaints: []corev1.Taint{}, wantTokenUnchanged: "abcdef.0123456789abcdef"},
		{name: "unspecified address is replaced", in: InitConfiguration{LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: "0.0.0.0"}},
			wantName: "cp7", wantAddr: "10.0.0.7", wantTaints: []corev1.Taint{ControlPlaneTaint()}, wantGeneratedTokens: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in
			SetInitDefaults(&c)
			if err := SetInitDynamicDefaults(&c, host); err != nil {
				t.Fatal(err)
			}
			if c.NodeRegistration.Name != tc.wantName || c.LocalAPIEndpoint.AdvertiseAddress != tc.wantAddr || !reflect.DeepEqual(c.NodeRegistration.Taints, tc.wantTaints) {
				t.Errorf("got name %q addr %q taints %v", c.NodeRegistration.Name, c.LocalAPIEndpoint.AdvertiseAddress, c.NodeRegistration.Taints)
			}
			if tc.wantTokenUnchanged != "" && c.BootstrapTokens[0].Token != tc.wantTokenUnchanged {
				t.Errorf("token replaced: %q", c.BootstrapTokens[0].Token)
			}
			if tc.wantGeneratedTokens > 0 && !tokenRE.MatchString(c.BootstrapTokens[0].Token) {
				t.Errorf("generated token %q", c.BootstrapTokens[0].Token)
			}
			if err := ValidateInitConfiguration(&c); err != nil {
				t.Errorf("dynamically defaulted configuration invalid: %v", err)
			}
		})
	}

	j := &JoinConfiguration{ControlPlane: &JoinControlPlane{}}
	SetJoinDynamicDefaults(j, host)
	if j.NodeRegistration.Name != "cp7" || j.ControlPlane.LocalAPIEndpoint.AdvertiseAddress != "10.0.0.7" || len(j.NodeRegistration.Taints) != 1 {
		t.Errorf("join dynamic defaults %+v", j)
	}
	w := &JoinConfiguration{}
	SetJoinDynamicDefaults(w, host)
	if w.NodeRegistration.Taints != nil {
		t.Error("a worker got the control-plane taint")
	}
}

func TestGenerateToken(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		tok, err := GenerateToken()
		if err != nil {
			t.Fatal(err)
		}
		if !tokenRE.MatchString(tok) || seen[tok] {
			t.Fatalf("token %q malformed or repeated", tok)
		}
		seen[tok] = true
	}
}

// TestDefaultsRoundTrip checks what `kforge config print init-defaults / join-defaults` print:
// kubeadm's shape, valid, and read back by Load to the very same object.
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
	out := string(b)
	for _, want := range []string{"apiVersion: kforge.dev/v1beta1\n", "kind: InitConfiguration\n", "\n---\n", "kind: ClusterConfiguration\n",
		"  token: abcdef.0123456789abcdef", "ttl: 24h0m0s", "- system:bootstrappers:kubeadm:default-node-token", "- signing\n  - authentication",
		"name: node", "advertiseAddress: 1.2.3.4", "bindPort: 6443", "criSocket: unix:///var/run/containerd/containerd.sock", "taints: null",
		"serviceSubnet: 10.96.0.0/12", "dnsDomain: cluster.local", "dataDir: /var/lib/etcd", "kubernetesVersion: " + version.KubernetesAPILevel,
		"encryptionAlgorithm: RSA-2048", "certificateValidityPeriod: 8760h0m0s", "caCertificateValidityPeriod: 87600h0m0s",
		"certificatesDir: /etc/kubernetes/pki", "clusterName: kubernetes", "imageRepository: registry.k8s.io"} {
		if !strings.Contains(out, want) {
			t.Errorf("init-defaults lack %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "kind: InitConfiguration") > strings.Index(out, "kind: ClusterConfiguration") {
		t.Error("InitConfiguration must come first")
	}

	join := DefaultJoinConfiguration()
	if err := ValidateJoinConfiguration(join); err != nil {
		t.Fatalf("join-defaults do not validate: %v", err)
	}
	b, err = MarshalJoinConfiguration(join)
	if err != nil {
		t.Fatal(err)
	}
	docs, warnings, err = Load(b)
	if err != nil || len(warnings) != 0 || !reflect.DeepEqual(docs.Join, join) {
		t.Errorf("join-defaults changed on the round trip (%v %q):\n%s", err, warnings, b)
	}
	for _, want := range []string{"kind: JoinConfiguration", "apiServerEndpoint: kube-apiserver:6443", "unsafeSkipCAVerification: true",
		"tlsBootstrapToken: abcdef.0123456789abcdef", "caCertPath: /etc/kubernetes/pki/ca.crt"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("join-defaults lack %q:\n%s", want, b)
		}
	}

	// A fully populated configuration survives the round trip too.
	full, _ := loadInit(t, "testdata/kubeadm-v1beta4.yaml")
	SetInitDefaults(full)
	b, err = MarshalInitConfiguration(full)
	if err != nil {
		t.Fatal(err)
	}
	docs, _, err = Load(b)
	if err != nil || !reflect.DeepEqual(InitFromDocuments(docs), full) {
		t.Errorf("kubeadm example changed on the round trip (%v):\n%s", err, b)
	}
}
