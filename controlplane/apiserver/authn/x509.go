package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// X509 authenticates TLS client certificates signed by the cluster CA (kube-apiserver's
// --client-ca-file): the user is the subject's CommonName and the groups its Organizations,
// which is how kubeadm's admin.conf (O=system:masters) and kubelets
// (CN=system:node:<name>, O=system:nodes) are identified.
type X509 struct {
	pool     *x509.CertPool
	now      func() time.Time
	verified verifyCache
}

// NewX509 returns an authenticator trusting client certificates that chain to pool.
func NewX509(pool *x509.CertPool) *X509 {
	return &X509{pool: pool, now: time.Now}
}

// Authenticate implements Authenticator. A request without a client certificate is not ours;
// one whose certificate does not verify (foreign CA, expired, not for client auth) or has no
// CommonName is an error.
func (a *X509) Authenticate(r *http.Request) (User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return User{}, false, nil
	}
	leaf, err := a.verified.verify(r.TLS.PeerCertificates, a.pool, a.now())
	if err != nil {
		return User{}, false, err
	}
	if leaf.Subject.CommonName == "" {
		return User{}, false, fmt.Errorf("client certificate %s has an empty common name", certID(leaf))
	}
	return User{
		Name:   leaf.Subject.CommonName,
		Groups: append([]string(nil), leaf.Subject.Organization...),
		Extra:  map[string][]string{CredentialIDKey: {CertCredentialID(leaf)}},
	}, true, nil
}

// CertCredentialID is the credential id Kubernetes records for a client certificate
// ("X509SHA256=" and the hex SHA-256 of the DER), so audit logs identify which certificate
// made a request.
func CertCredentialID(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return "X509SHA256=" + hex.EncodeToString(sum[:])
}

// verifyClientCert verifies chain[0] for client auth against roots, using the rest of the
// presented chain as intermediates, and returns the leaf.
func verifyClientCert(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) (*x509.Certificate, error) {
	leaf, _, err := verifyClientCertUntil(chain, roots, now)
	return leaf, err
}

// verifyClientCertUntil is verifyClientCert that also says until when the verdict holds: the
// earliest expiry along the longest-lived chain found.
func verifyClientCertUntil(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) (*x509.Certificate, time.Time, error) {
	leaf := chain[0]
	if leaf == nil {
		return nil, time.Time{}, errors.New("client certificate is missing")
	}
	if roots == nil {
		return nil, time.Time{}, fmt.Errorf("verifying certificate %s failed: no client CA configured", certID(leaf))
	}
	opts := x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(chain) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, c := range chain[1:] {
			if c != nil {
				opts.Intermediates.AddCert(c)
			}
		}
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("verifying certificate %s failed: %w", certID(leaf), err)
	}
	var until time.Time
	for _, c := range chains {
		end := c[0].NotAfter
		for _, cert := range c[1:] {
			if cert.NotAfter.Before(end) {
				end = cert.NotAfter
			}
		}
		if end.After(until) {
			until = end
		}
	}
	return leaf, until, nil
}

// certID describes a certificate in error messages without leaking anything secret.
func certID(c *x509.Certificate) string {
	return fmt.Sprintf("SN=%s, SKID=%x, AKID=%x, CN=%q", c.SerialNumber, c.SubjectKeyId, c.AuthorityKeyId, c.Subject.CommonName)
}
