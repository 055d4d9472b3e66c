package authz

import (
	"context"
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// RBACLister is the read access RBAC needs to the rbac.authorization.k8s.io objects. The
// apiserver implements it over its watch cache so authorization never reaches etcd; a missing
// object must be reported as an apimachinery NotFound error, whose text ends up verbatim in
// the authorizer's reason just as kube-apiserver's does.
//
// The lists may share objects with a cache; the authorizer never modifies what they return.
type RBACLister interface {
	// GetRole returns the Role namespace/name, which RoleBindings of that namespace reference.
	GetRole(ctx context.Context, namespace, name string) (*rbacv1.Role, error)
	// GetClusterRole returns the ClusterRole name, which any binding may reference.
	GetClusterRole(ctx context.Context, name string) (*rbacv1.ClusterRole, error)
	// ListClusterRoles returns every ClusterRole; it is needed to resolve aggregated
	// ClusterRoles (aggregationRule) at evaluation time.
	ListClusterRoles(ctx context.Context) ([]*rbacv1.ClusterRole, error)
	// ListRoleBindings returns the RoleBindings of one namespace.
	ListRoleBindings(ctx context.Context, namespace string) ([]*rbacv1.RoleBinding, error)
	// ListClusterRoleBindings returns every ClusterRoleBinding.
	ListClusterRoleBindings(ctx context.Context) ([]*rbacv1.ClusterRoleBinding, error)
}

// RBAC is Kubernetes' role-based access control authorizer (--authorization-mode=RBAC): a
// request is allowed when some ClusterRoleBinding, or RoleBinding of the request's namespace,
// binds the user to a role holding a rule that covers the request. It never denies; it only
// allows or has no opinion, so it composes with the other authorizers in a union.
type RBAC struct {
	lister RBACLister
}

var _ Authorizer = (*RBAC)(nil)

// NewRBAC returns an RBAC authorizer reading roles and bindings through l.
func NewRBAC(l RBACLister) *RBAC {
	return &RBAC{lister: l}
}

// ruleSource describes where a rule came from, for Kubernetes-shaped "allowed by" reasons.
type ruleSource struct {
	bindingKind      string // ClusterRoleBinding or RoleBinding
	bindingName      string
	bindingNamespace string
	roleRef          rbacv1.RoleRef
	subject          rbacv1.Subject
}

func (s *ruleSource) String() string {
	name := s.bindingName
	if s.bindingKind == "RoleBinding" {
		name = s.bindingName + "/" + s.bindingNamespace
	}
	return fmt.Sprintf("%s %q of %s %q to %s", s.bindingKind, name, s.roleRef.Kind, s.roleRef.Name,
		describeSubject(s.subject, s.bindingNamespace))
}

func describeSubject(s rbacv1.Subject, bindingNamespace string) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		return fmt.Sprintf("%s %q", s.Kind, s.Name+"/"+ns)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

// Authorize allows the request if any rule bound to the user covers it. Problems resolving
// bindings (a binding naming a missing role, a lister failure) do not stop the evaluation and
// are reported in the reason, not as an error: like kube-apiserver, a dangling binding must
// produce a 403 with an explanation rather than a 500.
func (r *RBAC) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	var reason string
	errs := r.visitRules(ctx, a.User, a.Namespace, func(src *ruleSource, rule *rbacv1.PolicyRule) bool {
		if RuleAllows(a, rule) {
			reason = "RBAC: allowed by " + src.String()
			return false
		}
		return true
	})
	if reason != "" {
		return Allow, reason, nil
	}
	if len(errs) > 0 {
		return NoOpinion, fmt.Sprintf("RBAC: %v", utilerrors.NewAggregate(errs)), nil
	}
	return NoOpinion, "", nil
}

