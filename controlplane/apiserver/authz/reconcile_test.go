package authz_test

import (
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/authz"
)

func prule(verbs, groups, resources []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

func strs(s ...string) []string { return s }

func defaultMeta(name string, ann map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: map[string]string{authz.BootstrappingLabel: authz.BootstrappingValue}, Annotations: ann}
}

func TestReconcileClusterRole(t *testing.T) {
	auto := map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"}
	desired := &rbacv1.ClusterRole{ObjectMeta: defaultMeta("r", auto), Rules: []rbacv1.PolicyRule{
		prule(strs("get", "list"), strs(""), strs("pods")),
		prule(strs("create"), strs(""), strs("events")),
	}}
	sel := func(k string) metav1.LabelSelector {
		return metav1.LabelSelector{MatchLabels: map[string]string{k: "true"}}
	}

	cases := []struct {
		name        string
		existing    *rbacv1.ClusterRole
		desired     *rbacv1.ClusterRole
		wantChanged bool
		check       func(t *testing.T, got *rbacv1.ClusterRole)
	}{
		{"create", nil, desired, true, func(t *testing.T, got *rbacv1.ClusterRole) {
			if !reflect.DeepEqual(got, desired) || got == desired {
				t.Errorf("want a copy of desired")
			}
		}},
		{"up to date", desired.DeepCopy(), desired, false, nil},
		{"covered by wider existing rules", &rbacv1.ClusterRole{ObjectMeta: defaultMeta("r", auto), Rules: []rbacv1.PolicyRule{
			prule(strs("*"), strs(""), strs("pods", "events")),
		}}, desired, false, nil},
		{"missing rule appended, extra kept", &rbacv1.ClusterRole{ObjectMeta: defaultMeta("r", auto), Rules: []rbacv1.PolicyRule{
			prule(strs("get", "list"), strs(""), strs("pods")),
			prule(strs("delete"), strs(""), strs("secrets")),
		}}, desired, true, func(t *testing.T, got *rbacv1.ClusterRole) {
			want := []rbacv1.PolicyRule{
				prule(strs("get", "list"), strs(""), strs("pods")),
				prule(strs("delete"), strs(""), strs("secrets")),
				prule(strs("create"), strs(""), strs("events")),
			}
			if !reflect.DeepEqual(got.Rules, want) {
				t.Errorf("rules %v", got.Rules)
			}
		}},
		{"partially covered rule appended whole", &rbacv1.ClusterRole{ObjectMeta: defaultMeta("r", auto), Rules: []rbacv1.PolicyRule{
			prule(strs("get"), strs(""), strs("pods")),
			prule(strs("create"), strs(""), strs("events")),
		}}, desired, true, func(t *testing.T, got *rbacv1.ClusterRole) {
			if len(got.Rules) != 3 || !reflect.DeepEqual(got.Rules[2], desired.Rules[0]) {
				t.Errorf("rules %v", got.Rules)
			}
		}},
		{"protected", &rbacv1.ClusterRole{ObjectMeta: defaultMeta("r", map[string]string{rbacv1.AutoUpdateAnnotationKey: "false"})}, desired, false,
			func(t *testing.T, got *rbacv1.ClusterRole) {
				if len(got.Rules) != 0 {
					t.Errorf("protected role modified")
				}
			}},
		{"labels and annotations added, existing values kept", &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "r", Labels: map[string]string{"team": "x", authz.BootstrappingLabel: "custom"}},
			Rules:      desired.Rules,
		}, desired, true, func(t *testing.T, got *rbacv1.ClusterRole) {
			if got.Labels["team"] != "x" || got.Labels[authz.BootstrappingLabel] != "custom" || got.Annotations[rbacv1.AutoUpdateAnnotationKey] != "true" {
				t.Errorf("meta %v %v", got.Labels, got.Annotations)
			}
		}},
		{"aggregation selectors unioned, aggregated rules untouched", &rbacv1.ClusterRole{
			ObjectMeta:      defaultMeta("admin", auto),
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel("custom")}},
			Rules:           []rbacv1.PolicyRule{prule(strs("get"), strs("x"), strs("y"))},
		}, &rbacv1.ClusterRole{
			ObjectMeta:      defaultMeta("admin", auto),
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel(authz.AggregateToAdminLabel)}},
		}, true, func(t *testing.T, got *rbacv1.ClusterRole) {
			if len(got.AggregationRule.ClusterRoleSelectors) != 2 || len(got.Rules) != 1 {
				t.Errorf("got %v %v", got.AggregationRule, got.Rules)
			}
		}},
		{"aggregation selectors already present", &rbacv1.ClusterRole{
			ObjectMeta:      defaultMeta("admin", auto),
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel("custom"), sel(authz.AggregateToAdminLabel)}},
		}, &rbacv1.ClusterRole{
			ObjectMeta:      defaultMeta("admin", auto),
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel(authz.AggregateToAdminLabel)}},
		}, false, nil},
		{"role no longer aggregated", &rbacv1.ClusterRole{
			ObjectMeta:      defaultMeta("r", auto),
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel("x")}},
			Rules:           desired.Rules,
		}, desired, true, func(t *testing.T, got *rbacv1.ClusterRole) {
			if got.AggregationRule != nil {
				t.Errorf("aggregation rule kept")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before *rbacv1.ClusterRole
			if c.existing != nil {
				before = c.existing.DeepCopy()
			}
			got, changed := authz.ReconcileClusterRole(c.existing, c.desired)
			if changed != c.wantChanged {
				t.Fatalf("changed = %v, want %v", changed, c.wantChanged)
			}
			if c.existing != nil && !reflect.DeepEqual(before, c.existing) {
				t.Errorf("existing object modified")
			}
			if !changed && c.existing != nil && got != c.existing {
				t.Errorf("unchanged result should be existing")
			}
			if c.check != nil {
				c.check(t, got)
			}
		})
	}
}

