package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"

	"kforge.dev/kforge/controlplane/storage"
)

// xorTransformer is a stand-in cipher: "x<gen>:" + bytes XOR the key's length; values of an
// older generation read fine but are stale.
type xorTransformer struct{ gen byte }

func (x xorTransformer) TransformToStorage(_ context.Context, data, key []byte) ([]byte, error) {
	out := []byte{'x', '0' + x.gen, ':'}
	for _, b := range data {
		out = append(out, b^byte(len(key)))
	}
	return out, nil
}

func (x xorTransformer) TransformFromStorage(_ context.Context, data, key []byte) ([]byte, bool, error) {
	if len(data) < 3 || data[0] != 'x' || data[2] != ':' {
		return nil, false, fmt.Errorf("no prefix")
	}
	out := make([]byte, 0, len(data)-3)
	for _, b := range data[3:] {
		out = append(out, b^byte(len(key)))
	}
	return out, data[1] != '0'+x.gen, nil
}

func TestTransformerSealsEveryWriteAndOpensEveryRead(t *testing.T) {
	_, e := podStore(t)
	newStore := func(gen byte) *storage.Store {
		return storage.NewStore(storage.Config{
			Client: e.Client, Codec: storage.NewJSONCodec(scheme.Scheme), Prefix: "/registry/pods",
			Resource: schema.GroupResource{Resource: "pods"}, Transformer: xorTransformer{gen: gen},
			NewFunc: func() runtime.Object { return &corev1.Pod{} }, NewListFunc: func() runtime.Object { return &corev1.PodList{} },
		})
	}
	s := newStore(1)
	ctx := context.Background()
	cacher := storage.NewCacher(storage.CacherConfig{Store: s})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go cacher.Run(cctx)
	if err := cacher.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	rev, _ := s.CurrentRevision(ctx)
	w, err := s.Watch(ctx, s.KeyPrefix(""), rev, storage.Predicate{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	key := s.Key("default", "a")
	if err := s.Create(ctx, key, pod("default", "a", nil), &corev1.Pod{}); err != nil {
		t.Fatal(err)
	}
	raw, err := e.Client.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if v := raw.Kvs[0].Value; !bytes.HasPrefix(v, []byte("x1:")) || bytes.Contains(v, []byte("busybox")) {
		t.Fatalf("stored value is not sealed: %q", v)
	}
	got := &corev1.Pod{}
	if err := s.Get(ctx, key, false, got); err != nil || got.Spec.Containers[0].Image != "busybox" {
		t.Fatalf("get: %v %+v", err, got.Spec)
	}
	list := &corev1.PodList{}
	if err := s.List(ctx, s.KeyPrefix(""), storage.ListOptions{}, list); err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %d", err, len(list.Items))
	}
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Added || ev.Object.(*corev1.Pod).Spec.Containers[0].Image != "busybox" {
			t.Fatalf("watch event %v %+v", ev.Type, ev.Object)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event")
	}
	cached := &corev1.Pod{}
	if err := cacher.Get(ctx, key, got.ResourceVersion, cached); err != nil || cached.Spec.Containers[0].Image != "busybox" {
		t.Fatalf("cached get: %v", err)
	}

	// An update that changes nothing does not write, under the same key generation.
	same := &corev1.Pod{}
	if err := s.GuaranteedUpdate(ctx, key, same, false, nil, func(cur runtime.Object) (runtime.Object, error) { return cur, nil }); err != nil {
		t.Fatal(err)
	}
	if same.ResourceVersion != got.ResourceVersion {
		t.Errorf("no-op update wrote: rv %s -> %s", got.ResourceVersion, same.ResourceVersion)
	}
	// Under a new generation the same no-op update rewrites the stale value: rotation.
	s2 := newStore(2)
	rotated := &corev1.Pod{}
	if err := s2.GuaranteedUpdate(ctx, key, rotated, false, nil, func(cur runtime.Object) (runtime.Object, error) { return cur, nil }); err != nil {
		t.Fatal(err)
	}
	raw, _ = e.Client.Get(ctx, key)
	if rotated.ResourceVersion == got.ResourceVersion || !strings.HasPrefix(string(raw.Kvs[0].Value), "x2:") {
		t.Errorf("stale value not rewritten: rv %s, stored %.3q", rotated.ResourceVersion, raw.Kvs[0].Value)
	}
}
