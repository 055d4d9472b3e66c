package config

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// InitFlags are kubeadm's init flags that override the configuration file. A nil field means
// the flag was not given, so the file's value (or the default) stands.
type InitFlags struct {
	// AdvertiseAddress is --apiserver-advertise-address.
	AdvertiseAddress *string
	// BindPort is --apiserver-bind-port.
	BindPort *int32
	// ControlPlaneEndpoint is --control-plane-endpoint.
	ControlPlaneEndpoint *string
	// ServiceCIDR is --service-cidr.
	ServiceCIDR *string
	// PodNetworkCIDR is --pod-network-cidr.
	PodNetworkCIDR *string
	// ServiceDNSDomain is --service-dns-domain.
	ServiceDNSDomain *string
	// APIServerCertExtraSANs is --apiserver-cert-extra-sans; non-nil replaces apiServer.certSANs.
	APIServerCertExtraSANs []string
	// CertDir is --cert-dir.
	CertDir *string
	// KubernetesVersion is --kubernetes-version, recorded with a warning.
	KubernetesVersion *string
	// NodeName is --node-name.
	NodeName *string
	// Token is --token, the secret of the first bootstrap token.
	Token *string
	// TokenTTL is --token-ttl, the lifetime of the first bootstrap token.
	TokenTTL *time.Duration
	// CRISocket is --cri-socket.
	CRISocket *string
}

// Apply writes the given flags into c, flags winning over the file, and returns one-line
// warnings for values kforge records but does not act on (--kubernetes-version).
func (f InitFlags) Apply(c *InitConfiguration) []string {
	var warnings []string
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	cc := &c.ClusterConfiguration
	set(&c.LocalAPIEndpoint.AdvertiseAddress, f.AdvertiseAddress)
	if f.BindPort != nil {
		c.LocalAPIEndpoint.BindPort = *f.BindPort
	}
	set(&cc.ControlPlaneEndpoint, f.ControlPlaneEndpoint)
	set(&cc.Networking.ServiceSubnet, f.ServiceCIDR)
	set(&cc.Networking.PodSubnet, f.PodNetworkCIDR)
	set(&cc.Networking.DNSDomain, f.ServiceDNSDomain)
	if f.APIServerCertExtraSANs != nil {
		cc.APIServer.CertSANs = append([]string{}, f.APIServerCertExtraSANs...)
	}
	set(&cc.CertificatesDir, f.CertDir)
	if f.KubernetesVersion != nil {
		cc.KubernetesVersion = *f.KubernetesVersion
		warnings = append(warnings, versionWarnings(cc.KubernetesVersion, "from --kubernetes-version")...)
	}
	set(&c.NodeRegistration.Name, f.NodeName)
	set(&c.NodeRegistration.CRISocket, f.CRISocket)
	if f.Token != nil || f.TokenTTL != nil {
		// As in kubeadm, the flags describe the first (usually only) bootstrap token.
		if len(c.BootstrapTokens) == 0 {
			c.BootstrapTokens = []BootstrapToken{{}}
		}
		t := &c.BootstrapTokens[0]
		set(&t.Token, f.Token)
		if f.TokenTTL != nil {
			t.TTL = &metav1.Duration{Duration: *f.TokenTTL}
			t.Expires = nil
		}
	}
	return warnings
}

// JoinFlags are kubeadm's join flags that override the configuration file; nil means not given.
type JoinFlags struct {
	// Token is --token: the discovery token (unless --discovery-file is used) and the TLS
	// bootstrap token, each unless given on its own.
	Token *string
	// DiscoveryToken is --discovery-token.
	DiscoveryToken *string
	// DiscoveryTokenAPIServer is join's argument, the apiserver host:port to discover from.
	DiscoveryTokenAPIServer *string
	// TLSBootstrapToken is --tls-bootstrap-token.
	TLSBootstrapToken *string
	// DiscoveryTokenCACertHashes is --discovery-token-ca-cert-hash; non-nil replaces the file's.
	DiscoveryTokenCACertHashes []string
	// DiscoveryTokenUnsafeSkipCAVerification is --discovery-token-unsafe-skip-ca-verification.
	DiscoveryTokenUnsafeSkipCAVerification *bool
	// DiscoveryFile is --discovery-file; it replaces token discovery.
	DiscoveryFile *string
	// NodeName is --node-name.
	NodeName *string
	// CRISocket is --cri-socket.
	CRISocket *string
	// ControlPlane is --control-plane; false removes the file's controlPlane section.
	ControlPlane *bool
	// CertificateKey is --certificate-key.
	CertificateKey *string
	// AdvertiseAddress is --apiserver-advertise-address (control-plane join).
	AdvertiseAddress *string
	// BindPort is --apiserver-bind-port (control-plane join).
	BindPort *int32
}

// Apply writes the given flags into c, flags winning over the file; it fails only when flags
// contradict each other (--discovery-file with --discovery-token).
func (f JoinFlags) Apply(c *JoinConfiguration) error {
	d := &c.Discovery
	bt := func() *BootstrapTokenDiscovery {
		if d.BootstrapToken == nil {
			d.BootstrapToken = &BootstrapTokenDiscovery{}
		}
		return d.BootstrapToken
	}
	if f.DiscoveryFile != nil && (f.DiscoveryToken != nil || f.DiscoveryTokenAPIServer != nil) {
		return fmt.Errorf("join: --discovery-file and --discovery-token are mutually exclusive; use one")
	}
	if f.Token != nil {
		if f.DiscoveryFile == nil && d.File == nil {
			bt().Token = *f.Token
		}
		d.TLSBootstrapToken = *f.Token
	}
	if f.DiscoveryToken != nil {
		bt().Token = *f.DiscoveryToken
	}
	if f.DiscoveryTokenAPIServer != nil {
		bt().APIServerEndpoint = *f.DiscoveryTokenAPIServer
	}
	if f.DiscoveryTokenCACertHashes != nil {
		bt().CACertHashes = append([]string{}, f.DiscoveryTokenCACertHashes...)
	}
	if f.DiscoveryTokenUnsafeSkipCAVerification != nil {
		bt().UnsafeSkipCAVerification = *f.DiscoveryTokenUnsafeSkipCAVerification
	}
	if f.DiscoveryFile != nil {
		d.File = &FileDiscovery{KubeConfigPath: *f.DiscoveryFile}
		d.BootstrapToken = nil
	}
	if f.TLSBootstrapToken != nil {
		d.TLSBootstrapToken = *f.TLSBootstrapToken
	}
	if f.NodeName != nil {
		c.NodeRegistration.Name = *f.NodeName
	}
	if f.CRISocket != nil {
		c.NodeRegistration.CRISocket = *f.CRISocket
	}
	if f.ControlPlane != nil {
		if !*f.ControlPlane {
			c.ControlPlane = nil
		} else if c.ControlPlane == nil {
			c.ControlPlane = &JoinControlPlane{}
		}
	}
	cp := c.ControlPlane
	if cp == nil && (f.CertificateKey != nil || f.AdvertiseAddress != nil || f.BindPort != nil) {
		return fmt.Errorf("join: --certificate-key, --apiserver-advertise-address and --apiserver-bind-port apply only to a control-plane join; add --control-plane or drop them")
	}
	if f.CertificateKey != nil {
		cp.CertificateKey = *f.CertificateKey
	}
	if f.AdvertiseAddress != nil {
		cp.LocalAPIEndpoint.AdvertiseAddress = *f.AdvertiseAddress
	}
	if f.BindPort != nil {
		cp.LocalAPIEndpoint.BindPort = *f.BindPort
	}
	return nil
}
