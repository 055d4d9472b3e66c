package authz_test

import (
	"context"
	"errors"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

func TestRuleAllows(t *testing.T) {
	resAttrs := func(verb, group, resource, sub, name string) authz.Attributes {
		return authz.Attributes{Verb: verb, ResourceRequest: true, APIGroup: group, Resource: resource, Subresource: sub, Name: name}
	}
	urlAttrs := func(verb, path string) authz.Attributes { return authz.Attributes{Verb: verb, Path: path} }
	rule := func(verbs, groups, resources, names []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
	}
	urls := func(verbs []string, u ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, NonResourceURLs: u}
	}
	s := func(v ...string) []string { return v }
	cases := []struct {
		name string
		rule rbacv1.PolicyRule
		a    authz.Attributes
		want bool
	}{
		{"exact", rule(s("get"), s(""), s("pods"), nil), resAttrs("get", "", "pods", "", "p"), true},
		{"verb mismatch", rule(s("get"), s(""), s("pods"), nil), resAttrs("list", "", "pods", "", ""), false},
		{"verb star", rule(s("*"), s(""), s("pods"), nil), resAttrs("escalate", "", "pods", "", ""), true},
		{"group mismatch", rule(s("get"), s("apps"), s("pods"), nil), resAttrs("get", "", "pods", "", ""), false},
		{"group star", rule(s("get"), s("*"), s("deployments"), nil), resAttrs("get", "apps", "deployments", "", ""), true},
		{"resource star", rule(s("get"), s(""), s("*"), nil), resAttrs("get", "", "pods", "log", ""), true},
		{"resource does not cover subresource", rule(s("get"), s(""), s("pods"), nil), resAttrs("get", "", "pods", "log", ""), false},
		{"subresource exact", rule(s("get"), s(""), s("pods/log"), nil), resAttrs("get", "", "pods", "log", ""), true},
		{"subresource does not cover resource", rule(s("get"), s(""), s("pods/log"), nil), resAttrs("get", "", "pods", "", ""), false},
		{"star subresource", rule(s("get"), s("*"), s("*/scale"), nil), resAttrs("get", "apps", "statefulsets", "scale", ""), true},
		{"star subresource needs a subresource", rule(s("get"), s("*"), s("*/scale"), nil), resAttrs("get", "apps", "scale", "", ""), false},
		{"star subresource other sub", rule(s("get"), s("*"), s("*/scale"), nil), resAttrs("get", "apps", "deployments", "status", ""), false},
		{"star subresource suffix only", rule(s("get"), s("*"), s("*/scale"), nil), resAttrs("get", "apps", "deployments", "rescale", ""), false},
		{"no resource/* wildcard", rule(s("get"), s(""), s("pods/*"), nil), resAttrs("get", "", "pods", "exec", ""), false},
		{"resourceName match", rule(s("get"), s(""), s("pods"), s("a", "b")), resAttrs("get", "", "pods", "", "b"), true},
		{"resourceName mismatch", rule(s("get"), s(""), s("pods"), s("a")), resAttrs("get", "", "pods", "", "c"), false},
		{"resourceNames never match unnamed", rule(s("list"), s(""), s("pods"), s("a")), resAttrs("list", "", "pods", "", ""), false},
		{"resource rule never matches a path", rule(s("*"), s("*"), s("*"), nil), urlAttrs("get", "/healthz"), false},
		{"url exact", urls(s("get"), "/healthz"), urlAttrs("get", "/healthz"), true},
		{"url exact only", urls(s("get"), "/healthz"), urlAttrs("get", "/healthz/etcd"), false},
		{"url prefix", urls(s("get"), "/healthz/*"), urlAttrs("get", "/healthz/etcd"), true},
		{"url prefix excludes base", urls(s("get"), "/healthz/*"), urlAttrs("get", "/healthz"), false},
		{"url prefix without slash", urls(s("get"), "/api*"), urlAttrs("get", "/apis/apps"), true},
		{"url star", urls(s("*"), "*"), urlAttrs("delete", "/anything"), true},
		{"url verb mismatch", urls(s("get"), "/healthz"), urlAttrs("post", "/healthz"), false},
		{"url rule never matches resources", urls(s("*"), "*"), resAttrs("get", "", "pods", "", ""), false},
	}
	for _, c := range cases {
		if got := authz.RuleAllows(c.a, &c.rule); got != c.want {
			t.Errorf("%s: got %v want %v", c.name, got, c.want)
		}
	}
}

