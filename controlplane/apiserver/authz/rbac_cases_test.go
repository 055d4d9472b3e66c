package authz_test

import (
	"context"
	"strings"
	"testing"

	"kforge.dev/kforge/controlplane/apiserver/authz"
	"kforge.dev/kforge/controlplane/apiserver/authz/authztest"
)

// TestRBACDocCases runs the cases written from kubernetes.io "Using RBAC Authorization" (see
// authztest.RBACDocCases, which cites the section of each group) against the RBAC authorizer
// loaded with the bootstrap policy and the documentation's example objects.
func TestRBACDocCases(t *testing.T) {
	cases, extra := authztest.RBACDocCases()
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	rbac := authz.NewRBAC(newLister(authz.BootstrapPolicy(), extra))
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			d, reason, err := rbac.Authorize(context.Background(), c.Attributes())
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if d == authz.Deny {
				t.Fatalf("RBAC returned Deny")
			}
			if got := d == authz.Allow; got != c.Want {
				t.Fatalf("[%s] %s: allowed=%v, want %v (reason %q)", c.Doc, authz.ForbiddenMessage(c.Attributes()), got, c.Want, reason)
			}
			if d == authz.Allow && !strings.HasPrefix(reason, "RBAC: allowed by ") {
				t.Errorf("reason %q", reason)
			}
		})
	}
}

// TestDocCasesThroughUnion runs the same cases through the authorizer chain kube-apiserver
// uses (privileged group, Node, RBAC): nothing may change for non-node users.
func TestDocCasesThroughUnion(t *testing.T) {
	cases, extra := authztest.RBACDocCases()
	chain := authz.NewUnion(authz.SuperUser, authz.NewNode(&fakeGraph{}), authz.NewRBAC(newLister(authz.BootstrapPolicy(), extra)))
	for _, c := range cases {
		d, _, err := chain.Authorize(context.Background(), c.Attributes())
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if (d == authz.Allow) != c.Want {
			t.Errorf("%s: decision %v, want allowed=%v", c.Name, d, c.Want)
		}
	}
}
