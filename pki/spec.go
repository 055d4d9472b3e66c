package pki

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Default validity periods, kubeadm's: leaves live a year so they are renewed with every
// yearly upgrade, CAs ten years.
const (
	DefaultCertValidity = 365 * 24 * time.Hour
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	// backdate keeps a freshly made CA (and so the leaves, which start when it does) valid on
	// machines whose clocks lag a little, as kubeadm's five minutes do.
	backdate = 5 * time.Minute
)

// Encryption algorithms a cluster's keys may use: kubeadm's encryptionAlgorithm values, so a
// kubeadm configuration means the same thing to kforge.
const (
	RSA2048   = "RSA-2048"
	RSA3072   = "RSA-3072"
	RSA4096   = "RSA-4096"
	ECDSAP256 = "ECDSA-P256"
	ECDSAP384 = "ECDSA-P384"
)

// Defaults used when Params leaves a field empty, kubeadm's.
const (
	DefaultServiceSubnet = "10.96.0.0/12"
	DefaultDNSDomain     = "cluster.local"
)

// Params are the facts about a cluster that decide what its certificates contain. The caller
// takes them from its configuration, so this package does not depend on the config API.
type Params struct {
	// CertificatesDir is the directory the tree lives in (/etc/kubernetes/pki).
	CertificatesDir string
	// NodeName is this node's name: a SAN of the apiserver certificate and the CN and a SAN of
	// the etcd server and peer certificates.
	NodeName string
	// AdvertiseAddress is this node's API address: a SAN of the apiserver and etcd certificates.
	AdvertiseAddress net.IP
	// ControlPlaneEndpoint is host or host:port of the load-balanced API endpoint; its host is
	// a SAN of the apiserver certificate.
	ControlPlaneEndpoint string
	// ServiceSubnet is the service CIDR (a comma list when dual-stack); the first address of the
	// first subnet is the in-cluster `kubernetes` Service and so a SAN of the apiserver.
	ServiceSubnet string
	// DNSDomain is the cluster DNS domain (cluster.local).
	DNSDomain string
	// Extra SANs (IP addresses or DNS names) for the apiserver, etcd server and etcd peer
	// certificates.
	APIServerCertSANs, EtcdServerCertSANs, EtcdPeerCertSANs []string
	// ExternalEtcd leaves out the etcd CA and the certificates signed by it.
	ExternalEtcd bool
	// EncryptionAlgorithm is one of RSA-2048 (default), RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384.
	EncryptionAlgorithm string
	// CertValidity and CAValidity override the 1 year / 10 year defaults when non-zero.
	CertValidity, CAValidity time.Duration
	// Now is the clock; nil means time.Now. Tests fix it.
	Now func() time.Time
}

func (p Params) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p Params) certValidity() time.Duration {
	if p.CertValidity > 0 {
		return p.CertValidity
	}
	return DefaultCertValidity
}

func (p Params) caValidity() time.Duration {
	if p.CAValidity > 0 {
		return p.CAValidity
	}
	return DefaultCAValidity
}

func (p Params) algorithm() string {
	if p.EncryptionAlgorithm == "" {
		return RSA2048
	}
	return p.EncryptionAlgorithm
}

// CertSpec describes one certificate of the tree: where it goes, who signs it and what it
// says. The list of them is data that the init phases, renewal, expiry checks and tests share.
type CertSpec struct {
	// Name is the phase name (`kforge init phase certs <Name>`, `certs renew <Name>`).
	Name string
	// BaseName is the file name without extension, relative to the certificates dir (etcd/server).
	BaseName string
	// LongName is the human description shown in help.
	LongName string
	// CAName is the Name of the CA that signs it; empty for a CA.
	CAName string
	// CommonName and Organization form the subject (the user and groups for client certs).
	CommonName   string
	Organization []string
	// IsCA marks a self-signed certificate authority.
	IsCA bool
	// KeyUsage and ExtKeyUsage are the usages the certificate carries.
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	// SANs returns the subject alternative names for p; nil for certificates without SANs.
	SANs func(Params) (dns []string, ips []net.IP, err error)
}

// Names of the certificates, as kubeadm's phases call them.
const (
	CAName                     = "ca"
	APIServerName              = "apiserver"
	APIServerKubeletClientName = "apiserver-kubelet-client"
	FrontProxyCAName           = "front-proxy-ca"
	FrontProxyClientName       = "front-proxy-client"
	EtcdCAName                 = "etcd-ca"
	EtcdServerName             = "etcd-server"
	EtcdPeerName               = "etcd-peer"
	EtcdHealthcheckClientName  = "etcd-healthcheck-client"
	APIServerEtcdClientName    = "apiserver-etcd-client"
)

// ClusterAdminsGroup is the group of admin.conf and of the apiserver's kubelet client: bound
// to cluster-admin by RBAC rather than being system:masters, as kubeadm does since 1.29.
const ClusterAdminsGroup = "kubeadm:cluster-admins"

