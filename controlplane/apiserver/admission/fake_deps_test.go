package admission

import (
	"context"
	"strconv"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// fakeDeps is an in-memory implementation of every Deps interface.
type fakeDeps struct {
	mu              sync.Mutex
	namespaces      map[string]*corev1.Namespace
	serviceAccounts map[string]*corev1.ServiceAccount // ns/name
	limitRanges     map[string][]*corev1.LimitRange
	quotas          map[string]*corev1.ResourceQuota // ns/name
	objects         map[schema.GroupResource][]runtime.Object
	priorityClasses map[string]*schedulingv1.PriorityClass
	pods            map[string]*corev1.Pod // ns/name
	nodes           map[string]*corev1.Node
	rv              int

	// conflictsLeft makes that many UpdateResourceQuotaStatus calls lose a race: before
	// answering Conflict, onConflict (if set) changes the stored quota like a concurrent writer.
	conflictsLeft int
	onConflict    func(q *corev1.ResourceQuota)
	statusWrites  int
}

func newFake() *fakeDeps {
	return &fakeDeps{
		namespaces:      map[string]*corev1.Namespace{},
		serviceAccounts: map[string]*corev1.ServiceAccount{},
		limitRanges:     map[string][]*corev1.LimitRange{},
		quotas:          map[string]*corev1.ResourceQuota{},
		objects:         map[schema.GroupResource][]runtime.Object{},
		priorityClasses: map[string]*schedulingv1.PriorityClass{},
		pods:            map[string]*corev1.Pod{},
		nodes:           map[string]*corev1.Node{},
	}
}

func (f *fakeDeps) deps() Deps {
	return Deps{Namespaces: f, ServiceAccounts: f, LimitRanges: f, ResourceQuotas: f, Objects: f, PriorityClasses: f, Pods: f, Nodes: f}
}

func (f *fakeDeps) nextRV() string { f.rv++; return strconv.Itoa(f.rv) }

func (f *fakeDeps) GetNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	if ns, ok := f.namespaces[name]; ok {
		return ns, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, name)
}

func (f *fakeDeps) GetServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	if sa, ok := f.serviceAccounts[ns+"/"+name]; ok {
		return sa, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name)
}

func (f *fakeDeps) ListLimitRanges(_ context.Context, ns string) ([]*corev1.LimitRange, error) {
	return f.limitRanges[ns], nil
}

func (f *fakeDeps) ListResourceQuotas(_ context.Context, ns string) ([]*corev1.ResourceQuota, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*corev1.ResourceQuota
	for _, q := range f.quotas {
		if q.Namespace == ns {
			out = append(out, q.DeepCopy())
		}
	}
	return out, nil
}

func (f *fakeDeps) UpdateResourceQuotaStatus(_ context.Context, q *corev1.ResourceQuota) (*corev1.ResourceQuota, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := q.Namespace + "/" + q.Name
	cur, ok := f.quotas[key]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "resourcequotas"}, q.Name)
	}
	if f.conflictsLeft > 0 {
		f.conflictsLeft--
		if f.onConflict != nil {
			f.onConflict(cur)
		}
		cur.ResourceVersion = f.nextRV()
	}
	if cur.ResourceVersion != q.ResourceVersion {
		return nil, apierrors.NewConflict(schema.GroupResource{Resource: "resourcequotas"}, q.Name, errString("the object has been modified; please apply your changes to the latest version and try again"))
	}
	n := cur.DeepCopy()
	n.Status = *q.Status.DeepCopy()
	n.ResourceVersion = f.nextRV()
	f.quotas[key] = n
	f.statusWrites++
	return n.DeepCopy(), nil
}

type errString string

func (e errString) Error() string { return string(e) }

func (f *fakeDeps) ListObjects(_ context.Context, ns string, gr schema.GroupResource) ([]runtime.Object, error) {
	var out []runtime.Object
	for _, o := range f.objects[gr] {
		if o.(metav1.Object).GetNamespace() == ns {
			out = append(out, o)
		}
	}
	return out, nil
}

func (f *fakeDeps) GetPriorityClass(_ context.Context, name string) (*schedulingv1.PriorityClass, error) {
	if pc, ok := f.priorityClasses[name]; ok {
		return pc, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}, name)
}

func (f *fakeDeps) ListPriorityClasses(context.Context) ([]*schedulingv1.PriorityClass, error) {
	var out []*schedulingv1.PriorityClass
	for _, pc := range f.priorityClasses {
		out = append(out, pc)
	}
	return out, nil
}

func (f *fakeDeps) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	if p, ok := f.pods[ns+"/"+name]; ok {
		return p, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, name)
}

func (f *fakeDeps) GetNode(_ context.Context, name string) (*corev1.Node, error) {
	if n, ok := f.nodes[name]; ok {
		return n, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "nodes"}, name)
}

func (f *fakeDeps) addQuota(q *corev1.ResourceQuota) {
	q.ResourceVersion = f.nextRV()
	f.quotas[q.Namespace+"/"+q.Name] = q
}

func (f *fakeDeps) quota(ns, name string) *corev1.ResourceQuota {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.quotas[ns+"/"+name].DeepCopy()
}

// ---- helpers ----

var (
	podGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	podGVK = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
)

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func newPod(ns, name string, containers ...corev1.Container) *corev1.Pod {
	if len(containers) == 0 {
		containers = []corev1.Container{{Name: "c", Image: "busybox"}}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{Containers: containers},
	}
}

func container(name string, requests, limits corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Image: "busybox", Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
}

func createPod(pod *corev1.Pod) *Attributes {
	return &Attributes{Operation: Create, Kind: podGVK, Resource: podGVR, Namespace: pod.Namespace, Object: pod,
		User: authn.User{Name: "alice", Groups: []string{authn.AllAuthenticated}}}
}

// wantErr checks err is a StatusError with the given code and exact message ("" = no error).
func wantErr(t *testing.T, err error, code int32, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("expected error %q, got none", msg)
	}
	se, ok := err.(*apierrors.StatusError)
	if !ok {
		t.Fatalf("error %v is %T, not *StatusError", err, err)
	}
	if se.ErrStatus.Code != code {
		t.Errorf("code = %d, want %d (%v)", se.ErrStatus.Code, code, err)
	}
	if se.Error() != msg {
		t.Errorf("message =\n  %q\nwant\n  %q", se.Error(), msg)
	}
}
