package apiserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// rbacGuard is RBAC's escalation check on writes of roles and bindings: a user may only grant
// permissions they hold themselves, unless they may escalate (roles) or bind (bindings) —
// the rule that keeps an edit or admin user from making themselves cluster-admin.
type rbacGuard struct{ a *API }

func (g rbacGuard) BeforeCreate(ctx context.Context, obj runtime.Object, _ bool) (func(), error) {
	return nil, g.check(ctx, obj)
}

func (g rbacGuard) BeforeUpdate(ctx context.Context, obj, _ runtime.Object, _ bool) (func(), error) {
	return nil, g.check(ctx, obj)
}

func (rbacGuard) AfterUpdate(context.Context, runtime.Object, runtime.Object) {}
func (rbacGuard) AfterDelete(context.Context, runtime.Object)                 {}

func (g rbacGuard) check(ctx context.Context, obj runtime.Object) error {
	sec := g.a.security
	user, ok := ctx.Value(userKey{}).(authn.User)
	if sec == nil || sec.Rules == nil || !ok || user.InGroup(authn.SystemMasters) {
		// In-process writes (the bootstrap policy) and superusers may grant anything.
		return nil
	}
	objs := objectReader{a: g.a}
	var rules []rbacv1.PolicyRule
	var ns string
	var attrs authz.Attributes
	var resource, name string
	deny := func(err error) error { return apierrors.NewForbidden(rbacv1.Resource(resource), name, err) }
	switch o := obj.(type) {
	case *rbacv1.Role:
		ns, rules, resource, name = o.Namespace, o.Rules, "roles", o.Name
		attrs = authz.Attributes{Verb: "escalate", Resource: "roles", Namespace: o.Namespace, Name: o.Name}
	case *rbacv1.ClusterRole:
		rules, resource, name = o.Rules, "clusterroles", o.Name
		attrs = authz.Attributes{Verb: "escalate", Resource: "clusterroles", Name: o.Name}
	case *rbacv1.RoleBinding:
		ns, resource, name = o.Namespace, "rolebindings", o.Name
		attrs = bindAttributes(o.RoleRef, o.Namespace)
		r, err := referencedRules(ctx, objs, o.RoleRef, o.Namespace)
		if err != nil {
			return deny(err)
		}
		rules = r
	case *rbacv1.ClusterRoleBinding:
		resource, name = "clusterrolebindings", o.Name
		attrs = bindAttributes(o.RoleRef, "")
		if o.RoleRef.Kind != "ClusterRole" {
			return deny(fmt.Errorf("a ClusterRoleBinding may only reference a ClusterRole, not %q", o.RoleRef.Kind))
		}
		r, err := referencedRules(ctx, objs, o.RoleRef, "")
		if err != nil {
			return deny(err)
		}
		rules = r
	default:
		return nil
	}
	attrs.User, attrs.ResourceRequest, attrs.APIGroup, attrs.APIVersion = user, true, rbacv1.GroupName, "v1"
	if d, _, _ := sec.Authorizer.Authorize(ctx, attrs); d == authz.Allow {
		return nil
	}
	owned, _, _, resolveErr := sec.Rules.RulesFor(ctx, user, ns)
	var missing []string
	for _, r := range rules {
		for _, p := range breakDown(r) {
			if !authz.Covers(owned, p) {
				missing = append(missing, compactRule(p))
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s", user.Name, user.Groups, strings.Join(missing, "\n"))
	if resolveErr != nil {
		msg += fmt.Sprintf("; resolution errors: %v", resolveErr)
	}
	return deny(errors.New(msg))
}

// bindAttributes is the "bind" permission on the role a binding references.
func bindAttributes(ref rbacv1.RoleRef, ns string) authz.Attributes {
	if ref.Kind == "ClusterRole" {
		return authz.Attributes{Verb: "bind", Resource: "clusterroles", Name: ref.Name, Namespace: ns}
	}
	return authz.Attributes{Verb: "bind", Resource: "roles", Name: ref.Name, Namespace: ns}
}

// referencedRules are the rules of the role a binding references.
func referencedRules(ctx context.Context, objs objectReader, ref rbacv1.RoleRef, ns string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "ClusterRole":
		cr, err := objs.GetClusterRole(ctx, ref.Name)
		if err != nil {
			return nil, err
		}
		return cr.Rules, nil
	case "Role":
		r, err := objs.GetRole(ctx, ns, ref.Name)
		if err != nil {
			return nil, err
		}
		return r.Rules, nil
	}
	return nil, fmt.Errorf("roleRef.kind %q: must be Role or ClusterRole", ref.Kind)
}

// breakDown splits a rule into single-verb, single-resource rules, which is how missing
// permissions are listed.
func breakDown(r rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, v := range r.Verbs {
		for _, u := range r.NonResourceURLs {
			out = append(out, rbacv1.PolicyRule{Verbs: []string{v}, NonResourceURLs: []string{u}})
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				if len(r.ResourceNames) == 0 {
					out = append(out, rbacv1.PolicyRule{Verbs: []string{v}, APIGroups: []string{g}, Resources: []string{res}})
				}
				for _, n := range r.ResourceNames {
					out = append(out, rbacv1.PolicyRule{Verbs: []string{v}, APIGroups: []string{g}, Resources: []string{res}, ResourceNames: []string{n}})
				}
			}
		}
	}
	return out
}

// compactRule prints a rule as kube-apiserver's escalation errors do:
// {APIGroups:[""], Resources:["secrets"], Verbs:["get"]}.
func compactRule(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, list []string) {
		if len(list) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, list))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("ResourceNames", r.ResourceNames)
	add("NonResourceURLs", r.NonResourceURLs)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
