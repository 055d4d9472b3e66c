package apiserver_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
	"kforge.dev/kforge/controlplane/apiserver/resources"
)

// minimal gives each kind the smallest object the API accepts.
func minimal(d resources.Definition, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(d.GVK.GroupVersion().String())
	u.SetKind(d.GVK.Kind)
	u.SetName(name)
	podSpec := map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox:1.36"}}}
	template := map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": name}}, "spec": podSpec}
	selector := map[string]any{"matchLabels": map[string]any{"app": name}}
	switch d.GVK.Kind {
	case "Pod":
		u.Object["spec"] = podSpec
	case "Service":
		u.Object["spec"] = map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}
	case "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet":
		u.Object["spec"] = map[string]any{"selector": selector, "template": template}
	case "Job":
		u.Object["spec"] = map[string]any{"template": map[string]any{"spec": podSpec}}
	case "EndpointSlice":
		u.Object["addressType"] = "IPv4"
	case "CertificateSigningRequest":
		u.Object["spec"] = map[string]any{"request": base64.StdEncoding.EncodeToString(testCSR), "signerName": "kubernetes.io/kube-apiserver-client",
			"usages": []any{"client auth"}}
	case "RoleBinding", "ClusterRoleBinding":
		u.Object["roleRef"] = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
	case "PriorityClass":
		u.Object["value"] = int64(100)
	case "Event":
		u.Object["involvedObject"] = map[string]any{"kind": "Pod", "name": "x", "namespace": "default"}
	}
	return u
}

