package authn

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const testIssuer = "https://kubernetes.default.svc.cluster.local"

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	p256Key  *ecdsa.PrivateKey
	p384Key  *ecdsa.PrivateKey
	p521Key  *ecdsa.PrivateKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if p256Key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if p384Key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
			panic(err)
		}
		if p521Key, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

func clusterObjects() *fakeObjects {
	o := newFakeObjects()
	o.put(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "builder", UID: "sa-uid"}})
	o.put(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "pod-uid"}})
	o.put(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "node-uid"}})
	o.put(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bound", UID: "secret-uid"}})
	return o
}

func baseClaims() BoundClaims {
	return BoundClaims{
		Audiences:          []string{testIssuer},
		ExpirationSeconds:  3600,
		Namespace:          "default",
		ServiceAccountName: "builder",
		ServiceAccountUID:  "sa-uid",
	}
}

func newSAAuth(t testing.TB, objs ServiceAccountGetter, keys ...crypto.PublicKey) *ServiceAccountTokens {
	t.Helper()
	a, err := NewServiceAccountTokens(ServiceAccountConfig{
		PublicKeys: keys,
		Issuers:    []string{testIssuer, "https://old-issuer"},
		Getter:     objs,
		Lookup:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustSigner(t testing.TB, key crypto.Signer, issuer string) *Signer {
	t.Helper()
	s, err := NewSigner(key, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBoundTokenRoundTrip(t *testing.T) {
	testKeys(t)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"RSA", rsaKey, "RS256"},
		{"P-256", p256Key, "ES256"},
		{"P-384", p384Key, "ES384"},
		{"P-521", p521Key, "ES512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSigner(t, tc.key, testIssuer)
			c := baseClaims()
			c.PodName, c.PodUID = "web", "pod-uid"
			c.NodeName, c.NodeUID = "n1", "node-uid"
			tok, jti, err := s.IssueBoundWithID(c)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(tok, ".")
			hdr := decodeSegment(t, parts[0])
			wantKid, _ := KeyID(tc.key.Public())
			if !reflect.DeepEqual(hdr, map[string]any{"alg": tc.alg, "kid": wantKid}) {
				t.Fatalf("header = %v", hdr)
			}
			payload := decodeSegment(t, parts[1])
			for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "kubernetes.io"} {
				if _, ok := payload[k]; !ok {
					t.Errorf("claim %s missing from %v", k, payload)
				}
			}
			if payload["sub"] != "system:serviceaccount:default:builder" || payload["iss"] != testIssuer || payload["jti"] != jti {
				t.Errorf("payload = %v", payload)
			}
			if _, ok := payload["aud"].([]any); !ok {
				t.Errorf("aud is not an array: %v", payload["aud"])
			}
			wantK8s := map[string]any{
				"namespace":      "default",
				"serviceaccount": map[string]any{"name": "builder", "uid": "sa-uid"},
				"pod":            map[string]any{"name": "web", "uid": "pod-uid"},
				"node":           map[string]any{"name": "n1", "uid": "node-uid"},
			}
			if !reflect.DeepEqual(payload["kubernetes.io"], wantK8s) {
				t.Errorf("kubernetes.io = %v", payload["kubernetes.io"])
			}

			u, ok, err := newSAAuth(t, clusterObjects(), tc.key.Public()).AuthenticateToken(context.Background(), tok)
			if err != nil || !ok {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			want := User{
				Name:   "system:serviceaccount:default:builder",
				UID:    "sa-uid",
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:default"},
				Extra: map[string][]string{
					PodNameKey:      {"web"},
					PodUIDKey:       {"pod-uid"},
					NodeNameKey:     {"n1"},
					NodeUIDKey:      {"node-uid"},
					CredentialIDKey: {"JTI=" + jti},
				},
			}
			if !reflect.DeepEqual(u, want) {
				t.Fatalf("user = %#v\nwant %#v", u, want)
			}
		})
	}
}

func TestKeyIDKnownAnswer(t *testing.T) {
	// Public key and kid computed independently with:
	//   openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64url (no padding)
	const pemData = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEb54MEcU8+W1LDIrRtXrdrGtwcl76
8a2dqssRdG5XGYb0leNpdSnql59VQyEKCioN1E5qn5OGJpMXy9iQnSwGEA==
-----END PUBLIC KEY-----
`
	keys, err := ParsePublicKeysPEM([]byte(pemData))
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys=%v err=%v", keys, err)
	}
	kid, err := KeyID(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := "YEvzVNhWAFnojoYW6-2WlO3q-TGf0h8uGtDA5-OBIBE"; kid != want {
		t.Fatalf("kid = %s, want %s", kid, want)
	}
}

func TestServiceAccountTokenValidation(t *testing.T) {
	testKeys(t)
	signer := mustSigner(t, p256Key, testIssuer)
	otherSigner := mustSigner(t, p384Key, testIssuer)
	foreignSigner := mustSigner(t, p256Key, "https://someone-else")
	oldIssuerSigner := mustSigner(t, rsaKey, "https://old-issuer")

	issue := func(s *Signer, mutate func(*BoundClaims)) func(t *testing.T) string {
		return func(t *testing.T) string {
			c := baseClaims()
			if mutate != nil {
				mutate(&c)
			}
			tok, err := s.IssueBound(c)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	literal := func(s string) func(*testing.T) string { return func(*testing.T) string { return s } }

	tests := []struct {
		name     string
		token    func(t *testing.T) string
		objs     func(o *fakeObjects)
		ctx      func(context.Context) context.Context
		wantOK   bool
		wantErr  string
		wantName string
	}{
		{name: "valid", token: issue(signer, nil), wantOK: true},
		{name: "second issuer and key", token: issue(oldIssuerSigner, nil), wantOK: true},
		{name: "wrong audience", token: issue(signer, func(c *BoundClaims) { c.Audiences = []string{"vault"} }), wantErr: "audiences"},
		{name: "audience from context", token: issue(signer, func(c *BoundClaims) { c.Audiences = []string{"vault"} }),
			ctx: func(ctx context.Context) context.Context { return WithAudiences(ctx, []string{"vault"}) }, wantOK: true},
		{name: "expired", token: issue(signer, func(c *BoundClaims) { c.Expiry = time.Now().Add(-2 * time.Minute) }), wantErr: "expired"},
		{name: "expired within leeway", token: issue(signer, func(c *BoundClaims) { c.Expiry = time.Now().Add(-30 * time.Second) }), wantOK: true},
		{name: "SA deleted", token: issue(signer, nil), objs: func(o *fakeObjects) { o.del("sa", "default", "builder") }, wantErr: "not found"},
		{name: "SA being deleted long ago", token: issue(signer, nil), objs: func(o *fakeObjects) {
			o.put(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "builder", UID: "sa-uid",
				DeletionTimestamp: &metav1.Time{Time: time.Now().Add(-5 * time.Minute)}}})
		}, wantErr: "has been deleted"},
		{name: "SA recreated", token: issue(signer, nil), objs: func(o *fakeObjects) {
			o.put(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "builder", UID: "new-uid"}})
		}, wantErr: "does not match"},
		{name: "pod-bound", token: issue(signer, func(c *BoundClaims) { c.PodName, c.PodUID = "web", "pod-uid" }), wantOK: true},
		{name: "pod deleted", token: issue(signer, func(c *BoundClaims) { c.PodName, c.PodUID = "web", "pod-uid" }),
			objs: func(o *fakeObjects) { o.del("pod", "default", "web") }, wantErr: "invalidated"},
		{name: "pod terminating gracefully", token: issue(signer, func(c *BoundClaims) { c.PodName, c.PodUID = "web", "pod-uid" }),
			objs: func(o *fakeObjects) {
				o.put(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "pod-uid",
					DeletionTimestamp: &metav1.Time{Time: time.Now().Add(-10 * time.Second)}}})
			}, wantOK: true},
		{name: "pod recreated", token: issue(signer, func(c *BoundClaims) { c.PodName, c.PodUID = "web", "pod-uid" }),
			objs: func(o *fakeObjects) {
				o.put(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "pod-2"}})
			}, wantErr: "does not match"},
		{name: "secret-bound deleted", token: issue(signer, func(c *BoundClaims) { c.SecretName, c.SecretUID = "bound", "secret-uid" }),
			objs: func(o *fakeObjects) { o.del("secret", "default", "bound") }, wantErr: "invalidated"},
		{name: "secret-bound", token: issue(signer, func(c *BoundClaims) { c.SecretName, c.SecretUID = "bound", "secret-uid" }), wantOK: true},
		{name: "node-bound", token: issue(signer, func(c *BoundClaims) { c.NodeName, c.NodeUID = "n1", "node-uid" }), wantOK: true},
		{name: "node-bound node deleted", token: issue(signer, func(c *BoundClaims) { c.NodeName, c.NodeUID = "n1", "node-uid" }),
			objs: func(o *fakeObjects) { o.del("node", "", "n1") }, wantErr: "invalidated"},
		{name: "bad signature for our issuer", token: issue(otherSigner, nil), wantErr: "signature"},
		{name: "tampered payload", token: func(t *testing.T) string {
			tok := issue(signer, nil)(t)
			parts := strings.Split(tok, ".")
			p := decodeSegment(t, parts[1])
			p["sub"] = "system:serviceaccount:kube-system:admin"
			b, _ := json.Marshal(p)
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
		}, wantErr: "signature"},
		{name: "foreign issuer is not ours", token: issue(foreignSigner, nil)},
		{name: "not a JWT", token: literal("abcdef.0123456789abcdef")},
		{name: "garbage", token: literal("not-a-token")},
		{name: "HS256 with our issuer", token: func(t *testing.T) string {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.Signed(s).Claims(jwt.Claims{Issuer: testIssuer}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, wantErr: "algorithm"},
		{name: "unsigned with our issuer", token: func(t *testing.T) string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
			p := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"` + testIssuer + `"}`))
			return h + "." + p + "."
		}, wantErr: "service account token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := clusterObjects()
			if tt.objs != nil {
				tt.objs(objs)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			a := newSAAuth(t, objs, rsaKey.Public(), p256Key.Public())
			u, ok, err := a.AuthenticateToken(ctx, tt.token(t))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v", ok)
			}
			if ok && u.Name != "system:serviceaccount:default:builder" {
				t.Fatalf("user = %+v", u)
			}
		})
	}
}

