package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Outcome says what Ensure did, so phases can print kubeadm's "Generating" or "Using existing".
type Outcome int

const (
	// Created means new files were written.
	Created Outcome = iota
	// Kept means valid files were already there and were left untouched.
	Kept
)

// Errors callers can test for with errors.Is; the wrapped messages name the file and the fix.
var (
	// ErrForeignCA: a certificate on disk was signed by a CA other than the cluster's.
	ErrForeignCA = errors.New("certificate was not signed by the expected CA")
	// ErrCertMismatch: a certificate on disk lacks what the configuration asks for.
	ErrCertMismatch = errors.New("certificate does not match the configuration")
	// ErrExternalCAMissingCert: with an external CA, every leaf must be provided.
	ErrExternalCAMissingCert = errors.New("certificate missing and the CA key is not available (external CA)")
)

// EnsureCert makes sure spec's certificate and key exist in p.CertificatesDir and are right:
// a valid pair is kept byte for byte, a missing one is issued, and one that is wrong (another CA,
// a missing SAN, a key that does not match) is an error naming the file, never overwritten.
func EnsureCert(p Params, spec CertSpec) (Outcome, error) {
	if spec.IsCA {
		return ensureCA(p, spec)
	}
	return ensureLeaf(p, spec)
}

func ensureCA(p Params, spec CertSpec) (Outcome, error) {
	dir := p.CertificatesDir
	crt, key := CertPath(dir, spec.BaseName), KeyPath(dir, spec.BaseName)
	switch {
	case exists(crt) && exists(key):
		c, _, err := LoadCertAndKey(dir, spec.BaseName)
		if err != nil {
			return 0, err
		}
		if !c.IsCA {
			return 0, fmt.Errorf("%s is not a CA certificate: %w; remove %s and %s to have kforge create the %s",
				crt, ErrCertMismatch, crt, key, spec.Name)
		}
		return Kept, nil
	case exists(crt):
		// External CA: the certificate alone; leaves are checked against it.
		c, err := LoadCert(dir, spec.BaseName)
		if err != nil {
			return 0, err
		}
		if !c.IsCA {
			return 0, fmt.Errorf("%s is not a CA certificate: %w", crt, ErrCertMismatch)
		}
		return Kept, nil
	case exists(key):
		return 0, fmt.Errorf("%s exists without %s; restore the certificate or remove the key to have kforge create a new CA", key, crt)
	}
	is, err := IssueCA(p, spec)
	if err != nil {
		return 0, err
	}
	if err := WritePair(dir, spec.BaseName, is); err != nil {
		return 0, err
	}
	return Created, nil
}

// caFor loads the CA that signs spec; the key is nil for an external CA.
func caFor(p Params, spec CertSpec) (*x509.Certificate, crypto.Signer, CertSpec, error) {
	caSpec, ok := findSpec(p, spec.CAName)
	if !ok {
		return nil, nil, CertSpec{}, fmt.Errorf("%s: unknown CA %q", spec.Name, spec.CAName)
	}
	dir := p.CertificatesDir
	if !exists(CertPath(dir, caSpec.BaseName)) {
		return nil, nil, caSpec, fmt.Errorf("%s: CA certificate %s not found; run 'kforge init phase certs %s' first",
			spec.Name, CertPath(dir, caSpec.BaseName), caSpec.Name)
	}
	if IsExternalCA(dir, caSpec.BaseName) {
		c, err := LoadCert(dir, caSpec.BaseName)
		return c, nil, caSpec, err
	}
	c, k, err := LoadCertAndKey(dir, caSpec.BaseName)
	return c, k, caSpec, err
}

func ensureLeaf(p Params, spec CertSpec) (Outcome, error) {
	dir := p.CertificatesDir
	crt, key := CertPath(dir, spec.BaseName), KeyPath(dir, spec.BaseName)
	caCert, caKey, caSpec, err := caFor(p, spec)
	if err != nil {
		return 0, err
	}
	switch {
	case exists(crt) && exists(key):
		c, _, err := LoadCertAndKey(dir, spec.BaseName)
		if err != nil {
			return 0, err
		}
		if err := CheckLeaf(p, spec, c, caCert, CertPath(dir, caSpec.BaseName), crt); err != nil {
			return 0, err
		}
		return Kept, nil
	case exists(crt) || exists(key):
		missing := key
		if !exists(crt) {
			missing = crt
		}
		return 0, fmt.Errorf("%s is missing while its pair exists; restore it, or remove %s and %s to have kforge issue new ones",
			missing, crt, key)
	}
	if caKey == nil {
		return 0, fmt.Errorf("%s: %w: the CA %s has no key in %s, so kforge cannot issue %s; provide it signed by that CA",
			crt, ErrExternalCAMissingCert, caSpec.Name, dir, filepath.Base(crt))
	}
	is, err := IssueLeaf(p, spec, caCert, caKey)
	if err != nil {
		return 0, err
	}
	if err := WritePair(dir, spec.BaseName, is); err != nil {
		return 0, err
	}
	return Created, nil
}

