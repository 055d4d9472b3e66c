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
	"time"
)

// Outcome says what an Ensure function did, so phases can print kubeadm's "Generating ..." or
// "Using existing ..." line.
type Outcome int

const (
	// Created means new files were written.
	Created Outcome = iota
	// Kept means valid files were already there and were left untouched, byte for byte.
	Kept
)

// Errors callers can test for with errors.Is; the messages wrapping them name the files and
// the fix.
var (
	// ErrForeignCA: a certificate on disk was signed by a CA other than the one on disk.
	ErrForeignCA = errors.New("certificate signed by another CA")
	// ErrCertMismatch: a certificate on disk lacks what the configuration asks for (a SAN, a
	// usage), or is not the kind of certificate its file name says.
	ErrCertMismatch = errors.New("certificate does not match the configuration")
	// ErrExpired: a certificate on disk is past its NotAfter.
	ErrExpired = errors.New("certificate has expired")
	// ErrExternalCAMissingCert: the CA key is absent (external CA), so every certificate it
	// signs must be provided, and one is not.
	ErrExternalCAMissingCert = errors.New("certificate missing and the CA key is absent (external CA), so kforge cannot issue it")
	// ErrExternalCA: an operation needs a CA key that is absent (external CA), such as renewal.
	ErrExternalCA = errors.New("the CA key is absent (external CA)")
)

// EnsureCert makes sure spec's certificate and key exist in p.CertificatesDir and are right:
// a valid pair is kept byte for byte, a missing one is issued, and one that is wrong (another
// CA, a missing SAN, a key that does not match, expired) is an error naming the file and the
// fix, never overwritten. With an external CA (certificate without key) every leaf it signs
// must already be there.
func EnsureCert(p Params, spec CertSpec) (Outcome, error) {
	if spec.IsCA {
		return ensureCA(p, spec)
	}
	return ensureLeaf(p, spec)
}

func ensureCA(p Params, spec CertSpec) (Outcome, error) {
	dir := p.CertificatesDir
	crt, key := CertPath(dir, spec.BaseName), KeyPath(dir, spec.BaseName)
	var c *x509.Certificate
	var err error
	switch {
	case exists(crt) && exists(key):
		c, _, err = LoadCertAndKey(dir, spec.BaseName)
	case exists(crt):
		// External CA: the certificate alone; the leaves are checked against it.
		c, err = LoadCert(dir, spec.BaseName)
	case exists(key):
		return 0, fmt.Errorf("%s exists without %s; restore the certificate, or remove the key to have kforge create a new %s CA", key, crt, spec.Name)
	default:
		is, err := issueCA(p, spec)
		if err != nil {
			return 0, err
		}
		if err := writePair(dir, spec.BaseName, is); err != nil {
			return 0, err
		}
		return Created, nil
	}
	if err != nil {
		return 0, err
	}
	if !c.IsCA {
		return 0, fmt.Errorf("%s: %w: it is not a CA certificate (CA:FALSE); remove it and %s to have kforge create the %s CA, or put back the right file",
			crt, ErrCertMismatch, key, spec.Name)
	}
	if now := p.now(); now.After(c.NotAfter) {
		return 0, fmt.Errorf("%s: %w: it expired at %s and kforge does not rotate CAs; replace it and every certificate it signed, or restore a valid %s",
			crt, ErrExpired, c.NotAfter.UTC().Format(time.RFC3339), spec.Name)
	}
	return Kept, nil
}

