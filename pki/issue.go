package pki

import (
	"crypto"
	"crypto/ecdsa"
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

// silenceCFSSL stops cfssl from logging every signature to stderr; kforge prints its own lines.
func silenceCFSSL() { quietCFSSL.Do(func() { cflog.Level = cflog.LevelError }) }

// Issued is a freshly made certificate and key, parsed and as PEM.
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
	}
	return nil, fmt.Errorf("unknown encryption algorithm %q; use one of %s, %s, %s, %s", alg, RSA2048, RSA3072, RSA4096, ECDSAP256)
}

// usageNames turns x509 usages into cfssl's policy words.
func usageNames(ku x509.KeyUsage, eku []x509.ExtKeyUsage) []string {
	var out []string
	for name, u := range map[string]x509.KeyUsage{"digital signature": x509.KeyUsageDigitalSignature,
		"key encipherment": x509.KeyUsageKeyEncipherment, "cert sign": x509.KeyUsageCertSign, "crl sign": x509.KeyUsageCRLSign} {
		if ku&u != 0 {
			out = append(out, name)
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

func request(spec CertSpec, hosts []string, kr *csr.KeyRequest) *csr.CertificateRequest {
	req := &csr.CertificateRequest{CN: spec.CommonName, Hosts: hosts, KeyRequest: kr}
	for _, o := range spec.Organization {
		req.Names = append(req.Names, csr.Name{O: o})
	}
	return req
}

// hostList renders SANs the way cfssl takes them.
func hostList(dns []string, ips []net.IP) []string {
	hosts := append([]string{}, dns...)
	for _, ip := range ips {
		hosts = append(hosts, ip.String())
	}
	return hosts
}

// IssueCA makes a new self-signed CA for spec, valid from five minutes ago for p's CA validity.
func IssueCA(p Params, spec CertSpec) (*Issued, error) {
	silenceCFSSL()
	kr, err := keyRequest(p.algorithm())
	if err != nil {
		return nil, err
	}
	priv, err := kr.Generate()
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", spec.Name, err)
	}
	key, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("generate %s key: not a signer", spec.Name)
	}
	csrPEM, err := csr.Generate(key, request(spec, nil, kr))
	if err != nil {
		return nil, fmt.Errorf("%s: certificate request: %w", spec.Name, err)
	}
	profile := &config.SigningProfile{
		Usage:        usageNames(spec.KeyUsage, spec.ExtKeyUsage),
		Expiry:       p.caValidity(),
		CAConstraint: config.CAConstraint{IsCA: true},
	}
	s, err := local.NewSigner(key, nil, signer.DefaultSigAlgo(key), &config.Signing{Default: profile})
	if err != nil {
		return nil, fmt.Errorf("%s: signer: %w", spec.Name, err)
	}
	now := p.now()
	certPEM, err := s.Sign(signer.SignRequest{Request: string(csrPEM), NotBefore: now.Add(-backdate), NotAfter: now.Add(p.caValidity())})
	if err != nil {
		return nil, fmt.Errorf("%s: self-sign: %w", spec.Name, err)
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return nil, err
	}
	return parseIssued(certPEM, keyPEM)
}

// IssueLeaf makes a new key and a certificate for spec signed by the given CA, with the SANs
// spec gives for p, valid from five minutes ago for p's leaf validity.
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
	silenceCFSSL()
	kr, err := keyRequest(p.algorithm())
	if err != nil {
		return nil, err
	}
	hosts := hostList(dns, ips)
	csrPEM, keyPEM, err := csr.ParseRequest(request(spec, hosts, kr))
	if err != nil {
		return nil, fmt.Errorf("%s: key and certificate request: %w", spec.Name, err)
	}
	profile := &config.SigningProfile{Usage: usageNames(spec.KeyUsage, spec.ExtKeyUsage), Expiry: p.certValidity()}
	s, err := local.NewSigner(caKey, caCert, signer.DefaultSigAlgo(caKey), &config.Signing{Default: profile})
	if err != nil {
		return nil, fmt.Errorf("%s: signer: %w", spec.Name, err)
	}
	now := p.now()
	notAfter := now.Add(p.certValidity())
	if notAfter.After(caCert.NotAfter) {
		// A leaf never outlives its CA (kubeadm caps it the same way).
		notAfter = caCert.NotAfter
	}
	certPEM, err := s.Sign(signer.SignRequest{Hosts: hosts, Request: string(csrPEM), NotBefore: now.Add(-backdate), NotAfter: notAfter})
	if err != nil {
		return nil, fmt.Errorf("%s: sign: %w", spec.Name, err)
	}
	return parseIssued(certPEM, keyPEM)
}

func parseIssued(certPEM, keyPEM []byte) (*Issued, error) {
	cert, err := helpers.ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("parse issued certificate: %w", err)
	}
	key, err := helpers.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("parse issued key: %w", err)
	}
	return &Issued{Cert: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// marshalKey writes keys as kubeadm does: PKCS#1 for RSA, SEC 1 for ECDSA.
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

// validFor reports the certificate's lifetime, for messages.
func validFor(c *x509.Certificate) time.Duration { return c.NotAfter.Sub(c.NotBefore) }
