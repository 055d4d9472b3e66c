package storage_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"

	"kforge.dev/kforge/controlplane/storage"
	"kforge.dev/kforge/controlplane/storage/storagetest"
)

func podStore(t testing.TB) (*storage.Store, *storagetest.Etcd) {
	t.Helper()
	e := storagetest.StartEtcd(t)
	s := storage.NewStore(storage.Config{
		Client: e.Client, Codec: storage.NewJSONCodec(scheme.Scheme), Prefix: "/registry/pods",
		Resource: schema.GroupResource{Resource: "pods"},
		NewFunc:  func() runtime.Object { return &corev1.Pod{} }, NewListFunc: func() runtime.Object { return &corev1.PodList{} },
	})
	return s, e
}

func pod(ns, name string, l map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

func TestCRUD(t *testing.T) {
	s, _ := podStore(t)
	ctx := context.Background()
	key := s.Key("default", "a")
	if key != "/registry/pods/default/a" {
		t.Fatalf("key %s", key)
	}
	out := &corev1.Pod{}
	if err := s.Create(ctx, key, pod("default", "a", nil), out); err != nil {
		t.Fatal(err)
	}
	rv1 := out.ResourceVersion
	if rv1 == "" || out.Kind != "Pod" && out.Kind != "" {
		t.Errorf("created %+v", out.ObjectMeta)
	}
	if err := s.Create(ctx, key, pod("default", "a", nil), nil); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v", err)
	}
	got := &corev1.Pod{}
	if err := s.Get(ctx, key, false, got); err != nil || got.ResourceVersion != rv1 || got.Spec.Containers[0].Image != "busybox" {
		t.Errorf("get %v %+v", err, got)
	}
	if err := s.Get(ctx, s.Key("default", "nope"), false, got); !apierrors.IsNotFound(err) {
		t.Errorf("get missing: %v", err)
	}
	upd := &corev1.Pod{}
	err := s.GuaranteedUpdate(ctx, key, upd, false, nil, func(cur runtime.Object) (runtime.Object, error) {
		p := cur.(*corev1.Pod)
		p.Labels = map[string]string{"x": "1"}
		return p, nil
	})
	if err != nil || upd.ResourceVersion == rv1 || upd.Labels["x"] != "1" {
		t.Fatalf("update %v %+v", err, upd.ObjectMeta)
	}
	// An update that changes nothing keeps the resourceVersion.
	same := &corev1.Pod{}
	s.GuaranteedUpdate(ctx, key, same, false, nil, func(cur runtime.Object) (runtime.Object, error) { return cur, nil })
	if same.ResourceVersion != upd.ResourceVersion {
		t.Errorf("no-op update moved rv %s -> %s", upd.ResourceVersion, same.ResourceVersion)
	}
	stale := rv1
	err = s.GuaranteedUpdate(ctx, key, &corev1.Pod{}, false, &storage.Preconditions{ResourceVersion: &stale}, func(cur runtime.Object) (runtime.Object, error) { return cur, nil })
	if !apierrors.IsConflict(err) {
		t.Errorf("stale precondition: %v", err)
	}
	err = s.Delete(ctx, key, nil, &storage.Preconditions{ResourceVersion: &stale}, nil)
	if !apierrors.IsConflict(err) {
		t.Errorf("stale delete: %v", err)
	}
	del := &corev1.Pod{}
	if err := s.Delete(ctx, key, del, nil, nil); err != nil || del.Name != "a" {
		t.Errorf("delete %v %+v", err, del.ObjectMeta)
	}
	if err := s.Delete(ctx, key, nil, nil, nil); !apierrors.IsNotFound(err) {
		t.Errorf("delete missing: %v", err)
	}
}

func TestConcurrentGuaranteedUpdatesLoseNothing(t *testing.T) {
	s, _ := podStore(t)
	ctx := context.Background()
	key := s.Key("default", "counter")
	s.Create(ctx, key, pod("default", "counter", map[string]string{"n": "0"}), nil)
	const n = 20
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			errs <- s.GuaranteedUpdate(ctx, key, &corev1.Pod{}, false, nil, func(cur runtime.Object) (runtime.Object, error) {
				p := cur.(*corev1.Pod)
				v, _ := strconv.Atoi(p.Labels["n"])
				p.Labels["n"] = strconv.Itoa(v + 1)
				return p, nil
			})
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := &corev1.Pod{}
	s.Get(ctx, key, false, got)
	if got.Labels["n"] != strconv.Itoa(n) {
		t.Errorf("counter %s, want %d", got.Labels["n"], n)
	}
}

