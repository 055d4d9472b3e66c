package admission

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Priority values and names Kubernetes reserves for the system, so that node agents and cluster
// add-ons always outrank (and can preempt) user workloads.
const (
	// HighestUserDefinablePriority is the largest value a user PriorityClass may have.
	HighestUserDefinablePriority int32 = 1000000000
	// SystemCriticalPriority is the base value of the built-in classes.
	SystemCriticalPriority int32 = 2 * HighestUserDefinablePriority
	// SystemPriorityClassPrefix starts every reserved class name.
	SystemPriorityClassPrefix = "system-"
	// SystemClusterCritical is the class for add-ons that must run somewhere in the cluster.
	SystemClusterCritical = SystemPriorityClassPrefix + "cluster-critical"
	// SystemNodeCritical is the class for pods that must run on their node.
	SystemNodeCritical = SystemPriorityClassPrefix + "node-critical"
	// DefaultPriorityWhenNoDefaultClassExists is the priority of pods without a class when no
	// PriorityClass is the global default.
	DefaultPriorityWhenNoDefaultClassExists int32 = 0
)

// SystemPriorityClasses returns fresh copies of the built-in PriorityClasses, which the
// apiserver creates at start-up (as kube-apiserver's bootstrap does) so that static pods and
// add-ons naming them are admitted.
func SystemPriorityClasses() []*schedulingv1.PriorityClass {
	policy := corev1.PreemptLowerPriority
	mk := func(name string, value int32, desc string) *schedulingv1.PriorityClass {
		p := policy
		return &schedulingv1.PriorityClass{
			TypeMeta:         metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1", Kind: "PriorityClass"},
			ObjectMeta:       metav1.ObjectMeta{Name: name},
			Value:            value,
			Description:      desc,
			PreemptionPolicy: &p,
		}
	}
	return []*schedulingv1.PriorityClass{
		mk(SystemNodeCritical, SystemCriticalPriority+1000, "Used for system critical pods that must not be moved from their current node."),
		mk(SystemClusterCritical, SystemCriticalPriority, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
	}
}

// isKnownSystemPriorityClass checks a system- class against the built-in definitions.
func isKnownSystemPriorityClass(pc *schedulingv1.PriorityClass) error {
	for _, spc := range SystemPriorityClasses() {
		if spc.Name != pc.Name {
			continue
		}
		if spc.Value != pc.Value {
			return fmt.Errorf("value of %v PriorityClass must be %v", spc.Name, spc.Value)
		}
		if spc.GlobalDefault != pc.GlobalDefault {
			return fmt.Errorf("globalDefault of %v PriorityClass must be %v", spc.Name, spc.GlobalDefault)
		}
		return nil
	}
	return fmt.Errorf("%v is not a known system priority class", pc.Name)
}

// Priority resolves a new pod's spec.priorityClassName into spec.priority and
// spec.preemptionPolicy, so the scheduler and the kubelet can rank pods by a number users cannot
// forge, and guards PriorityClasses (one global default, reserved names and values).
type Priority struct {
	classes PriorityClassGetter
}

// NewPriority builds the plugin; it needs deps.PriorityClasses.
func NewPriority(deps Deps) (*Priority, error) {
	if err := requireDep(PriorityPluginName, "PriorityClasses", deps.PriorityClasses != nil); err != nil {
		return nil, err
	}
	return &Priority{classes: deps.PriorityClasses}, nil
}

// Name implements Plugin.
func (*Priority) Name() string { return PriorityPluginName }

// Admit implements Mutator for pods.
func (p *Priority) Admit(ctx context.Context, a *Attributes) error {
	if a.Subresource != "" || a.groupResource() != podsResource {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	switch a.Operation {
	case Update:
		// Priority is immutable; keep what create computed if the update dropped it.
		if old, ok := a.OldObject.(*corev1.Pod); ok {
			if pod.Spec.Priority == nil && old.Spec.Priority != nil {
				v := *old.Spec.Priority
				pod.Spec.Priority = &v
			}
			if pod.Spec.PreemptionPolicy == nil && old.Spec.PreemptionPolicy != nil {
				v := *old.Spec.PreemptionPolicy
				pod.Spec.PreemptionPolicy = &v
			}
		}
		return nil
	case Create:
	default:
		return nil
	}

	var priority int32
	var policy *corev1.PreemptionPolicy
	if pod.Spec.PriorityClassName == "" {
		dpc, err := p.defaultClass(ctx)
		if err != nil {
			return apierrors.NewInternalError(fmt.Errorf("failed to get default priority class: %v", err))
		}
		if dpc != nil {
			pod.Spec.PriorityClassName = dpc.Name
			priority, policy = dpc.Value, dpc.PreemptionPolicy
		} else {
			priority = DefaultPriorityWhenNoDefaultClassExists
			pl := corev1.PreemptLowerPriority
			policy = &pl
		}
	} else {
		pc, err := p.getClass(ctx, pod.Spec.PriorityClassName)
		if err != nil {
			if apierrors.IsNotFound(err) {
				return forbiddenf(a, "no PriorityClass with name %v was found", pod.Spec.PriorityClassName)
			}
			return apierrors.NewInternalError(fmt.Errorf("failed to get PriorityClass with name %s: %v", pod.Spec.PriorityClassName, err))
		}
		priority, policy = pc.Value, pc.PreemptionPolicy
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return forbiddenf(a, "the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, priority)
	}
	pod.Spec.Priority = &priority
	if policy != nil {
		if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != *policy {
			return forbiddenf(a, "the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, *policy)
		}
		pl := *policy
		pod.Spec.PreemptionPolicy = &pl
	}
	return nil
}

// getClass looks a class up, falling back to the built-in system classes so critical pods are
// admitted even before the apiserver has stored them.
func (p *Priority) getClass(ctx context.Context, name string) (*schedulingv1.PriorityClass, error) {
	pc, err := p.classes.GetPriorityClass(ctx, name)
	if err == nil {
		return pc, nil
	}
	if apierrors.IsNotFound(err) {
		for _, spc := range SystemPriorityClasses() {
			if spc.Name == name {
				return spc, nil
			}
		}
	}
	return nil, err
}

// defaultClass returns the global default class; if several exist (a create race), the one
// with the lowest value wins, as in Kubernetes.
func (p *Priority) defaultClass(ctx context.Context) (*schedulingv1.PriorityClass, error) {
	list, err := p.classes.ListPriorityClasses(ctx)
	if err != nil {
		return nil, err
	}
	var def *schedulingv1.PriorityClass
	for _, pc := range list {
		if pc.GlobalDefault && (def == nil || pc.Value < def.Value) {
			def = pc
		}
	}
	return def, nil
}

var priorityClassKind = schema.GroupKind{Group: "scheduling.k8s.io", Kind: "PriorityClass"}

// Validate implements Validator for PriorityClasses: reserved system- names must match the
// built-in classes, user values stay at or below HighestUserDefinablePriority (both 422 Invalid,
// as kube-apiserver's validation reports them), and only one class may be the global default.
func (p *Priority) Validate(ctx context.Context, a *Attributes) error {
	if a.Subresource != "" || a.groupResource() != priorityClassesResource {
		return nil
	}
	if a.Operation != Create && a.Operation != Update {
		return nil
	}
	pc, ok := a.Object.(*schedulingv1.PriorityClass)
	if !ok {
		return nil
	}
	if strings.HasPrefix(pc.Name, SystemPriorityClassPrefix) {
		if err := isKnownSystemPriorityClass(pc); err != nil {
			return apierrors.NewInvalid(priorityClassKind, pc.Name, field.ErrorList{field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+SystemPriorityClassPrefix+"' prefix are reserved for system use only. error: "+err.Error())})
		}
	} else if pc.Value > HighestUserDefinablePriority {
		return apierrors.NewInvalid(priorityClassKind, pc.Name, field.ErrorList{field.Forbidden(field.NewPath("value"),
			fmt.Sprintf("maximum allowed value of a user defined priority is %v", HighestUserDefinablePriority))})
	}
	if pc.GlobalDefault {
		dpc, err := p.defaultClass(ctx)
		if err != nil {
			return apierrors.NewInternalError(fmt.Errorf("failed to get default priority class: %v", err))
		}
		if dpc != nil && (a.Operation == Create || dpc.Name != pc.Name) {
			return forbiddenf(a, "PriorityClass %v is already marked as default. Only one default can exist", dpc.Name)
		}
	}
	return nil
}