func TestRBACReasons(t *testing.T) {
	l := newLister(authz.Policy{
		ClusterRoles: []*rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}},
		Roles: []*rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "cm"},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}}}}},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Name: "dangling"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "missing"},
				Subjects: []rbacv1.Subject{{Kind: "Group", Name: "devs"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "x"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "reader"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "other"}, {Kind: "Group", Name: "devs"}}},
		},
		RoleBindings: []*rbacv1.RoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "sa-cm"}, RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "cm"},
				Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "app"}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "sa-reader"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "reader"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "jane"}}},
		},
	})
	rbac := authz.NewRBAC(l)
	ctx := context.Background()
	dev := authn.User{Name: "d", Groups: []string{"devs"}}
	sa := authn.User{Name: "system:serviceaccount:team:app"}

	check := func(a authz.Attributes, wantD authz.Decision, wantReason string) {
		t.Helper()
		d, reason, err := rbac.Authorize(ctx, a)
		if err != nil || d != wantD || reason != wantReason {
			t.Errorf("got (%v, %q, %v), want (%v, %q)", d, reason, err, wantD, wantReason)
		}
	}
	check(authz.Attributes{User: dev, Verb: "get", ResourceRequest: true, Resource: "pods", Namespace: "team"},
		authz.Allow, `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "reader" to Group "devs"`)
	check(authz.Attributes{User: sa, Verb: "get", ResourceRequest: true, Resource: "configmaps", Namespace: "team"},
		authz.Allow, `RBAC: allowed by RoleBinding "sa-cm/team" of Role "cm" to ServiceAccount "app/team"`)
	check(authz.Attributes{User: authn.User{Name: "jane"}, Verb: "get", ResourceRequest: true, Resource: "pods", Namespace: "team"},
		authz.Allow, `RBAC: allowed by RoleBinding "sa-reader/team" of ClusterRole "reader" to User "jane"`)
	// A dangling binding is explained, not an error; evaluation continues past it.
	check(authz.Attributes{User: dev, Verb: "list", ResourceRequest: true, Resource: "pods"},
		authz.NoOpinion, `RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found`)
	check(authz.Attributes{User: authn.User{Name: "nobody"}, Verb: "get", ResourceRequest: true, Resource: "pods", Namespace: "team"},
		authz.NoOpinion, "")

	res, nonRes, incomplete, err := rbac.RulesFor(ctx, dev, "team")
	if !incomplete || err == nil || len(res) != 1 || len(nonRes) != 0 {
		t.Errorf("RulesFor(dev) = %v %v %v %v", res, nonRes, incomplete, err)
	}
	res, _, incomplete, err = rbac.RulesFor(ctx, sa, "team")
	if incomplete || err != nil || len(res) != 1 || res[0].Resources[0] != "configmaps" {
		t.Errorf("RulesFor(sa) = %v %v %v", res, incomplete, err)
	}
}

func TestRulesForBootstrap(t *testing.T) {
	rbac := authz.NewRBAC(newLister(authz.BootstrapPolicy()))
	res, nonRes, incomplete, err := rbac.RulesFor(context.Background(), authn.User{Name: "jane", Groups: []string{authn.AllAuthenticated}}, "default")
	if err != nil || incomplete {
		t.Fatal(err)
	}
	if !authz.RulesAllow(authz.Attributes{Verb: "get", Path: "/api/v1"}, nonRes...) {
		t.Errorf("authenticated users should discover /api: %v", nonRes)
	}
	if !authz.RulesAllow(authz.Attributes{Verb: "create", ResourceRequest: true, APIGroup: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"}, res...) {
		t.Errorf("missing selfsubjectrulesreviews: %v", res)
	}
}

// TestAggregationAtEvaluation checks that a just-created aggregated ClusterRole (empty rules)
// and a newly labelled role take effect without the aggregation loop having run, including
// nested aggregation (admin <- edit <- view).
func TestAggregationAtEvaluation(t *testing.T) {
	sel := func(k string) *rbacv1.AggregationRule {
		return &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{k: "true"}}}}
	}
	l := newLister(authz.BootstrapPolicy(), authz.Policy{
		ClusterRoles: []*rbacv1.ClusterRole{
			{ObjectMeta: metav1.ObjectMeta{Name: "outer"}, AggregationRule: sel("outer")},
			{ObjectMeta: metav1.ObjectMeta{Name: "inner", Labels: map[string]string{"outer": "true"}}, AggregationRule: sel("inner")},
			{ObjectMeta: metav1.ObjectMeta{Name: "leaf", Labels: map[string]string{"inner": "true"}},
				Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{"example.com"}, Resources: []string{"widgets"}}}},
			// A selector cycle must not loop.
			{ObjectMeta: metav1.ObjectMeta{Name: "cyc-a", Labels: map[string]string{"b": "true"}}, AggregationRule: sel("a")},
			{ObjectMeta: metav1.ObjectMeta{Name: "cyc-b", Labels: map[string]string{"a": "true"}}, AggregationRule: sel("b")},
		},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Name: "outer"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "outer"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "u"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "cyc"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cyc-a"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "u"}}},
		},
		RoleBindings: []*rbacv1.RoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "admin"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "admin"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "boss"}}},
		},
	})
	rbac := authz.NewRBAC(l)
	ctx := context.Background()
	d, reason, _ := rbac.Authorize(ctx, authz.Attributes{User: authn.User{Name: "u"}, Verb: "get", ResourceRequest: true, APIGroup: "example.com", Resource: "widgets"})
	if d != authz.Allow || reason != `RBAC: allowed by ClusterRoleBinding "outer" of ClusterRole "outer" to User "u"` {
		t.Errorf("nested aggregation: %v %q", d, reason)
	}
	// admin's stored rules are empty in the bootstrap policy: view's rules reach it through edit.
	d, _, _ = rbac.Authorize(ctx, authz.Attributes{User: authn.User{Name: "boss"}, Verb: "list", ResourceRequest: true, APIGroup: "batch", Resource: "jobs", Namespace: "ns"})
	if d != authz.Allow {
		t.Errorf("admin should include view's rules")
	}

	// When ClusterRoles cannot be listed, stored rules are used and the error explained.
	l.listErr = errors.New("boom")
	d, reason, _ = rbac.Authorize(ctx, authz.Attributes{User: authn.User{Name: "u"}, Verb: "get", ResourceRequest: true, APIGroup: "example.com", Resource: "widgets"})
	if d != authz.NoOpinion || reason != `RBAC: [listing ClusterRoles to aggregate "outer": boom, listing ClusterRoles to aggregate "cyc-a": boom]` {
		t.Errorf("list error: %v %q", d, reason)
	}
}

