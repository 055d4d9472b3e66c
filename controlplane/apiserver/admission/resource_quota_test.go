package admission

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func newQuota(name string, hard corev1.ResourceList) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
}

func newQuotaPlugin(t *testing.T, f *fakeDeps) *ResourceQuota {
	t.Helper()
	p, err := NewResourceQuota(f.deps())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wantUsed(t *testing.T, f *fakeDeps, name string, want corev1.ResourceList) {
	t.Helper()
	q := f.quota("ns", name)
	for k, v := range want {
		got, ok := q.Status.Used[k]
		if !ok || got.Cmp(v) != 0 {
			t.Fatalf("quota %s used[%s] = %v (present %v), want %s; status %v", name, k, got.String(), ok, v.String(), q.Status.Used)
		}
	}
}

func TestQuotaPodCount(t *testing.T) {
	f := newFake()
	f.addQuota(newQuota("q", rl("pods", "2")))
	p := newQuotaPlugin(t, f)
	ctx := context.Background()
	for _, name := range []string{"p1", "p2"} {
		if err := p.Validate(ctx, createPod(newPod("ns", name))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	wantUsed(t, f, "q", rl("pods", "2"))
	q := f.quota("ns", "q")
	if !equality.Semantic.DeepEqual(q.Status.Hard, rl("pods", "2")) {
		t.Fatalf("status.hard %v", q.Status.Hard)
	}
	err := p.Validate(ctx, createPod(newPod("ns", "p3")))
	wantErr(t, err, 403, `pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2`)
	wantUsed(t, f, "q", rl("pods", "2"))

	// generateName is used as the name when the pod has none yet
	pod := newPod("ns", "")
	pod.GenerateName = "web-"
	wantErr(t, p.Validate(ctx, createPod(pod)), 403, `pods "web-" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2`)

	// deleting a pod gives its unit back, and usage never goes below zero
	del := &Attributes{Operation: Delete, Resource: podGVR, Namespace: "ns", Name: "p1", OldObject: newPod("ns", "p1")}
	if err := p.Release(ctx, del); err != nil {
		t.Fatal(err)
	}
	wantUsed(t, f, "q", rl("pods", "1"))
	for i := 0; i < 3; i++ {
		if err := p.Release(ctx, del); err != nil {
			t.Fatal(err)
		}
	}
	wantUsed(t, f, "q", rl("pods", "0"))
	if err := p.Validate(ctx, createPod(newPod("ns", "p4"))); err != nil {
		t.Fatal(err)
	}
	wantUsed(t, f, "q", rl("pods", "1"))
}

func TestQuotaCountsExistingObjectsAndSkipsTerminalPods(t *testing.T) {
	f := newFake()
	running := newPod("ns", "running", container("c", rl("cpu", "200m", "memory", "64Mi"), rl("cpu", "200m", "memory", "64Mi")))
	done := newPod("ns", "done", container("c", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi")))
	done.Status.Phase = corev1.PodSucceeded
	failed := newPod("ns", "failed", container("c", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi")))
	failed.Status.Phase = corev1.PodFailed
	elsewhere := newPod("other", "x", container("c", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi")))
	f.objects[podsResource] = []runtime.Object{running, done, failed, elsewhere}
	f.objects[schema.GroupResource{Resource: "configmaps"}] = []runtime.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b"}},
	}
	f.addQuota(newQuota("q", rl("pods", "2", "count/pods", "10", "requests.cpu", "1", "cpu", "1", "limits.memory", "1Gi", "configmaps", "5")))
	p := newQuotaPlugin(t, f)
	ctx := context.Background()

	// first admission initialises the status from the stored objects
	if err := p.Validate(ctx, createPod(newPod("ns", "new", container("c", rl("cpu", "300m"), rl("cpu", "300m", "memory", "128Mi"))))); err != nil {
		t.Fatal(err)
	}
	wantUsed(t, f, "q", rl("pods", "2", "count/pods", "4", "requests.cpu", "500m", "cpu", "500m", "limits.memory", "192Mi", "configmaps", "2"))

	// third non-terminal pod exceeds pods=2 although five pods exist
	err := p.Validate(ctx, createPod(newPod("ns", "big", container("c", rl("cpu", "600m"), rl("cpu", "600m", "memory", "1Gi")))))
	wantErr(t, err, 403, `pods "big" is forbidden: exceeded quota: q, requested: cpu=600m,limits.memory=1Gi,pods=1,requests.cpu=600m, used: cpu=500m,limits.memory=192Mi,pods=2,requests.cpu=500m, limited: cpu=1,limits.memory=1Gi,pods=2,requests.cpu=1`)

	// a pod reaching Succeeded (status update) gives its compute usage back but stays counted
	old := running.DeepCopy()
	old.ResourceVersion = "5"
	finished := old.DeepCopy()
	finished.Status.Phase = corev1.PodSucceeded
	if err := p.Release(ctx, &Attributes{Operation: Update, Resource: podGVR, Subresource: "status", Namespace: "ns", Name: "running", Object: finished, OldObject: old}); err != nil {
		t.Fatal(err)
	}
	wantUsed(t, f, "q", rl("pods", "1", "count/pods", "4", "requests.cpu", "300m", "cpu", "300m", "limits.memory", "128Mi"))
}

func TestQuotaComputeConstraints(t *testing.T) {
	f := newFake()
	f.addQuota(newQuota("compute", rl("requests.cpu", "1", "limits.memory", "1Gi")))
	p := newQuotaPlugin(t, f)
	pod := newPod("ns", "p", container("b", nil, nil), container("a", rl("cpu", "100m"), nil))
	pod.Spec.InitContainers = []corev1.Container{container("init", nil, rl("memory", "10Mi"))}
	err := p.Validate(context.Background(), createPod(pod))
	wantErr(t, err, 403, `pods "p" is forbidden: failed quota: compute: must specify limits.memory for: a,b; must specify requests.cpu for: b,init`)

	// requests.cpu accumulates; the second 600m pod exceeds the 1 CPU hard limit
	mk := func(name string) *corev1.Pod {
		return newPod("ns", name, container("c", rl("cpu", "600m"), rl("memory", "100Mi")))
	}
	if err := p.Validate(context.Background(), createPod(mk("one"))); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.Validate(context.Background(), createPod(mk("two"))), 403,
		`pods "two" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1`)
}

func TestQuotaConflictRetry(t *testing.T) {
	f := newFake()
	q := newQuota("q", rl("pods", "3"))
	q.Status = corev1.ResourceQuotaStatus{Hard: rl("pods", "3"), Used: rl("pods", "1")}
	f.addQuota(q)
	p := newQuotaPlugin(t, f)

	// another writer admits a pod between our read and our write: we re-read and count on top
	f.conflictsLeft = 1
	f.onConflict = func(q *corev1.ResourceQuota) { q.Status.Used = rl("pods", "2") }
	if err := p.Validate(context.Background(), createPod(newPod("ns", "p"))); err != nil {
		t.Fatal(err)
	}
	wantUsed(t, f, "q", rl("pods", "3"))

	// the concurrent writer took the last unit: the retry refuses with fresh numbers
	f.quotas["ns/q"].Status.Used = rl("pods", "2")
	f.conflictsLeft = 1
	f.onConflict = func(q *corev1.ResourceQuota) { q.Status.Used = rl("pods", "3") }
	wantErr(t, p.Validate(context.Background(), createPod(newPod("ns", "late"))), 403,
		`pods "late" is forbidden: exceeded quota: q, requested: pods=1, used: pods=3, limited: pods=3`)

	// endless conflicts give up with the conflict
	f.quotas["ns/q"].Status.Used = rl("pods", "0")
	f.conflictsLeft = 100
	f.onConflict = nil
	err := p.Validate(context.Background(), createPod(newPod("ns", "x")))
	wantErr(t, err, 409, `Operation cannot be fulfilled on resourcequotas "q": the object has been modified; please apply your changes to the latest version and try again`)
	if f.conflictsLeft != 100-DefaultQuotaUpdateAttempts {
		t.Fatalf("attempts = %d", 100-f.conflictsLeft)
	}
}

func TestQuotaDryRunDoesNotCharge(t *testing.T) {
	f := newFake()
	q := newQuota("q", rl("pods", "1"))
	q.Status = corev1.ResourceQuotaStatus{Hard: rl("pods", "1"), Used: rl("pods", "0")}
	f.addQuota(q)
	p := newQuotaPlugin(t, f)
	a := createPod(newPod("ns", "p"))
	a.DryRun = true
	if err := p.Validate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if f.statusWrites != 0 {
		t.Fatalf("dry run wrote status %d times", f.statusWrites)
	}
	wantUsed(t, f, "q", rl("pods", "0"))
}

func TestQuotaObjectCountsAndServices(t *testing.T) {
	f := newFake()
	f.addQuota(newQuota("objects", rl("configmaps", "1", "count/configmaps", "1", "count/deployments.apps", "1",
		"services", "5", "services.nodeports", "2", "services.loadbalancers", "0")))
	p := newQuotaPlugin(t, f)
	ctx := context.Background()
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	depGVR := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	svcGVR := schema.GroupVersionResource{Version: "v1", Resource: "services"}
	cm := func(n string) *Attributes {
		return &Attributes{Operation: Create, Resource: cmGVR, Namespace: "ns", Object: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n}}}
	}
	dep := func(n string) *Attributes {
		return &Attributes{Operation: Create, Resource: depGVR, Namespace: "ns", Object: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: n}}}
	}
	svc := func(n string, typ corev1.ServiceType, ports int) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: n, ResourceVersion: "1"}, Spec: corev1.ServiceSpec{Type: typ}}
		for i := 0; i < ports; i++ {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: int32(80 + i)})
		}
		return s
	}
	if err := p.Validate(ctx, cm("a")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.Validate(ctx, cm("b")), 403, `configmaps "b" is forbidden: exceeded quota: objects, requested: configmaps=1,count/configmaps=1, used: configmaps=1,count/configmaps=1, limited: configmaps=1,count/configmaps=1`)
	if err := p.Validate(ctx, dep("d1")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.Validate(ctx, dep("d2")), 403, `deployments.apps "d2" is forbidden: exceeded quota: objects, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1`)
	// updates of plain objects are not charged
	if err := p.Validate(ctx, &Attributes{Operation: Update, Resource: cmGVR, Namespace: "ns", Name: "a", Object: &corev1.ConfigMap{}, OldObject: &corev1.ConfigMap{}}); err != nil {
		t.Fatal(err)
	}

	create := func(s *corev1.Service) *Attributes {
		return &Attributes{Operation: Create, Resource: svcGVR, Namespace: "ns", Object: s}
	}
	if err := p.Validate(ctx, create(svc("np", corev1.ServiceTypeNodePort, 2))); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.Validate(ctx, create(svc("np2", corev1.ServiceTypeNodePort, 1))), 403,
		`services "np2" is forbidden: exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=2, limited: services.nodeports=2`)
	wantErr(t, p.Validate(ctx, create(svc("lb", corev1.ServiceTypeLoadBalancer, 0))), 403,
		`services "lb" is forbidden: exceeded quota: objects, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0`)
	// switching a ClusterIP service to NodePort is charged on update
	cip := svc("cip", corev1.ServiceTypeClusterIP, 1)
	if err := p.Validate(ctx, create(cip)); err != nil {
		t.Fatal(err)
	}
	wantUsed(t, f, "objects", rl("services", "2", "services.nodeports", "2"))
	upd := cip.DeepCopy()
	upd.Spec.Type = corev1.ServiceTypeNodePort
	wantErr(t, p.Validate(ctx, &Attributes{Operation: Update, Resource: svcGVR, Namespace: "ns", Name: "cip", Object: upd, OldObject: cip}), 403,
		`services "cip" is forbidden: exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=2, limited: services.nodeports=2`)
	// deleting the NodePort service frees its ports
	if err := p.Release(ctx, &Attributes{Operation: Delete, Resource: svcGVR, Namespace: "ns", Name: "np", OldObject: svc("np", corev1.ServiceTypeNodePort, 2)}); err != nil {
		t.Fatal(err)
	}
	wantUsed(t, f, "objects", rl("services", "1", "services.nodeports", "0"))
}

