package authn

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestRequestHeader(t *testing.T) {
	proxyCA := newTestCA(t, "front-proxy-ca")
	clusterCA := newTestCA(t, "kubernetes")
	proxy, _ := proxyCA.issue(t, certOpts{cn: "front-proxy-client"})
	otherProxy, _ := proxyCA.issue(t, certOpts{cn: "someone-else"})
	clusterClient, _ := clusterCA.issue(t, certOpts{cn: "front-proxy-client"})

	cfg := RequestHeaderConfig{
		ClientCA:            proxyCA.pool,
		AllowedNames:        []string{"front-proxy-client"},
		UsernameHeaders:     []string{"X-Remote-User", "X-Other-User"},
		UIDHeaders:          []string{"X-Remote-Uid"},
		GroupHeaders:        []string{"X-Remote-Group"},
		ExtraHeaderPrefixes: []string{"X-Remote-Extra-"},
	}
	setHeaders := func(r *http.Request) {
		r.Header.Add("X-Remote-User", "")
		r.Header.Add("X-Other-User", "jane")
		r.Header.Add("X-Remote-Uid", "uid-1")
		r.Header.Add("X-Remote-Group", "g1")
		r.Header.Add("X-Remote-Group", "g2")
		r.Header.Add("X-Remote-Extra-Scopes", "openid")
		r.Header.Add("X-Remote-Extra-Scopes", "profile")
		r.Header.Add("X-Remote-Extra-Example.com%2fkey", "v")
		r.Header.Add("X-Remote-Extra-Bad%zz", "w")
		r.Header.Add("Authorization", "Bearer keep-me")
	}

	tests := []struct {
		name     string
		cfg      func(RequestHeaderConfig) RequestHeaderConfig
		req      func() *http.Request
		wantOK   bool
		wantErr  string
		wantUser User
	}{
		{
			name:   "allowed name",
			req:    func() *http.Request { r := tlsRequest(proxy); setHeaders(r); return r },
			wantOK: true,
			wantUser: User{Name: "jane", UID: "uid-1", Groups: []string{"g1", "g2"}, Extra: map[string][]string{
				"scopes":          {"openid", "profile"},
				"example.com/key": {"v"},
				"bad%zz":          {"w"},
			}},
		},
		{
			name:    "disallowed name",
			req:     func() *http.Request { r := tlsRequest(otherProxy); setHeaders(r); return r },
			wantErr: "not in the allowed list",
		},
		{
			name:   "any name when allowed names empty",
			cfg:    func(c RequestHeaderConfig) RequestHeaderConfig { c.AllowedNames = nil; return c },
			req:    func() *http.Request { r := tlsRequest(otherProxy); r.Header.Set("X-Remote-User", "x"); return r },
			wantOK: true, wantUser: User{Name: "x"},
		},
		{
			name:    "wrong CA",
			req:     func() *http.Request { r := tlsRequest(clusterClient); setHeaders(r); return r },
			wantErr: "unknown authority",
		},
		{
			name: "no cert",
			req:  func() *http.Request { r := tlsRequest(); setHeaders(r); return r },
		},
		{
			name: "no username header",
			req:  func() *http.Request { r := tlsRequest(proxy); r.Header.Set("X-Remote-Group", "g"); return r },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			if tt.cfg != nil {
				c = tt.cfg(c)
			}
			a := NewRequestHeader(c)
			r := tt.req()
			u, ok, err := a.Authenticate(r)
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
			if ok && !reflect.DeepEqual(u, tt.wantUser) {
				t.Fatalf("user = %#v\nwant %#v", u, tt.wantUser)
			}
			// Identity headers are gone whatever the outcome; others stay.
			for name := range r.Header {
				if ln := strings.ToLower(name); strings.HasPrefix(ln, "x-remote-") || ln == "x-other-user" {
					t.Errorf("header %s not removed", name)
				}
			}
			if r.Header.Get("Authorization") == "" && slices.Contains([]string{"allowed name"}, tt.name) {
				t.Error("unrelated header removed")
			}
		})
	}
}
