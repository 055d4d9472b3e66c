package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestInitFlagsOverrideFile(t *testing.T) {
	const file = "testdata/kubeadm-v1beta4.yaml"
	tests := []struct {
		name         string
		flags        InitFlags
		check        func(t *testing.T, c *InitConfiguration)
		wantWarnings []string
	}{
		{
			name:  "no flags leave the file alone",
			flags: InitFlags{},
			check: func(t *testing.T, c *InitConfiguration) {
				want, _ := loadInit(t, file)
				if !reflect.DeepEqual(c, want) {
					t.Errorf("configuration changed without flags")
				}
			},
		},
		{
			name: "every flag beats the file",
			flags: InitFlags{
				AdvertiseAddress: ptr("10.0.0.9"), BindPort: ptr(int32(7443)), ControlPlaneEndpoint: ptr("lb.example.com"),
				ServiceCIDR: ptr("10.100.0.0/16"), PodNetworkCIDR: ptr("10.240.0.0/16"), ServiceDNSDomain: ptr("corp.internal"),
				APIServerCertExtraSANs: []string{"x.example.com"}, CertDir: ptr("/tmp/pki"), NodeName: ptr("cp9"),
				Token: ptr("zzzzzz.zzzzzzzzzzzzzzzz"), TokenTTL: ptr(2 * time.Hour), CRISocket: ptr("unix:///run/crio/crio.sock"),
			},
			check: func(t *testing.T, c *InitConfiguration) {
				cc := c.ClusterConfiguration
				if c.LocalAPIEndpoint != (APIEndpoint{"10.0.0.9", 7443}) || cc.ControlPlaneEndpoint != "lb.example.com" ||
					cc.Networking != (Networking{ServiceSubnet: "10.100.0.0/16", PodSubnet: "10.240.0.0/16", DNSDomain: "corp.internal"}) ||
					!slices.Equal(cc.APIServer.CertSANs, []string{"x.example.com"}) || cc.CertificatesDir != "/tmp/pki" ||
					c.NodeRegistration.Name != "cp9" || c.NodeRegistration.CRISocket != "unix:///run/crio/crio.sock" {
					t.Errorf("flags not applied: %+v %+v", c, cc)
				}
				// --token and --token-ttl describe the first token; the file's second one stays.
				if c.BootstrapTokens[0].Token != "zzzzzz.zzzzzzzzzzzzzzzz" || c.BootstrapTokens[0].TTL.Duration != 2*time.Hour ||
					c.BootstrapTokens[0].Description != "kubeadm bootstrap token" || c.BootstrapTokens[1].Token != "783bde.3f89s0fje9f38fhf" {
					t.Errorf("tokens %+v", c.BootstrapTokens)
				}
			},
		},
		{
			name:  "unset flags keep file values",
			flags: InitFlags{PodNetworkCIDR: ptr("10.240.0.0/16")},
			check: func(t *testing.T, c *InitConfiguration) {
				cc := c.ClusterConfiguration
				if cc.Networking.PodSubnet != "10.240.0.0/16" || cc.Networking.ServiceSubnet != "10.96.0.0/16" ||
					cc.ControlPlaneEndpoint != "10.100.0.1:6443" || c.LocalAPIEndpoint.AdvertiseAddress != "10.100.0.1" ||
					c.NodeRegistration.Name != "ec2-10-100-0-1" || c.BootstrapTokens[0].Token != "9a08jv.c0izixklcxtmnze7" ||
					len(cc.APIServer.CertSANs) != 2 {
					t.Errorf("file values lost: %+v", c)
				}
			},
		},
		{
			name:  "kubernetes version is recorded with a warning",
			flags: InitFlags{KubernetesVersion: ptr("v1.30.2")},
			check: func(t *testing.T, c *InitConfiguration) {
				if c.ClusterConfiguration.KubernetesVersion != "v1.30.2" {
					t.Errorf("kubernetesVersion %q", c.ClusterConfiguration.KubernetesVersion)
				}
			},
			wantWarnings: []string{`warning: kubernetesVersion "v1.30.2" from --kubernetes-version: kforge runs its own built-in components at Kubernetes API level v1.37.0; the value is recorded but not used to pick images`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := loadInit(t, file)
			warnings := tc.flags.Apply(c)
			if !slices.Equal(warnings, tc.wantWarnings) {
				t.Errorf("warnings %q, want %q", warnings, tc.wantWarnings)
			}
			tc.check(t, c)
		})
	}

	// Without a file, --token creates the first token and defaults fill the rest.
	c := &InitConfiguration{}
	InitFlags{Token: ptr("abcdef.0123456789abcdef")}.Apply(c)
	SetInitDefaults(c)
	if len(c.BootstrapTokens) != 1 || c.BootstrapTokens[0].Token != "abcdef.0123456789abcdef" || c.BootstrapTokens[0].TTL.Duration != 24*time.Hour {
		t.Errorf("token from flag: %+v", c.BootstrapTokens)
	}
}

