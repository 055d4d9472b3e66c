package config

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// InitFlags are kubeadm's init flags that override the configuration file. A nil field means
// the flag was not given, so the file's value (or the default) stands.
type InitFlags struct {
	AdvertiseAddress       *string
	BindPort               *int32
	ControlPlaneEndpoint   *string
	ServiceCIDR            *string
	PodNetworkCIDR         *string
	ServiceDNSDomain       *string
	APIServerCertExtraSANs []string
	CertDir                *string
	KubernetesVersion      *string
	NodeName               *string
	Token                  *string
	TokenTTL               *time.Duration
	CRISocket              *string
}

// Apply writes the given flags into c, flags winning over the file, and returns warnings for
// values kforge records but does not act on.
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
		warnings = append(warnings, versionWarnings(cc, "--kubernetes-version")...)
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
	// Token sets both the discovery token and the TLS bootstrap token unless they are given.
	Token                                  *string
	DiscoveryToken                         *string
	DiscoveryTokenAPIServer                *string
	TLSBootstrapToken                      *string
	DiscoveryTokenCACertHashes             []string
	DiscoveryTokenUnsafeSkipCAVerification *bool
	DiscoveryFile                          *string
	NodeName                               *string
	CRISocket                              *string
	ControlPlane                           *bool
	CertificateKey                         *string
	AdvertiseAddress                       *string
	BindPort                               *int32
}

// Apply writes the given flags into c, flags winning over the file.
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
	cpWanted := f.ControlPlane != nil && *f.ControlPlane
	if cpWanted || f.CertificateKey != nil || f.AdvertiseAddress != nil || f.BindPort != nil {
		if f.ControlPlane != nil && !*f.ControlPlane {
			c.ControlPlane = nil
		} else {
			if c.ControlPlane == nil {
				c.ControlPlane = &JoinControlPlane{}
			}
			if f.CertificateKey != nil {
				c.ControlPlane.CertificateKey = *f.CertificateKey
			}
			if f.AdvertiseAddress != nil {
				c.ControlPlane.LocalAPIEndpoint.AdvertiseAddress = *f.AdvertiseAddress
			}
			if f.BindPort != nil {
				c.ControlPlane.LocalAPIEndpoint.BindPort = *f.BindPort
			}
		}
	}
	return nil
}
