package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
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

func d(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }

// Warning texts a user sees on stderr, spelled out so that a change to them is deliberate.
func versionWarning(v, file string) string {
	return `warning: kubernetesVersion "` + v + `" in ` + file + `: kforge runs its own built-in components at Kubernetes API level ` +
		version.KubernetesAPILevel + `; the value is recorded but not used to pick images`
}

func imageWarning(field, value, file, component string) string {
	return "warning: " + field + ` "` + value + `" in ` + file + ": kforge runs its own built-in " + component + "; " + field + " is ignored"
}

func unknownFieldWarning(field, file string, doc int, kind string) string {
	return `warning: unknown field "` + field + `" in ` + file + " (document " + strconv.Itoa(doc) + ", " + kind +
		"): kforge does not use this kubeadm setting; it is ignored"
}

// TestKubeadmFiles loads configurations shaped like kubeadm's documented examples and checks
// that each field lands where kforge keeps it, and that exactly the expected warnings appear.
func TestKubeadmFiles(t *testing.T) {
	const v4, v3 = "testdata/kubeadm-v1beta4.yaml", "testdata/kubeadm-v1beta3.yaml"
	taints := []corev1.Taint{{Key: "kubeadmNode", Value: "someValue", Effect: corev1.TaintEffectNoSchedule}}
	tests := []struct {
		file         string
		tokens       []BootstrapToken
		kubeletArgs  []Arg
		criSocket    string
		skipPhases   []string
		schedArgs    []Arg
		timeouts     *Timeouts
		encryption   string
		validity     *metav1.Duration
		wantWarnings []string
	}{
		{
			file: v4,
			tokens: []BootstrapToken{
				{Token: "9a08jv.c0izixklcxtmnze7", Description: "kubeadm bootstrap token", TTL: d(24 * time.Hour)},
				{Token: "783bde.3f89s0fje9f38fhf", Description: "another bootstrap token", Usages: []string{"authentication", "signing"},
					Groups: []string{"system:bootstrappers:kubeadm:default-node-token"}},
			},
			kubeletArgs: args("v", "5"),
			criSocket:   "unix:///var/run/containerd/containerd.sock",
			skipPhases:  []string{"preflight"},
			schedArgs:   args("address", "10.100.0.1"),
			timeouts:    &Timeouts{ControlPlaneComponentHealthCheck: d(time.Minute), KubernetesAPICall: d(40 * time.Second)},
			encryption:  "ECDSA-P256",
			validity:    d(8760 * time.Hour),
			wantWarnings: []string{
				unknownFieldWarning("patches", v4, 1, "kubeadm.k8s.io/v1beta4 InitConfiguration"),
				unknownFieldWarning("apiServer.extraVolumes", v4, 2, "kubeadm.k8s.io/v1beta4 ClusterConfiguration"),
				versionWarning("v1.21.0", v4),
				imageWarning("imageRepository", "registry.k8s.io", v4, "control-plane components"),
				imageWarning("etcd.local.imageRepository", "registry.k8s.io", v4, "etcd"),
				imageWarning("etcd.local.imageTag", "3.2.24", v4, "etcd"),
				"warning: kubelet.config.k8s.io/v1beta1 KubeletConfiguration in " + v4 + " (document 3) is not read by kforge yet and is ignored; " +
					"the kubelet takes its settings from nodeRegistration.kubeletExtraArgs for now",
				"warning: kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration in " + v4 + " (document 4) is not read by kforge yet and is ignored; " +
					"the proxy runs with kforge's settings for now",
			},
		},
		{
			file:        v3,
			tokens:      []BootstrapToken{{Token: "9a08jv.c0izixklcxtmnze7", Description: "kubeadm bootstrap token", TTL: d(24 * time.Hour)}},
			kubeletArgs: args("cgroup-driver", "systemd", "v", "4"), // v1beta3's map, sorted by flag name
			criSocket:   "/var/run/dockershim.sock",
			schedArgs:   args("bind-address", "10.100.0.1"),
			// v1beta3's apiServer.timeoutForControlPlane becomes v1beta4's timeouts entry.
			timeouts: &Timeouts{ControlPlaneComponentHealthCheck: d(4 * time.Minute)},
			wantWarnings: []string{
				unknownFieldWarning("patches", v3, 1, "kubeadm.k8s.io/v1beta3 InitConfiguration"),
				versionWarning("v1.21.0", v3),
				imageWarning("imageRepository", "registry.k8s.io", v3, "control-plane components"),
				imageWarning("etcd.local.imageRepository", "registry.k8s.io", v3, "etcd"),
				imageWarning("etcd.local.imageTag", "3.2.24", v3, "etcd"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, warnings := loadInit(t, tc.file)
			if !slices.Equal(warnings, tc.wantWarnings) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(tc.wantWarnings, "\n"))
			}
			if c.APIVersion != GroupVersion || c.Kind != KindInit || c.ClusterConfiguration.APIVersion != GroupVersion || c.ClusterConfiguration.Kind != KindCluster {
				t.Errorf("type meta %v / %v", c.TypeMeta, c.ClusterConfiguration.TypeMeta)
			}
			if !reflect.DeepEqual(c.BootstrapTokens, tc.tokens) {
				t.Errorf("bootstrapTokens %+v, want %+v", c.BootstrapTokens, tc.tokens)
			}
			wantNR := NodeRegistrationOptions{Name: "ec2-10-100-0-1", CRISocket: tc.criSocket, Taints: taints, KubeletExtraArgs: tc.kubeletArgs,
				IgnorePreflightErrors: []string{"IsPrivilegedUser"}, ImagePullPolicy: corev1.PullIfNotPresent}
			if tc.file == v3 {
				wantNR.ImagePullPolicy = ""
			}
			if !reflect.DeepEqual(c.NodeRegistration, wantNR) {
				t.Errorf("nodeRegistration %+v, want %+v", c.NodeRegistration, wantNR)
			}
			if c.LocalAPIEndpoint != (APIEndpoint{AdvertiseAddress: "10.100.0.1", BindPort: 6443}) {
				t.Errorf("localAPIEndpoint %+v", c.LocalAPIEndpoint)
			}
			if c.CertificateKey != "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204" || !slices.Equal(c.SkipPhases, tc.skipPhases) {
				t.Errorf("certificateKey %q skipPhases %q", c.CertificateKey, c.SkipPhases)
			}
			if !reflect.DeepEqual(c.Timeouts, tc.timeouts) {
				t.Errorf("timeouts %+v, want %+v", c.Timeouts, tc.timeouts)
			}
			cc := c.ClusterConfiguration
			wantEtcd := &LocalEtcd{ImageRepository: "registry.k8s.io", ImageTag: "3.2.24", DataDir: "/var/lib/etcd",
				ExtraArgs:      args("listen-client-urls", "http://10.100.0.1:2379"),
				ServerCertSANs: []string{"ec2-10-100-0-1.compute-1.amazonaws.com"}, PeerCertSANs: []string{"10.100.0.1"}}
			if !reflect.DeepEqual(cc.Etcd, Etcd{Local: wantEtcd}) || cc.IsExternalEtcd() {
				t.Errorf("etcd %+v", cc.Etcd.Local)
			}
			if cc.Networking != (Networking{ServiceSubnet: "10.96.0.0/16", PodSubnet: "10.244.0.0/24", DNSDomain: "cluster.local"}) {
				t.Errorf("networking %+v", cc.Networking)
			}
			if cc.KubernetesVersion != "v1.21.0" || cc.ControlPlaneEndpoint != "10.100.0.1:6443" || cc.CertificatesDir != "/etc/kubernetes/pki" ||
				cc.ImageRepository != "registry.k8s.io" || cc.ClusterName != "example-cluster" || cc.EncryptionAlgorithm != tc.encryption ||
				!reflect.DeepEqual(cc.CertificateValidityPeriod, tc.validity) {
				t.Errorf("cluster fields %+v", cc)
			}
			wantAPI := APIServer{ExtraArgs: args("authorization-mode", "Node,RBAC"), CertSANs: []string{"10.100.1.1", "ec2-10-100-0-1.compute-1.amazonaws.com"}}
			if !reflect.DeepEqual(cc.APIServer, wantAPI) {
				t.Errorf("apiServer %+v", cc.APIServer)
			}
			if !reflect.DeepEqual(cc.ControllerManager.ExtraArgs, args("node-cidr-mask-size", "20")) || !reflect.DeepEqual(cc.Scheduler.ExtraArgs, tc.schedArgs) {
				t.Errorf("controllerManager %+v scheduler %+v", cc.ControllerManager, cc.Scheduler)
			}
			// A kubeadm file is a valid kforge configuration once defaulted.
			SetInitDefaults(c)
			if err := ValidateInitConfiguration(c); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestKubeadmExternalEtcd(t *testing.T) {
	tests := []struct {
		file         string
		endpoints    []string
		endpoint     string
		wantWarnings []string
	}{
		{
			file:         "testdata/kubeadm-v1beta3-external-etcd.yaml",
			endpoints:    []string{"https://10.0.0.20:2379", "https://10.0.0.21:2379"},
			endpoint:     "lb.example.com:6443",
			wantWarnings: []string{versionWarning("stable", "testdata/kubeadm-v1beta3-external-etcd.yaml")},
		},
		{
			file:      "testdata/kubeadm-v1beta4-external-etcd.yaml",
			endpoints: []string{"https://10.0.0.20:2379", "https://10.0.0.21:2379", "https://10.0.0.22:2379"},
			endpoint:  "lb.example.com",
			// kubernetesVersion equals kforge's own level: nothing to warn about.
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, warnings := loadInit(t, tc.file)
			if !slices.Equal(warnings, tc.wantWarnings) {
				t.Errorf("warnings %q, want %q", warnings, tc.wantWarnings)
			}
			want := &ExternalEtcd{Endpoints: tc.endpoints, CAFile: "/etc/kubernetes/pki/etcd/ca.crt",
				CertFile: "/etc/kubernetes/pki/apiserver-etcd-client.crt", KeyFile: "/etc/kubernetes/pki/apiserver-etcd-client.key"}
			cc := &c.ClusterConfiguration
			if !reflect.DeepEqual(cc.Etcd, Etcd{External: want}) || !cc.IsExternalEtcd() || cc.ControlPlaneEndpoint != tc.endpoint {
				t.Errorf("etcd %+v endpoint %q", cc.Etcd, cc.ControlPlaneEndpoint)
			}
			SetInitDefaults(c)
			if cc.Etcd.Local != nil {
				t.Error("defaulting added a local etcd next to the external one")
			}
			if err := SetInitDynamicDefaults(c, HostInfo{Hostname: "cp1", DefaultIP: []byte{10, 0, 0, 5}}); err != nil {
				t.Fatal(err)
			}
			if err := ValidateInitConfiguration(c); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestKubeadmJoin(t *testing.T) {
	hash := "sha256:0b3a7e5d2ff5a5e5ae3b4c9f7b8a0c1d2e3f405162738495a6b7c8d9e0f1a2b3"
	tests := []struct {
		file         string
		kubeletArgs  []Arg
		taints       []corev1.Taint
		controlPlane *JoinControlPlane
		timeouts     *Timeouts
	}{
		{
			file:        "testdata/kubeadm-v1beta4-join.yaml",
			kubeletArgs: args("node-ip", "10.0.0.21"),
			controlPlane: &JoinControlPlane{LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: "10.0.0.6"},
				CertificateKey: "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204"},
		},
		{
			file:        "testdata/kubeadm-v1beta3-join.yaml",
			kubeletArgs: args("node-ip", "10.0.0.21", "v", "2"),
			taints:      []corev1.Taint{},
			timeouts:    &Timeouts{Discovery: d(2 * time.Minute)}, // v1beta3's discovery.timeout
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			docs, warnings, err := LoadFile(tc.file)
			if err != nil || len(warnings) != 0 || docs.Join == nil || docs.Init != nil || docs.Cluster != nil {
				t.Fatalf("load: %v %q %+v", err, warnings, docs)
			}
			j := docs.Join
			want := BootstrapTokenDiscovery{Token: "abcdef.0123456789abcdef", APIServerEndpoint: "10.0.0.5:6443", CACertHashes: []string{hash}}
			if j.Discovery.BootstrapToken == nil || !reflect.DeepEqual(*j.Discovery.BootstrapToken, want) {
				t.Errorf("discovery %+v", j.Discovery.BootstrapToken)
			}
			if j.NodeRegistration.Name != "w1" || !reflect.DeepEqual(j.NodeRegistration.KubeletExtraArgs, tc.kubeletArgs) ||
				!reflect.DeepEqual(j.NodeRegistration.Taints, tc.taints) {
				t.Errorf("nodeRegistration %+v", j.NodeRegistration)
			}
			if !reflect.DeepEqual(j.ControlPlane, tc.controlPlane) || !reflect.DeepEqual(j.Timeouts, tc.timeouts) {
				t.Errorf("controlPlane %+v timeouts %+v", j.ControlPlane, j.Timeouts)
			}
			SetJoinDefaults(j)
			if err := ValidateJoinConfiguration(j); err != nil {
				t.Errorf("validate: %v", err)
			}
			if j.Discovery.TLSBootstrapToken != "abcdef.0123456789abcdef" || j.CACertPath != "/etc/kubernetes/pki/ca.crt" {
				t.Errorf("join defaults %+v", j)
			}
			if j.ControlPlane != nil && j.ControlPlane.LocalAPIEndpoint.BindPort != 6443 {
				t.Errorf("control-plane bind port %d", j.ControlPlane.LocalAPIEndpoint.BindPort)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	own := "apiVersion: kforge.dev/v1beta1\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown field in kforge kind", own + "kind: ClusterConfiguration\nnetworkin:\n  podSubnet: 10.0.0.0/16\n",
			`config data: document 1: ClusterConfiguration: unknown field "networkin"; fix the spelling`},
		{"nested unknown field in kforge kind", own + "kind: InitConfiguration\nnodeRegistration:\n  nmae: cp1\n",
			`unknown field "nodeRegistration.nmae"`},
		{"unknown kforge kind", own + "kind: Nonsense\n",
			`config data: document 1: unknown apiVersion/kind "kforge.dev/v1beta1" "Nonsense"; kforge reads InitConfiguration, ClusterConfiguration or JoinConfiguration of kforge.dev/v1beta1, kubeadm.k8s.io/v1beta3 or kubeadm.k8s.io/v1beta4`},
		{"unknown apiVersion names the document", own + "kind: InitConfiguration\n---\napiVersion: example.com/v1\nkind: Thing\n",
			`config data: document 2: unknown apiVersion/kind "example.com/v1" "Thing"; kforge reads InitConfiguration, ClusterConfiguration or JoinConfiguration`},
		{"missing apiVersion", "kind: InitConfiguration\n", `missing apiVersion; start the document with "apiVersion: kforge.dev/v1beta1"`},
		{"not yaml", "apiVersion: [\n", "config data: document 1: not valid YAML"},
		{"duplicate kind", own + "kind: InitConfiguration\n---\n" + own + "kind: InitConfiguration\n", "document 2: a second InitConfiguration document"},
		{"empty", "# nothing\n", "config data: holds no configuration document"},
		{"wrong type", own + "kind: InitConfiguration\nlocalAPIEndpoint:\n  bindPort: lots\n", "document 1: InitConfiguration: "},
		{"v1beta4 with v1beta3 map args", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  extraArgs:\n    v: \"4\"\n",
			"apiServer.extraArgs is a map, the v1beta3 form; kubeadm.k8s.io/v1beta4 takes a list of {name, value}"},
		{"v1beta3 with list args", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n  - name: v\n",
			"nodeRegistration.kubeletExtraArgs must be a map of flag names to values in kubeadm.k8s.io/v1beta3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error %v, want it to contain %q", err, tc.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.ExitCode() != 3 {
				t.Errorf("a bad file is a configuration error (exit 3), got %T", err)
			}
		})
	}
}

func TestLoadFileNamesThePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: kforge.dev/v1beta1\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.0\nnetworking:\n  podSubnt: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), path+": document 1: ClusterConfiguration: unknown field \"networking.podSubnt\"") {
		t.Errorf("error %v does not name the file, document and field", err)
	}
	if _, _, err := LoadFile(filepath.Join(dir, "absent.yaml")); err == nil || !strings.Contains(err.Error(), "absent.yaml") || !strings.Contains(err.Error(), "--config") {
		t.Errorf("missing file: %v", err)
	}

	// kforge's own kind warns about kubernetesVersion too, once, naming the file.
	if err := os.WriteFile(path, []byte("apiVersion: kforge.dev/v1beta1\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, warnings, err := LoadFile(path)
	if err != nil || !slices.Equal(warnings, []string{versionWarning("v1.30.0", path)}) {
		t.Errorf("warnings %q (%v)", warnings, err)
	}
}

func TestIgnoredKubeadmKinds(t *testing.T) {
	y := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ResetConfiguration\nforce: true\n---\n" +
		"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
	docs, warnings, err := Load([]byte(y))
	if err != nil || docs.Cluster == nil || len(warnings) != 1 ||
		!strings.HasPrefix(warnings[0], "warning: kubeadm.k8s.io/v1beta4 ResetConfiguration in config data (document 1) is not read by kforge yet") {
		t.Errorf("ResetConfiguration: %v %q", err, warnings)
	}
	// A file of only kubelet settings is valid for kubeadm; kforge falls back to defaults.
	docs, warnings, err = Load([]byte("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"))
	if err != nil || len(warnings) != 1 || docs.Init != nil {
		t.Fatalf("KubeletConfiguration only: %v %q", err, warnings)
	}
	if c := InitFromDocuments(docs); !reflect.DeepEqual(c, &InitConfiguration{}) {
		t.Errorf("InitFromDocuments without documents %+v", c)
	}
}