func createPods(t testing.TB, s *storage.Store, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		ns := "a"
		if i%2 == 1 {
			ns = "b"
		}
		name := fmt.Sprintf("p%05d", i)
		if err := s.Create(ctx, s.Key(ns, name), pod(ns, name, map[string]string{"odd": strconv.FormatBool(i%2 == 1)}), nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPaginatedListReturnsEachOnce(t *testing.T) {
	s, e := podStore(t)
	ctx := context.Background()
	createPods(t, s, 1000)
	seen := map[string]bool{}
	opts := storage.ListOptions{Limit: 150}
	pages := 0
	var rv string
	for {
		list := &corev1.PodList{}
		if err := s.List(ctx, s.KeyPrefix(""), opts, list); err != nil {
			t.Fatal(err)
		}
		pages++
		if rv == "" {
			rv = list.ResourceVersion
			// Writes between pages must not show up: every page reads the first page's revision.
			createPods(t, s, 0)
			s.Create(ctx, s.Key("a", "zzz-late"), pod("a", "zzz-late", nil), nil)
		} else if list.ResourceVersion != rv {
			t.Errorf("page %d at rv %s, first page %s", pages, list.ResourceVersion, rv)
		}
		for _, p := range list.Items {
			k := p.Namespace + "/" + p.Name
			if seen[k] {
				t.Errorf("%s twice", k)
			}
			seen[k] = true
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	if len(seen) != 1000 || pages != 7 {
		t.Errorf("%d items in %d pages, want 1000 in 7", len(seen), pages)
	}
	// Selectors with pagination still return whole pages of matches.
	sel := storage.ListOptions{Limit: 100, Predicate: storage.Predicate{Label: labels.SelectorFromSet(labels.Set{"odd": "true"})}}
	list := &corev1.PodList{}
	if err := s.List(ctx, s.KeyPrefix(""), sel, list); err != nil || len(list.Items) != 100 || list.Continue == "" {
		t.Errorf("selector page: %v %d %q", err, len(list.Items), list.Continue)
	}
	// A continue token older than the compacted revision is 410 Gone.
	s.Create(ctx, s.Key("a", "after"), pod("a", "after", nil), nil)
	cur, _ := s.CurrentRevision(ctx)
	if _, err := e.Client.Compact(ctx, cur); err != nil {
		t.Fatal(err)
	}
	err := s.List(ctx, s.KeyPrefix(""), storage.ListOptions{Limit: 100, Continue: list.Continue}, &corev1.PodList{})
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("continue after compaction: %v", err)
	}
	// Namespaced list.
	list = &corev1.PodList{}
	s.List(ctx, s.KeyPrefix("b"), storage.ListOptions{}, list)
	if len(list.Items) != 500 {
		t.Errorf("namespace b has %d pods", len(list.Items))
	}
}

func newCacher(t testing.TB, s *storage.Store, capacity int) *storage.Cacher {
	t.Helper()
	c := storage.NewCacher(storage.CacherConfig{Store: s, Capacity: capacity, BookmarkInterval: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := c.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	return c
}

func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	for {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			if e.Type == watch.Bookmark {
				continue
			}
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event in 5s")
		}
	}
}

func describe(e watch.Event) string {
	if p, ok := e.Object.(*corev1.Pod); ok {
		return string(e.Type) + " " + p.Name
	}
	return string(e.Type)
}

func TestCacherListAndWatch(t *testing.T) {
	s, _ := podStore(t)
	ctx := context.Background()
	createPods(t, s, 10)
	c := newCacher(t, s, 50)

	list := &corev1.PodList{}
	if err := c.List(ctx, s.KeyPrefix(""), storage.ListOptions{}, list); err != nil || len(list.Items) != 10 {
		t.Fatalf("consistent list from cache: %v %d", err, len(list.Items))
	}
	startRV := list.ResourceVersion

	// Writes after the list; a consistent list right after a write sees it.
	s.Create(ctx, s.Key("a", "new"), pod("a", "new", map[string]string{"odd": "true"}), nil)
	list = &corev1.PodList{}
	c.List(ctx, s.KeyPrefix("a"), storage.ListOptions{}, list)
	if len(list.Items) != 6 {
		t.Errorf("namespace a after create: %d pods", len(list.Items))
	}
	s.GuaranteedUpdate(ctx, s.Key("a", "p00000"), &corev1.Pod{}, false, nil, func(cur runtime.Object) (runtime.Object, error) {
		p := cur.(*corev1.Pod)
		p.Labels["odd"] = "true" // moves into the odd=true selection
		return p, nil
	})
	s.Delete(ctx, s.Key("b", "p00001"), nil, nil, nil)

	// A watch resumed from the list's rv gets every event since, in order.
	w, err := c.Watch(ctx, s.KeyPrefix(""), storage.WatchOptions{ResourceVersion: startRV})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, want := range []string{"ADDED new", "MODIFIED p00000", "DELETED p00001"} {
		if got := describe(next(t, w)); got != want {
			t.Errorf("event %q, want %q", got, want)
		}
	}
	// A filtered watch sees an object entering the selection as ADDED and leaving as DELETED.
	fw, err := c.Watch(ctx, s.KeyPrefix(""), storage.WatchOptions{ResourceVersion: startRV,
		Predicate: storage.Predicate{Label: labels.SelectorFromSet(labels.Set{"odd": "true"})}})
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Stop()
	for _, want := range []string{"ADDED new", "ADDED p00000", "DELETED p00001"} {
		if got := describe(next(t, fw)); got != want {
			t.Errorf("filtered event %q, want %q", got, want)
		}
	}
	s.GuaranteedUpdate(ctx, s.Key("a", "new"), &corev1.Pod{}, false, nil, func(cur runtime.Object) (runtime.Object, error) {
		p := cur.(*corev1.Pod)
		p.Labels["odd"] = "false"
		return p, nil
	})
	if got := describe(next(t, fw)); got != "DELETED new" {
		t.Errorf("leaving the selection: %q", got)
	}
	if got := describe(next(t, w)); got != "MODIFIED new" {
		t.Errorf("unfiltered: %q", got)
	}
	// A watch from rv 0 starts with the current state.
	w0, _ := c.Watch(ctx, s.KeyPrefix("b"), storage.WatchOptions{ResourceVersion: "0"})
	defer w0.Stop()
	for i := 0; i < 4; i++ {
		if e := next(t, w0); e.Type != watch.Added {
			t.Errorf("initial event %s", describe(e))
		}
	}
}

func TestCacherTooOldAndBookmarks(t *testing.T) {
	s, _ := podStore(t)
	ctx := context.Background()
	c := newCacher(t, s, 5)
	list := &corev1.PodList{}
	c.List(ctx, s.KeyPrefix(""), storage.ListOptions{}, list)
	old := list.ResourceVersion
	createPods(t, s, 10) // more events than the cache keeps
	list = &corev1.PodList{}
	c.List(ctx, s.KeyPrefix(""), storage.ListOptions{}, list)
	if _, err := c.Watch(ctx, s.KeyPrefix(""), storage.WatchOptions{ResourceVersion: old}); !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("watch from an rv no longer kept: %v", err)
	}
	// Bookmarks carry the current rv; the watch-list protocol ends its initial events with one.
	yes := true
	w, err := c.Watch(ctx, s.KeyPrefix(""), storage.WatchOptions{SendInitialEvents: &yes, AllowBookmarks: true, ResourceVersion: ""})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	added := 0
	for {
		e := <-w.ResultChan()
		if e.Type == watch.Added {
			added++
			continue
		}
		p := e.Object.(*corev1.Pod)
		if e.Type != watch.Bookmark || p.Annotations[storage.InitialEventsEndAnnotation] != "true" || p.ResourceVersion != list.ResourceVersion {
			t.Errorf("after %d ADDED: %s %+v", added, e.Type, p.ObjectMeta)
		}
		break
	}
	if added != 10 {
		t.Errorf("%d initial events, want 10", added)
	}
	select {
	case e := <-w.ResultChan():
		if e.Type != watch.Bookmark {
			t.Errorf("periodic event %s", e.Type)
		}
	case <-time.After(3 * time.Second):
		t.Error("no periodic bookmark")
	}
	// Reads at a future resourceVersion wait, then fail as kube-apiserver does.
	cur, _ := strconv.Atoi(list.ResourceVersion)
	err = c.Get(ctx, s.Key("a", "p00000"), strconv.Itoa(cur+1000), &corev1.Pod{})
	if !apierrors.IsTimeout(err) && !apierrors.IsResourceExpired(err) {
		if se, ok := err.(apierrors.APIStatus); !ok || se.Status().Code != 504 {
			t.Errorf("too large rv: %v", err)
		}
	}
	got := &corev1.Pod{}
	if err := c.Get(ctx, s.Key("a", "p00000"), "0", got); err != nil || got.Name != "p00000" {
		t.Errorf("get from cache: %v", err)
	}
}

// TestVisitSeesOwnWrites: a cache read right after a write of this process shows the write,
// though the cache learns of it only from etcd's watch.
func TestVisitSeesOwnWrites(t *testing.T) {
	s, _ := podStore(t)
	c := newCacher(t, s, 1000)
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("p%d", i)
		if err := s.Create(ctx, s.Key("default", name), pod("default", name, nil), &corev1.Pod{}); err != nil {
			t.Fatal(err)
		}
		if s.LastWrite() == 0 {
			t.Fatal("LastWrite is 0 after a create")
		}
		seen := 0
		if err := c.Visit(ctx, s.KeyPrefix("default"), storage.Predicate{}, func(runtime.Object) { seen++ }); err != nil {
			t.Fatal(err)
		}
		if seen != i+1 {
			t.Fatalf("after creating %d pods the cache shows %d", i+1, seen)
		}
	}
	before := s.LastWrite()
	if err := s.Delete(ctx, s.Key("default", "p0"), &corev1.Pod{}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if s.LastWrite() <= before {
		t.Errorf("LastWrite %d did not advance past %d on delete", s.LastWrite(), before)
	}
	seen := 0
	c.Visit(ctx, s.KeyPrefix("default"), storage.Predicate{}, func(runtime.Object) { seen++ })
	if seen != 199 {
		t.Errorf("after a delete the cache shows %d pods, want 199", seen)
	}
}
