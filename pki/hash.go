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

// CACertHash is the value of --discovery-token-ca-cert-hash: "sha256:" and the hex SHA-256 of
// the CA certificate's DER SubjectPublicKeyInfo, the pin a joining node checks the cluster CA
// against (the same value kubeadm prints).
func CACertHash(caCert *x509.Certificate) string {
	sum := sha256.Sum256(caCert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CertificateKeyBytes is the size of the key that encrypts uploaded control-plane certificates
// (AES-256-GCM), as kubeadm's --certificate-key.
const CertificateKeyBytes = 32

// NewCertificateKey returns a random certificate key, hex encoded, for --certificate-key.
func NewCertificateKey() (string, error) {
	b := make([]byte, CertificateKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate certificate key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func parsePublicKeyPEM(b []byte) (crypto.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParsePKIXPublicKey(blk.Bytes)
}