// RulesFor returns every rule granted to u in namespace (cluster-wide bindings plus that
// namespace's RoleBindings), split into resource and non-resource rules, for
// SelfSubjectRulesReview. incomplete is true when some binding could not be resolved; the
// rules returned are still valid, and err says what was missing.
func (r *RBAC) RulesFor(ctx context.Context, u authn.User, namespace string) (resourceRules []rbacv1.PolicyRule, nonResourceRules []rbacv1.PolicyRule, incomplete bool, err error) {
	errs := r.visitRules(ctx, u, namespace, func(_ *ruleSource, rule *rbacv1.PolicyRule) bool {
		if len(rule.Resources) > 0 {
			resourceRules = append(resourceRules, *rule.DeepCopy())
		}
		if len(rule.NonResourceURLs) > 0 {
			nonResourceRules = append(nonResourceRules, *rule.DeepCopy())
		}
		return true
	})
	if len(errs) > 0 {
		return resourceRules, nonResourceRules, true,
			fmt.Errorf("resolving RBAC rules for user %q in namespace %q: %w", u.Name, namespace, utilerrors.NewAggregate(errs))
	}
	return resourceRules, nonResourceRules, false, nil
}

// visitRules calls visit for each rule bound to u, ClusterRoleBindings first and then the
// RoleBindings of namespace, until visit returns false. It returns the resolution errors met.
func (r *RBAC) visitRules(ctx context.Context, u authn.User, namespace string, visit func(*ruleSource, *rbacv1.PolicyRule) bool) []error {
	res := &roleResolver{ctx: ctx, lister: r.lister}

	crbs, err := r.lister.ListClusterRoleBindings(ctx)
	if err != nil {
		res.errs = append(res.errs, err)
	}
	for _, b := range crbs {
		subject, ok := appliesTo(u, b.Subjects, "")
		if !ok {
			continue
		}
		if b.RoleRef.Kind != "ClusterRole" {
			res.errs = append(res.errs, fmt.Errorf("ClusterRoleBinding %q: unsupported role reference kind %q", b.Name, b.RoleRef.Kind))
			continue
		}
		rules := res.clusterRoleRules(b.RoleRef.Name)
		src := &ruleSource{bindingKind: "ClusterRoleBinding", bindingName: b.Name, roleRef: b.RoleRef, subject: subject}
		for i := range rules {
			if !visit(src, &rules[i]) {
				return res.errs
			}
		}
	}

	if namespace == "" {
		return res.errs
	}
	rbs, err := r.lister.ListRoleBindings(ctx, namespace)
	if err != nil {
		res.errs = append(res.errs, err)
	}
	for _, b := range rbs {
		bindingNS := b.Namespace
		if bindingNS == "" {
			bindingNS = namespace
		}
		subject, ok := appliesTo(u, b.Subjects, bindingNS)
		if !ok {
			continue
		}
		var rules []rbacv1.PolicyRule
		switch b.RoleRef.Kind {
		case "Role":
			role, err := r.lister.GetRole(ctx, bindingNS, b.RoleRef.Name)
			if err != nil {
				res.errs = append(res.errs, err)
				continue
			}
			rules = role.Rules
		case "ClusterRole":
			rules = res.clusterRoleRules(b.RoleRef.Name)
		default:
			res.errs = append(res.errs, fmt.Errorf("RoleBinding %q: unsupported role reference kind %q", bindingNS+"/"+b.Name, b.RoleRef.Kind))
			continue
		}
		src := &ruleSource{bindingKind: "RoleBinding", bindingName: b.Name, bindingNamespace: bindingNS, roleRef: b.RoleRef, subject: subject}
		for i := range rules {
			if !visit(src, &rules[i]) {
				return res.errs
			}
		}
	}
	return res.errs
}

// roleResolver resolves ClusterRole rules for one evaluation, listing all ClusterRoles at most
// once and only when an aggregated ClusterRole is met.
type roleResolver struct {
	ctx    context.Context
	lister RBACLister
	agg    *aggregator
	errs   []error
}

