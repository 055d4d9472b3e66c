package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func limitRange(items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "lr"}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func runLimitRanger(t *testing.T, lr *corev1.LimitRange, a *Attributes) error {
	t.Helper()
	f := newFake()
	if lr != nil {
		f.limitRanges["ns"] = []*corev1.LimitRange{lr}
	}
	p, err := NewLimitRanger(f.deps())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Admit(context.Background(), a); err != nil {
		return err
	}
	return p.Validate(context.Background(), a)
}

func TestLimitRangerDefaults(t *testing.T) {
	tests := []struct {
		name       string
		item       corev1.LimitRangeItem
		in         corev1.Container
		wantReq    corev1.ResourceList
		wantLim    corev1.ResourceList
		annotation string
	}{
		{
			name:    "default and defaultRequest",
			item:    corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu", "500m", "memory", "256Mi"), DefaultRequest: rl("cpu", "100m", "memory", "128Mi")},
			in:      corev1.Container{Name: "c"},
			wantReq: rl("cpu", "100m", "memory", "128Mi"), wantLim: rl("cpu", "500m", "memory", "256Mi"),
			annotation: "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c",
		},
		{
			name:    "request defaults to the default limit",
			item:    corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu", "1")},
			in:      corev1.Container{Name: "c"},
			wantReq: rl("cpu", "1"), wantLim: rl("cpu", "1"),
			annotation: "LimitRanger plugin set: cpu request for container c; cpu limit for container c",
		},
		{
			name:    "explicit values kept",
			item:    corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu", "1"), DefaultRequest: rl("cpu", "200m")},
			in:      container("c", rl("cpu", "300m"), rl("cpu", "400m")),
			wantReq: rl("cpu", "300m"), wantLim: rl("cpu", "400m"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := newPod("ns", "p", tt.in)
			if err := runLimitRanger(t, limitRange(tt.item), createPod(pod)); err != nil {
				t.Fatal(err)
			}
			c := pod.Spec.Containers[0]
			if !equality.Semantic.DeepEqual(c.Resources.Requests, tt.wantReq) || !equality.Semantic.DeepEqual(c.Resources.Limits, tt.wantLim) {
				t.Fatalf("requests %v limits %v", c.Resources.Requests, c.Resources.Limits)
			}
			if got := pod.Annotations[LimitRangerAnnotation]; got != tt.annotation {
				t.Fatalf("annotation %q, want %q", got, tt.annotation)
			}
		})
	}
}

func TestLimitRangerValidation(t *testing.T) {
	pvcGVR := schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	pvc := func(size string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "claim"},
			Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", size)}}}
	}
	tests := []struct {
		name string
		item corev1.LimitRangeItem
		a    *Attributes
		msg  string
	}{
		{"max cpu limit", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "1")},
			createPod(newPod("ns", "p", container("c", rl("cpu", "500m"), rl("cpu", "2")))),
			`pods "p" is forbidden: maximum cpu usage per Container is 1, but limit is 2`},
		{"min memory request", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("memory", "100Mi")},
			createPod(newPod("ns", "p", container("c", rl("memory", "50Mi"), rl("memory", "200Mi")))),
			`pods "p" is forbidden: minimum memory usage per Container is 100Mi, but request is 50Mi`},
		{"max defaults the limit, which then passes", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "1")},
			createPod(newPod("ns", "p", container("c", rl("cpu", "500m"), nil))), ``},
		{"ratio", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: rl("cpu", "2")},
			createPod(newPod("ns", "p", container("c", rl("cpu", "100m"), rl("cpu", "500m")))),
			`pods "p" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000`},
		{"two errors aggregated", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "1", "memory", "1Gi")},
			createPod(newPod("ns", "p", container("c", nil, rl("cpu", "2", "memory", "2Gi")))),
			`pods "p" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Container is 1Gi, but limit is 2Gi]`},
		{"pod max", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("memory", "1Gi")},
			createPod(newPod("ns", "p", container("a", nil, rl("memory", "600Mi")), container("b", nil, rl("memory", "600Mi")))),
			`pods "p" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi`},
		{"pvc min", corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Min: rl("storage", "1Gi")},
			&Attributes{Operation: Create, Resource: pvcGVR, Namespace: "ns", Object: pvc("500Mi")},
			`persistentvolumeclaims "claim" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi`},
		{"pvc max", corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Max: rl("storage", "10Gi")},
			&Attributes{Operation: Create, Resource: pvcGVR, Namespace: "ns", Object: pvc("20Gi")},
			`persistentvolumeclaims "claim" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi`},
		{"pvc ok", corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Max: rl("storage", "10Gi")},
			&Attributes{Operation: Create, Resource: pvcGVR, Namespace: "ns", Object: pvc("5Gi")}, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, runLimitRanger(t, limitRange(tt.item), tt.a), 403, tt.msg)
		})
	}

	// pod updates are not checked (resources are immutable), as in Kubernetes
	pod := newPod("ns", "p", container("c", nil, rl("cpu", "2")))
	a := createPod(pod)
	a.Operation, a.Name, a.OldObject = Update, "p", pod.DeepCopy()
	if err := runLimitRanger(t, limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "1")}), a); err != nil {
		t.Fatal(err)
	}
}
