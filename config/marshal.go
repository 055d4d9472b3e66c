package config

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// MarshalInitConfiguration renders c as two YAML documents, InitConfiguration then
// ClusterConfiguration, that Load reads back to the same object.
func MarshalInitConfiguration(c *InitConfiguration) ([]byte, error) {
	init := *c
	init.APIVersion, init.Kind = GroupVersion, KindInit
	cluster := c.ClusterConfiguration
	cluster.APIVersion, cluster.Kind = GroupVersion, KindCluster
	a, err := yaml.Marshal(&init)
	if err != nil {
		return nil, fmt.Errorf("marshal InitConfiguration: %w", err)
	}
	b, err := yaml.Marshal(&cluster)
	if err != nil {
		return nil, fmt.Errorf("marshal ClusterConfiguration: %w", err)
	}
	return bytes.Join([][]byte{a, b}, []byte("---\n")), nil
}

// MarshalJoinConfiguration renders c as YAML that Load reads back to the same object.
func MarshalJoinConfiguration(c *JoinConfiguration) ([]byte, error) {
	j := *c
	j.APIVersion, j.Kind = GroupVersion, KindJoin
	b, err := yaml.Marshal(&j)
	if err != nil {
		return nil, fmt.Errorf("marshal JoinConfiguration: %w", err)
	}
	return b, nil
}

// APIServerURL is the URL clients use to reach the cluster: the control-plane endpoint when one
// is set (port 6443 unless given), otherwise this node's advertise address and bind port.
func (c *InitConfiguration) APIServerURL() string {
	if ep := c.ClusterConfiguration.ControlPlaneEndpoint; ep != "" {
		host, port, err := splitHostPort(ep)
		if err == nil {
			if port == 0 {
				port = int(c.LocalAPIEndpoint.BindPort)
				if port == 0 {
					port = DefaultAPIBindPort
				}
			}
			return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
		}
	}
	return c.LocalAPIServerURL()
}

// LocalAPIServerURL is this node's own apiserver, which its controller-manager and scheduler use.
func (c *InitConfiguration) LocalAPIServerURL() string {
	port := c.LocalAPIEndpoint.BindPort
	if port == 0 {
		port = DefaultAPIBindPort
	}
	return "https://" + net.JoinHostPort(c.LocalAPIEndpoint.AdvertiseAddress, strconv.Itoa(int(port)))
}

// FirstServiceIP is the ClusterIP of the `kubernetes` Service: the first address of the
// (first) service subnet.
func FirstServiceIP(serviceSubnet string) (net.IP, error) { return nthIP(serviceSubnet, 1) }

// DNSServiceIP is the ClusterIP of the cluster DNS Service: the tenth address.
func DNSServiceIP(serviceSubnet string) (net.IP, error) { return nthIP(serviceSubnet, 10) }

func nthIP(subnets string, n int) (net.IP, error) {
	first := strings.TrimSpace(strings.Split(subnets, ",")[0])
	_, cidr, err := net.ParseCIDR(first)
	if err != nil {
		return nil, fmt.Errorf("service subnet %q: invalid CIDR", first)
	}
	ip := make(net.IP, len(cidr.IP))
	copy(ip, cidr.IP)
	carry := n
	for i := len(ip) - 1; i >= 0 && carry > 0; i-- {
		sum := int(ip[i]) + carry
		ip[i] = byte(sum)
		carry = sum >> 8
	}
	if !cidr.Contains(ip) {
		return nil, fmt.Errorf("service subnet %q is too small for address number %d", first, n)
	}
	return ip, nil
}
