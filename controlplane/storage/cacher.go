package storage

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// InitialEventsEndAnnotation marks the bookmark that ends the initial events of a watch-list
// (sendInitialEvents=true), as kube-apiserver does.
const InitialEventsEndAnnotation = "k8s.io/initial-events-end"

// CacherConfig sets up a watch cache for one resource.
type CacherConfig struct {
	// Store is the resource's etcd store; writes go to it directly.
	Store *Store
	// GetAttrs gives the selectable labels and fields of an object (DefaultAttrs if nil).
	GetAttrs AttrFunc
	// Capacity is how many recent events are kept for watches that resume from an older
	// resourceVersion; older ones get 410 Gone. Default 1000.
	Capacity int
	// BookmarkInterval is how often watchers that allow bookmarks are told the current
	// resourceVersion. Default 10s.
	BookmarkInterval time.Duration
	// FreshnessTimeout bounds how long a read waits for the cache to reach the revision it
	// needs before giving up (consistent reads then go to etcd). Default 3s.
	FreshnessTimeout time.Duration
	// WatcherBuffer is how many events may queue for one slow watcher before it is closed
	// (it then resumes from its last resourceVersion). Default 1000.
	WatcherBuffer int
}

// Cacher serves lists and watches of one resource from memory, fed by a single etcd watch.
type Cacher struct {
	cfg   CacherConfig
	store *Store

	mu       sync.RWMutex
	fresh    *sync.Cond // broadcast whenever rv advances or the cache (re)initialises
	ready    bool
	items    map[string]*cached
	rv       int64 // everything up to rv is reflected in items
	oldest   int64 // a watch may resume from any rv >= oldest
	events   []*decoded
	watchers map[*cacheWatcher]struct{}

	etcdWatcher clientv3.Watcher
	watchCtx    context.Context
}

type cached struct {
	obj   runtime.Object
	attrs attrs
}

// NewCacher returns a cache for cfg.Store; call Run to fill and keep it current.
func NewCacher(cfg CacherConfig) *Cacher {
	if cfg.GetAttrs == nil {
		cfg.GetAttrs = DefaultAttrs
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 1000
	}
	if cfg.BookmarkInterval <= 0 {
		cfg.BookmarkInterval = 10 * time.Second
	}
	if cfg.FreshnessTimeout <= 0 {
		cfg.FreshnessTimeout = 3 * time.Second
	}
	if cfg.WatcherBuffer <= 0 {
		cfg.WatcherBuffer = 1000
	}
	c := &Cacher{cfg: cfg, store: cfg.Store, items: map[string]*cached{}, watchers: map[*cacheWatcher]struct{}{}}
	c.fresh = sync.NewCond(&c.mu)
	return c
}

