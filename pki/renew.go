package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
)

// KubeconfigFilesWithClientCerts are the kubeconfig files whose client certificates kforge
// renews and reports, as kubeadm does; kubelet.conf is left out because the kubelet rotates
// its own client certificate.
func KubeconfigFilesWithClientCerts() []string {
	return []string{"admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"}
}

// RenewableNames lists what `certs renew` accepts, sorted as kubeadm lists them: every leaf
// certificate of p's tree and the kubeconfig files with client certificates. Names ending in
// .conf are renewed by kubeconfig.Renew, the others by RenewCert.
func RenewableNames(p Params) []string {
	var names []string
	for _, s := range DefaultCertList(p) {
		if !s.IsCA {
			names = append(names, s.Name)
		}
	}
	names = append(names, KubeconfigFilesWithClientCerts()...)
	sort.Strings(names)
	return names
}

// RenewCert re-issues the leaf certificate called name with a new key, signed by the CA on
// disk, which is left unchanged. It keeps the old certificate's subject and every SAN it had,
// adds the SANs the configuration now asks for, and carries the spec's key usages; the
// validity restarts from now. Renewal needs the CA key: with an external CA it fails with
// ErrExternalCA.
func RenewCert(p Params, name string) error {
	spec, ok := findSpec(p, name)
	if !ok || spec.IsCA {
		var leaves []string
		for _, n := range RenewableNames(p) {
			if !strings.HasSuffix(n, ".conf") {
				leaves = append(leaves, n)
			}
		}
		return fmt.Errorf("unknown certificate %q; renewable certificates: %s (CAs are not renewed)", name, strings.Join(leaves, ", "))
	}
	dir := p.CertificatesDir
	path := CertPath(dir, spec.BaseName)
	caCert, caKey, caSpec, err := caFor(p, spec)
	if err != nil {
		return err
	}
	if caKey == nil {
		return fmt.Errorf("%s: %w: %s has no key in %s; re-issue %s with the external CA that signed it",
			path, ErrExternalCA, caSpec.Name, dir, path)
	}
	old, err := LoadCert(dir, spec.BaseName)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist, so there is nothing to renew; create it with 'kforge init phase certs %s'", path, spec.Name)
	}
	if err != nil {
		return err
	}
	// Same subject as before, as kubeadm's renewal: the identity must not change under a
	// running component.
	spec.CommonName = old.Subject.CommonName
	spec.Organization = slices.Clone(old.Subject.Organization)
	var s sanSet
	if spec.SANs != nil {
		dns, ips, err := spec.SANs(p)
		if err != nil {
			return err
		}
		s.addDNS(dns...)
		s.addIP(ips...)
	}
	s.addDNS(old.DNSNames...)
	s.addIP(old.IPAddresses...)
	is, err := issueLeafWithSANs(p, spec, s.dns, s.ips, caCert, caKey)
	if err != nil {
		return err
	}
	return writePair(dir, spec.BaseName, is)
}
