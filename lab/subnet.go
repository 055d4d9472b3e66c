package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// DefaultSubnet is the lab LAN when --subnet is not given.
const DefaultSubnet = "172.31.250.0/24"

// firstMachineHost is the host number of the first machine; .1 is the bastion.
const firstMachineHost = 10

// Addressing is where the bastion and each machine sit on the lab LAN.
type Addressing struct {
	Subnet   netip.Prefix
	Bastion  netip.Addr
	Machines []netip.Addr
}

// Allocate places the bastion at the subnet's first host address and n machines from host .10 on.
func Allocate(subnet netip.Prefix, n int) (Addressing, error) {
	subnet = subnet.Masked()
	if !subnet.Addr().Is4() {
		return Addressing{}, fmt.Errorf("lab: subnet %s is not IPv4; pass an IPv4 --subnet such as %s", subnet, DefaultSubnet)
	}
	hostBits := 32 - subnet.Bits()
	if hostBits < 2 || hostBits > 16 {
		return Addressing{}, fmt.Errorf("lab: subnet %s must be between a /16 and a /30", subnet)
	}
	// usable hosts exclude the network and broadcast addresses.
	usable := (1 << hostBits) - 2
	if firstMachineHost+n-1 > usable {
		return Addressing{}, fmt.Errorf("lab: subnet %s has room for %d machines, %d asked; pass a larger --subnet", subnet, max(0, usable-firstMachineHost+1), n)
	}
	a := Addressing{Subnet: subnet, Bastion: subnet.Addr().Next()}
	addr := subnet.Addr()
	for range firstMachineHost {
		addr = addr.Next()
	}
	for range n {
		a.Machines = append(a.Machines, addr)
		addr = addr.Next()
	}
	return a, nil
}

// UsedPrefix is an address range already in use, and who uses it (for the error message).
type UsedPrefix struct {
	Prefix netip.Prefix
	Owner  string
}

// FindClash returns an error naming the first used range that overlaps subnet. Default routes are
// ignored: they overlap everything and the lab never routes through them.
func FindClash(subnet netip.Prefix, used []UsedPrefix) error {
	for _, u := range used {
		if u.Prefix.Bits() == 0 {
			continue
		}
		if u.Prefix.Overlaps(subnet) {
			return fmt.Errorf("lab: subnet %s overlaps %s (%s); pass another --subnet, e.g. --subnet 172.31.251.0/24", subnet, u.Prefix, u.Owner)
		}
	}
	return nil
}

// ipAddrJSON and ipRouteJSON are the parts of `ip -j` output the clash check reads.
type ipAddrJSON struct {
	IfName   string `json:"ifname"`
	AddrInfo []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

type ipRouteJSON struct {
	Dst string `json:"dst"`
	Dev string `json:"dev"`
}

// parseHostPrefixes turns `ip -j -4 addr` and `ip -j -4 route` output into used ranges.
func parseHostPrefixes(addrJSON, routeJSON []byte) ([]UsedPrefix, error) {
	var used []UsedPrefix
	var addrs []ipAddrJSON
	if len(strings.TrimSpace(string(addrJSON))) > 0 {
		if err := json.Unmarshal(addrJSON, &addrs); err != nil {
			return nil, fmt.Errorf("parse ip addr output: %w", err)
		}
	}
	for _, link := range addrs {
		for _, ai := range link.AddrInfo {
			addr, err := netip.ParseAddr(ai.Local)
			if err != nil || !addr.Is4() {
				continue
			}
			used = append(used, UsedPrefix{
				Prefix: netip.PrefixFrom(addr, ai.PrefixLen).Masked(),
				Owner:  fmt.Sprintf("address %s/%d on host interface %s", addr, ai.PrefixLen, link.IfName),
			})
		}
	}
	var routes []ipRouteJSON
	if len(strings.TrimSpace(string(routeJSON))) > 0 {
		if err := json.Unmarshal(routeJSON, &routes); err != nil {
			return nil, fmt.Errorf("parse ip route output: %w", err)
		}
	}
	for _, r := range routes {
		if r.Dst == "" || r.Dst == "default" {
			continue
		}
		dst := r.Dst
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		p, err := netip.ParsePrefix(dst)
		if err != nil || !p.Addr().Is4() {
			continue
		}
		used = append(used, UsedPrefix{Prefix: p.Masked(), Owner: fmt.Sprintf("host route %s dev %s", r.Dst, r.Dev)})
	}
	return used, nil
}

// hostPrefixes reads the host's IPv4 addresses and routes.
func hostPrefixes(ctx context.Context) ([]UsedPrefix, error) {
	addrOut, err := exec.CommandContext(ctx, "ip", "-j", "-4", "addr", "show").Output()
	if err != nil {
		return nil, fmt.Errorf("lab: list host addresses with 'ip -j addr': %w", err)
	}
	routeOut, err := exec.CommandContext(ctx, "ip", "-j", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		return nil, fmt.Errorf("lab: list host routes with 'ip -j route': %w", err)
	}
	return parseHostPrefixes(addrOut, routeOut)
}