// Run keeps the cache in step with etcd until ctx ends: it lists, then watches, and lists
// again whenever the watch breaks.
func (c *Cacher) Run(ctx context.Context) {
	go func() {
		<-ctx.Done()
		c.mu.Lock()
		c.fresh.Broadcast()
		c.mu.Unlock()
	}()
	go c.bookmarks(ctx)
	for ctx.Err() == nil {
		if err := c.listAndWatch(ctx); err != nil && ctx.Err() == nil {
			// Back off a little; the next list starts the cache over.
			select {
			case <-time.After(200 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
	c.mu.Lock()
	for w := range c.watchers {
		c.dropLocked(w)
	}
	c.mu.Unlock()
}

// WaitReady blocks until the cache holds a first full list.
func (c *Cacher) WaitReady(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { c.mu.Lock(); c.fresh.Broadcast(); c.mu.Unlock() })
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.ready {
		if ctx.Err() != nil {
			return fmt.Errorf("%s watch cache not ready: %w", c.store.resource, ctx.Err())
		}
		c.fresh.Wait()
	}
	return nil
}

func (c *Cacher) listAndWatch(ctx context.Context) error {
	prefix := c.store.KeyPrefix("")
	resp, err := c.store.client.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	items := make(map[string]*cached, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		obj := c.store.newFunc()
		if err := c.store.decodeStored(ctx, string(kv.Key), kv.Value, kv.ModRevision, obj); err != nil {
			return err
		}
		l, f, err := c.cfg.GetAttrs(obj)
		if err != nil {
			return err
		}
		items[string(kv.Key)] = &cached{obj: obj, attrs: attrs{l, f}}
	}
	rev := resp.Header.Revision

	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	watcher := clientv3.NewWatcher(c.store.client)
	defer watcher.Close()
	wch := watcher.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV(), clientv3.WithProgressNotify())

	c.mu.Lock()
	// A fresh start: watchers of the old state cannot be continued without a gap.
	for w := range c.watchers {
		c.dropLocked(w)
	}
	c.items, c.rv, c.oldest, c.events = items, rev, rev, nil
	c.etcdWatcher, c.watchCtx = watcher, wctx
	c.ready = true
	c.fresh.Broadcast()
	c.mu.Unlock()

	for resp := range wch {
		if err := resp.Err(); err != nil {
			return err
		}
		if resp.IsProgressNotify() {
			c.advance(resp.Header.Revision)
			continue
		}
		for _, e := range resp.Events {
			d, err := c.store.decodeEvent(toRawEvent(e), c.cfg.GetAttrs)
			if err != nil {
				return err
			}
			c.apply(d)
		}
	}
	return fmt.Errorf("%s: etcd watch closed", c.store.resource)
}

// advance moves rv forward on a progress notification (no events for this resource).
func (c *Cacher) advance(rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev > c.rv {
		c.rv = rev
		c.fresh.Broadcast()
	}
}

// apply records one event: the item map, the replay buffer, then every interested watcher.
func (c *Cacher) apply(d *decoded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d.typ == watch.Deleted {
		delete(c.items, d.key)
	} else {
		c.items[d.key] = &cached{obj: d.obj, attrs: d.objAttrs}
	}
	c.events = append(c.events, d)
	if len(c.events) > c.cfg.Capacity {
		drop := len(c.events) - c.cfg.Capacity
		c.oldest = c.events[drop-1].rev
		c.events = append(c.events[:0:0], c.events[drop:]...)
	}
	if d.rev > c.rv {
		c.rv = d.rev
	}
	for w := range c.watchers {
		if !strings.HasPrefix(d.key, w.keyPrefix) {
			continue
		}
		ev, ok := filter(d, w.pred)
		if !ok {
			continue
		}
		select {
		case w.input <- ev:
		default:
			c.dropLocked(w) // too slow: it resumes from its last resourceVersion
		}
	}
	c.fresh.Broadcast()
}

// waitFresh waits until the cache reflects revision rev, asking etcd for a progress report so
// that a quiet resource still catches up. It reports whether the cache got there in time.
func (c *Cacher) waitFresh(ctx context.Context, rev int64) bool {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FreshnessTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.mu.Lock(); c.fresh.Broadcast(); c.mu.Unlock() })
	defer stop()
	c.mu.RLock()
	w, wctx := c.etcdWatcher, c.watchCtx
	ok := c.ready && c.rv >= rev
	c.mu.RUnlock()
	if ok {
		return true
	}
	if w != nil {
		_ = w.RequestProgress(wctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for !(c.ready && c.rv >= rev) {
		if ctx.Err() != nil {
			return false
		}
		c.fresh.Wait()
	}
	return true
}

// Get reads one object. resourceVersion "" is a consistent read from etcd; "0" or N are served
// from the cache once it is at least that new.
func (c *Cacher) Get(ctx context.Context, key, resourceVersion string, out runtime.Object) error {
	if resourceVersion == "" {
		return c.store.Get(ctx, key, false, out)
	}
	rv, err := ParseResourceVersion(resourceVersion)
	if err != nil {
		return err
	}
	if !c.waitFresh(ctx, rv) {
		return c.tooLarge(rv)
	}
	c.mu.RLock()
	it, ok := c.items[key]
	c.mu.RUnlock()
	if !ok {
		return apierrors.NewNotFound(c.store.resource, key[strings.LastIndex(key, "/")+1:])
	}
	return copyInto(it.obj, out)
}

func (c *Cacher) tooLarge(rv int64) error {
	c.mu.RLock()
	cur := c.rv
	c.mu.RUnlock()
	err := apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", rv, cur), 1)
	err.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}
	return err
}

// List serves a list from the cache when it can answer with the consistency asked for, and
// from etcd otherwise (exact revisions and paginated consistent lists).
func (c *Cacher) List(ctx context.Context, keyPrefix string, opts ListOptions, listObj runtime.Object) error {
	if opts.Continue != "" || opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact ||
		(opts.Limit > 0 && opts.ResourceVersion != "0") {
		return c.store.List(ctx, keyPrefix, opts, listObj)
	}
	var need int64
	switch opts.ResourceVersion {
	case "":
		rev, err := c.store.CurrentRevision(ctx)
		if err != nil {
			return err
		}
		if !c.waitFresh(ctx, rev) {
			return c.store.List(ctx, keyPrefix, opts, listObj)
		}
	case "0":
		if !c.waitFresh(ctx, 0) {
			return apierrors.NewServiceUnavailable(fmt.Sprintf("%s watch cache is not ready", c.store.resource))
		}
	default:
		rv, err := ParseResourceVersion(opts.ResourceVersion)
		if err != nil {
			return err
		}
		need = rv
		if !c.waitFresh(ctx, need) {
			return c.tooLarge(need)
		}
	}
	listPtr, err := meta.GetItemsPtr(listObj)
	if err != nil {
		return err
	}
	items, err := conversion.EnforcePtr(listPtr)
	if err != nil {
		return err
	}
	c.mu.RLock()
	rv := c.rv
	var keys []string
	for k, it := range c.items {
		if strings.HasPrefix(k, keyPrefix) && opts.Predicate.matchesAttrs(it.attrs.labels, it.attrs.fields) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	objs := make([]runtime.Object, len(keys))
	for i, k := range keys {
		objs[i] = c.items[k].obj
	}
	c.mu.RUnlock()
	for _, o := range objs {
		items.Set(reflectAppend(items, o.DeepCopyObject()))
	}
	lm, err := meta.ListAccessor(listObj)
	if err != nil {
		return err
	}
	lm.SetResourceVersion(strconv.FormatInt(rv, 10))
	return nil
}

// Visit calls fn with every cached object under keyPrefix that pred matches, in no particular
// order, once the cache shows every write this process made to the resource (so a request
// sees what the previous one wrote; writes by other apiservers show as fast as the watch
// delivers them). The objects are the cache's own, not copies: fn must not modify them. It is
// for readers on every request (authorization, admission) that would otherwise copy a whole
// list to look at a few fields.
func (c *Cacher) Visit(ctx context.Context, keyPrefix string, pred Predicate, fn func(runtime.Object)) error {
	if !c.waitFresh(ctx, c.store.LastWrite()) {
		return apierrors.NewServiceUnavailable(fmt.Sprintf("%s watch cache has not caught up with this apiserver's writes", c.store.resource))
	}
	c.mu.RLock()
	objs := make([]runtime.Object, 0, 16)
	for k, it := range c.items {
		if strings.HasPrefix(k, keyPrefix) && pred.matchesAttrs(it.attrs.labels, it.attrs.fields) {
			objs = append(objs, it.obj)
		}
	}
	c.mu.RUnlock()
	for _, o := range objs {
		fn(o)
	}
	return nil
}

// copyInto sets *dst to a deep copy of src; both are pointers to the same type.
func copyInto(src, dst runtime.Object) error {
	sv, dv := reflect.ValueOf(src.DeepCopyObject()), reflect.ValueOf(dst)
	if sv.Type() != dv.Type() {
		return fmt.Errorf("cannot copy %T into %T", src, dst)
	}
	dv.Elem().Set(sv.Elem())
	return nil
}

// WatchOptions are the watch parameters of the Kubernetes API.
type WatchOptions struct {
	// ResourceVersion: "" and "0" start with the current state as ADDED events; N resumes
	// after revision N.
	ResourceVersion string
	// SendInitialEvents asks for the current state first, ended by a bookmark annotated
	// k8s.io/initial-events-end (the watch-list protocol).
	SendInitialEvents *bool
	// AllowBookmarks lets the cache send periodic BOOKMARK events with the current revision.
	AllowBookmarks bool
	// Predicate filters events.
	Predicate Predicate
}

// cacheWatcher is one client's watch on the cache.
type cacheWatcher struct {
	cacher         *Cacher
	keyPrefix      string
	pred           Predicate
	allowBookmarks bool
	input          chan watch.Event
	result         chan watch.Event
	done           chan struct{}
	stopOnce       sync.Once
	closeOnce      sync.Once
}

func (w *cacheWatcher) ResultChan() <-chan watch.Event { return w.result }

// Stop ends the watch; safe to call more than once.
func (w *cacheWatcher) Stop() {
	w.stopOnce.Do(func() {
		w.cacher.mu.Lock()
		w.cacher.dropLocked(w)
		w.cacher.mu.Unlock()
	})
}

// dropLocked unregisters w and closes its input; its goroutine then ends the result stream.
func (c *Cacher) dropLocked(w *cacheWatcher) {
	if _, ok := c.watchers[w]; !ok {
		return
	}
	delete(c.watchers, w)
	w.closeOnce.Do(func() { close(w.input); close(w.done) })
}

// Watch streams changes under keyPrefix from the cache.
func (c *Cacher) Watch(ctx context.Context, keyPrefix string, opts WatchOptions) (watch.Interface, error) {
	rv, err := ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	initialEvents := rv == 0
	if opts.SendInitialEvents != nil {
		initialEvents = *opts.SendInitialEvents
		if initialEvents && !opts.AllowBookmarks {
			return nil, apierrors.NewBadRequest("sendInitialEvents requires allowWatchBookmarks=true")
		}
	}
	switch {
	case opts.ResourceVersion == "":
		cur, err := c.store.CurrentRevision(ctx)
		if err != nil {
			return nil, err
		}
		if !c.waitFresh(ctx, cur) {
			return nil, c.tooLarge(cur)
		}
	default:
		if !c.waitFresh(ctx, rv) {
			return nil, c.tooLarge(rv)
		}
	}

	w := &cacheWatcher{cacher: c, keyPrefix: keyPrefix, pred: opts.Predicate, allowBookmarks: opts.AllowBookmarks,
		input: make(chan watch.Event, c.cfg.WatcherBuffer), result: make(chan watch.Event), done: make(chan struct{})}

	c.mu.Lock()
	var initial []watch.Event
	if initialEvents {
		var keys []string
		for k, it := range c.items {
			if strings.HasPrefix(k, keyPrefix) && opts.Predicate.matchesAttrs(it.attrs.labels, it.attrs.fields) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			initial = append(initial, watch.Event{Type: watch.Added, Object: c.items[k].obj.DeepCopyObject()})
		}
		if opts.SendInitialEvents != nil && *opts.SendInitialEvents {
			initial = append(initial, c.bookmarkLocked(true))
		}
	} else {
		if rv < c.oldest {
			oldest := c.oldest
			c.mu.Unlock()
			return nil, apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", rv, oldest))
		}
		for _, d := range c.events {
			if d.rev <= rv || !strings.HasPrefix(d.key, keyPrefix) {
				continue
			}
			if ev, ok := filter(d, opts.Predicate); ok {
				initial = append(initial, ev)
			}
		}
	}
	c.watchers[w] = struct{}{}
	c.mu.Unlock()

	go w.run(ctx, initial)
	return w, nil
}

func (w *cacheWatcher) run(ctx context.Context, initial []watch.Event) {
	defer close(w.result)
	defer w.Stop()
	send := func(e watch.Event) bool {
		select {
		case w.result <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for _, e := range initial {
		if !send(e) {
			return
		}
	}
	for {
		select {
		case e, ok := <-w.input:
			if !ok || !send(e) {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// bookmarkLocked makes a BOOKMARK event at the cache's revision.
func (c *Cacher) bookmarkLocked(initialEventsEnd bool) watch.Event {
	obj := c.store.newFunc()
	m, _ := meta.Accessor(obj)
	m.SetResourceVersion(strconv.FormatInt(c.rv, 10))
	if initialEventsEnd {
		m.SetAnnotations(map[string]string{InitialEventsEndAnnotation: "true"})
	}
	return watch.Event{Type: watch.Bookmark, Object: obj}
}

// bookmarks tells watchers that allow it how far the cache has got, so that a watch resumed
// after a quiet period does not start from a resourceVersion that is no longer kept.
func (c *Cacher) bookmarks(ctx context.Context) {
	t := time.NewTicker(c.cfg.BookmarkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.RLock()
		w, wctx := c.etcdWatcher, c.watchCtx
		c.mu.RUnlock()
		if w != nil {
			_ = w.RequestProgress(wctx) // the answer advances rv before the next tick
		}
		c.mu.Lock()
		for cw := range c.watchers {
			if !cw.allowBookmarks {
				continue
			}
			select {
			case cw.input <- c.bookmarkLocked(false):
			default:
			}
		}
		c.mu.Unlock()
	}
}
