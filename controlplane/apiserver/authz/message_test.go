package authz_test

import (
	"testing"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

func TestForbiddenMessage(t *testing.T) {
	jane := authn.User{Name: "jane"}
	cases := []struct {
		a       authz.Attributes
		reason  string
		msg     string
		wantErr string
	}{
		{
			authz.Attributes{User: jane, Verb: "list", ResourceRequest: true, Resource: "pods", Namespace: "default"}, "",
			`User "jane" cannot list resource "pods" in API group "" in the namespace "default"`,
			`pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"`,
		},
		{
			authz.Attributes{User: jane, Verb: "get", ResourceRequest: true, APIGroup: "apps", Resource: "deployments", Subresource: "scale", Namespace: "team", Name: "web"}, "",
			`User "jane" cannot get resource "deployments/scale" in API group "apps" in the namespace "team"`,
			`deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments/scale" in API group "apps" in the namespace "team"`,
		},
		{
			authz.Attributes{User: jane, Verb: "create", ResourceRequest: true, Resource: "namespaces"}, "",
			`User "jane" cannot create resource "namespaces" in API group "" at the cluster scope`,
			`namespaces is forbidden: User "jane" cannot create resource "namespaces" in API group "" at the cluster scope`,
		},
		{
			authz.Attributes{User: authn.User{Name: "system:anonymous"}, Verb: "get", Path: "/api"}, "",
			`User "system:anonymous" cannot get path "/api"`,
			`forbidden: User "system:anonymous" cannot get path "/api"`,
		},
		{
			authz.Attributes{User: jane, Verb: "get", ResourceRequest: true, Resource: "secrets", Namespace: "a", Name: "s"}, `RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`,
			`User "jane" cannot get resource "secrets" in API group "" in the namespace "a"`,
			`secrets "s" is forbidden: User "jane" cannot get resource "secrets" in API group "" in the namespace "a": RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`,
		},
	}
	for _, c := range cases {
		if got := authz.ForbiddenMessage(c.a); got != c.msg {
			t.Errorf("message\n got %s\nwant %s", got, c.msg)
		}
		err := authz.ForbiddenError(c.a, c.reason)
		if err.Error() != c.wantErr {
			t.Errorf("error\n got %s\nwant %s", err.Error(), c.wantErr)
		}
		if err.ErrStatus.Code != 403 || err.ErrStatus.Reason != "Forbidden" {
			t.Errorf("status %+v", err.ErrStatus)
		}
	}
}