func TestServiceAccountTokenNoLookup(t *testing.T) {
	testKeys(t)
	s := mustSigner(t, p256Key, testIssuer)
	tok, err := s.IssueBound(baseClaims())
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewServiceAccountTokens(ServiceAccountConfig{PublicKeys: []crypto.PublicKey{p256Key.Public()}, Issuers: []string{testIssuer}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.AuthenticateToken(context.Background(), tok); !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if _, err := NewServiceAccountTokens(ServiceAccountConfig{PublicKeys: []crypto.PublicKey{p256Key.Public()}, Issuers: []string{testIssuer}, Lookup: true}); err == nil {
		t.Fatal("lookup without getter accepted")
	}
}

func TestLegacyToken(t *testing.T) {
	testKeys(t)
	s := mustSigner(t, rsaKey, testIssuer)
	tok, err := s.IssueLegacy("default", "builder", "sa-uid", "builder-token-abcde")
	if err != nil {
		t.Fatal(err)
	}
	payload := decodeSegment(t, strings.Split(tok, ".")[1])
	want := map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:default:builder",
		"kubernetes.io/serviceaccount/namespace": "default",
		"kubernetes.io/serviceaccount/secret.name":          "builder-token-abcde",
		"kubernetes.io/serviceaccount/service-account.name": "builder",
		"kubernetes.io/serviceaccount/service-account.uid":  "sa-uid",
	}
	if !reflect.DeepEqual(payload, want) {
		t.Fatalf("payload = %v", payload)
	}
	tokenSecret := func(mutate func(*corev1.Secret)) *corev1.Secret {
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "builder-token-abcde", UID: "s-uid",
				Annotations: map[string]string{corev1.ServiceAccountNameKey: "builder", corev1.ServiceAccountUIDKey: "sa-uid"}},
			Type: corev1.SecretTypeServiceAccountToken,
			Data: map[string][]byte{corev1.ServiceAccountTokenKey: []byte(tok)},
		}
		if mutate != nil {
			mutate(sec)
		}
		return sec
	}
	tests := []struct {
		name    string
		objs    func(o *fakeObjects)
		wantErr string
	}{
		{name: "valid", objs: func(o *fakeObjects) { o.put(tokenSecret(nil)) }},
		{name: "secret deleted", wantErr: "invalidated"},
		{name: "secret being deleted", objs: func(o *fakeObjects) {
			o.put(tokenSecret(func(s *corev1.Secret) { s.DeletionTimestamp = &metav1.Time{Time: time.Now()} }))
		}, wantErr: "invalidated"},
		{name: "token rotated", objs: func(o *fakeObjects) {
			o.put(tokenSecret(func(s *corev1.Secret) { s.Data[corev1.ServiceAccountTokenKey] = []byte("other") }))
		}, wantErr: "does not match"},
		{name: "secret for another SA", objs: func(o *fakeObjects) {
			o.put(tokenSecret(func(s *corev1.Secret) { s.Annotations[corev1.ServiceAccountNameKey] = "other" }))
		}, wantErr: "not for service account"},
		{name: "SA recreated", objs: func(o *fakeObjects) {
			o.put(tokenSecret(nil))
			o.put(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "builder", UID: "new-uid"}})
		}, wantErr: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := clusterObjects()
			if tt.objs != nil {
				tt.objs(objs)
			}
			u, ok, err := newSAAuth(t, objs, rsaKey.Public()).AuthenticateToken(context.Background(), tok)
			if tt.wantErr != "" {
				if err == nil || ok || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ok=%v err=%v, want %q", ok, err, tt.wantErr)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			want := User{Name: "system:serviceaccount:default:builder", UID: "sa-uid",
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:default"}}
			if !reflect.DeepEqual(u, want) {
				t.Fatalf("user = %#v", u)
			}
		})
	}
}

