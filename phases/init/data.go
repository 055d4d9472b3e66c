package initphases

import (
	"io"
	"net"

	"kforge.dev/kforge/config"
	"kforge.dev/kforge/phases/workflow"
	"kforge.dev/kforge/pki"
)

// DefaultKubeconfigDir is where kubeadm, and so kforge, keeps the kubeconfig files.
const DefaultKubeconfigDir = "/etc/kubernetes"

// Data is what every init phase reads: the validated configuration and where to write.
type Data struct {
	// Cfg is the defaulted, validated init configuration.
	Cfg *config.InitConfiguration
	// CertDir is where certificates are written; it differs from Cfg's certificatesDir
	// during a dry run, when it points at a scratch copy.
	CertDir string
	// KubeconfigDir is where kubeconfig files are written (a scratch copy during a dry run).
	KubeconfigDir string
	// Out receives the progress lines.
	Out io.Writer

	dryRun *dryRunState
}

// PKIParams turns the configuration into the facts the certificate code needs.
func (d *Data) PKIParams() pki.Params {
	c := d.Cfg
	cc := &c.ClusterConfiguration
	p := pki.Params{
		CertificatesDir:      d.CertDir,
		NodeName:             c.NodeRegistration.Name,
		AdvertiseAddress:     net.ParseIP(c.LocalAPIEndpoint.AdvertiseAddress),
		ControlPlaneEndpoint: cc.ControlPlaneEndpoint,
		ServiceSubnet:        cc.Networking.ServiceSubnet,
		DNSDomain:            cc.Networking.DNSDomain,
		APIServerCertSANs:    cc.APIServer.CertSANs,
		ExternalEtcd:         cc.IsExternalEtcd(),
		EncryptionAlgorithm:  cc.EncryptionAlgorithm,
	}
	if l := cc.Etcd.Local; l != nil {
		p.EtcdServerCertSANs = l.ServerCertSANs
		p.EtcdPeerCertSANs = l.PeerCertSANs
	}
	if v := cc.CertificateValidityPeriod; v != nil {
		p.CertValidity = v.Duration
	}
	if v := cc.CACertificateValidityPeriod; v != nil {
		p.CAValidity = v.Duration
	}
	return p
}

// Workflow returns the phases of `kforge init` that this version of kforge can run.
func Workflow() *workflow.Workflow[*Data] {
	return &workflow.Workflow[*Data]{
		Command: "init",
		Phases: []workflow.Phase[*Data]{
			certsPhase(),
			kubeconfigPhase(),
		},
	}
}
