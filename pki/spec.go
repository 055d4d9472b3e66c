package pki

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"
)

// Default validity periods, as kubeadm uses them.
const (
	DefaultCertValidity = 365 * 24 * time.Hour
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	// backdate keeps freshly issued certificates valid on machines whose clocks lag a little.
	backdate = 5 * time.Minute
)

// Encryption algorithms a cluster's keys may use (kubeadm's encryptionAlgorithm values).
const (
	RSA2048   = "RSA-2048"
	RSA3072   = "RSA-3072"
	RSA4096   = "RSA-4096"
	ECDSAP256 = "ECDSA-P256"
)

// Params are the facts about a cluster that decide what its certificates contain. They are
// taken from the configuration by the caller, so this package does not depend on it.
type Params struct {
	// CertificatesDir is the directory the tree lives in (/etc/kubernetes/pki).
	CertificatesDir string
	// NodeName is this node's name: a SAN of the apiserver and etcd certificates.
	NodeName string
	// AdvertiseAddress is this node's API address: a SAN of the apiserver and etcd certificates.
	AdvertiseAddress net.IP
	// ControlPlaneEndpoint is host or host:port of the load-balanced API endpoint.
	ControlPlaneEndpoint string
	// ServiceSubnet is the service CIDR (a comma list when dual-stack); its first address is
	// the in-cluster `kubernetes` Service and so a SAN of the apiserver.
	ServiceSubnet string
	// DNSDomain is the cluster DNS domain (cluster.local).
	DNSDomain string
	// Extra SANs for the apiserver, etcd server and etcd peer certificates.
	APIServerCertSANs, EtcdServerCertSANs, EtcdPeerCertSANs []string
	// ExternalEtcd leaves out the etcd CA and the certificates signed by it.
	ExternalEtcd bool
	// EncryptionAlgorithm is one of RSA-2048 (default), RSA-3072, RSA-4096, ECDSA-P256.
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

// CertSpec describes one certificate of the tree: where it goes, who signs it and what it says.
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

var (
	server       = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client       = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	serverClient = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
)

// DefaultCertList is the certificate tree of a control-plane node, CAs before the leaves they
// sign, in kubeadm's phase order. With external etcd the etcd CA and its leaves are left out.
func DefaultCertList(p Params) []CertSpec {
	caUsage := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign
	leaf := LeafKeyUsage(p)
	list := []CertSpec{
		{Name: CAName, BaseName: "ca", LongName: "self-signed Kubernetes CA to provision identities for other Kubernetes components",
			CommonName: "kubernetes", IsCA: true, KeyUsage: caUsage},
		{Name: APIServerName, BaseName: "apiserver", LongName: "certificate for serving the Kubernetes API",
			CAName: CAName, CommonName: "kube-apiserver", KeyUsage: leaf, ExtKeyUsage: server, SANs: apiServerSANs},
		{Name: APIServerKubeletClientName, BaseName: "apiserver-kubelet-client", LongName: "certificate for the API server to connect to kubelet",
			CAName: CAName, CommonName: "kube-apiserver-kubelet-client", Organization: []string{ClusterAdminsGroup}, KeyUsage: leaf, ExtKeyUsage: client},
		{Name: FrontProxyCAName, BaseName: "front-proxy-ca", LongName: "self-signed CA to provision identities for front proxy",
			CommonName: "front-proxy-ca", IsCA: true, KeyUsage: caUsage},
		{Name: FrontProxyClientName, BaseName: "front-proxy-client", LongName: "certificate for the front proxy client",
			CAName: FrontProxyCAName, CommonName: "front-proxy-client", KeyUsage: leaf, ExtKeyUsage: client},
	}
	if p.ExternalEtcd {
		return list
	}
	return append(list,
		CertSpec{Name: EtcdCAName, BaseName: "etcd/ca", LongName: "self-signed CA to provision identities for etcd",
			CommonName: "etcd-ca", IsCA: true, KeyUsage: caUsage},
		CertSpec{Name: EtcdServerName, BaseName: "etcd/server", LongName: "certificate for serving etcd",
			CAName: EtcdCAName, CommonName: p.NodeName, KeyUsage: leaf, ExtKeyUsage: serverClient,
			SANs: func(p Params) ([]string, []net.IP, error) { return etcdSANs(p, p.EtcdServerCertSANs) }},
		CertSpec{Name: EtcdPeerName, BaseName: "etcd/peer", LongName: "certificate for etcd nodes to communicate with each other",
			CAName: EtcdCAName, CommonName: p.NodeName, KeyUsage: leaf, ExtKeyUsage: serverClient,
			SANs: func(p Params) ([]string, []net.IP, error) { return etcdSANs(p, p.EtcdPeerCertSANs) }},
		CertSpec{Name: EtcdHealthcheckClientName, BaseName: "etcd/healthcheck-client", LongName: "certificate for liveness probes to healthcheck etcd",
			CAName: EtcdCAName, CommonName: "kube-etcd-healthcheck-client", KeyUsage: leaf, ExtKeyUsage: client},
		CertSpec{Name: APIServerEtcdClientName, BaseName: "apiserver-etcd-client", LongName: "certificate the apiserver uses to access etcd",
			CAName: EtcdCAName, CommonName: "kube-apiserver-etcd-client", KeyUsage: leaf, ExtKeyUsage: client},
	)
}

// LeafKeyUsage is the key usage of leaf certificates for p's key type. It follows kubeadm: key encipherment only makes sense for RSA keys.
func LeafKeyUsage(p Params) x509.KeyUsage {
	u := x509.KeyUsageDigitalSignature
	if strings.HasPrefix(p.algorithm(), "RSA") {
		u |= x509.KeyUsageKeyEncipherment
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

// apiServerSANs: node name and address, the control-plane endpoint host, the first service IP
// of each service subnet, the in-cluster names of the kubernetes Service, and extra SANs.
func apiServerSANs(p Params) ([]string, []net.IP, error) {
	var s sanSet
	s.addDNS(p.NodeName)
	s.addDNS("kubernetes", "kubernetes.default", "kubernetes.default.svc")
	domain := p.DNSDomain
	if domain == "" {
		domain = "cluster.local"
	}
	s.addDNS("kubernetes.default.svc." + domain)
	subnets := p.ServiceSubnet
	if subnets == "" {
		subnets = "10.96.0.0/12"
	}
	for _, sub := range strings.Split(subnets, ",") {
		ip, err := firstIP(strings.TrimSpace(sub))
		if err != nil {
			return nil, nil, fmt.Errorf("apiserver SANs: service subnet %q: %w", sub, err)
		}
		s.addIP(ip)
	}
	if p.AdvertiseAddress != nil {
		s.addIP(p.AdvertiseAddress)
	}
	if p.ControlPlaneEndpoint != "" {
		host := p.ControlPlaneEndpoint
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		s.addName(host)
	}
	for _, san := range p.APIServerCertSANs {
		s.addName(san)
	}
	return s.dns, s.ips, nil
}

// etcdSANs: node name, localhost, node address, both loopbacks, and extra SANs (kubeadm's set).
func etcdSANs(p Params, extra []string) ([]string, []net.IP, error) {
	var s sanSet
	s.addDNS(p.NodeName, "localhost")
	if p.AdvertiseAddress != nil {
		s.addIP(p.AdvertiseAddress)
	}
	s.addIP(net.IPv4(127, 0, 0, 1), net.IPv6loopback)
	for _, san := range extra {
		s.addName(san)
	}
	return s.dns, s.ips, nil
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

func (s *sanSet) addName(name string) {
	if ip := net.ParseIP(name); ip != nil {
		s.addIP(ip)
		return
	}
	s.addDNS(name)
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
		dup := false
		for _, d := range s.ips {
			dup = dup || d.Equal(ip)
		}
		if !dup {
			s.ips = append(s.ips, ip)
		}
	}
}
