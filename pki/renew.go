package pki

import (
	"fmt"
	"sort"
)

// KubeconfigFilesWithClientCerts are the kubeconfig files whose client certificates kforge
// renews and reports, as kubeadm does (kubelet.conf is left to the kubelet's own rotation).
var KubeconfigFilesWithClientCerts = []string{"admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"}

// RenewableNames lists what `certs renew` accepts: every leaf certificate of p's tree and the
// kubeconfig files with client certificates, sorted as kubeadm lists them.
func RenewableNames(p Params) []string {
	var names []string
	for _, s := range DefaultCertList(p) {
		if !s.IsCA {
			names = append(names, s.Name)
		}
	}
	names = append(names, KubeconfigFilesWithClientCerts...)
	sort.Strings(names)
	return names
}

// RenewCert re-issues the leaf certificate called name with a new key, the same subject and key
// usages, the SANs the configuration asks for plus any extra ones the old certificate had, signed
// by the CA on disk, which is left unchanged.
func RenewCert(p Params, name string) error {
	spec, ok := findSpec(p, name)
	if !ok || spec.IsCA {
		return fmt.Errorf("unknown certificate %q; renewable: %v", name, RenewableNames(p))
	}
	caCert, caKey, caSpec, err := caFor(p, spec)
	if err != nil {
		return err
	}
	if caKey == nil {
		return fmt.Errorf("%w: %s has no key in %s; renew %s with the external CA that signed it",
			ErrExternalCAMissingCert, caSpec.Name, p.CertificatesDir, CertPath(p.CertificatesDir, spec.BaseName))
	}
	var s sanSet
	if spec.SANs != nil {
		dns, ips, err := spec.SANs(p)
		if err != nil {
			return err
		}
		s.addDNS(dns...)
		s.addIP(ips...)
	}
	if old, err := LoadCert(p.CertificatesDir, spec.BaseName); err == nil {
		s.addDNS(old.DNSNames...)
		s.addIP(old.IPAddresses...)
	}
	is, err := issueLeafWithSANs(p, spec, s.dns, s.ips, caCert, caKey)
	if err != nil {
		return err
	}
	return WritePair(p.CertificatesDir, spec.BaseName, is)
}