func TestCRUDOnEveryResource(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	dc, err := dynamic.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, d := range resources.All() {
		if d.CreateOnly {
			continue
		}
		t.Run(d.Plural, func(t *testing.T) {
			var ri dynamic.ResourceInterface = dc.Resource(d.GroupVersionResource())
			if d.Namespaced {
				ri = dc.Resource(d.GroupVersionResource()).Namespace("default")
			}
			created, err := ri.Create(ctx, minimal(d, "crud-"+d.Singular), metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if created.GetUID() == "" || created.GetResourceVersion() == "" || created.GetCreationTimestamp().Time.IsZero() {
				t.Errorf("server fields missing: %+v", created.Object["metadata"])
			}
			got, err := ri.Get(ctx, created.GetName(), metav1.GetOptions{})
			if err != nil || got.GetUID() != created.GetUID() {
				t.Fatalf("get: %v", err)
			}
			got.SetLabels(map[string]string{"touched": "yes"})
			upd, err := ri.Update(ctx, got, metav1.UpdateOptions{})
			if err != nil || upd.GetLabels()["touched"] != "yes" || upd.GetResourceVersion() == got.GetResourceVersion() {
				t.Fatalf("update: %v", err)
			}
			// The old resourceVersion is now stale: 409.
			if _, err := ri.Update(ctx, got, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
				t.Errorf("stale update: %v", err)
			}
			list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: "touched=yes"})
			if err != nil || len(list.Items) != 1 {
				t.Fatalf("list: %v %d", err, len(list.Items))
			}
			if err := ri.Delete(ctx, created.GetName(), metav1.DeleteOptions{}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if _, err := ri.Get(ctx, created.GetName(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("get after delete: %v", err)
			}
		})
	}
}

func TestTypedClientSemantics(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	cs := s.Clientset(t)
	ctx := context.Background()

	// System namespaces exist from the start.
	for _, ns := range apiserver.SystemNamespaces {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Errorf("namespace %s: %v", ns, err)
		}
	}
	// generateName, defaults, generation and the status subresource.
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{GenerateName: "web-"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}}}
	d, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.Name, "web-") || len(d.Name) != len("web-")+5 || *d.Spec.Replicas != 1 || d.Generation != 1 ||
		d.Spec.Template.Spec.Containers[0].ImagePullPolicy != corev1.PullAlways || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("defaults: name %s replicas %d generation %d pull %s", d.Name, *d.Spec.Replicas, d.Generation, d.Spec.Template.Spec.Containers[0].ImagePullPolicy)
	}
	d.Status.Replicas = 5 // ignored on the main resource
	three := int32(3)
	d.Spec.Replicas = &three
	d, err = cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{})
	if err != nil || d.Generation != 2 || d.Status.Replicas != 0 {
		t.Fatalf("spec update: %v generation %d status %d", err, d.Generation, d.Status.Replicas)
	}
	d.Status.ReadyReplicas = 2
	d.Spec.Replicas = nil // ignored on /status
	d, err = cs.AppsV1().Deployments("default").UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil || d.Status.ReadyReplicas != 2 || *d.Spec.Replicas != 3 || d.Generation != 2 {
		t.Fatalf("status update: %v", err)
	}
	// Validation errors are 422 with field paths.
	_, err = cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "Bad_Name"}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "metadata.name") || !strings.Contains(err.Error(), "spec.containers: Required value") {
		t.Errorf("invalid pod: %v", err)
	}
	// A namespace must exist.
	_, err = cs.CoreV1().ConfigMaps("nope").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("create in a missing namespace: %v", err)
	}
	// Patches: merge, JSON and strategic.
	cm, _ := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Data: map[string]string{"a": "1"}}, metav1.CreateOptions{})
	cm, err = cs.CoreV1().ConfigMaps("default").Patch(ctx, "p", types.MergePatchType, []byte(`{"data":{"b":"2"}}`), metav1.PatchOptions{})
	if err != nil || cm.Data["a"] != "1" || cm.Data["b"] != "2" {
		t.Errorf("merge patch: %v %v", err, cm.Data)
	}
	cm, err = cs.CoreV1().ConfigMaps("default").Patch(ctx, "p", types.JSONPatchType, []byte(`[{"op":"remove","path":"/data/a"}]`), metav1.PatchOptions{})
	if err != nil || len(cm.Data) != 1 {
		t.Errorf("json patch: %v %v", err, cm.Data)
	}
	d, err = cs.AppsV1().Deployments("default").Patch(ctx, d.Name, types.StrategicMergePatchType,
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}`), metav1.PatchOptions{})
	if err != nil || len(d.Spec.Template.Spec.Containers) != 2 {
		t.Errorf("strategic merge patch keeps both containers: %v", err)
	}
	// dryRun writes nothing.
	_, err = cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}, metav1.CreateOptions{DryRun: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dry-run create stored the object: %v", err)
	}
	// Finalizers: delete marks, removing the last finalizer deletes.
	fin, _ := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "fin", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{})
	if err := cs.CoreV1().ConfigMaps("default").Delete(ctx, "fin", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	fin, err = cs.CoreV1().ConfigMaps("default").Get(ctx, "fin", metav1.GetOptions{})
	if err != nil || fin.DeletionTimestamp == nil {
		t.Fatalf("object with a finalizer: %v %v", err, fin.DeletionTimestamp)
	}
	fin.Finalizers = nil
	if _, err := cs.CoreV1().ConfigMaps("default").Update(ctx, fin, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "fin", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("object still there after its last finalizer went: %v", err)
	}
	// Foreground deletion leaves a deletionTimestamp and the foregroundDeletion finalizer.
	fg := metav1.DeletePropagationForeground
	if err := cs.AppsV1().Deployments("default").Delete(ctx, d.Name, metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil {
		t.Fatal(err)
	}
	d, err = cs.AppsV1().Deployments("default").Get(ctx, d.Name, metav1.GetOptions{})
	if err != nil || d.DeletionTimestamp == nil || len(d.Finalizers) != 1 || d.Finalizers[0] != "foregroundDeletion" {
		t.Errorf("foreground deletion: %v %+v", err, d.ObjectMeta)
	}
}

func TestInformerSeesChangesInOrder(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	cs := s.Clientset(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var seen []string
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("default"))
	inf := f.Core().V1().ConfigMaps().Informer()
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) { mu.Lock(); seen = append(seen, "add "+o.(*corev1.ConfigMap).Name); mu.Unlock() },
		UpdateFunc: func(_, o any) {
			mu.Lock()
			seen = append(seen, "update "+o.(*corev1.ConfigMap).Name+" "+o.(*corev1.ConfigMap).Data["v"])
			mu.Unlock()
		},
		DeleteFunc: func(o any) { mu.Lock(); seen = append(seen, "delete "+o.(*corev1.ConfigMap).Name); mu.Unlock() },
	})
	cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before"}}, metav1.CreateOptions{})
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	cm, _ := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Data: map[string]string{"v": "1"}}, metav1.CreateOptions{})
	cm.Data["v"] = "2"
	cs.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{})
	cs.CoreV1().ConfigMaps("default").Delete(ctx, "x", metav1.DeleteOptions{})
	want := []string{"add before", "add x", "update x 2", "delete x"}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= len(want) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("informer saw %q, want %q", seen, want)
	}
}

func TestWatchResumeAndGone(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{WatchCacheCapacity: 50})
	cs := s.Clientset(t)
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	list, _ := cms.List(ctx, metav1.ListOptions{})
	from := list.ResourceVersion
	for i := 0; i < 10; i++ {
		cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w%d", i)}}, metav1.CreateOptions{})
	}
	cms.Delete(ctx, "w3", metav1.DeleteOptions{})
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: from})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 11 {
		select {
		case e := <-w.ResultChan():
			got = append(got, string(e.Type)+" "+e.Object.(*corev1.ConfigMap).Name)
		case <-time.After(5 * time.Second):
			t.Fatalf("resumed watch got only %q", got)
		}
	}
	w.Stop()
	if got[0] != "ADDED w0" || got[9] != "ADDED w9" || got[10] != "DELETED w3" {
		t.Errorf("resumed watch: %q", got)
	}
	// More events than the cache keeps: the old resourceVersion is gone (410).
	for i := 0; i < 60; i++ {
		cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("g%d", i)}}, metav1.CreateOptions{})
	}
	_, err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: from})
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("watch from a version no longer kept: %v", err)
	}
	// A list at an exact revision that etcd compacted away is 410 too.
	cur, _ := strconv.ParseInt(list.ResourceVersion, 10, 64)
	last, _ := cms.List(ctx, metav1.ListOptions{})
	latest, _ := strconv.ParseInt(last.ResourceVersion, 10, 64)
	if _, err := s.Etcd.Client.Compact(ctx, latest); err != nil {
		t.Fatal(err)
	}
	_, err = cms.List(ctx, metav1.ListOptions{ResourceVersion: strconv.FormatInt(cur, 10), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("exact list at a compacted revision: %v", err)
	}
	var se apierrors.APIStatus
	if e, ok := err.(apierrors.APIStatus); ok {
		se = e
	}
	if se == nil || se.Status().Code != http.StatusGone {
		t.Errorf("want HTTP 410, got %v", err)
	}
	_ = watch.Added
}

func TestPaginatedListOf5000Pods(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 5000 pods")
	}
	s := apiservertest.Start(t, apiserver.APIOptions{})
	cs := s.Clientset(t)
	ctx := context.Background()
	const n = 5000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%04d", i)},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}}}, metav1.CreateOptions{})
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]int{}
	opts := metav1.ListOptions{Limit: 500}
	pages := 0
	for {
		l, err := cs.CoreV1().Pods("default").List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range l.Items {
			seen[p.Name]++
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	dups := 0
	for _, c := range seen {
		if c != 1 {
			dups++
		}
	}
	if len(seen) != n || dups != 0 || pages != 10 {
		t.Errorf("%d distinct pods, %d seen more than once, %d pages; want %d, 0, 10", len(seen), dups, pages, n)
	}
}
