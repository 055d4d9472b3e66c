package authn

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
)

func staticTokens(tokens map[string]User) TokenAuthenticator {
	return TokenAuthenticatorFunc(func(_ context.Context, tok string) (User, bool, error) {
		u, ok := tokens[tok]
		return u, ok, nil
	})
}

func TestChain(t *testing.T) {
	tokens := staticTokens(map[string]User{"good": {Name: "alice", Groups: []string{"devs"}}})
	failing := AuthenticatorFunc(func(*http.Request) (User, bool, error) {
		return User{}, false, errors.New("bad cert")
	})
	succeeding := AuthenticatorFunc(func(*http.Request) (User, bool, error) {
		return User{Name: "bob", Groups: []string{AllAuthenticated}}, true, nil
	})
	tests := []struct {
		name       string
		anon       bool
		auths      []Authenticator
		header     string
		wantOK     bool
		wantErr    bool
		wantUser   string
		wantGroups []string
	}{
		{name: "anonymous allowed", anon: true, auths: []Authenticator{NewBearer(tokens)}, wantOK: true, wantUser: Anonymous, wantGroups: []string{AllUnauthenticated}},
		{name: "anonymous disallowed", auths: []Authenticator{NewBearer(tokens)}},
		{name: "bad token with anonymous", anon: true, auths: []Authenticator{NewBearer(tokens)}, header: "Bearer nope", wantErr: true},
		{name: "good token", anon: true, auths: []Authenticator{NewBearer(tokens)}, header: "Bearer good", wantOK: true, wantUser: "alice", wantGroups: []string{"devs", AllAuthenticated}},
		{name: "error then success", auths: []Authenticator{failing, NewBearer(tokens)}, header: "bearer good", wantOK: true, wantUser: "alice", wantGroups: []string{"devs", AllAuthenticated}},
		{name: "error only, anonymous not used", anon: true, auths: []Authenticator{failing, NewBearer(tokens)}, wantErr: true},
		{name: "group not duplicated", auths: []Authenticator{succeeding}, wantOK: true, wantUser: "bob", wantGroups: []string{AllAuthenticated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tlsRequest()
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			u, ok, err := NewChain(ChainOptions{AllowAnonymous: tt.anon}, tt.auths...).Authenticate(r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v", ok)
			}
			if ok && (u.Name != tt.wantUser || !slices.Equal(u.Groups, tt.wantGroups)) {
				t.Fatalf("user = %+v", u)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	b := NewBearer(staticTokens(map[string]User{"tok": {Name: "alice"}}))
	tests := []struct {
		name       string
		header     []string
		wantOK     bool
		wantErr    bool
		keepHeader bool
	}{
		{name: "no header", keepHeader: true},
		{name: "basic scheme", header: []string{"Basic YTpi"}, keepHeader: true},
		{name: "bearer", header: []string{"Bearer tok"}, wantOK: true},
		{name: "case-insensitive", header: []string{"BEARER tok"}, wantOK: true},
		{name: "empty token", header: []string{"Bearer "}, wantErr: true, keepHeader: true},
		{name: "scheme only", header: []string{"Bearer"}, wantErr: true, keepHeader: true},
		{name: "unknown token", header: []string{"Bearer other"}, wantErr: true, keepHeader: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tlsRequest()
			for _, h := range tt.header {
				r.Header.Add("Authorization", h)
			}
			_, ok, err := b.Authenticate(r)
			if (err != nil) != tt.wantErr || ok != tt.wantOK {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			if tt.wantErr && !IsInvalidBearerToken(err) {
				t.Fatalf("err %v is not ErrInvalidBearerToken", err)
			}
			if got := r.Header.Get("Authorization") != ""; got != (tt.keepHeader && len(tt.header) > 0) {
				t.Fatalf("authorization header present = %v", got)
			}
		})
	}
	// access_token query parameter is not supported.
	r := tlsRequest()
	r.URL.RawQuery = "access_token=tok"
	if _, ok, err := b.Authenticate(r); ok || err != nil {
		t.Fatalf("access_token: ok=%v err=%v", ok, err)
	}
}