func TestJoinFlags(t *testing.T) {
	hash := "sha256:" + strings.Repeat("ab", 32)
	key := strings.Repeat("cd", 32)
	tests := []struct {
		name    string
		start   JoinConfiguration
		flags   JoinFlags
		check   func(t *testing.T, j *JoinConfiguration)
		wantErr string
	}{
		{
			name: "control-plane join from flags",
			flags: JoinFlags{Token: ptr("abcdef.0123456789abcdef"), DiscoveryTokenAPIServer: ptr("10.0.0.5:6443"),
				DiscoveryTokenCACertHashes: []string{hash}, NodeName: ptr("cp2"), CRISocket: ptr("unix:///run/x.sock"),
				ControlPlane: ptr(true), CertificateKey: ptr(key), AdvertiseAddress: ptr("10.0.0.6"), BindPort: ptr(int32(7443))},
			check: func(t *testing.T, j *JoinConfiguration) {
				want := BootstrapTokenDiscovery{Token: "abcdef.0123456789abcdef", APIServerEndpoint: "10.0.0.5:6443", CACertHashes: []string{hash}}
				if !reflect.DeepEqual(*j.Discovery.BootstrapToken, want) || j.Discovery.TLSBootstrapToken != "abcdef.0123456789abcdef" ||
					!reflect.DeepEqual(j.ControlPlane, &JoinControlPlane{LocalAPIEndpoint: APIEndpoint{"10.0.0.6", 7443}, CertificateKey: key}) ||
					j.NodeRegistration.Name != "cp2" || j.NodeRegistration.CRISocket != "unix:///run/x.sock" {
					t.Errorf("join %+v %+v", j.Discovery, j.ControlPlane)
				}
			},
		},
		{
			name:  "separate discovery and TLS bootstrap tokens",
			flags: JoinFlags{Token: ptr("aaaaaa.aaaaaaaaaaaaaaaa"), DiscoveryToken: ptr("bbbbbb.bbbbbbbbbbbbbbbb"), TLSBootstrapToken: ptr("cccccc.cccccccccccccccc")},
			check: func(t *testing.T, j *JoinConfiguration) {
				if j.Discovery.BootstrapToken.Token != "bbbbbb.bbbbbbbbbbbbbbbb" || j.Discovery.TLSBootstrapToken != "cccccc.cccccccccccccccc" {
					t.Errorf("discovery %+v", j.Discovery)
				}
			},
		},
		{
			name:  "discovery file replaces token discovery",
			start: JoinConfiguration{Discovery: Discovery{BootstrapToken: &BootstrapTokenDiscovery{Token: "x"}}},
			flags: JoinFlags{DiscoveryFile: ptr("/etc/kforge/cluster-info.yaml"), Token: ptr("abcdef.0123456789abcdef")},
			check: func(t *testing.T, j *JoinConfiguration) {
				if j.Discovery.BootstrapToken != nil || j.Discovery.File.KubeConfigPath != "/etc/kforge/cluster-info.yaml" ||
					j.Discovery.TLSBootstrapToken != "abcdef.0123456789abcdef" {
					t.Errorf("discovery %+v", j.Discovery)
				}
			},
		},
		{
			name:  "unset flags keep the file's",
			start: JoinConfiguration{NodeRegistration: NodeRegistrationOptions{Name: "w1"}, ControlPlane: &JoinControlPlane{CertificateKey: key}},
			flags: JoinFlags{DiscoveryTokenUnsafeSkipCAVerification: ptr(true)},
			check: func(t *testing.T, j *JoinConfiguration) {
				if j.NodeRegistration.Name != "w1" || j.ControlPlane.CertificateKey != key || !j.Discovery.BootstrapToken.UnsafeSkipCAVerification {
					t.Errorf("join %+v", j)
				}
			},
		},
		{
			name:  "--control-plane=false drops the file's control plane",
			start: JoinConfiguration{ControlPlane: &JoinControlPlane{}},
			flags: JoinFlags{ControlPlane: ptr(false)},
			check: func(t *testing.T, j *JoinConfiguration) {
				if j.ControlPlane != nil {
					t.Error("control plane kept")
				}
			},
		},
		{name: "file and token discovery conflict", flags: JoinFlags{DiscoveryFile: ptr("/tmp/x"), DiscoveryToken: ptr("a")},
			wantErr: "join: --discovery-file and --discovery-token are mutually exclusive; use one"},
		{name: "certificate key on a worker", flags: JoinFlags{CertificateKey: ptr(key)},
			wantErr: "join: --certificate-key, --apiserver-advertise-address and --apiserver-bind-port apply only to a control-plane join; add --control-plane or drop them"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := tc.start
			err := tc.flags.Apply(&j)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, &j)
		})
	}
}
