package lab

import (
	"net/netip"
	"strings"
	"testing"
)

func TestAllocate(t *testing.T) {
	a, err := Allocate(netip.MustParsePrefix("172.31.250.0/24"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if a.Bastion.String() != "172.31.250.1" {
		t.Errorf("bastion = %s", a.Bastion)
	}
	var got []string
	for _, m := range a.Machines {
		got = append(got, m.String())
	}
	if strings.Join(got, ",") != "172.31.250.10,172.31.250.11,172.31.250.12" {
		t.Errorf("machines = %v", got)
	}
	// A host address with bits set is masked to its network.
	if a, err := Allocate(netip.MustParsePrefix("10.9.8.77/24"), 1); err != nil || a.Machines[0].String() != "10.9.8.10" {
		t.Errorf("masked allocation = %v, %v", a.Machines, err)
	}
	for _, tc := range []struct {
		subnet string
		n      int
		want   string
	}{
		{"172.31.250.0/28", 6, "room for 5 machines"},
		{"fd00::/64", 1, "not IPv4"},
		{"10.0.0.0/8", 1, "between a /16 and a /30"},
	} {
		if _, err := Allocate(netip.MustParsePrefix(tc.subnet), tc.n); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Allocate(%s, %d) err = %v, want %q", tc.subnet, tc.n, err, tc.want)
		}
	}
}

func TestFindClash(t *testing.T) {
	addrJSON := []byte(`[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24}]},
{"ifindex":3,"ifname":"docker0","addr_info":[{"family":"inet","local":"172.31.0.1","prefixlen":16}]}]`)
	routeJSON := []byte(`[{"dst":"default","gateway":"192.0.2.1","dev":"eth0"},
{"dst":"192.0.2.0/24","dev":"eth0"},{"dst":"10.20.30.40","dev":"tun0"}]`)
	used, err := parseHostPrefixes(addrJSON, routeJSON)
	if err != nil {
		t.Fatal(err)
	}
	used = append(used, UsedPrefix{Prefix: netip.MustParsePrefix("172.30.1.0/24"), Owner: `the LAN of lab "other"`})
	tests := []struct {
		subnet, want string
	}{
		{"172.31.250.0/24", "address 172.31.0.1/16 on host interface docker0"},
		{"10.20.30.0/24", "host route 10.20.30.40 dev tun0"},
		{"172.30.1.0/25", `the LAN of lab "other"`},
		{"192.0.2.0/24", "host interface eth0"},
		{"172.29.0.0/24", ""}, // the default route is ignored
	}
	for _, tc := range tests {
		err := FindClash(netip.MustParsePrefix(tc.subnet), used)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected clash: %v", tc.subnet, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want one naming %q", tc.subnet, err, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), "--subnet"):
			t.Errorf("%s: error does not name the fix: %v", tc.subnet, err)
		}
	}
}
