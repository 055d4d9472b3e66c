package config

import "testing"

func TestAPIServerURL(t *testing.T) {
	tests := []struct {
		endpoint string
		local    APIEndpoint
		want     string
	}{
		{"", APIEndpoint{AdvertiseAddress: "10.0.0.7", BindPort: 6443}, "https://10.0.0.7:6443"},
		{"", APIEndpoint{AdvertiseAddress: "10.0.0.7"}, "https://10.0.0.7:6443"},
		{"", APIEndpoint{AdvertiseAddress: "fd00::7", BindPort: 6443}, "https://[fd00::7]:6443"},
		{"lb.example.com", APIEndpoint{AdvertiseAddress: "10.0.0.7", BindPort: 6443}, "https://lb.example.com:6443"},
		{"lb.example.com:8443", APIEndpoint{AdvertiseAddress: "10.0.0.7", BindPort: 6443}, "https://lb.example.com:8443"},
		// As in kubeadm, an endpoint without a port takes this node's bind port.
		{"lb.example.com", APIEndpoint{AdvertiseAddress: "10.0.0.7", BindPort: 7443}, "https://lb.example.com:7443"},
		{"10.0.0.100", APIEndpoint{}, "https://10.0.0.100:6443"},
		{"fd00::1", APIEndpoint{}, "https://[fd00::1]:6443"},
		{"[fd00::1]", APIEndpoint{}, "https://[fd00::1]:6443"},
		{"[fd00::1]:443", APIEndpoint{}, "https://[fd00::1]:443"},
	}
	for _, tc := range tests {
		t.Run(tc.endpoint+"/"+tc.local.AdvertiseAddress, func(t *testing.T) {
			cc := &ClusterConfiguration{ControlPlaneEndpoint: tc.endpoint}
			if got := cc.APIServerURL(tc.local); got != tc.want {
				t.Errorf("APIServerURL = %s, want %s", got, tc.want)
			}
			ic := &InitConfiguration{LocalAPIEndpoint: tc.local, ClusterConfiguration: *cc}
			if got := ic.APIServerURL(); got != tc.want {
				t.Errorf("InitConfiguration.APIServerURL = %s, want %s", got, tc.want)
			}
		})
	}
	c := &InitConfiguration{LocalAPIEndpoint: APIEndpoint{AdvertiseAddress: "10.0.0.7", BindPort: 6443},
		ClusterConfiguration: ClusterConfiguration{ControlPlaneEndpoint: "lb.example.com:8443"}}
	if got := c.LocalAPIServerURL(); got != "https://10.0.0.7:6443" {
		t.Errorf("LocalAPIServerURL = %s", got)
	}
}

func TestServiceIPs(t *testing.T) {
	tests := []struct{ subnet, first, dns string }{
		{"10.96.0.0/12", "10.96.0.1", "10.96.0.10"},
		{"10.100.0.0/16", "10.100.0.1", "10.100.0.10"},
		{"10.96.0.0/12,fd00:10:96::/112", "10.96.0.1", "10.96.0.10"},
		{"fd00:10:96::/112,10.96.0.0/12", "fd00:10:96::1", "fd00:10:96::a"},
		{"10.0.0.0/28", "10.0.0.1", "10.0.0.10"},
	}
	for _, tc := range tests {
		t.Run(tc.subnet, func(t *testing.T) {
			first, err := FirstServiceIP(tc.subnet)
			if err != nil || first.String() != tc.first {
				t.Errorf("FirstServiceIP = %v (%v), want %s", first, err, tc.first)
			}
			dns, err := DNSServiceIP(tc.subnet)
			if err != nil || dns.String() != tc.dns {
				t.Errorf("DNSServiceIP = %v (%v), want %s", dns, err, tc.dns)
			}
		})
	}
	for subnet, want := range map[string]string{
		"10.96.0.0/30": `service subnet "10.96.0.0/30" is too small for address number 10; use at least a /28`,
		"nonsense":     `service subnet "nonsense": invalid CIDR; write e.g. 10.96.0.0/12`,
	} {
		if _, err := DNSServiceIP(subnet); err == nil || err.Error() != want {
			t.Errorf("DNSServiceIP(%s) error %v, want %q", subnet, err, want)
		}
	}
	if ip, _ := FirstServiceIP("10.96.0.0/12"); len(ip) != 4 {
		t.Errorf("IPv4 service IP is %d bytes, want the 4-byte form", len(ip))
	}
}
