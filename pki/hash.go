package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// CACertHash is the value of --discovery-token-ca-cert-hash: SHA-256 over the CA certificate's
// DER SubjectPublicKeyInfo, the pin a joining node checks the cluster CA against.
func CACertHash(caCert *x509.Certificate) string {
	sum := sha256.Sum256(caCert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CertificateKeyBytes is the size of the key that encrypts uploaded control-plane certificates
// (AES-256-GCM).
const CertificateKeyBytes = 32

// NewCertificateKey returns a random certificate key, hex encoded, for --certificate-key.
func NewCertificateKey() (string, error) {
	b := make([]byte, CertificateKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate certificate key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func marshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

func samePublicKey(pubPEM []byte, want crypto.PublicKey) error {
	b, _ := pem.Decode(pubPEM)
	if b == nil {
		return errors.New("no PEM block")
	}
	got, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return err
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := got.(equaler); !ok || !e.Equal(want) {
		return errors.New("keys differ")
	}
	return nil
}