func (res *roleResolver) clusterRoleRules(name string) []rbacv1.PolicyRule {
	role, err := res.lister.GetClusterRole(res.ctx, name)
	if err != nil {
		res.errs = append(res.errs, err)
		return nil
	}
	if !isAggregated(role) {
		return role.Rules
	}
	if res.agg == nil {
		all, err := res.lister.ListClusterRoles(res.ctx)
		if err != nil {
			// Fall back to what the aggregation controller last wrote.
			res.errs = append(res.errs, fmt.Errorf("listing ClusterRoles to aggregate %q: %w", name, err))
			return role.Rules
		}
		res.agg = newAggregator(all)
	}
	rules := res.agg.rules(role)
	res.errs = append(res.errs, res.agg.takeErrors()...)
	return rules
}

// appliesTo returns the first subject naming u. bindingNamespace is the namespace of a
// RoleBinding ("" for a ClusterRoleBinding): ServiceAccount subjects without a namespace
// default to it.
func appliesTo(u authn.User, subjects []rbacv1.Subject, bindingNamespace string) (rbacv1.Subject, bool) {
	for _, s := range subjects {
		if subjectMatches(u, s, bindingNamespace) {
			return s, true
		}
	}
	return rbacv1.Subject{}, false
}

func subjectMatches(u authn.User, s rbacv1.Subject, bindingNamespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.Name == s.Name
	case rbacv1.GroupKind:
		return u.InGroup(s.Name)
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		if ns == "" {
			return false
		}
		return u.Name == authn.ServiceAccountPrefix+ns+":"+s.Name
	default:
		return false
	}
}

// RuleAllows reports whether rule covers the request a, with Kubernetes' matching: "*" for
// verbs, API groups and resources; "resource/subresource" and "*/subresource" resources;
// resourceNames that, when present, only match requests naming one of them (so list or create,
// which carry no name, never match a rule with resourceNames); nonResourceURLs matched exactly
// or, when ending in "*", by prefix.
func RuleAllows(a Attributes, rule *rbacv1.PolicyRule) bool {
	if !verbMatches(rule, a.Verb) {
		return false
	}
	if !a.ResourceRequest {
		return nonResourceURLMatches(rule, a.Path)
	}
	combined := a.Resource
	if a.Subresource != "" {
		combined = a.Resource + "/" + a.Subresource
	}
	return apiGroupMatches(rule, a.APIGroup) &&
		resourceMatches(rule, combined, a.Subresource) &&
		resourceNameMatches(rule, a.Name)
}

// RulesAllow reports whether any of rules covers the request a.
func RulesAllow(a Attributes, rules ...rbacv1.PolicyRule) bool {
	for i := range rules {
		if RuleAllows(a, &rules[i]) {
			return true
		}
	}
	return false
}

func verbMatches(rule *rbacv1.PolicyRule, verb string) bool {
	for _, v := range rule.Verbs {
		if v == rbacv1.VerbAll || v == verb {
			return true
		}
	}
	return false
}

func apiGroupMatches(rule *rbacv1.PolicyRule, group string) bool {
	for _, g := range rule.APIGroups {
		if g == rbacv1.APIGroupAll || g == group {
			return true
		}
	}
	return false
}

// resourceMatches implements Kubernetes' resource matching. Note that Kubernetes has no
// "resource/*" wildcard: "pods/*" matches only a subresource literally named "*".
func resourceMatches(rule *rbacv1.PolicyRule, combined, subresource string) bool {
	for _, res := range rule.Resources {
		if res == rbacv1.ResourceAll || res == combined {
			return true
		}
		if subresource != "" && res == "*/"+subresource {
			return true
		}
	}
	return false
}

func resourceNameMatches(rule *rbacv1.PolicyRule, name string) bool {
	if len(rule.ResourceNames) == 0 {
		return true
	}
	for _, n := range rule.ResourceNames {
		if n == name {
			return true
		}
	}
	return false
}

func nonResourceURLMatches(rule *rbacv1.PolicyRule, path string) bool {
	for _, u := range rule.NonResourceURLs {
		if u == rbacv1.NonResourceAll || u == path {
			return true
		}
		if strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimRight(u, "*")) {
			return true
		}
	}
	return false
}