func TestQuotaScopes(t *testing.T) {
	f := newFake()
	be := newQuota("besteffort", rl("pods", "1"))
	be.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}
	f.addQuota(be)
	hi := newQuota("high", rl("pods", "0"))
	hi.Spec.ScopeSelector = &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{
		{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn, Values: []string{"high"}}}}
	f.addQuota(hi)
	p := newQuotaPlugin(t, f)
	ctx := context.Background()
	burst := func(name string) *corev1.Pod { return newPod("ns", name, container("c", rl("cpu", "1"), nil)) }
	// not best-effort, no priority class: no quota applies
	for _, n := range []string{"a", "b"} {
		if err := p.Validate(ctx, createPod(burst(n))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Validate(ctx, createPod(newPod("ns", "be1"))); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.Validate(ctx, createPod(newPod("ns", "be2"))), 403, `pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1`)
	hp := burst("hp")
	hp.Spec.PriorityClassName = "high"
	wantErr(t, p.Validate(ctx, createPod(hp)), 403, `pods "hp" is forbidden: exceeded quota: high, requested: pods=1, used: pods=0, limited: pods=0`)
}

func TestQuotaRecalculate(t *testing.T) {
	f := newFake()
	f.objects[pvcResource] = []runtime.Object{&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptrTo("fast"), Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", "5Gi")}}}}
	p := newQuotaPlugin(t, f)
	q := newQuota("s", rl("requests.storage", "10Gi", "persistentvolumeclaims", "3", "fast.storageclass.storage.k8s.io/requests.storage", "8Gi", "count/widgets.example.com", "4"))
	got, err := p.Recalculate(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	want := rl("requests.storage", "5Gi", "persistentvolumeclaims", "1", "fast.storageclass.storage.k8s.io/requests.storage", "5Gi", "count/widgets.example.com", "0")
	if !equality.Semantic.DeepEqual(got.Status.Used, want) || !equality.Semantic.DeepEqual(got.Status.Hard, q.Spec.Hard) {
		t.Fatalf("status %+v", got.Status)
	}
}

func ptrTo[T any](v T) *T { return &v }
