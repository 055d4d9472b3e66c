// Package admission is kforge's built-in admission control: the step between "this request is
// authenticated and authorized" and "this object is written to storage" where the apiserver
// defaults, rewrites or refuses objects on behalf of the cluster. It provides the plugins a
// kubeadm-built kube-apiserver enables by default (NamespaceLifecycle, LimitRanger,
// ServiceAccount, NodeRestriction, Priority, DefaultTolerationSeconds, ResourceQuota) with the
// same behaviour and the same error texts, so kubectl, controllers and conformance tests see
// what they would see against Kubernetes.
//
// The apiserver drives a Chain in the order kube-apiserver does: Chain.Admit (mutating plugins)
// after decoding and defaulting, then its own object validation, then Chain.Validate (validating
// plugins) right before the write. After a successful delete (or an update that shrinks usage)
// it calls Chain.Release so ResourceQuota usage is given back, a job Kubernetes leaves to its
// quota controller.
package admission

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// Operation is the verb class of a request as admission sees it; the values are the strings
// kube-apiserver uses, so they can be copied into AdmissionReview requests and audit events.
type Operation string

// The operations admission plugins are called for. Reads (get, list, watch) are never admitted.
const (
	Create  Operation = "CREATE"
	Update  Operation = "UPDATE"
	Delete  Operation = "DELETE"
	Connect Operation = "CONNECT"
)

// Attributes describes one write request to the plugins. Object and OldObject are typed
// k8s.io/api objects (e.g. *corev1.Pod); plugins ignore kinds they do not know.
type Attributes struct {
	// Operation is what the request does.
	Operation Operation
	// Kind is the kind of Object (for subresources: the kind sent, e.g. Eviction for pods/eviction).
	Kind schema.GroupVersionKind
	// Resource is the resource addressed by the URL, e.g. pods or leases.coordination.k8s.io.
	Resource schema.GroupVersionResource
	// Subresource is the URL's subresource ("status", "eviction", ...), empty for the main resource.
	Subresource string
	// Namespace is the request's namespace, empty for cluster-scoped resources.
	Namespace string
	// Name is the object name from the URL; on create it may be empty (the plugins then use
	// the object's name or generateName, as kube-apiserver does).
	Name string
	// Object is the new object (CREATE, UPDATE, CONNECT options); mutating plugins may change it.
	Object runtime.Object
	// OldObject is the stored object for UPDATE and, where the apiserver has it, DELETE.
	OldObject runtime.Object
	// User is who sends the request.
	User authn.User
	// DryRun is set for ?dryRun=All requests: plugins must not change other objects.
	DryRun bool
}

// Plugin is anything that can sit in a Chain; it must also be a Mutator, a Validator, or both.
type Plugin interface {
	// Name is the --enable-admission-plugins name of the plugin.
	Name() string
}

// Mutator is a plugin that runs in the mutating phase and may change a.Object (defaults,
// injected volumes, computed fields) or refuse the request.
type Mutator interface {
	Plugin
	Admit(ctx context.Context, a *Attributes) error
}

// Validator is a plugin that runs after all mutators and object validation and may only refuse.
type Validator interface {
	Plugin
	Validate(ctx context.Context, a *Attributes) error
}

// Releaser is a plugin that gives back accounting (ResourceQuota usage) after the apiserver has
// deleted an object, or updated it so that it uses less; see Chain.Release.
type Releaser interface {
	Plugin
	Release(ctx context.Context, a *Attributes) error
}

// Plugin names, spelled as kube-apiserver's --enable-admission-plugins expects them.
const (
	NamespaceLifecyclePluginName       = "NamespaceLifecycle"
	LimitRangerPluginName              = "LimitRanger"
	ServiceAccountPluginName           = "ServiceAccount"
	NodeRestrictionPluginName          = "NodeRestriction"
	PriorityPluginName                 = "Priority"
	DefaultTolerationSecondsPluginName = "DefaultTolerationSeconds"
	ResourceQuotaPluginName            = "ResourceQuota"
)