// caFor loads the CA that signs spec; the key is nil for an external CA.
func caFor(p Params, spec CertSpec) (*x509.Certificate, crypto.Signer, CertSpec, error) {
	caSpec, ok := findSpec(p, spec.CAName)
	if !ok || !caSpec.IsCA {
		return nil, nil, CertSpec{}, fmt.Errorf("%s: unknown CA %q", spec.Name, spec.CAName)
	}
	dir := p.CertificatesDir
	if !exists(CertPath(dir, caSpec.BaseName)) {
		return nil, nil, caSpec, fmt.Errorf("%s: CA certificate %s not found; run 'kforge init phase certs %s' first, or provide it",
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
	haveCrt, haveKey := exists(crt), exists(key)
	if caKey == nil && !(haveCrt && haveKey) {
		var missing []string
		for _, f := range []struct {
			path string
			ok   bool
		}{{crt, haveCrt}, {key, haveKey}} {
			if !f.ok {
				missing = append(missing, f.path)
			}
		}
		return 0, fmt.Errorf("%s: %w: %s has no key in %s, so provide %s signed by it",
			strings.Join(missing, " and "), ErrExternalCAMissingCert, caSpec.Name, dir, strings.Join(missing, " and "))
	}
	switch {
	case haveCrt && haveKey:
		c, _, err := LoadCertAndKey(dir, spec.BaseName)
		if err != nil {
			return 0, err
		}
		if err := checkLeaf(p, spec, c, caCert, CertPath(dir, caSpec.BaseName), crt, key, caKey != nil); err != nil {
			return 0, err
		}
		return Kept, nil
	case haveCrt || haveKey:
		missing, present := key, crt
		if !haveCrt {
			missing, present = crt, key
		}
		return 0, fmt.Errorf("%s is missing while %s exists; restore it, or remove %s to have kforge issue a new pair",
			missing, present, present)
	}
	is, err := IssueLeaf(p, spec, caCert, caKey)
	if err != nil {
		return 0, err
	}
	if err := writePair(dir, spec.BaseName, is); err != nil {
		return 0, err
	}
	return Created, nil
}

// checkLeaf verifies an existing leaf against its CA and the configuration, as kubeadm does
// before reusing it: signed by ca, not expired, carrying spec's extended key usages and every
// SAN the configuration requires.
func checkLeaf(p Params, spec CertSpec, c, ca *x509.Certificate, caPath, path, keyPath string, canRenew bool) error {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	// Verify at the middle of the certificate's life: expiry is reported separately, with its
	// own fix.
	mid := c.NotBefore.Add(c.NotAfter.Sub(c.NotBefore) / 2)
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: mid}); err != nil {
		detail := ""
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			detail = " (" + err.Error() + ")"
		}
		return fmt.Errorf("%s was not signed by %s: %w%s; remove it and %s to have kforge issue a new one, or put back the CA that signed it",
			path, caPath, ErrForeignCA, detail, keyPath)
	}
	renew := fmt.Sprintf("run 'kforge certs renew %s'", spec.Name)
	if !canRenew {
		renew = "re-issue it with the external CA"
	}
	if now := p.now(); now.After(c.NotAfter) {
		return fmt.Errorf("%s: %w: it expired at %s; %s, or remove it and %s to have kforge issue a new one",
			path, ErrExpired, c.NotAfter.UTC().Format(time.RFC3339), renew, keyPath)
	}
	for _, want := range spec.ExtKeyUsage {
		if !slices.Contains(c.ExtKeyUsage, want) {
			return fmt.Errorf("%s: %w: it lacks the extended key usage %s; remove it and %s to have kforge issue a new one",
				path, ErrCertMismatch, extKeyUsageName(want), keyPath)
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
		return fmt.Errorf("%s: %w: it lacks the SANs %s; %s to re-issue it with them, or remove it and %s to have kforge issue a new one",
			path, ErrCertMismatch, strings.Join(missing, ", "), renew, keyPath)
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

// Service-account key files, as kubeadm names them: the apiserver signs service-account tokens
// with sa.key and the controller-manager and apiserver check them with sa.pub.
const (
	ServiceAccountKeyBaseName = "sa"
	ServiceAccountKeyFile     = "sa.key"
	ServiceAccountPubFile     = "sa.pub"
)

// EnsureServiceAccountKeys makes sure sa.key and sa.pub exist and belong together. An existing
// key is always kept (tokens already issued stay valid); a missing sa.pub is derived from it.
func EnsureServiceAccountKeys(p Params) (Outcome, error) {
	dir := p.CertificatesDir
	keyPath, pubPath := filepath.Join(dir, ServiceAccountKeyFile), filepath.Join(dir, ServiceAccountPubFile)
	if exists(keyPath) {
		key, err := LoadKey(dir, ServiceAccountKeyBaseName)
		if err != nil {
			return 0, err
		}
		if !exists(pubPath) {
			pubPEM, err := marshalPublicKey(key.Public())
			if err != nil {
				return 0, err
			}
			return Created, writeFile(pubPath, pubPEM, keyMode)
		}
		have, err := os.ReadFile(pubPath)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", pubPath, err)
		}
		pub, err := parsePublicKeyPEM(have)
		if err != nil || !samePublicKey(pub, key.Public()) {
			return 0, fmt.Errorf("%s does not hold the public key of %s; remove %s to have kforge derive it again", pubPath, keyPath, pubPath)
		}
		return Kept, nil
	}
	if exists(pubPath) {
		return 0, fmt.Errorf("%s exists without %s; restore the private key, or remove %s to have kforge create a new pair (tokens signed with the old key stop working)",
			pubPath, keyPath, pubPath)
	}
	key, err := newKey(p, "service-account")
	if err != nil {
		return 0, err
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return 0, err
	}
	pubPEM, err := marshalPublicKey(key.Public())
	if err != nil {
		return 0, err
	}
	if err := writeFile(keyPath, keyPEM, keyMode); err != nil {
		return 0, err
	}
	// kubeadm writes sa.pub with its key writer, so 0600 as well.
	return Created, writeFile(pubPath, pubPEM, keyMode)
}