func TestReconcileRole(t *testing.T) {
	desired := &rbacv1.Role{ObjectMeta: defaultMeta("r", map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"}),
		Rules: []rbacv1.PolicyRule{{Verbs: strs("get"), APIGroups: strs(""), Resources: strs("configmaps"), ResourceNames: strs("a")}}}
	// A rule restricted to other names does not cover the desired named rule.
	existing := desired.DeepCopy()
	existing.Rules[0].ResourceNames = strs("b")
	got, changed := authz.ReconcileRole(existing, desired)
	if !changed || len(got.Rules) != 2 {
		t.Fatalf("got %v %v", changed, got.Rules)
	}
	// An unrestricted rule covers it.
	existing.Rules[0].ResourceNames = nil
	if _, changed := authz.ReconcileRole(existing, desired); changed {
		t.Fatal("unrestricted rule should cover a named one")
	}
	existing.Annotations[rbacv1.AutoUpdateAnnotationKey] = "false"
	existing.Rules = nil
	if got, changed := authz.ReconcileRole(existing, desired); changed || got != existing {
		t.Fatal("protected role changed")
	}
}

func TestReconcileBindings(t *testing.T) {
	auto := map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:discovery"}
	desired := &rbacv1.ClusterRoleBinding{ObjectMeta: defaultMeta("system:discovery", auto), RoleRef: ref, Subjects: []rbacv1.Subject{
		{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "system:authenticated"},
	}}

	// Subjects are unioned; the API group default does not count as a difference.
	existing := desired.DeepCopy()
	existing.Subjects = []rbacv1.Subject{{Kind: "Group", Name: "system:authenticated"}, {Kind: "Group", Name: "system:unauthenticated"}}
	if got, changed := authz.ReconcileClusterRoleBinding(existing, desired); changed || len(got.Subjects) != 2 {
		t.Fatalf("changed=%v subjects=%v", changed, got.Subjects)
	}
	existing.Subjects = []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "extra"}}
	got, changed := authz.ReconcileClusterRoleBinding(existing, desired)
	if !changed || len(got.Subjects) != 2 || got.Subjects[0].Name != "extra" || len(existing.Subjects) != 1 {
		t.Fatalf("changed=%v subjects=%v", changed, got.Subjects)
	}
	// A changed roleRef is reported through result.RoleRef (delete and recreate).
	existing = desired.DeepCopy()
	existing.RoleRef.Name = "other"
	got, changed = authz.ReconcileClusterRoleBinding(existing, desired)
	if !changed || got.RoleRef != ref {
		t.Fatalf("roleRef: %v %v", changed, got.RoleRef)
	}
	// Protected bindings are left alone.
	existing.Annotations = map[string]string{rbacv1.AutoUpdateAnnotationKey: "false"}
	existing.Subjects = nil
	if got, changed := authz.ReconcileClusterRoleBinding(existing, desired); changed || got != existing {
		t.Fatal("protected binding changed")
	}
	if got, changed := authz.ReconcileClusterRoleBinding(nil, desired); !changed || !reflect.DeepEqual(got, desired) {
		t.Fatal("create")
	}

	rbDesired := &rbacv1.RoleBinding{ObjectMeta: defaultMeta("b", auto), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "kube-system", Name: "a"}}}
	rbExisting := rbDesired.DeepCopy()
	rbExisting.Subjects = []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "other", Name: "a"}}
	rbExisting.Labels = nil
	rb, changed := authz.ReconcileRoleBinding(rbExisting, rbDesired)
	if !changed || len(rb.Subjects) != 2 || rb.Labels[authz.BootstrappingLabel] != authz.BootstrappingValue {
		t.Fatalf("rolebinding: %v %v %v", changed, rb.Subjects, rb.Labels)
	}
	if _, changed := authz.ReconcileRoleBinding(rb, rbDesired); changed {
		t.Fatal("second reconcile changed")
	}
}

