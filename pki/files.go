package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cloudflare/cfssl/helpers"
)

// File modes kubeadm (client-go's certutil and keyutil) uses: private keys are readable by
// root only, certificates by everyone, directories are traversable.
const (
	keyMode  fs.FileMode = 0o600
	certMode fs.FileMode = 0o644
	dirMode  fs.FileMode = 0o755
)

// CertPath is where a certificate of the tree lives: dir/baseName.crt.
func CertPath(dir, baseName string) string { return filepath.Join(dir, baseName+".crt") }

// KeyPath is the private key next to CertPath: dir/baseName.key.
func KeyPath(dir, baseName string) string { return filepath.Join(dir, baseName+".key") }

// exists reports whether path may exist: only a definite "not found" counts as absent, so an
// unreadable directory never makes kforge write over a file it could not see.
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// LoadCert reads the first certificate of dir/baseName.crt.
func LoadCert(dir, baseName string) (*x509.Certificate, error) {
	path := CertPath(dir, baseName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	certs, err := helpers.ParseCertificatesPEM(b)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("parse certificate %s: %v; it must hold a PEM CERTIFICATE block", path, err)
	}
	return certs[0], nil
}

// LoadKey reads the private key dir/baseName.key (PKCS#1, PKCS#8 or SEC 1 PEM).
func LoadKey(dir, baseName string) (crypto.Signer, error) {
	path := KeyPath(dir, baseName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	k, err := helpers.ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("parse private key %s: %w", path, err)
	}
	return k, nil
}

// LoadCertAndKey reads a certificate and its key and checks that they belong together, so a
// signer built from them never issues certificates its CA certificate cannot verify.
func LoadCertAndKey(dir, baseName string) (*x509.Certificate, crypto.Signer, error) {
	c, err := LoadCert(dir, baseName)
	if err != nil {
		return nil, nil, err
	}
	k, err := LoadKey(dir, baseName)
	if err != nil {
		return nil, nil, err
	}
	if !samePublicKey(k.Public(), c.PublicKey) {
		crt, key := CertPath(dir, baseName), KeyPath(dir, baseName)
		return nil, nil, fmt.Errorf("%s does not hold the private key of %s; put back the matching key, or remove both to have kforge issue a new pair", key, crt)
	}
	return c, k, nil
}

// IsExternalCA reports whether a CA is managed outside kforge: its certificate is present but
// its key is not, so kforge can verify certificates against it but never issue them.
func IsExternalCA(dir, baseName string) bool {
	_, err := os.Stat(KeyPath(dir, baseName))
	return exists(CertPath(dir, baseName)) && errors.Is(err, fs.ErrNotExist)
}

func samePublicKey(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// writeFile writes data atomically (temp file, chmod, rename) with mode, creating parent
// directories, so a crash never leaves a half-written key or certificate behind.
func writeFile(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create directory for %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(mode)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// writePair writes a certificate (0644) and its key (0600) as dir/baseName.{crt,key}; the key
// goes first so a crash never leaves a new certificate next to an old key.
func writePair(dir, baseName string, is *Issued) error {
	if err := writeFile(KeyPath(dir, baseName), is.KeyPEM, keyMode); err != nil {
		return err
	}
	return writeFile(CertPath(dir, baseName), is.CertPEM, certMode)
}
