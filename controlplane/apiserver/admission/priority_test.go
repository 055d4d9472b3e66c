package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func pc(name string, value int32, def bool, policy corev1.PreemptionPolicy) *schedulingv1.PriorityClass {
	p := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value, GlobalDefault: def}
	if policy != "" {
		p.PreemptionPolicy = &policy
	}
	return p
}

func TestPriorityPods(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	never := corev1.PreemptNever
	tests := []struct {
		name       string
		classes    []*schedulingv1.PriorityClass
		className  string
		priority   *int32
		policy     *corev1.PreemptionPolicy
		code       int32
		msg        string
		wantPrio   int32
		wantClass  string
		wantPolicy corev1.PreemptionPolicy
	}{
		{name: "no class, no default", wantPrio: 0, wantPolicy: corev1.PreemptLowerPriority},
		{name: "global default", classes: []*schedulingv1.PriorityClass{pc("low", 10, true, corev1.PreemptNever), pc("high", 100, false, "")},
			wantPrio: 10, wantClass: "low", wantPolicy: corev1.PreemptNever},
		{name: "two defaults: lowest wins", classes: []*schedulingv1.PriorityClass{pc("a", 10, true, ""), pc("b", 5, true, "")}, wantPrio: 5, wantClass: "b"},
		{name: "named class", classes: []*schedulingv1.PriorityClass{pc("high", 1000, false, corev1.PreemptLowerPriority)}, className: "high",
			wantPrio: 1000, wantClass: "high", wantPolicy: corev1.PreemptLowerPriority},
		{name: "missing class", className: "nope", code: 403, msg: `pods "p" is forbidden: no PriorityClass with name nope was found`},
		{name: "built-in class without stored object", className: SystemNodeCritical, wantPrio: 2000001000, wantClass: SystemNodeCritical, wantPolicy: corev1.PreemptLowerPriority},
		{name: "matching priority accepted", classes: []*schedulingv1.PriorityClass{pc("high", 1000, false, "")}, className: "high", priority: i32(1000), wantPrio: 1000, wantClass: "high"},
		{name: "conflicting priority", classes: []*schedulingv1.PriorityClass{pc("high", 1000, false, "")}, className: "high", priority: i32(7), code: 403,
			msg: `pods "p" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name`},
		{name: "conflicting preemption policy", classes: []*schedulingv1.PriorityClass{pc("high", 1000, false, corev1.PreemptLowerPriority)}, className: "high", policy: &never, code: 403,
			msg: `pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			for _, c := range tt.classes {
				f.priorityClasses[c.Name] = c
			}
			p, _ := NewPriority(f.deps())
			pod := newPod("ns", "p")
			pod.Spec.PriorityClassName = tt.className
			pod.Spec.Priority = tt.priority
			pod.Spec.PreemptionPolicy = tt.policy
			err := p.Admit(context.Background(), createPod(pod))
			wantErr(t, err, tt.code, tt.msg)
			if err != nil {
				return
			}
			if pod.Spec.Priority == nil || *pod.Spec.Priority != tt.wantPrio {
				t.Errorf("priority %v, want %d", pod.Spec.Priority, tt.wantPrio)
			}
			if pod.Spec.PriorityClassName != tt.wantClass {
				t.Errorf("class %q, want %q", pod.Spec.PriorityClassName, tt.wantClass)
			}
			if tt.wantPolicy != "" && (pod.Spec.PreemptionPolicy == nil || *pod.Spec.PreemptionPolicy != tt.wantPolicy) {
				t.Errorf("policy %v, want %s", pod.Spec.PreemptionPolicy, tt.wantPolicy)
			}
		})
	}
}

func TestPriorityPodUpdateKeepsPriority(t *testing.T) {
	p, _ := NewPriority(newFake().deps())
	old := newPod("ns", "p")
	v := int32(42)
	old.Spec.Priority = &v
	pod := newPod("ns", "p")
	a := createPod(pod)
	a.Operation, a.OldObject = Update, old
	if err := p.Admit(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.Priority == nil || *pod.Spec.Priority != 42 {
		t.Fatalf("priority %v", pod.Spec.Priority)
	}
}

func TestPriorityClassValidation(t *testing.T) {
	gvr := schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"}
	f := newFake()
	f.priorityClasses["default"] = pc("default", 5, true, "")
	p, _ := NewPriority(f.deps())
	tests := []struct {
		name string
		op   Operation
		obj  *schedulingv1.PriorityClass
		code int32
		msg  string
	}{
		{"plain", Create, pc("x", 100, false, ""), 0, ""},
		{"second default", Create, pc("x", 100, true, ""), 403, `priorityclasses.scheduling.k8s.io "x" is forbidden: PriorityClass default is already marked as default. Only one default can exist`},
		{"update existing default", Update, pc("default", 6, true, ""), 0, ""},
		{"mark another default", Update, pc("other", 6, true, ""), 403, `priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass default is already marked as default. Only one default can exist`},
		{"too high", Create, pc("x", 1000000001, false, ""), 422, `PriorityClass.scheduling.k8s.io "x" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000`},
		{"reserved prefix", Create, pc("system-foo", 10, false, ""), 422, `PriorityClass.scheduling.k8s.io "system-foo" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-foo is not a known system priority class`},
		{"built-in wrong value", Create, pc(SystemClusterCritical, 5, false, ""), 422, `PriorityClass.scheduling.k8s.io "system-cluster-critical" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Validate(context.Background(), &Attributes{Operation: tt.op, Resource: gvr, Name: tt.obj.Name, Object: tt.obj})
			wantErr(t, err, tt.code, tt.msg)
		})
	}
	for _, spc := range SystemPriorityClasses() {
		if err := p.Validate(context.Background(), &Attributes{Operation: Create, Resource: gvr, Object: spc}); err != nil {
			t.Fatalf("built-in %s refused: %v", spc.Name, err)
		}
	}
}
