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

// CertPath and KeyPath are where a certificate of the tree lives.
func CertPath(dir, baseName string) string { return filepath.Join(dir, baseName+".crt") }

// KeyPath is the private key next to CertPath.
func KeyPath(dir, baseName string) string { return filepath.Join(dir, baseName+".key") }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// LoadCert reads dir/baseName.crt.
func LoadCert(dir, baseName string) (*x509.Certificate, error) {
	path := CertPath(dir, baseName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	c, err := helpers.ParseCertificatePEM(b)
	if err != nil {
		return nil, fmt.Errorf("parse certificate %s: %w", path, err)
	}
	return c, nil
}

// LoadKey reads dir/baseName.key.
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

// LoadCertAndKey reads a certificate and its key and checks that they belong together.
func LoadCertAndKey(dir, baseName string) (*x509.Certificate, crypto.Signer, error) {
	c, err := LoadCert(dir, baseName)
	if err != nil {
		return nil, nil, err
	}
	k, err := LoadKey(dir, baseName)
	if err != nil {
		return nil, nil, err
	}
	if err := keyMatches(c, k); err != nil {
		return nil, nil, fmt.Errorf("%s and %s: %w", CertPath(dir, baseName), KeyPath(dir, baseName), err)
	}
	return c, k, nil
}

// IsExternalCA reports whether the CA is managed outside kforge: its certificate is present but
// its key is not, so kforge can verify certificates but never issue them.
func IsExternalCA(dir, baseName string) bool {
	return exists(CertPath(dir, baseName)) && !exists(KeyPath(dir, baseName))
}

func keyMatches(c *x509.Certificate, k crypto.Signer) error {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := k.Public().(equaler)
	if !ok || !pub.Equal(c.PublicKey) {
		return errors.New("the private key does not match the certificate's public key; remove both to have kforge issue a new pair")
	}
	return nil
}

// writeFile writes data atomically (temp file + rename) with mode, creating parent directories.
func writeFile(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WritePair writes a certificate (0644) and its key (0600) as dir/baseName.{crt,key}; the key
// goes first so a crash never leaves a certificate without its key.
func WritePair(dir, baseName string, is *Issued) error {
	if err := writeFile(KeyPath(dir, baseName), is.KeyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(CertPath(dir, baseName), is.CertPEM, 0o644)
}