// DefaultCertList is the certificate tree of a control-plane node, CAs before the leaves they
// sign, in kubeadm's phase order. With external etcd the etcd CA and its leaves are left out.
func DefaultCertList(p Params) []CertSpec {
	ca := keyUsage(p, true)
	leaf := LeafKeyUsage(p)
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	serverClient := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	list := []CertSpec{
		{Name: CAName, BaseName: "ca", LongName: "self-signed Kubernetes CA to provision identities for other Kubernetes components",
			CommonName: "kubernetes", IsCA: true, KeyUsage: ca},
		{Name: APIServerName, BaseName: "apiserver", LongName: "certificate for serving the Kubernetes API",
			CAName: CAName, CommonName: "kube-apiserver", KeyUsage: leaf, ExtKeyUsage: server, SANs: apiServerSANs},
		{Name: APIServerKubeletClientName, BaseName: "apiserver-kubelet-client", LongName: "certificate for the API server to connect to kubelet",
			CAName: CAName, CommonName: "kube-apiserver-kubelet-client", Organization: []string{ClusterAdminsGroup}, KeyUsage: leaf, ExtKeyUsage: client},
		{Name: FrontProxyCAName, BaseName: "front-proxy-ca", LongName: "self-signed CA to provision identities for front proxy",
			CommonName: "front-proxy-ca", IsCA: true, KeyUsage: ca},
		{Name: FrontProxyClientName, BaseName: "front-proxy-client", LongName: "certificate for the front proxy client",
			CAName: FrontProxyCAName, CommonName: "front-proxy-client", KeyUsage: leaf, ExtKeyUsage: client},
	}
	if p.ExternalEtcd {
		return list
	}
	return append(list,
		CertSpec{Name: EtcdCAName, BaseName: "etcd/ca", LongName: "self-signed CA to provision identities for etcd",
			CommonName: "etcd-ca", IsCA: true, KeyUsage: ca},
		// etcd checks clientAuth on its server certificate too (it dials itself), so both.
		CertSpec{Name: EtcdServerName, BaseName: "etcd/server", LongName: "certificate for serving etcd",
			CAName: EtcdCAName, CommonName: p.NodeName, KeyUsage: leaf, ExtKeyUsage: serverClient,
			SANs: func(p Params) ([]string, []net.IP, error) {
				return etcdSANs(p, "etcd.local.serverCertSANs", p.EtcdServerCertSANs)
			}},
		CertSpec{Name: EtcdPeerName, BaseName: "etcd/peer", LongName: "certificate for etcd nodes to communicate with each other",
			CAName: EtcdCAName, CommonName: p.NodeName, KeyUsage: leaf, ExtKeyUsage: serverClient,
			SANs: func(p Params) ([]string, []net.IP, error) {
				return etcdSANs(p, "etcd.local.peerCertSANs", p.EtcdPeerCertSANs)
			}},
		CertSpec{Name: EtcdHealthcheckClientName, BaseName: "etcd/healthcheck-client", LongName: "certificate for liveness probes to healthcheck etcd",
			CAName: EtcdCAName, CommonName: "kube-etcd-healthcheck-client", KeyUsage: leaf, ExtKeyUsage: client},
		CertSpec{Name: APIServerEtcdClientName, BaseName: "apiserver-etcd-client", LongName: "certificate the apiserver uses to access etcd",
			CAName: EtcdCAName, CommonName: "kube-apiserver-etcd-client", KeyUsage: leaf, ExtKeyUsage: client},
	)
}

// LeafKeyUsage is the key usage of leaf certificates (kubeconfig client certificates too) for
// p's key type: digital signature, plus key encipherment for RSA keys only, since RSA key
// transport is the only use of that bit and RFC 8813 forbids it for ECDSA keys.
func LeafKeyUsage(p Params) x509.KeyUsage { return keyUsage(p, false) }

func keyUsage(p Params, isCA bool) x509.KeyUsage {
	u := x509.KeyUsageDigitalSignature
	if strings.HasPrefix(p.algorithm(), "RSA") {
		u |= x509.KeyUsageKeyEncipherment
	}
	if isCA {
		u |= x509.KeyUsageCertSign
	}
	return u
}

// findSpec returns the spec called name in p's list.
func findSpec(p Params, name string) (CertSpec, bool) {
	for _, s := range DefaultCertList(p) {
		if s.Name == name {
			return s, true
		}
	}
	return CertSpec{}, false
}

// requireNode checks the facts every serving certificate needs.
func requireNode(p Params, cert string) error {
	if p.NodeName == "" {
		return fmt.Errorf("%s certificate SANs: the node name is empty; set nodeRegistration.name or --node-name", cert)
	}
	if p.AdvertiseAddress == nil {
		return fmt.Errorf("%s certificate SANs: the advertise address is not set; set localAPIEndpoint.advertiseAddress or --apiserver-advertise-address", cert)
	}
	return nil
}

