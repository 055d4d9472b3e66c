package lab

import (
	"fmt"
	"strings"
)

// RenderInventory renders the lab as a cluster.yaml stub for `kforge cluster apply -f`: the hosts
// with their addresses and roles, and how to reach them over SSH. The hosts are reachable from the
// lab's bastion namespace only ('kforge lab exec -- kforge cluster apply -f FILE').
func RenderInventory(s *State) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# kforge lab %q: its machines, for 'kforge cluster apply -f'.\n", s.Name)
	fmt.Fprintf(&b, "# The addresses are reachable from the lab's bastion only: run apply with\n")
	fmt.Fprintf(&b, "#   kforge lab exec --name %s -- kforge cluster apply -f <this file>\n", s.Name)
	b.WriteString("apiVersion: kforge.dev/v1beta1\nkind: Cluster\nmetadata:\n")
	fmt.Fprintf(&b, "  name: %s\n", s.Name)
	if ep := inventoryEndpoint(s); ep != "" {
		fmt.Fprintf(&b, "controlPlaneEndpoint: %s\n", ep)
	}
	b.WriteString("ssh:\n")
	fmt.Fprintf(&b, "  user: %s\n", s.SSHUser)
	fmt.Fprintf(&b, "  identityFile: %s\n", s.SSHKey)
	fmt.Fprintf(&b, "  knownHostsFile: %s\n", s.KnownHosts)
	b.WriteString("hosts:\n")
	for _, m := range s.Machines {
		fmt.Fprintf(&b, "- name: %s\n  address: %s\n  roles: [%s]\n", m.Name, m.Address, m.Role)
	}
	return []byte(b.String())
}

// inventoryEndpoint is the API endpoint the stub proposes: the first load balancer, else the
// first control-plane machine, on port 6443.
func inventoryEndpoint(s *State) string {
	for _, role := range []Role{RoleLoadBalancer, RoleControlPlane} {
		for _, m := range s.Machines {
			if m.Role == role {
				return m.Address + ":6443"
			}
		}
	}
	return ""
}
