package authn

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// LoadPublicKeys reads a --service-account-key-file: PEM with any number of public keys
// (PKIX "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY"), certificates, or, failing those, a private
// key whose public half is used. kubeadm points this flag at sa.pub, but clusters often reuse
// the signing key file, so both must work.
func LoadPublicKeys(path string) ([]crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading service account key file: %w", err)
	}
	keys, err := ParsePublicKeysPEM(data)
	if err != nil {
		return nil, fmt.Errorf("service account key file %s: %w", path, err)
	}
	return keys, nil
}

// ParsePublicKeysPEM is LoadPublicKeys for data already in memory. Blocks that are not keys
// (such as "EC PARAMETERS") are skipped; only RSA and ECDSA keys are returned.
func ParsePublicKeysPEM(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var pub any
		switch block.Type {
		case "PUBLIC KEY":
			p, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parsing public key: %w", err)
			}
			pub = p
		case "RSA PUBLIC KEY":
			p, err := x509.ParsePKCS1PublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parsing RSA public key: %w", err)
			}
			pub = p
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parsing certificate: %w", err)
			}
			pub = c.PublicKey
		default:
			continue
		}
		switch pub.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			keys = append(keys, pub)
		}
	}
	if len(keys) > 0 {
		return keys, nil
	}
	if priv, err := ParsePrivateKeyPEM(data); err == nil {
		return []crypto.PublicKey{priv.Public()}, nil
	}
	return nil, errors.New("data does not contain any valid RSA or ECDSA public keys")
}

// LoadPrivateKey reads a --service-account-signing-key-file: one RSA or ECDSA private key in
// PKCS#1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY") PEM, the
// formats kubeadm and openssl write.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading service account signing key file: %w", err)
	}
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("service account signing key file %s: %w", path, err)
	}
	return k, nil
}

// ParsePrivateKeyPEM is LoadPrivateKey for data already in memory: the first private key
// block is used and other blocks (such as "EC PARAMETERS") are skipped.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("data does not contain a valid RSA or ECDSA private key")
		}
		var (
			k   any
			err error
		)
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", block.Type, err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case *ecdsa.PrivateKey:
			return k, nil
		default:
			return nil, fmt.Errorf("unsupported private key type %T (want RSA or ECDSA)", k)
		}
	}
}
