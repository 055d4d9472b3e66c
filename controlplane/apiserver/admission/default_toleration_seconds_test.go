package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

func TestDefaultTolerationSeconds(t *testing.T) {
	s := func(v int64) *int64 { return &v }
	notReady := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: s(300)}
	unreachable := corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: s(300)}
	custom := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: s(60)}
	wildcard := corev1.Toleration{Operator: corev1.TolerationOpExists}
	other := corev1.Toleration{Key: "foo", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	noSchedNotReady := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}

	tests := []struct {
		name string
		in   []corev1.Toleration
		want []corev1.Toleration
	}{
		{"none", nil, []corev1.Toleration{notReady, unreachable}},
		{"unrelated kept", []corev1.Toleration{other}, []corev1.Toleration{other, notReady, unreachable}},
		{"own not-ready kept", []corev1.Toleration{custom}, []corev1.Toleration{custom, unreachable}},
		{"wildcard tolerates all", []corev1.Toleration{wildcard}, []corev1.Toleration{wildcard}},
		{"NoSchedule does not count", []corev1.Toleration{noSchedNotReady}, []corev1.Toleration{noSchedNotReady, notReady, unreachable}},
	}
	p := NewDefaultTolerationSeconds()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := newPod("ns", "p")
			pod.Spec.Tolerations = tt.in
			if err := p.Admit(context.Background(), createPod(pod)); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(pod.Spec.Tolerations, tt.want) {
				t.Fatalf("got %+v\nwant %+v", pod.Spec.Tolerations, tt.want)
			}
		})
	}
	// updates are left alone
	pod := newPod("ns", "p")
	a := createPod(pod)
	a.Operation = Update
	_ = p.Admit(context.Background(), a)
	if len(pod.Spec.Tolerations) != 0 {
		t.Fatal("update mutated")
	}
}