func TestKidSelectsKey(t *testing.T) {
	testKeys(t)
	s := mustSigner(t, p384Key, testIssuer)
	tok, err := s.IssueBound(baseClaims())
	if err != nil {
		t.Fatal(err)
	}
	// The matching key is last; it must still verify (and be tried first).
	a := newSAAuth(t, clusterObjects(), rsaKey.Public(), p256Key.Public(), p384Key.Public())
	if _, ok, err := a.AuthenticateToken(context.Background(), tok); !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if s.KeyID() == "" || s.Issuer() != testIssuer || s.Algorithm() != "ES384" || s.PublicKey() == nil {
		t.Fatal("signer accessors")
	}
}

func TestIssueBoundRejects(t *testing.T) {
	testKeys(t)
	s := mustSigner(t, p256Key, testIssuer)
	for name, mutate := range map[string]func(*BoundClaims){
		"no audience":      func(c *BoundClaims) { c.Audiences = nil },
		"no expiry":        func(c *BoundClaims) { c.ExpirationSeconds = 0 },
		"no uid":           func(c *BoundClaims) { c.ServiceAccountUID = "" },
		"secret and pod":   func(c *BoundClaims) { c.SecretName, c.PodName = "s", "p" },
		"secret and node":  func(c *BoundClaims) { c.SecretName, c.NodeName = "s", "n" },
		"missing sa name":  func(c *BoundClaims) { c.ServiceAccountName = "" },
		"missing namespac": func(c *BoundClaims) { c.Namespace = "" },
	} {
		c := baseClaims()
		mutate(&c)
		if _, err := s.IssueBound(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewSigner(p256Key, ""); err == nil {
		t.Error("empty issuer accepted")
	}
}

func TestTokenReviewStatus(t *testing.T) {
	testKeys(t)
	s := mustSigner(t, p256Key, testIssuer)
	c := baseClaims()
	c.Audiences = []string{"vault"}
	tok, err := s.IssueBound(c)
	if err != nil {
		t.Fatal(err)
	}
	a := newSAAuth(t, clusterObjects(), p256Key.Public())
	st := TokenReviewStatus(context.Background(), a, authenticationv1.TokenReviewSpec{Token: tok, Audiences: []string{"vault"}}, []string{testIssuer})
	if !st.Authenticated || st.Error != "" || st.User.Username != "system:serviceaccount:default:builder" ||
		!reflect.DeepEqual(st.User.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:default", AllAuthenticated}) ||
		!reflect.DeepEqual(st.Audiences, []string{"vault"}) || len(st.User.Extra[CredentialIDKey]) != 1 {
		t.Fatalf("status = %+v", st)
	}
	st = TokenReviewStatus(context.Background(), a, authenticationv1.TokenReviewSpec{Token: tok}, []string{testIssuer})
	if st.Authenticated || st.Error == "" {
		t.Fatalf("wrong-audience status = %+v", st)
	}
	st = TokenReviewStatus(context.Background(), a, authenticationv1.TokenReviewSpec{}, nil)
	if st.Authenticated || st.Error == "" {
		t.Fatalf("empty token status = %+v", st)
	}
}
