package audit

import (
	"fmt"
	"os"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// PolicyAPIVersion and PolicyKind are what a policy file must declare, as kube-apiserver
// requires of --audit-policy-file.
const (
	PolicyAPIVersion = "audit.k8s.io/v1"
	PolicyKind       = "Policy"
)

// Policy decides which requests are logged and at what level: the audit.k8s.io/v1 Policy of
// kube-apiserver's --audit-policy-file, so existing policy files work unchanged. A Policy must
// not be modified once a Logger uses it.
type Policy struct {
	metav1.TypeMeta `json:",inline"`
	// Metadata is accepted for compatibility and otherwise ignored.
	Metadata metav1.ObjectMeta `json:"metadata,omitempty"`
	// Rules are tried in order; the first that matches a request sets its level.
	Rules []PolicyRule `json:"rules"`
	// OmitStages are stages never logged, whatever rule matches.
	OmitStages []Stage `json:"omitStages,omitempty"`
	// OmitManagedFields is accepted for compatibility; it only affects bodies, which kforge
	// does not log.
	OmitManagedFields bool `json:"omitManagedFields,omitempty"`
}

// PolicyRule matches requests and gives them a level. Every non-empty criterion must match;
// an empty one matches everything.
type PolicyRule struct {
	// Level is the level of requests this rule matches.
	Level Level `json:"level"`
	// Users are user names the rule applies to.
	Users []string `json:"users,omitempty"`
	// UserGroups are groups; the rule applies to members of any of them.
	UserGroups []string `json:"userGroups,omitempty"`
	// Verbs are the verbs the rule applies to.
	Verbs []string `json:"verbs,omitempty"`
	// Resources are resources the rule applies to; non-empty means resource requests only.
	Resources []GroupResources `json:"resources,omitempty"`
	// Namespaces are namespaces the rule applies to ("" is cluster-scoped resources);
	// non-empty means resource requests only.
	Namespaces []string `json:"namespaces,omitempty"`
	// NonResourceURLs are paths ("/healthz"), path prefixes ending in "*" ("/api*") or "*";
	// non-empty means non-resource requests only.
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
	// OmitStages are stages not logged for requests this rule matches, in addition to the
	// policy's.
	OmitStages []Stage `json:"omitStages,omitempty"`
	// OmitManagedFields is accepted for compatibility; kforge does not log bodies.
	OmitManagedFields *bool `json:"omitManagedFields,omitempty"`
}

// GroupResources selects resources of one API group, as in RBAC rules.
type GroupResources struct {
	// Group is the API group without version; "" is the core group.
	Group string `json:"group,omitempty"`
	// Resources are "pods", "pods/log" (a subresource), "pods/*" (pods and all its
	// subresources), "*/status" (that subresource of every resource) or "*" (everything);
	// empty means every resource of Group.
	Resources []string `json:"resources,omitempty"`
	// ResourceNames restricts the rule to objects with these names.
	ResourceNames []string `json:"resourceNames,omitempty"`
}

// DefaultPolicy logs every request at Metadata level, in every stage, for audit logging
// enabled without a policy file (kube-apiserver itself logs nothing without
// --audit-policy-file; kforge's caller chooses).
func DefaultPolicy() *Policy {
	return &Policy{
		TypeMeta: metav1.TypeMeta{APIVersion: PolicyAPIVersion, Kind: PolicyKind},
		Rules:    []PolicyRule{{Level: LevelMetadata}},
	}
}

// LoadPolicy reads and validates the policy file at path, for --audit-policy-file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading audit policy: %w (check --audit-policy-file names a readable file)", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("audit policy file %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes and validates an audit.k8s.io/v1 Policy in YAML or JSON. As in
// kube-apiserver, unknown fields are ignored, so files written for newer Kubernetes versions
// still load.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	if err := yaml.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decoding audit policy: %w (write it as YAML or JSON of kind Policy, apiVersion %s)", err, PolicyAPIVersion)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate reports every mistake in p, each with its field path (rules[2].level, ...), so an
// operator can fix a policy file in one go.
func (p *Policy) Validate() error {
	var errs field.ErrorList
	switch {
	case p.APIVersion == "":
		errs = append(errs, field.Required(field.NewPath("apiVersion"), "set apiVersion: "+PolicyAPIVersion))
	case p.APIVersion != PolicyAPIVersion:
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), p.APIVersion, []string{PolicyAPIVersion}))
	}
	switch {
	case p.Kind == "":
		errs = append(errs, field.Required(field.NewPath("kind"), "set kind: "+PolicyKind))
	case p.Kind != PolicyKind:
		errs = append(errs, field.NotSupported(field.NewPath("kind"), p.Kind, []string{PolicyKind}))
	}
	errs = append(errs, validateStages(p.OmitStages, field.NewPath("omitStages"))...)
	if len(p.Rules) == 0 {
		errs = append(errs, field.Required(field.NewPath("rules"), "a policy needs at least one rule; to log everything add `- level: Metadata`"))
	}
	for i := range p.Rules {
		errs = append(errs, p.Rules[i].validate(field.NewPath("rules").Index(i))...)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid audit policy: %w", errs.ToAggregate())
}

var (
	validLevels = []Level{LevelNone, LevelMetadata, LevelRequest, LevelRequestResponse}
	validStages = []Stage{StageRequestReceived, StageResponseStarted, StageResponseComplete, StagePanic}
)