// TestReconcileBootstrapIdempotent reconciles the whole policy against itself.
func TestReconcileBootstrapIdempotent(t *testing.T) {
	a, b := authz.BootstrapPolicy(), authz.BootstrapPolicy()
	for i := range a.ClusterRoles {
		if _, changed := authz.ReconcileClusterRole(a.ClusterRoles[i], b.ClusterRoles[i]); changed {
			t.Errorf("ClusterRole %s", a.ClusterRoles[i].Name)
		}
	}
	for i := range a.ClusterRoleBindings {
		if _, changed := authz.ReconcileClusterRoleBinding(a.ClusterRoleBindings[i], b.ClusterRoleBindings[i]); changed {
			t.Errorf("ClusterRoleBinding %s", a.ClusterRoleBindings[i].Name)
		}
	}
	for i := range a.Roles {
		if _, changed := authz.ReconcileRole(a.Roles[i], b.Roles[i]); changed {
			t.Errorf("Role %s", a.Roles[i].Name)
		}
	}
	for i := range a.RoleBindings {
		if _, changed := authz.ReconcileRoleBinding(a.RoleBindings[i], b.RoleBindings[i]); changed {
			t.Errorf("RoleBinding %s", a.RoleBindings[i].Name)
		}
	}
}

func TestCovers(t *testing.T) {
	owner := []rbacv1.PolicyRule{
		prule(strs("get", "list"), strs("*"), strs("*/scale", "pods")),
		{Verbs: strs("get"), NonResourceURLs: strs("/healthz/*")},
	}
	cases := []struct {
		rule rbacv1.PolicyRule
		want bool
	}{
		{prule(strs("get"), strs("apps"), strs("deployments/scale")), true},
		{prule(strs("get", "watch"), strs(""), strs("pods")), false},
		{prule(strs("list"), strs("", "apps"), strs("pods")), true},
		{prule(strs("get"), strs(""), strs("pods/log")), false},
		{rbacv1.PolicyRule{Verbs: strs("get"), NonResourceURLs: strs("/healthz/etcd")}, true},
		{rbacv1.PolicyRule{Verbs: strs("get"), NonResourceURLs: strs("/healthz")}, false},
	}
	for _, c := range cases {
		if got := authz.Covers(owner, c.rule); got != c.want {
			t.Errorf("Covers(%v) = %v", c.rule, got)
		}
	}
}
