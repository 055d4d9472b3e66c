package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/csr"
	"github.com/cloudflare/cfssl/helpers"
	cflog "github.com/cloudflare/cfssl/log"
	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"
)

var quietCFSSL sync.Once

// silenceCFSSL stops cfssl from logging every key, CSR and signature to stderr (its log
// package is global); kforge prints its own progress lines.
func silenceCFSSL() { quietCFSSL.Do(func() { cflog.Level = cflog.LevelError }) }

// Issued is a freshly made certificate and its new private key, parsed and as PEM, ready to be
// written to files or embedded in a kubeconfig.
type Issued struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

// keyRequest maps kubeadm's encryptionAlgorithm to cfssl's key request.
func keyRequest(alg string) (*csr.KeyRequest, error) {
	switch alg {
	case "", RSA2048:
		return &csr.KeyRequest{A: "rsa", S: 2048}, nil
	case RSA3072:
		return &csr.KeyRequest{A: "rsa", S: 3072}, nil
	case RSA4096:
		return &csr.KeyRequest{A: "rsa", S: 4096}, nil
	case ECDSAP256:
		return &csr.KeyRequest{A: "ecdsa", S: 256}, nil
	case ECDSAP384:
		return &csr.KeyRequest{A: "ecdsa", S: 384}, nil
	}
	return nil, fmt.Errorf("unknown encryption algorithm %q; set encryptionAlgorithm to one of %s, %s, %s, %s, %s",
		alg, RSA2048, RSA3072, RSA4096, ECDSAP256, ECDSAP384)
}

// newKey generates a private key of p's algorithm with cfssl.
func newKey(p Params, what string) (crypto.Signer, error) {
	kr, err := keyRequest(p.algorithm())
	if err != nil {
		return nil, err
	}
	priv, err := kr.Generate()
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", what, err)
	}
	key, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("generate %s key: %T is not a signer", what, priv)
	}
	return key, nil
}

// sigAlgo is the signature algorithm Go (and so kubeadm) uses by default for a CA key: SHA-256
// for every RSA size, where cfssl would pick SHA-384/512 for larger keys.
func sigAlgo(caKey crypto.Signer) x509.SignatureAlgorithm {
	if k, ok := caKey.Public().(*ecdsa.PublicKey); ok {
		switch k.Curve {
		case elliptic.P384():
			return x509.ECDSAWithSHA384
		case elliptic.P521():
			return x509.ECDSAWithSHA512
		}
		return x509.ECDSAWithSHA256
	}
	return x509.SHA256WithRSA
}

// usageNames turns x509 usages into cfssl's policy words.
func usageNames(ku x509.KeyUsage, eku []x509.ExtKeyUsage) []string {
	var out []string
	for _, u := range []struct {
		name string
		bit  x509.KeyUsage
	}{
		{"digital signature", x509.KeyUsageDigitalSignature},
		{"key encipherment", x509.KeyUsageKeyEncipherment},
		{"cert sign", x509.KeyUsageCertSign},
		{"crl sign", x509.KeyUsageCRLSign},
	} {
		if ku&u.bit != 0 {
			out = append(out, u.name)
		}
	}
	for _, e := range eku {
		switch e {
		case x509.ExtKeyUsageServerAuth:
			out = append(out, "server auth")
		case x509.ExtKeyUsageClientAuth:
			out = append(out, "client auth")
		}
	}
	return out
}

// hostList renders SANs the way cfssl takes them.
func hostList(dns []string, ips []net.IP) []string {
	hosts := append([]string{}, dns...)
	for _, ip := range ips {
		hosts = append(hosts, ip.String())
	}
	return hosts
}