// apiServerSANs is kubeadm's set: the node name, the in-cluster names of the kubernetes
// Service, its ClusterIP (first address of the first service subnet), the advertise address,
// the control-plane endpoint's host and the extra SANs.
func apiServerSANs(p Params) ([]string, []net.IP, error) {
	if err := requireNode(p, "apiserver"); err != nil {
		return nil, nil, err
	}
	var s sanSet
	domain := p.DNSDomain
	if domain == "" {
		domain = DefaultDNSDomain
	}
	s.addDNS(p.NodeName, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc."+domain)
	subnets := p.ServiceSubnet
	if subnets == "" {
		subnets = DefaultServiceSubnet
	}
	// Dual-stack: the kubernetes Service is single-stack in the primary family, as in kubeadm.
	first := strings.TrimSpace(strings.Split(subnets, ",")[0])
	vip, err := firstIP(first)
	if err != nil {
		return nil, nil, fmt.Errorf("apiserver certificate SANs: service subnet %q: %w; fix networking.serviceSubnet", first, err)
	}
	s.addIP(vip, p.AdvertiseAddress)
	if p.ControlPlaneEndpoint != "" {
		host, err := endpointHost(p.ControlPlaneEndpoint)
		if err != nil {
			return nil, nil, err
		}
		if err := s.addName(host); err != nil {
			return nil, nil, fmt.Errorf("apiserver certificate SANs: controlPlaneEndpoint %q: %w", p.ControlPlaneEndpoint, err)
		}
	}
	if err := s.addExtra("apiServer.certSANs", p.APIServerCertSANs); err != nil {
		return nil, nil, err
	}
	return s.dns, s.ips, nil
}

// etcdSANs is kubeadm's set for etcd's server and peer certificates: the node name,
// localhost, the node address, both loopbacks and the extra SANs.
func etcdSANs(p Params, field string, extra []string) ([]string, []net.IP, error) {
	if err := requireNode(p, "etcd"); err != nil {
		return nil, nil, err
	}
	var s sanSet
	s.addDNS(p.NodeName, "localhost")
	s.addIP(p.AdvertiseAddress, net.IPv4(127, 0, 0, 1), net.IPv6loopback)
	if err := s.addExtra(field, extra); err != nil {
		return nil, nil, err
	}
	return s.dns, s.ips, nil
}

// endpointHost is the host part of host, host:port, [v6] or [v6]:port.
func endpointHost(ep string) (string, error) {
	if h, _, err := net.SplitHostPort(ep); err == nil {
		return h, nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(ep, "["), "]")
	if h == "" {
		return "", fmt.Errorf("controlPlaneEndpoint %q has no host; use host or host:port", ep)
	}
	return h, nil
}

// firstIP is the first host address of a CIDR: the kubernetes Service's ClusterIP.
func firstIP(cidr string) (net.IP, error) {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, err
	}
	ip := make(net.IP, len(n.IP))
	copy(ip, n.IP)
	for i := len(ip) - 1; i >= 0; i-- {
		ip[i]++
		if ip[i] != 0 {
			break
		}
	}
	if !n.Contains(ip) {
		return nil, fmt.Errorf("subnet %s has no host addresses", cidr)
	}
	return ip, nil
}

// sanSet collects SANs without duplicates, in the order they were added.
type sanSet struct {
	dns []string
	ips []net.IP
}

// addName adds an IP address or a DNS name (wildcards allowed), refusing anything else:
// cfssl would otherwise turn it into an e-mail or URI SAN.
func (s *sanSet) addName(name string) error {
	if ip := net.ParseIP(name); ip != nil {
		s.addIP(ip)
		return nil
	}
	if len(validation.IsDNS1123Subdomain(name)) > 0 && len(validation.IsWildcardDNS1123Subdomain(name)) > 0 {
		return fmt.Errorf("%q is neither an IP address nor a DNS name", name)
	}
	s.addDNS(name)
	return nil
}

func (s *sanSet) addExtra(field string, names []string) error {
	for _, n := range names {
		if err := s.addName(strings.TrimSpace(n)); err != nil {
			return fmt.Errorf("%s: %w; fix or remove it", field, err)
		}
	}
	return nil
}

func (s *sanSet) addDNS(names ...string) {
	for _, n := range names {
		if n == "" {
			continue
		}
		dup := false
		for _, d := range s.dns {
			dup = dup || d == n
		}
		if !dup {
			s.dns = append(s.dns, n)
		}
	}
}

func (s *sanSet) addIP(ips ...net.IP) {
	for _, ip := range ips {
		if ip == nil {
			continue
		}
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		dup := false
		for _, d := range s.ips {
			dup = dup || d.Equal(ip)
		}
		if !dup {
			s.ips = append(s.ips, ip)
		}
	}
}
