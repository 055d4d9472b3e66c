package authn

import (
	"crypto/x509"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestX509(t *testing.T) {
	ca := newTestCA(t, "kubernetes")
	other := newTestCA(t, "other")
	good, _ := ca.issue(t, certOpts{cn: "alice", orgs: []string{"system:masters", "devs"}})
	foreign, _ := other.issue(t, certOpts{cn: "mallory"})
	expired, _ := ca.issue(t, certOpts{cn: "old", notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	serverOnly, _ := ca.issue(t, certOpts{cn: "server", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	noCN, _ := ca.issue(t, certOpts{orgs: []string{"x"}})
	inter, interKey := ca.issue(t, certOpts{cn: "intermediate", isCA: true})
	interCA := &testCA{cert: inter, key: interKey}
	viaInter, _ := interCA.issue(t, certOpts{cn: "bob", orgs: []string{"system:nodes"}})

	a := NewX509(ca.pool)
	tests := []struct {
		name       string
		req        *http.Request
		wantOK     bool
		wantErr    string
		wantUser   string
		wantGroups []string
	}{
		{name: "good cert", req: tlsRequest(good), wantOK: true, wantUser: "alice", wantGroups: []string{"devs", "system:masters"}},
		{name: "via intermediate", req: tlsRequest(viaInter, inter), wantOK: true, wantUser: "bob", wantGroups: []string{"system:nodes"}},
		{name: "intermediate missing", req: tlsRequest(viaInter), wantErr: "unknown authority"},
		{name: "wrong CA", req: tlsRequest(foreign), wantErr: "unknown authority"},
		{name: "expired", req: tlsRequest(expired), wantErr: "expired"},
		{name: "server auth only", req: tlsRequest(serverOnly), wantErr: "usage"},
		{name: "empty CN", req: tlsRequest(noCN), wantErr: "empty common name"},
		{name: "no cert", req: tlsRequest()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok, err := a.Authenticate(tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if ok {
					t.Fatal("ok with error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if u.Name != tt.wantUser || !slices.Equal(u.Groups, tt.wantGroups) {
				t.Fatalf("user = %+v", u)
			}
			if id := u.Extra[CredentialIDKey]; len(id) != 1 || !strings.HasPrefix(id[0], "X509SHA256=") {
				t.Fatalf("credential id = %v", id)
			}
		})
	}
}
