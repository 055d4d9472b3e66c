package config

import (
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
)

// APIServerURL is the URL clients (kubeconfig files, joining nodes) use to reach the cluster:
// https://controlPlaneEndpoint when one is set, with local's bind port (6443 by default) when
// the endpoint has no port, as kubeadm does; otherwise local's advertise address and bind port.
// IPv6 addresses are bracketed.
func (c *ClusterConfiguration) APIServerURL(local APIEndpoint) string {
	if ep := c.ControlPlaneEndpoint; ep != "" {
		if host, port, err := splitHostPort(ep); err == nil {
			if port == 0 {
				port = int(bindPortOrDefault(local.BindPort))
			}
			return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
		}
	}
	return endpointURL(local)
}

// APIServerURL is the cluster's URL as seen from this node's configuration; see
// ClusterConfiguration.APIServerURL.
func (c *InitConfiguration) APIServerURL() string {
	return c.ClusterConfiguration.APIServerURL(c.LocalAPIEndpoint)
}

// LocalAPIServerURL is this node's own apiserver, which its controller-manager and scheduler
// use so that they never depend on the load balancer.
func (c *InitConfiguration) LocalAPIServerURL() string { return endpointURL(c.LocalAPIEndpoint) }

func endpointURL(e APIEndpoint) string {
	return "https://" + net.JoinHostPort(e.AdvertiseAddress, strconv.Itoa(int(bindPortOrDefault(e.BindPort))))
}

func bindPortOrDefault(p int32) int32 {
	if p == 0 {
		return DefaultAPIBindPort
	}
	return p
}

// FirstServiceIP is the ClusterIP of the `kubernetes` Service, which the apiserver certificate
// must name: the first address of the service subnet (of the first subnet when dual-stack),
// 10.96.0.1 for 10.96.0.0/12.
func FirstServiceIP(serviceSubnet string) (net.IP, error) { return nthIP(serviceSubnet, 1) }

// DNSServiceIP is the ClusterIP of the cluster DNS Service, which kubelets hand to pods: the
// tenth address of the (first) service subnet, 10.96.0.10 for 10.96.0.0/12.
func DNSServiceIP(serviceSubnet string) (net.IP, error) { return nthIP(serviceSubnet, 10) }

func nthIP(subnets string, n int64) (net.IP, error) {
	first := strings.TrimSpace(strings.Split(subnets, ",")[0])
	_, cidr, err := net.ParseCIDR(first)
	if err != nil {
		return nil, fmt.Errorf("service subnet %q: invalid CIDR; write e.g. 10.96.0.0/12", first)
	}
	base := cidr.IP
	if v4 := base.To4(); v4 != nil {
		base = v4
	}
	sum := new(big.Int).Add(new(big.Int).SetBytes(base), big.NewInt(n))
	ip := sum.FillBytes(make([]byte, len(base)))
	if !cidr.Contains(ip) {
		return nil, fmt.Errorf("service subnet %q is too small for address number %d; use at least a /28", first, n)
	}
	return net.IP(ip), nil
}

// splitHostPort accepts "host", "host:port", a bare or bracketed IPv6 address, or
// "[v6]:port"; port 0 means none was given.
func splitHostPort(s string) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if net.ParseIP(s) != nil || !strings.Contains(s, ":") {
			return s, 0, nil
		}
		if b := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"); len(b) == len(s)-2 && net.ParseIP(b) != nil {
			return b, 0, nil
		}
		return "", 0, fmt.Errorf("cannot split host and port: %v", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", 0, fmt.Errorf("port %q is not between 1 and 65535", port)
	}
	return host, p, nil
}
