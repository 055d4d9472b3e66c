package storage

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// rawEvent is one change of one key, as etcd reports it; Cacher and the direct watch share it.
type rawEvent struct {
	key       string
	value     []byte // nil for a delete
	prevValue []byte // nil for a create
	rev       int64
	isCreate  bool
	isDelete  bool
}

func toRawEvent(e *clientv3.Event) rawEvent {
	r := rawEvent{key: string(e.Kv.Key), rev: e.Kv.ModRevision}
	if e.PrevKv != nil {
		r.prevValue = e.PrevKv.Value
	}
	switch {
	case e.Type == clientv3.EventTypeDelete:
		r.isDelete = true
	case e.IsCreate():
		r.isCreate = true
		r.value = e.Kv.Value
	default:
		r.value = e.Kv.Value
	}
	return r
}

// decoded is an event with its objects decoded and their attributes read once.
type decoded struct {
	typ      watch.EventType // Added, Modified or Deleted, before filtering
	key      string
	rev      int64
	obj      runtime.Object // the object after the change (before it, for deletes)
	prev     runtime.Object // the object before the change; nil for creates
	objAttrs attrs
	prevAttr attrs
}

type attrs struct {
	labels map[string]string
	fields map[string]string
}

func (s *Store) decodeEvent(r rawEvent, getAttrs AttrFunc) (*decoded, error) {
	if getAttrs == nil {
		getAttrs = DefaultAttrs
	}
	d := &decoded{key: r.key, rev: r.rev}
	if r.prevValue != nil {
		d.prev = s.newFunc()
		// The previous object carries its own, older resourceVersion.
		if err := s.decodeStored(context.Background(), r.key, r.prevValue, r.rev, d.prev); err != nil {
			return nil, err
		}
		l, f, err := getAttrs(d.prev)
		if err != nil {
			return nil, err
		}
		d.prevAttr = attrs{l, f}
	}
	switch {
	case r.isDelete:
		d.typ = watch.Deleted
		if d.prev == nil {
			return nil, fmt.Errorf("etcd delete event for %s without the previous value", r.key)
		}
		// A deleted object is reported with the deletion's revision as its resourceVersion.
		d.obj = d.prev.DeepCopyObject()
		if err := setRV(d.obj, r.rev); err != nil {
			return nil, err
		}
		d.objAttrs = d.prevAttr
	default:
		d.typ = watch.Modified
		if r.isCreate {
			d.typ = watch.Added
		}
		d.obj = s.newFunc()
		if err := s.decodeStored(context.Background(), r.key, r.value, r.rev, d.obj); err != nil {
			return nil, err
		}
		l, f, err := getAttrs(d.obj)
		if err != nil {
			return nil, err
		}
		d.objAttrs = attrs{l, f}
	}
	return d, nil
}

// filter turns an event into what a watcher with predicate p sees: an object moving into the
// selection is ADDED, one moving out is DELETED, one outside it is nothing.
func filter(d *decoded, p Predicate) (watch.Event, bool) {
	if p.Empty() {
		return watch.Event{Type: d.typ, Object: d.obj}, true
	}
	cur := p.matchesAttrs(d.objAttrs.labels, d.objAttrs.fields)
	switch d.typ {
	case watch.Added:
		return watch.Event{Type: watch.Added, Object: d.obj}, cur
	case watch.Deleted:
		return watch.Event{Type: watch.Deleted, Object: d.obj}, cur
	}
	old := d.prev != nil && p.matchesAttrs(d.prevAttr.labels, d.prevAttr.fields)
	switch {
	case cur && old:
		return watch.Event{Type: watch.Modified, Object: d.obj}, true
	case cur:
		return watch.Event{Type: watch.Added, Object: d.obj}, true
	case old:
		gone := d.obj.DeepCopyObject()
		return watch.Event{Type: watch.Deleted, Object: gone}, true
	}
	return watch.Event{}, false
}

// goneEvent is the ERROR event a watcher gets when its resourceVersion is too old.
func goneEvent(msg string) watch.Event {
	st := apierrors.NewResourceExpired(msg).Status()
	st.Code = http.StatusGone
	return watch.Event{Type: watch.Error, Object: &st}
}

// errorEvent wraps any error as an ERROR event.
func errorEvent(err error) watch.Event {
	if se, ok := err.(apierrors.APIStatus); ok {
		st := se.Status()
		return watch.Event{Type: watch.Error, Object: &st}
	}
	st := apierrors.NewInternalError(err).Status()
	return watch.Event{Type: watch.Error, Object: &st}
}

// etcdWatcher is a watch.Interface fed straight by an etcd watch.
type etcdWatcher struct {
	cancel context.CancelFunc
	result chan watch.Event
	once   sync.Once
}

func (w *etcdWatcher) Stop()                          { w.once.Do(w.cancel) }
func (w *etcdWatcher) ResultChan() <-chan watch.Event { return w.result }

// Watch streams the changes under keyPrefix after revision rev straight from etcd (no cache).
// rev 0 first lists what exists now as ADDED events.
func (s *Store) Watch(ctx context.Context, keyPrefix string, rev int64, p Predicate) (watch.Interface, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &etcdWatcher{cancel: cancel, result: make(chan watch.Event, 100)}
	var initial []runtime.Object
	if rev == 0 {
		list := s.newListFunc()
		if err := s.List(ctx, keyPrefix, ListOptions{Predicate: p}, list); err != nil {
			cancel()
			return nil, err
		}
		objs, err := meta.ExtractList(list)
		if err != nil {
			cancel()
			return nil, err
		}
		initial = objs
		if rev, err = metaListRV(list); err != nil {
			cancel()
			return nil, err
		}
	}
	wch := s.client.Watch(clientv3.WithRequireLeader(ctx), keyPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV())
	go func() {
		defer close(w.result)
		defer cancel()
		send := func(e watch.Event) bool {
			select {
			case w.result <- e:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, o := range initial {
			if !send(watch.Event{Type: watch.Added, Object: o}) {
				return
			}
		}
		for resp := range wch {
			if resp.CompactRevision != 0 {
				send(goneEvent(fmt.Sprintf("too old resource version: %d (%d)", rev, resp.CompactRevision)))
				return
			}
			if err := resp.Err(); err != nil {
				send(errorEvent(s.etcdError(err)))
				return
			}
			for _, e := range resp.Events {
				d, err := s.decodeEvent(toRawEvent(e), p.GetAttrs)
				if err != nil {
					send(errorEvent(err))
					return
				}
				if ev, ok := filter(d, p); ok && !send(ev) {
					return
				}
			}
		}
	}()
	return w, nil
}

func metaListRV(list runtime.Object) (int64, error) {
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return 0, err
	}
	return ParseResourceVersion(lm.GetResourceVersion())
}
