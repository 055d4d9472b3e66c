package authz

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Reconcile functions bring an existing default RBAC object up to the bootstrap policy
// the way kube-apiserver does at every start: an object whose
// rbac.authorization.kubernetes.io/autoupdate annotation is "false" is left alone (that is how
// an administrator takes ownership of a default role); otherwise missing labels and annotations
// are added (existing values win), missing rules or subjects are appended and nothing is ever
// removed, so permissions an administrator added survive upgrades. A nil existing object means
// "create desired". changed reports whether result must be written.

// ReconcileClusterRole reconciles a default ClusterRole. For aggregated roles the rules are
// the aggregation controller's business; the aggregationRule's selectors become the union of
// existing and desired. A role the policy no longer aggregates loses its aggregationRule, as in
// Kubernetes, since its static rules would otherwise be overwritten by aggregation.
func ReconcileClusterRole(existing, desired *rbacv1.ClusterRole) (result *rbacv1.ClusterRole, changed bool) {
	if existing == nil {
		return desired.DeepCopy(), true
	}
	if isProtected(existing.ObjectMeta) {
		return existing, false
	}
	out := existing.DeepCopy()
	changed = reconcileRules(&out.ObjectMeta, &out.Rules, desired.ObjectMeta, desired.Rules)

	switch {
	case desired.AggregationRule == nil && out.AggregationRule != nil:
		out.AggregationRule = nil
		changed = true
	case desired.AggregationRule != nil:
		if out.AggregationRule == nil {
			out.AggregationRule = &rbacv1.AggregationRule{}
		}
		for _, want := range desired.AggregationRule.ClusterRoleSelectors {
			if !containsSelector(out.AggregationRule.ClusterRoleSelectors, want) {
				out.AggregationRule.ClusterRoleSelectors = append(out.AggregationRule.ClusterRoleSelectors, *want.DeepCopy())
				changed = true
			}
		}
	}
	if !changed {
		return existing, false
	}
	return out, true
}

// ReconcileRole reconciles a default namespaced Role (the kube-system and kube-public ones).
func ReconcileRole(existing, desired *rbacv1.Role) (result *rbacv1.Role, changed bool) {
	if existing == nil {
		return desired.DeepCopy(), true
	}
	if isProtected(existing.ObjectMeta) {
		return existing, false
	}
	out := existing.DeepCopy()
	if !reconcileRules(&out.ObjectMeta, &out.Rules, desired.ObjectMeta, desired.Rules) {
		return existing, false
	}
	return out, true
}

// reconcileRules merges the desired metadata into a role's copy and adds the desired rules it
// lacks, reporting whether anything changed; both role kinds share it.
func reconcileRules(meta *metav1.ObjectMeta, rules *[]rbacv1.PolicyRule, desiredMeta metav1.ObjectMeta, desiredRules []rbacv1.PolicyRule) bool {
	changed := mergeMeta(meta, desiredMeta)
	if missing := missingRules(*rules, desiredRules); len(missing) > 0 {
		*rules = append(*rules, missing...)
		changed = true
	}
	return changed
}

// ReconcileClusterRoleBinding reconciles a default ClusterRoleBinding: missing subjects are
// added. roleRef is immutable in the API, so when result.RoleRef differs from
// existing.RoleRef the caller must delete the binding and create result instead of updating.
func ReconcileClusterRoleBinding(existing, desired *rbacv1.ClusterRoleBinding) (result *rbacv1.ClusterRoleBinding, changed bool) {
	if existing == nil {
		return desired.DeepCopy(), true
	}
	if isProtected(existing.ObjectMeta) {
		return existing, false
	}
	out := existing.DeepCopy()
	if !reconcileBinding(&out.ObjectMeta, &out.RoleRef, &out.Subjects, desired.ObjectMeta, desired.RoleRef, desired.Subjects) {
		return existing, false
	}
	return out, true
}

// ReconcileRoleBinding reconciles a default RoleBinding, like ReconcileClusterRoleBinding
// (including the delete-and-recreate rule for a changed roleRef).
func ReconcileRoleBinding(existing, desired *rbacv1.RoleBinding) (result *rbacv1.RoleBinding, changed bool) {
	if existing == nil {
		return desired.DeepCopy(), true
	}
	if isProtected(existing.ObjectMeta) {
		return existing, false
	}
	out := existing.DeepCopy()
	if !reconcileBinding(&out.ObjectMeta, &out.RoleRef, &out.Subjects, desired.ObjectMeta, desired.RoleRef, desired.Subjects) {
		return existing, false
	}
	return out, true
}

// reconcileBinding merges the desired metadata, roleRef and subjects into a binding's copy
// and reports whether anything changed; both binding kinds share it.
func reconcileBinding(meta *metav1.ObjectMeta, ref *rbacv1.RoleRef, subjects *[]rbacv1.Subject,
	desiredMeta metav1.ObjectMeta, desiredRef rbacv1.RoleRef, desiredSubjects []rbacv1.Subject) bool {
	changed := mergeMeta(meta, desiredMeta)
	if *ref != desiredRef {
		*ref = desiredRef
		changed = true
	}
	var added bool
	*subjects, added = unionSubjects(*subjects, desiredSubjects)
	return changed || added
}