// CheckLeaf verifies an existing leaf against its CA and the configuration: signed by ca, and
// carrying spec's extended key usages and every SAN the configuration requires.
func CheckLeaf(p Params, spec CertSpec, c, ca *x509.Certificate, caPath, path string) error {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: c.NotBefore.Add(validFor(c) / 2)}); err != nil {
		return fmt.Errorf("%s: %w %s (%v); remove %s and its key to have kforge issue a new one, or put back the CA that signed it",
			path, ErrForeignCA, caPath, err, path)
	}
	for _, want := range spec.ExtKeyUsage {
		if !slices.Contains(c.ExtKeyUsage, want) {
			return fmt.Errorf("%s: %w: it lacks extended key usage %s; remove it and its key to have kforge issue a new one",
				path, ErrCertMismatch, extKeyUsageName(want))
		}
	}
	if spec.SANs == nil {
		return nil
	}
	dns, ips, err := spec.SANs(p)
	if err != nil {
		return err
	}
	var missing []string
	for _, d := range dns {
		if !slices.Contains(c.DNSNames, d) {
			missing = append(missing, d)
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(c.IPAddresses, func(have net.IP) bool { return have.Equal(ip) }) {
			missing = append(missing, ip.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: %w: it lacks the SANs %s; remove it and its key to have kforge issue a new one with them",
			path, ErrCertMismatch, strings.Join(missing, ", "))
	}
	return nil
}

func extKeyUsageName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	}
	return fmt.Sprintf("%d", u)
}

// Service-account key files, as kubeadm names them.
const (
	ServiceAccountKeyBaseName = "sa"
	ServiceAccountKeyFile     = "sa.key"
	ServiceAccountPubFile     = "sa.pub"
)

// EnsureServiceAccountKeys makes sure sa.key and sa.pub exist and belong together; the
// apiserver signs service-account tokens with sa.key and checks them with sa.pub.
func EnsureServiceAccountKeys(p Params) (Outcome, error) {
	dir := p.CertificatesDir
	keyPath, pubPath := filepath.Join(dir, ServiceAccountKeyFile), filepath.Join(dir, ServiceAccountPubFile)
	if exists(keyPath) {
		key, err := LoadKey(dir, ServiceAccountKeyBaseName)
		if err != nil {
			return 0, err
		}
		pubPEM, err := marshalPublicKey(key.Public())
		if err != nil {
			return 0, err
		}
		if !exists(pubPath) {
			return Created, writeFile(pubPath, pubPEM, 0o644)
		}
		have, err := os.ReadFile(pubPath)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", pubPath, err)
		}
		if err := samePublicKey(have, key.Public()); err != nil {
			return 0, fmt.Errorf("%s does not hold the public key of %s (%v); remove %s to have kforge derive it again", pubPath, keyPath, err, pubPath)
		}
		return Kept, nil
	}
	if exists(pubPath) {
		return 0, fmt.Errorf("%s exists without %s; restore the private key, or remove %s to have kforge create a new pair (tokens signed with the old key stop working)", pubPath, keyPath, pubPath)
	}
	kr, err := keyRequest(p.algorithm())
	if err != nil {
		return 0, err
	}
	priv, err := kr.Generate()
	if err != nil {
		return 0, fmt.Errorf("generate service-account key: %w", err)
	}
	key := priv.(crypto.Signer)
	keyPEM, err := marshalKey(key)
	if err != nil {
		return 0, err
	}
	pubPEM, err := marshalPublicKey(key.Public())
	if err != nil {
		return 0, err
	}
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return 0, err
	}
	return Created, writeFile(pubPath, pubPEM, 0o644)
}