func TestAggregateClusterRoles(t *testing.T) {
	p := authz.BootstrapPolicy()
	changed := authz.AggregateClusterRoles(p.ClusterRoles)
	byName := map[string]*rbacv1.ClusterRole{}
	for _, r := range changed {
		byName[r.Name] = r
	}
	if len(changed) != 3 || byName["admin"] == nil || byName["edit"] == nil || byName["view"] == nil {
		t.Fatalf("changed = %d roles: %v", len(changed), byName)
	}
	view, edit, admin := byName["view"], byName["edit"], byName["admin"]
	if !authz.RulesAllow(authz.Attributes{Verb: "list", ResourceRequest: true, Resource: "pods"}, view.Rules...) ||
		authz.RulesAllow(authz.Attributes{Verb: "get", ResourceRequest: true, Resource: "secrets"}, view.Rules...) {
		t.Errorf("view rules wrong")
	}
	for _, r := range view.Rules {
		if !authz.Covers(edit.Rules, r) || !authz.Covers(admin.Rules, r) {
			t.Errorf("view rule %v not in edit/admin", r)
		}
	}
	for _, r := range edit.Rules {
		if !authz.Covers(admin.Rules, r) {
			t.Errorf("edit rule %v not in admin", r)
		}
	}
	if authz.RulesAllow(authz.Attributes{Verb: "create", ResourceRequest: true, APIGroup: "rbac.authorization.k8s.io", Resource: "rolebindings"}, edit.Rules...) ||
		!authz.RulesAllow(authz.Attributes{Verb: "create", ResourceRequest: true, APIGroup: "rbac.authorization.k8s.io", Resource: "rolebindings"}, admin.Rules...) {
		t.Errorf("rolebindings: edit must not, admin must")
	}
	// The input is not modified, and a second pass over the written roles is a no-op.
	for _, r := range p.ClusterRoles {
		if r.Name == "admin" && len(r.Rules) != 0 {
			t.Errorf("input modified")
		}
	}
	updated := make([]*rbacv1.ClusterRole, 0, len(p.ClusterRoles))
	for _, r := range p.ClusterRoles {
		if c, ok := byName[r.Name]; ok {
			r = c
		}
		updated = append(updated, r)
	}
	if again := authz.AggregateClusterRoles(updated); len(again) != 0 {
		t.Errorf("second pass changed %d roles", len(again))
	}
	// Adding a labelled role changes exactly the roles aggregating it.
	updated = append(updated, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "crontab-view", Labels: map[string]string{authz.AggregateToViewLabel: "true"}},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{"stable.example.com"}, Resources: []string{"crontabs"}}},
	})
	if again := authz.AggregateClusterRoles(updated); len(again) != 3 {
		t.Errorf("after adding crontab-view: %d changed", len(again))
	}
}