// orderedPlugins is kube-apiserver's recommended plugin order restricted to the plugins kforge
// implements; a Chain always runs plugins in this order whatever order the names were given in,
// exactly as kube-apiserver ignores the order of --enable-admission-plugins.
var orderedPlugins = []string{
	NamespaceLifecyclePluginName,
	LimitRangerPluginName,
	ServiceAccountPluginName,
	NodeRestrictionPluginName,
	PriorityPluginName,
	DefaultTolerationSecondsPluginName,
	ResourceQuotaPluginName,
}

// DefaultPlugins are the plugins enabled when no --enable-admission-plugins is given: the set a
// kubeadm cluster runs (kube-apiserver's defaults plus NodeRestriction), in recommended order.
var DefaultPlugins = slices.Clone(orderedPlugins)

// KnownPlugins returns the names New accepts, in the order a Chain runs them.
func KnownPlugins() []string { return slices.Clone(orderedPlugins) }

// Chain runs a fixed, ordered set of plugins: Admit runs every Mutator in order, Validate every
// Validator in order, like kube-apiserver's mutating and validating admission phases.
type Chain struct {
	plugins    []Plugin
	mutators   []Mutator
	validators []Validator
	releasers  []Releaser
}

// New builds a Chain from --enable-admission-plugins style names (duplicates are ignored;
// the run order is the recommended order, not the given one). An unknown name is an error that
// lists the known ones, so a typo in a flag fails start-up instead of silently disabling a plugin.
// Each plugin checks that deps has the lookups it needs.
func New(names []string, deps Deps) (*Chain, error) {
	want := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(orderedPlugins, n) {
			return nil, fmt.Errorf("enable-admission-plugins plugin %q is unknown; known plugins: %s", n, strings.Join(orderedPlugins, ", "))
		}
		want[n] = true
	}
	var plugins []Plugin
	var errs []error
	for _, n := range orderedPlugins {
		if !want[n] {
			continue
		}
		p, err := newPlugin(n, deps)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		plugins = append(plugins, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return NewChain(plugins...), nil
}

// NewChain builds a Chain from already constructed plugins, run in the given order; it is how
// tests and embedders add plugins of their own.
func NewChain(plugins ...Plugin) *Chain {
	c := &Chain{plugins: plugins}
	for _, p := range plugins {
		if m, ok := p.(Mutator); ok {
			c.mutators = append(c.mutators, m)
		}
		if v, ok := p.(Validator); ok {
			c.validators = append(c.validators, v)
		}
		if r, ok := p.(Releaser); ok {
			c.releasers = append(c.releasers, r)
		}
	}
	return c
}

func newPlugin(name string, deps Deps) (Plugin, error) {
	switch name {
	case NamespaceLifecyclePluginName:
		return NewNamespaceLifecycle(deps)
	case LimitRangerPluginName:
		return NewLimitRanger(deps)
	case ServiceAccountPluginName:
		return NewServiceAccount(deps)
	case NodeRestrictionPluginName:
		return NewNodeRestriction(deps)
	case PriorityPluginName:
		return NewPriority(deps)
	case DefaultTolerationSecondsPluginName:
		return NewDefaultTolerationSeconds(), nil
	case ResourceQuotaPluginName:
		return NewResourceQuota(deps)
	}
	return nil, fmt.Errorf("enable-admission-plugins plugin %q is unknown", name)
}

// Plugins returns the chain's plugins in run order, e.g. for logging the enabled set.
func (c *Chain) Plugins() []Plugin { return slices.Clone(c.plugins) }

// Names returns the names of the chain's plugins in run order.
func (c *Chain) Names() []string {
	out := make([]string, 0, len(c.plugins))
	for _, p := range c.plugins {
		out = append(out, p.Name())
	}
	return out
}

// Admit runs the mutating phase: every Mutator in order, stopping at the first refusal.
func (c *Chain) Admit(ctx context.Context, a *Attributes) error {
	if c == nil {
		return nil
	}
	for _, m := range c.mutators {
		if err := m.Admit(ctx, a); err != nil {
			return toStatusError(err)
		}
	}
	return nil
}

// Validate runs the validating phase: every Validator in order, stopping at the first refusal.
func (c *Chain) Validate(ctx context.Context, a *Attributes) error {
	if c == nil {
		return nil
	}
	for _, v := range c.validators {
		if err := v.Validate(ctx, a); err != nil {
			return toStatusError(err)
		}
	}
	return nil
}

// Run is Admit followed by Validate, for callers with no object validation of their own between
// the two phases.
func (c *Chain) Run(ctx context.Context, a *Attributes) error {
	if err := c.Admit(ctx, a); err != nil {
		return err
	}
	return c.Validate(ctx, a)
}

// Release must be called by the apiserver after it has deleted an object (a.Operation DELETE,
// the deleted object in a.OldObject or a.Object) or stored an update that may lower usage
// (a.Operation UPDATE, e.g. a pod reaching Succeeded through pods/status), and after a create
// that was admitted but then failed to be stored (a.Operation DELETE with the rejected object):
// it returns ResourceQuota usage. It is a no-op when a.DryRun is set.
func (c *Chain) Release(ctx context.Context, a *Attributes) error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, r := range c.releasers {
		if err := r.Release(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// toStatusError makes sure whatever a plugin returns reaches the client as an API status.
func toStatusError(err error) error {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return err
	}
	return apierrors.NewInternalError(err)
}

// objectName is the name kube-apiserver's admission errors use for the target object: the URL
// name, else the object's name, else its generateName, else "Unknown".
func (a *Attributes) objectName() string {
	if a.Name != "" {
		return a.Name
	}
	if a.Object != nil {
		if acc, err := meta.Accessor(a.Object); err == nil {
			if acc.GetName() != "" {
				return acc.GetName()
			}
			if acc.GetGenerateName() != "" {
				return acc.GetGenerateName()
			}
		} else {
			return "Unknown/errorGettingName"
		}
	}
	return "Unknown"
}

// forbidden builds the 403 kube-apiserver's admission.NewForbidden builds:
// `<resource> "<name>" is forbidden: <err>`. A Forbidden error is passed through unwrapped.
func forbidden(a *Attributes, err error) error {
	if apierrors.IsForbidden(err) {
		return err
	}
	return apierrors.NewForbidden(a.Resource.GroupResource(), a.objectName(), err)
}

// forbiddenf is forbidden with a formatted message.
func forbiddenf(a *Attributes, format string, args ...any) error {
	return forbidden(a, fmt.Errorf(format, args...))
}

// internal wraps an unexpected lookup failure as a 500 unless it already is an API status.
func internal(err error) error {
	return toStatusError(err)
}

// groupResource is a shorthand for comparisons against a.Resource.
func (a *Attributes) groupResource() schema.GroupResource { return a.Resource.GroupResource() }

// Group resources the plugins look at.
var (
	podsResource            = schema.GroupResource{Resource: "pods"}
	nodesResource           = schema.GroupResource{Resource: "nodes"}
	namespacesResource      = schema.GroupResource{Resource: "namespaces"}
	servicesResource        = schema.GroupResource{Resource: "services"}
	pvcResource             = schema.GroupResource{Resource: "persistentvolumeclaims"}
	serviceAccountsResource = schema.GroupResource{Resource: "serviceaccounts"}
	eventsResource          = schema.GroupResource{Resource: "events"}
	leasesResource          = schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
	csiNodesResource        = schema.GroupResource{Group: "storage.k8s.io", Resource: "csinodes"}
	priorityClassesResource = schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}
	localSARResource        = schema.GroupResource{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}
)