// sign makes the CSR for key and has cfssl's local signer sign it with caKey under a one-off
// policy carrying exactly spec's usages. The validity is given explicitly, which cfssl's
// SignRequest supports, so no crypto/x509 fallback is needed. caCert nil means self-signed.
func sign(spec CertSpec, hosts []string, key crypto.Signer, caCert *x509.Certificate, caKey crypto.Signer, notBefore, notAfter time.Time) ([]byte, error) {
	silenceCFSSL()
	if spec.CommonName == "" {
		return nil, fmt.Errorf("%s: the certificate has no common name; set nodeRegistration.name or --node-name", spec.Name)
	}
	req := &csr.CertificateRequest{CN: spec.CommonName, Hosts: hosts}
	for _, o := range spec.Organization {
		req.Names = append(req.Names, csr.Name{O: o})
	}
	csrPEM, err := csr.Generate(key, req)
	if err != nil {
		return nil, fmt.Errorf("%s: certificate request: %w", spec.Name, err)
	}
	profile := &config.SigningProfile{
		Usage:        usageNames(spec.KeyUsage, spec.ExtKeyUsage),
		Expiry:       notAfter.Sub(notBefore),
		CAConstraint: config.CAConstraint{IsCA: spec.IsCA},
	}
	s, err := local.NewSigner(caKey, caCert, sigAlgo(caKey), &config.Signing{Default: profile})
	if err != nil {
		return nil, fmt.Errorf("%s: signer: %w", spec.Name, err)
	}
	certPEM, err := s.Sign(signer.SignRequest{Hosts: hosts, Request: string(csrPEM), NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		return nil, fmt.Errorf("%s: sign: %w", spec.Name, err)
	}
	return certPEM, nil
}

// issueCA makes a new self-signed CA for spec, valid from five minutes ago for p's CA validity.
func issueCA(p Params, spec CertSpec) (*Issued, error) {
	key, err := newKey(p, spec.Name)
	if err != nil {
		return nil, err
	}
	now := p.now()
	certPEM, err := sign(spec, nil, key, nil, key, now.Add(-backdate), now.Add(p.caValidity()))
	if err != nil {
		return nil, err
	}
	return issued(certPEM, key)
}

// IssueLeaf makes a new key and a certificate for spec signed by the given CA, with the SANs
// spec gives for p. Like kubeadm, the certificate starts when its CA does and lasts p's leaf
// validity from now; kforge also ends it no later than the CA, which would make it useless.
func IssueLeaf(p Params, spec CertSpec, caCert *x509.Certificate, caKey crypto.Signer) (*Issued, error) {
	var dns []string
	var ips []net.IP
	if spec.SANs != nil {
		var err error
		if dns, ips, err = spec.SANs(p); err != nil {
			return nil, err
		}
	}
	return issueLeafWithSANs(p, spec, dns, ips, caCert, caKey)
}

func issueLeafWithSANs(p Params, spec CertSpec, dns []string, ips []net.IP, caCert *x509.Certificate, caKey crypto.Signer) (*Issued, error) {
	now := p.now()
	if now.After(caCert.NotAfter) {
		return nil, fmt.Errorf("%s: %w: the CA %q expired at %s, so anything it signs is invalid; replace the CA first",
			spec.Name, ErrExpired, caCert.Subject.CommonName, caCert.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := newKey(p, spec.Name)
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(p.certValidity())
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	certPEM, err := sign(spec, hostList(dns, ips), key, caCert, caKey, caCert.NotBefore, notAfter)
	if err != nil {
		return nil, err
	}
	return issued(certPEM, key)
}

func issued(certPEM []byte, key crypto.Signer) (*Issued, error) {
	cert, err := helpers.ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("parse issued certificate: %w", err)
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return nil, err
	}
	return &Issued{Cert: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// marshalKey writes keys as kubeadm does: PKCS#1 "RSA PRIVATE KEY" for RSA, SEC 1
// "EC PRIVATE KEY" for ECDSA.
func marshalKey(key crypto.Signer) ([]byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("marshal key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	}
	return nil, fmt.Errorf("marshal key: unsupported key type %T", key)
}

// marshalPublicKey writes a PKIX "PUBLIC KEY" block, the format of kubeadm's sa.pub.
func marshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