func isProtected(m metav1.ObjectMeta) bool {
	return m.Annotations[rbacv1.AutoUpdateAnnotationKey] == "false"
}

// mergeMeta adds desired's labels and annotations that out lacks; existing values win.
func mergeMeta(out *metav1.ObjectMeta, desired metav1.ObjectMeta) bool {
	changed := false
	out.Labels, changed = mergeMap(out.Labels, desired.Labels)
	var annChanged bool
	out.Annotations, annChanged = mergeMap(out.Annotations, desired.Annotations)
	return changed || annChanged
}

func mergeMap(have, want map[string]string) (map[string]string, bool) {
	changed := false
	for k, val := range want {
		if _, ok := have[k]; ok {
			continue
		}
		if have == nil {
			have = map[string]string{}
		}
		have[k] = val
		changed = true
	}
	return have, changed
}

func containsSelector(list []metav1.LabelSelector, s metav1.LabelSelector) bool {
	for i := range list {
		if apiequality.Semantic.DeepEqual(list[i], s) {
			return true
		}
	}
	return false
}

func unionSubjects(have, want []rbacv1.Subject) ([]rbacv1.Subject, bool) {
	added := false
	for _, w := range want {
		found := false
		for _, h := range have {
			if subjectEqual(h, w) {
				found = true
				break
			}
		}
		if !found {
			have = append(have, w)
			added = true
		}
	}
	return have, added
}

// subjectEqual compares subjects with the API group defaulted as the API server does
// (rbac.authorization.k8s.io for users and groups, none for service accounts).
func subjectEqual(a, b rbacv1.Subject) bool {
	return a.Kind == b.Kind && a.Name == b.Name && a.Namespace == b.Namespace &&
		subjectGroup(a) == subjectGroup(b)
}

func subjectGroup(s rbacv1.Subject) string {
	if s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
		return rbacv1.GroupName
	}
	return s.APIGroup
}

// missingRules returns the rules of want that have has does not fully cover, whole (not
// broken down), so appending them grants exactly what was missing and no more than want.
func missingRules(have, want []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var missing []rbacv1.PolicyRule
	for i := range want {
		if !rulesCover(have, &want[i]) {
			missing = append(missing, *want[i].DeepCopy())
		}
	}
	return missing
}

// Covers reports whether the rules in owner grant everything rule grants: rule is broken down
// into one (verb, group, resource, name) or (verb, URL) permission at a time and each must be
// covered by some owner rule, honouring owner wildcards.
func Covers(owner []rbacv1.PolicyRule, rule rbacv1.PolicyRule) bool {
	return rulesCover(owner, &rule)
}

func rulesCover(owner []rbacv1.PolicyRule, rule *rbacv1.PolicyRule) bool {
	for _, verb := range rule.Verbs {
		for _, url := range rule.NonResourceURLs {
			if !anyOwner(owner, func(o *rbacv1.PolicyRule) bool {
				return ownerHasVerb(o, verb) && ownerHasURL(o, url)
			}) {
				return false
			}
		}
		for _, group := range rule.APIGroups {
			for _, res := range rule.Resources {
				names := rule.ResourceNames
				if len(names) == 0 {
					names = []string{""}
				}
				for _, name := range names {
					if !anyOwner(owner, func(o *rbacv1.PolicyRule) bool {
						return ownerHasVerb(o, verb) && ownerHasGroup(o, group) &&
							ownerHasResource(o, res) && ownerHasName(o, name)
					}) {
						return false
					}
				}
			}
		}
	}
	return true
}

func anyOwner(owner []rbacv1.PolicyRule, f func(*rbacv1.PolicyRule) bool) bool {
	for i := range owner {
		if f(&owner[i]) {
			return true
		}
	}
	return false
}

func ownerHasVerb(o *rbacv1.PolicyRule, verb string) bool {
	return contains(o.Verbs, rbacv1.VerbAll) || contains(o.Verbs, verb)
}

func ownerHasGroup(o *rbacv1.PolicyRule, group string) bool {
	return contains(o.APIGroups, rbacv1.APIGroupAll) || contains(o.APIGroups, group)
}

func ownerHasResource(o *rbacv1.PolicyRule, res string) bool {
	if contains(o.Resources, rbacv1.ResourceAll) || contains(o.Resources, res) {
		return true
	}
	if i := strings.Index(res, "/"); i >= 0 {
		return contains(o.Resources, "*"+res[i:])
	}
	return false
}

// ownerHasName: an owner without resourceNames covers every name; one with names covers only
// those (and never the unnamed permission).
func ownerHasName(o *rbacv1.PolicyRule, name string) bool {
	if len(o.ResourceNames) == 0 {
		return true
	}
	return name != "" && contains(o.ResourceNames, name)
}

func ownerHasURL(o *rbacv1.PolicyRule, url string) bool {
	for _, ou := range o.NonResourceURLs {
		if ou == url {
			return true
		}
		if strings.HasSuffix(ou, "*") && strings.HasPrefix(url, strings.TrimRight(ou, "*")) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
