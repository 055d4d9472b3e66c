package authn

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"abcdef.0123456789abcdef", "", ".", "ABCDEF.0123456789abcdef", "abcdef.0123456789abcdef.", "a.b", "abcdef.0123456789abcdeg\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := ParseToken(s)
		if err != nil {
			if id != "" || secret != "" {
				t.Fatal("parts returned with error")
			}
			return
		}
		if id+"."+secret != s || len(id) != 6 || len(secret) != 16 {
			t.Fatalf("ParseToken(%q) = %q, %q", s, id, secret)
		}
		for _, c := range id + secret {
			if !strings.ContainsRune(tokenAlphabet, c) {
				t.Fatalf("bad char %q", c)
			}
		}
	})
}

func FuzzServiceAccountToken(f *testing.F) {
	testKeys(f)
	s := mustSigner(f, p256Key, testIssuer)
	c := baseClaims()
	c.PodName, c.PodUID = "web", "pod-uid"
	bound, err := s.IssueBound(c)
	if err != nil {
		f.Fatal(err)
	}
	legacy, err := s.IssueLegacy("default", "builder", "sa-uid", "tok")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{bound, legacy, "", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCJ9.",
		bound[:len(bound)-3], strings.Replace(bound, ".", "..", 1)} {
		f.Add(seed)
	}
	a, err := NewServiceAccountTokens(ServiceAccountConfig{
		PublicKeys: []crypto.PublicKey{p256Key.Public()},
		Issuers:    []string{testIssuer},
		Getter:     clusterObjects(),
		Lookup:     true,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		u, ok, err := a.AuthenticateToken(context.Background(), token)
		if ok && err != nil {
			t.Fatal("ok with error")
		}
		if ok && token != bound && !strings.HasPrefix(u.Name, ServiceAccountPrefix) {
			t.Fatalf("unexpected user %+v", u)
		}
	})
}

func FuzzBearerHeader(f *testing.F) {
	for _, s := range []string{"Bearer tok", "bearer tok", "Bearer", "Bearer ", "Basic abc", "", "Bearer  tok", "BEARER\ttok", "Bearer tok extra"} {
		f.Add(s)
	}
	b := NewBearer(staticTokens(map[string]User{"tok": {Name: "alice"}}))
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{header}
		u, ok, err := b.Authenticate(r)
		if ok && (err != nil || u.Name != "alice") {
			t.Fatalf("ok=%v err=%v user=%+v", ok, err, u)
		}
		if ok && r.Header.Get("Authorization") != "" {
			t.Fatal("authorization header kept after success")
		}
	})
}

func FuzzX509(f *testing.F) {
	ca := newTestCA(f, "kubernetes")
	good, _ := ca.issue(f, certOpts{cn: "alice", orgs: []string{"devs"}})
	f.Add(good.Raw)
	f.Add(ca.cert.Raw)
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	x := NewX509(ca.pool)
	rh := NewRequestHeader(RequestHeaderConfig{
		ClientCA: ca.pool, UsernameHeaders: []string{"X-Remote-User"},
		GroupHeaders: []string{"X-Remote-Group"}, ExtraHeaderPrefixes: []string{"X-Remote-Extra-"},
	})
	chain := NewChain(ChainOptions{AllowAnonymous: true}, rh, x)
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		for _, certs := range [][]*x509.Certificate{{cert}, {cert, cert}, {cert, ca.cert}} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.TLS = &tls.ConnectionState{PeerCertificates: certs}
			r.Header.Set("X-Remote-User", "bob")
			r.Header.Set("X-Remote-Extra-A%zz", "v")
			u, ok, err := chain.Authenticate(r)
			if ok && err != nil {
				t.Fatal("ok with error")
			}
			if ok && u.Name == "" {
				t.Fatal("empty user name")
			}
			_, _, _ = x.Authenticate(r)
		}
	})
}
