package authn

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

// TestVerifyCache checks that caching verified chains never accepts what verifying afresh
// would refuse: a certificate past its expiry, an intermediate that expires first, a chain to
// another CA, and a clock set back before the certificate's start.
func TestVerifyCache(t *testing.T) {
	ca := newTestCA(t, "kubernetes")
	other := newTestCA(t, "other")
	start := time.Now()
	shortLived, _ := ca.issue(t, certOpts{cn: "short", notBefore: start.Add(-time.Minute), notAfter: start.Add(2 * time.Minute)})
	inter, interKey := ca.issue(t, certOpts{cn: "intermediate", isCA: true, notAfter: start.Add(3 * time.Minute)})
	viaInter, _ := (&testCA{cert: inter, key: interKey}).issue(t, certOpts{cn: "bob", notAfter: start.Add(time.Hour)})
	foreign, _ := other.issue(t, certOpts{cn: "mallory"})
	fresh, _ := ca.issue(t, certOpts{cn: "fresh", notBefore: start.Add(-time.Second)})

	now := start
	a := NewX509(ca.pool)
	a.now = func() time.Time { return now }
	steps := []struct {
		what     string
		at       time.Duration
		req      []int // indexes into chains
		wantUser string
		wantErr  string
	}{
		{"short-lived cert, first use", 0, []int{0}, "short", ""},
		{"short-lived cert, cached", time.Minute, []int{0}, "short", ""},
		{"short-lived cert past expiry", 3 * time.Minute, []int{0}, "", "expired"},
		{"via intermediate, first use", 0, []int{1, 2}, "bob", ""},
		{"via intermediate, cached", 2 * time.Minute, []int{1, 2}, "bob", ""},
		{"intermediate expired before the leaf", 4 * time.Minute, []int{1, 2}, "", "expired"},
		{"foreign CA", 0, []int{3}, "", "unknown authority"},
		{"foreign CA again", 0, []int{3}, "", "unknown authority"},
		{"fresh cert", 0, []int{4}, "fresh", ""},
		{"clock set back before its start", -time.Hour, []int{4}, "", "not yet valid"},
		{"cache entries never outlive the TTL", verifyCacheTTL + time.Second, []int{4}, "fresh", ""},
	}
	certs := []*x509.Certificate{shortLived, viaInter, inter, foreign, fresh}
	for _, s := range steps {
		now = start.Add(s.at)
		var chain []*x509.Certificate
		for _, i := range s.req {
			chain = append(chain, certs[i])
		}
		req := tlsRequest(chain...)
		u, ok, err := a.Authenticate(req)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Errorf("%s: user %q, err %v; want an error containing %q", s.what, u.Name, err, s.wantErr)
			}
			continue
		}
		if err != nil || !ok || u.Name != s.wantUser {
			t.Errorf("%s: user %q ok %v err %v; want %q", s.what, u.Name, ok, err, s.wantUser)
		}
	}
	key, _ := chainDigest([]*x509.Certificate{fresh})
	if e := a.verified.entries[key]; !e.at.Equal(start.Add(verifyCacheTTL + time.Second)) {
		t.Errorf("the fresh cert was verified at %v, want again at %v after the TTL", e.at, start.Add(verifyCacheTTL+time.Second))
	}
	if n := len(a.verified.entries); n != 3 {
		t.Errorf("cache holds %d chains, want 3 (only successes are kept)", n)
	}
}
