package authn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func bootstrapSecret(id, secret string, mutate func(*corev1.Secret)) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: TokenSecretName(id)},
		Type:       SecretTypeBootstrapToken,
		Data: map[string][]byte{
			BootstrapTokenIDKey:               []byte(id),
			BootstrapTokenSecretKey:           []byte(secret),
			BootstrapTokenExpirationKey:       []byte(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)),
			BootstrapTokenUsageAuthentication: []byte("true"),
		},
	}
	if mutate != nil {
		mutate(s)
	}
	return s
}

func TestBootstrapToken(t *testing.T) {
	const id, sec = "abcdef", "0123456789abcdef"
	token := id + "." + sec
	tests := []struct {
		name       string
		secret     *corev1.Secret
		token      string
		wantOK     bool
		wantErr    string
		wantGroups []string
	}{
		{name: "valid", secret: bootstrapSecret(id, sec, nil), token: token, wantOK: true, wantGroups: []string{BootstrappersGroup}},
		{name: "wrong secret", secret: bootstrapSecret(id, sec, nil), token: id + ".0123456789abcdee", wantErr: "does not match"},
		{name: "expired", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) {
			s.Data[BootstrapTokenExpirationKey] = []byte(time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
		}), token: token, wantErr: "expired"},
		{name: "unparseable expiration", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) {
			s.Data[BootstrapTokenExpirationKey] = []byte("tomorrow")
		}), token: token, wantErr: "unparseable"},
		{name: "no expiration", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) {
			delete(s.Data, BootstrapTokenExpirationKey)
		}), token: token, wantOK: true, wantGroups: []string{BootstrappersGroup}},
		{name: "missing usage", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) {
			delete(s.Data, BootstrapTokenUsageAuthentication)
		}), token: token, wantErr: "usage-bootstrap-authentication"},
		{name: "deleted secret", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) {
			s.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		}), token: token, wantErr: "deleted"},
		{name: "wrong type", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque }), token: token, wantErr: "type"},
		{name: "mismatched token-id", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) { s.Data[BootstrapTokenIDKey] = []byte("zzzzzz") }), token: token, wantErr: "token-id"},
		{name: "no secret", token: token, wantErr: "no secret"},
		{name: "extra groups", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) {
			s.Data[BootstrapTokenExtraGroupsKey] = []byte("system:bootstrappers:kubeadm:default-node-token,system:bootstrappers:worker")
		}), token: token, wantOK: true, wantGroups: []string{BootstrappersGroup, "system:bootstrappers:kubeadm:default-node-token", "system:bootstrappers:worker"}},
		{name: "bad extra group", secret: bootstrapSecret(id, sec, func(s *corev1.Secret) {
			s.Data[BootstrapTokenExtraGroupsKey] = []byte("system:masters")
		}), token: token, wantErr: "does not match"},
		{name: "malformed", secret: bootstrapSecret(id, sec, nil), token: "ABCDEF.0123456789abcdef"},
		{name: "jwt is not ours", secret: bootstrapSecret(id, sec, nil), token: "eyJ.eyJ.sig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := newFakeObjects()
			if tt.secret != nil {
				objs.put(tt.secret)
			}
			u, ok, err := NewBootstrapToken(objs).AuthenticateToken(context.Background(), tt.token)
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
			if ok && (u.Name != "system:bootstrap:"+id || !slices.Equal(u.Groups, tt.wantGroups)) {
				t.Fatalf("user = %+v", u)
			}
		})
	}
}

func TestBootstrapTokenThroughBearerIs401(t *testing.T) {
	objs := newFakeObjects()
	objs.put(bootstrapSecret("abcdef", "0123456789abcdef", func(s *corev1.Secret) {
		s.Data[BootstrapTokenExpirationKey] = []byte("2000-01-01T00:00:00Z")
	}))
	a := NewChain(ChainOptions{AllowAnonymous: true}, NewBearer(NewBootstrapToken(objs)))
	r := tlsRequest()
	r.Header.Set("Authorization", "Bearer abcdef.0123456789abcdef")
	if _, ok, err := a.Authenticate(r); ok || !errors.Is(err, ErrInvalidBearerToken) {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
}

func TestParseAndGenerateToken(t *testing.T) {
	for _, tt := range []struct {
		in      string
		id, sec string
		ok      bool
	}{
		{"abcdef.0123456789abcdef", "abcdef", "0123456789abcdef", true},
		{"abcdef.0123456789abcdeF", "", "", false},
		{"abcde.0123456789abcdef", "", "", false},
		{"abcdef.0123456789abcdef\n", "", "", false},
		{"abcdef:0123456789abcdef", "", "", false},
		{"", "", "", false},
	} {
		id, sec, err := ParseToken(tt.in)
		if (err == nil) != tt.ok || id != tt.id || sec != tt.sec {
			t.Errorf("ParseToken(%q) = %q, %q, %v", tt.in, id, sec, err)
		}
	}
	seen := map[string]bool{}
	for range 100 {
		tok, err := GenerateToken()
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := ParseToken(tok)
		if err != nil {
			t.Fatalf("generated %q: %v", tok, err)
		}
		if TokenSecretName(id) != "bootstrap-token-"+id {
			t.Fatal(TokenSecretName(id))
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
}
