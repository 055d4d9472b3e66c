package authz_test

import (
	"context"
	"errors"
	"testing"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

func fixed(d authz.Decision, reason string, err error) authz.Authorizer {
	return authz.AuthorizerFunc(func(context.Context, authz.Attributes) (authz.Decision, string, error) {
		return d, reason, err
	})
}

func TestUnion(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name       string
		chain      []authz.Authorizer
		wantD      authz.Decision
		wantReason string
		wantErr    bool
	}{
		{"empty", nil, authz.NoOpinion, "", false},
		{"first allow wins", []authz.Authorizer{fixed(authz.NoOpinion, "a", nil), fixed(authz.Allow, "b", nil), fixed(authz.Deny, "c", nil)}, authz.Allow, "b", false},
		{"deny stops", []authz.Authorizer{fixed(authz.Deny, "no", nil), fixed(authz.Allow, "yes", nil)}, authz.Deny, "no", false},
		{"error does not stop", []authz.Authorizer{fixed(authz.NoOpinion, "", boom), fixed(authz.Allow, "ok", nil)}, authz.Allow, "ok", false},
		{"reasons joined", []authz.Authorizer{fixed(authz.NoOpinion, "a", nil), fixed(authz.NoOpinion, "", nil), fixed(authz.NoOpinion, "b", boom)}, authz.NoOpinion, "a\nb", true},
	}
	for _, c := range cases {
		d, reason, err := authz.NewUnion(c.chain...).Authorize(context.Background(), authz.Attributes{})
		if d != c.wantD || reason != c.wantReason || (err != nil) != c.wantErr {
			t.Errorf("%s: got (%v, %q, %v)", c.name, d, reason, err)
		}
	}
}

func TestFixedAuthorizers(t *testing.T) {
	ctx := context.Background()
	master := authz.Attributes{User: authn.User{Name: "x", Groups: []string{authn.SystemMasters}}, Verb: "delete", ResourceRequest: true, Resource: "nodes"}
	other := authz.Attributes{User: authn.User{Name: "x", Groups: []string{authn.AllAuthenticated}}, Verb: "get", Path: "/"}
	if d, _, _ := authz.SuperUser.Authorize(ctx, master); d != authz.Allow {
		t.Error("system:masters not allowed")
	}
	if d, _, _ := authz.SuperUser.Authorize(ctx, other); d != authz.NoOpinion {
		t.Error("non-master allowed")
	}
	if d, _, _ := authz.AlwaysAllow.Authorize(ctx, other); d != authz.Allow {
		t.Error("AlwaysAllow")
	}
	if d, reason, _ := authz.AlwaysDeny.Authorize(ctx, master); d != authz.NoOpinion || reason != "Everything is forbidden." {
		t.Error("AlwaysDeny")
	}
}