// AggregateClusterRoles computes, for every ClusterRole in all that has an aggregationRule,
// the union of the rules of the ClusterRoles its selectors match (resolved transitively, as
// the clusterrole-aggregation controller converges to), and returns copies of the aggregated
// roles whose stored rules differ, with the new rules filled in, ready to be written back.
// Matching roles are taken in name order and duplicate rules dropped, so the result is stable.
func AggregateClusterRoles(all []*rbacv1.ClusterRole) []*rbacv1.ClusterRole {
	agg := newAggregator(all)
	var changed []*rbacv1.ClusterRole
	for _, role := range all {
		if !isAggregated(role) {
			continue
		}
		rules := agg.rules(role)
		if rulesEqual(rules, role.Rules) {
			continue
		}
		out := role.DeepCopy()
		out.Rules = make([]rbacv1.PolicyRule, len(rules))
		for i := range rules {
			rules[i].DeepCopyInto(&out.Rules[i])
		}
		changed = append(changed, out)
	}
	return changed
}

func isAggregated(role *rbacv1.ClusterRole) bool {
	return role.AggregationRule != nil && len(role.AggregationRule.ClusterRoleSelectors) > 0
}

// aggregator resolves aggregated ClusterRoles over one snapshot of all ClusterRoles.
type aggregator struct {
	roles  []*rbacv1.ClusterRole // sorted by name
	memo   map[string][]rbacv1.PolicyRule
	active map[string]bool
	errs   []error
}

func newAggregator(all []*rbacv1.ClusterRole) *aggregator {
	roles := make([]*rbacv1.ClusterRole, 0, len(all))
	for _, r := range all {
		if r != nil {
			roles = append(roles, r)
		}
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
	return &aggregator{roles: roles, memo: map[string][]rbacv1.PolicyRule{}, active: map[string]bool{}}
}

func (ag *aggregator) takeErrors() []error {
	errs := ag.errs
	ag.errs = nil
	return errs
}

// rules returns role's effective rules: its own for a plain role, the union of the matched
// roles' effective rules for an aggregated one. A selector cycle falls back to stored rules.
func (ag *aggregator) rules(role *rbacv1.ClusterRole) []rbacv1.PolicyRule {
	if !isAggregated(role) {
		return role.Rules
	}
	if rules, ok := ag.memo[role.Name]; ok {
		return rules
	}
	if ag.active[role.Name] {
		return role.Rules
	}
	ag.active[role.Name] = true
	defer delete(ag.active, role.Name)

	var selectors []labels.Selector
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			ag.errs = append(ag.errs, fmt.Errorf("ClusterRole %q: invalid aggregation selector: %w", role.Name, err))
			continue
		}
		selectors = append(selectors, sel)
	}

	rules := []rbacv1.PolicyRule{}
	for _, other := range ag.roles {
		if other.Name == role.Name || !matchesAny(selectors, other.Labels) {
			continue
		}
		for _, rule := range ag.rules(other) {
			if !containsRule(rules, rule) {
				rules = append(rules, rule)
			}
		}
	}
	ag.memo[role.Name] = rules
	return rules
}

func matchesAny(selectors []labels.Selector, l map[string]string) bool {
	for _, s := range selectors {
		// An empty selector matches every ClusterRole, as in Kubernetes.
		if s.Matches(labels.Set(l)) {
			return true
		}
	}
	return false
}

func containsRule(rules []rbacv1.PolicyRule, rule rbacv1.PolicyRule) bool {
	for i := range rules {
		if ruleEqual(&rules[i], &rule) {
			return true
		}
	}
	return false
}

// ruleEqual compares rules field by field, treating nil and empty lists as equal like
// apimachinery's semantic equality.
func ruleEqual(a, b *rbacv1.PolicyRule) bool {
	return stringsEqual(a.Verbs, b.Verbs) && stringsEqual(a.APIGroups, b.APIGroups) &&
		stringsEqual(a.Resources, b.Resources) && stringsEqual(a.ResourceNames, b.ResourceNames) &&
		stringsEqual(a.NonResourceURLs, b.NonResourceURLs)
}

func rulesEqual(a, b []rbacv1.PolicyRule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !ruleEqual(&a[i], &b[i]) {
			return false
		}
	}
	return true
}

func stringsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