func (r *PolicyRule) validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch r.Level {
	case LevelNone, LevelMetadata, LevelRequest, LevelRequestResponse:
	case "":
		errs = append(errs, field.Required(path.Child("level"), "set one of None, Metadata, Request, RequestResponse"))
	default:
		errs = append(errs, field.NotSupported(path.Child("level"), r.Level, validLevels))
	}
	for i, u := range r.NonResourceURLs {
		p := path.Child("nonResourceURLs").Index(i)
		if u == "*" {
			continue
		}
		if !strings.HasPrefix(u, "/") {
			errs = append(errs, field.Invalid(p, u, "non-resource URLs must begin with '/' (or be \"*\")"))
		}
		if u != "" && strings.Contains(u[:len(u)-1], "*") {
			errs = append(errs, field.Invalid(p, u, "a '*' wildcard may only be the last character of a non-resource URL"))
		}
	}
	if len(r.NonResourceURLs) > 0 && (len(r.Resources) > 0 || len(r.Namespaces) > 0) {
		errs = append(errs, field.Invalid(path.Child("nonResourceURLs"), r.NonResourceURLs,
			"a rule cannot apply to both resources (resources, namespaces) and non-resource URLs; split it into two rules"))
	}
	for i, gr := range r.Resources {
		p := path.Child("resources").Index(i)
		if gr.Group != "" {
			if msgs := apivalidation.NameIsDNSSubdomain(gr.Group, false); len(msgs) > 0 {
				errs = append(errs, field.Invalid(p.Child("group"), gr.Group,
					strings.Join(msgs, ", ")+" (name the group without its version, e.g. apps not apps/v1)"))
			}
		}
		if len(gr.ResourceNames) > 0 && len(gr.Resources) == 0 {
			errs = append(errs, field.Invalid(p.Child("resourceNames"), gr.ResourceNames, "resourceNames needs at least one entry in resources"))
		}
	}
	errs = append(errs, validateStages(r.OmitStages, path.Child("omitStages"))...)
	return errs
}

func validateStages(stages []Stage, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range stages {
		if !hasStage(validStages, s) {
			errs = append(errs, field.NotSupported(path.Index(i), s, validStages))
		}
	}
	return errs
}

// LevelFor gives the level at which to log a request and the stages not to log, with
// kube-apiserver's semantics: the first matching rule decides; no match means LevelNone. The
// returned slice may be shared with p and must not be modified.
func (p *Policy) LevelFor(attrs authz.Attributes) (Level, []Stage) {
	if p == nil {
		return LevelNone, nil
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.matches(&attrs) {
			return r.Level, unionStages(p.OmitStages, r.OmitStages)
		}
	}
	return LevelNone, p.OmitStages
}

func unionStages(a, b []Stage) []Stage {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := append(make([]Stage, 0, len(a)+len(b)), a...)
	for _, s := range b {
		if !hasStage(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (r *PolicyRule) matches(a *authz.Attributes) bool {
	if len(r.Users) > 0 && !hasString(r.Users, a.User.Name) {
		return false
	}
	if len(r.UserGroups) > 0 {
		in := false
		for _, g := range a.User.Groups {
			if hasString(r.UserGroups, g) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if len(r.Verbs) > 0 && !hasString(r.Verbs, a.Verb) {
		return false
	}
	if len(r.Namespaces) > 0 || len(r.Resources) > 0 {
		return r.matchesResource(a)
	}
	if len(r.NonResourceURLs) > 0 {
		return r.matchesNonResource(a)
	}
	return true
}

func (r *PolicyRule) matchesNonResource(a *authz.Attributes) bool {
	if a.ResourceRequest {
		return false
	}
	for _, spec := range r.NonResourceURLs {
		if spec == "*" || spec == a.Path {
			return true
		}
		if prefix, ok := strings.CutSuffix(spec, "*"); ok && strings.HasPrefix(a.Path, strings.TrimRight(prefix, "*")) {
			return true
		}
	}
	return false
}

func (r *PolicyRule) matchesResource(a *authz.Attributes) bool {
	if !a.ResourceRequest {
		return false
	}
	// Cluster-scoped resources have namespace "", which a rule can list.
	if len(r.Namespaces) > 0 && !hasString(r.Namespaces, a.Namespace) {
		return false
	}
	if len(r.Resources) == 0 {
		return true
	}
	for _, gr := range r.Resources {
		if gr.Group != a.APIGroup {
			continue
		}
		if len(gr.Resources) == 0 {
			return true
		}
		if len(gr.ResourceNames) > 0 && !hasString(gr.ResourceNames, a.Name) {
			continue
		}
		for _, res := range gr.Resources {
			if resourceMatches(res, a.Resource, a.Subresource) {
				return true
			}
		}
	}
	return false
}

// resourceMatches matches one entry of GroupResources.Resources: "*" is everything,
// "res/*" is res and all its subresources, "*/sub" is sub of any resource, else the entry must
// be exactly "res" or "res/sub".
func resourceMatches(spec, resource, subresource string) bool {
	if spec == "*" {
		return true
	}
	if subresource == "" {
		if spec == resource {
			return true
		}
	} else if len(spec) == len(resource)+1+len(subresource) && spec[len(resource)] == '/' &&
		strings.HasPrefix(spec, resource) && strings.HasSuffix(spec, subresource) {
		return true
	}
	if sub, ok := strings.CutPrefix(spec, "*/"); ok && subresource != "" && sub == subresource {
		return true
	}
	if res, ok := strings.CutSuffix(spec, "/*"); ok && res == resource {
		return true
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasStage(list []Stage, s Stage) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
