package admission

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// DefaultQuotaUpdateAttempts is how often ResourceQuota re-reads quotas and retries after a
// status write lost a race (409 Conflict) before giving up.
const DefaultQuotaUpdateAttempts = 5

// ResourceQuota enforces a namespace's ResourceQuotas: it refuses a create (or a growing update)
// that would push any matching quota's status.used above its hard limit, and otherwise records
// the new usage in the quota's status before the object is stored, so two racing creates cannot
// both take the last unit.
//
// Differences from Kubernetes, because kforge has no quota controller:
//   - When a quota's status lacks hard limits or usage (a new quota, or spec.hard was edited),
//     admission brings it up to date itself: status.hard is copied from spec.hard and usage of
//     the missing resources is counted from the objects in the namespace (Deps.Objects) instead
//     of refusing with "status unknown for quota".
//   - Giving usage back is done by Release, which the apiserver calls after deletes (and after
//     updates that may lower usage, such as a pod reaching Succeeded/Failed), instead of by the
//     controller's periodic recount. Recalculate is available for a full recount.
type ResourceQuota struct {
	quotas  ResourceQuotaStore
	objects ObjectLister
	// Attempts bounds the conflict retries of one admission or release.
	Attempts int
	// Now is the clock used to decide whether terminating pods still count; replaceable in tests.
	Now func() time.Time

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// NewResourceQuota builds the plugin; it needs deps.ResourceQuotas and deps.Objects.
func NewResourceQuota(deps Deps) (*ResourceQuota, error) {
	if err := requireDep(ResourceQuotaPluginName, "ResourceQuotas", deps.ResourceQuotas != nil); err != nil {
		return nil, err
	}
	if err := requireDep(ResourceQuotaPluginName, "Objects", deps.Objects != nil); err != nil {
		return nil, err
	}
	return &ResourceQuota{
		quotas:   deps.ResourceQuotas,
		objects:  deps.Objects,
		Attempts: DefaultQuotaUpdateAttempts,
		Now:      time.Now,
		locks:    map[string]*sync.Mutex{},
	}, nil
}

// Name implements Plugin.
func (*ResourceQuota) Name() string { return ResourceQuotaPluginName }

// lock serialises quota work per namespace inside this apiserver, as kube-apiserver's quota
// evaluator does, so that concurrent requests rarely need the conflict retry.
func (q *ResourceQuota) lock(ns string) func() {
	q.mu.Lock()
	l, ok := q.locks[ns]
	if !ok {
		l = &sync.Mutex{}
		q.locks[ns] = l
	}
	q.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (q *ResourceQuota) attempts() int {
	if q.Attempts < 1 {
		return 1
	}
	return q.Attempts
}

// ignored reports requests quota never looks at: cluster-scoped objects and events.
func (q *ResourceQuota) ignored(a *Attributes) bool {
	return a.Namespace == "" || a.groupResource() == eventsResource
}

// Validate implements Validator.
func (q *ResourceQuota) Validate(ctx context.Context, a *Attributes) error {
	if q.ignored(a) || (a.Operation != Create && a.Operation != Update) || a.Object == nil {
		return nil
	}
	ev := evaluatorFor(a.groupResource())
	if !ev.handles(a) {
		return nil
	}
	// Most namespaces have no quota: answer them without taking the namespace's lock, which
	// would otherwise serialize every write in the namespace behind the quota read.
	if list, err := q.quotas.ListResourceQuotas(ctx, a.Namespace); err != nil {
		return internal(err)
	} else if len(list) == 0 {
		return nil
	}
	defer q.lock(a.Namespace)()

	done := map[string]bool{} // quotas whose new status is already stored
	var lastErr error
	for attempt := 0; attempt < q.attempts(); attempt++ {
		// Read again under the lock: a request just ahead in this namespace may have charged
		// the quota while this one waited.
		list, err := q.quotas.ListResourceQuotas(ctx, a.Namespace)
		if err != nil {
			return internal(err)
		}
		var quotas []*corev1.ResourceQuota
		for _, rq := range list {
			if !done[rq.Name] {
				quotas = append(quotas, rq)
			}
		}
		if len(quotas) == 0 {
			return nil
		}
		changed, err := q.checkRequest(ctx, quotas, a, ev)
		if err != nil {
			return err
		}
		if a.DryRun {
			return nil
		}
		lastErr = nil
		for _, rq := range changed {
			if _, err := q.quotas.UpdateResourceQuotaStatus(ctx, rq); err != nil {
				if apierrors.IsConflict(err) {
					lastErr = err
					break
				}
				return internal(err)
			}
			done[rq.Name] = true
		}
		if lastErr == nil {
			return nil
		}
	}
	return internal(lastErr)
}

// checkRequest computes the quotas' status after admitting a; it returns the quotas whose status
// must be written, or the refusal.
func (q *ResourceQuota) checkRequest(ctx context.Context, list []*corev1.ResourceQuota, a *Attributes, ev quotaEvaluator) ([]*corev1.ResourceQuota, error) {
	quotas := make([]*corev1.ResourceQuota, len(list))
	changed := make([]bool, len(list))
	for i, rq := range list {
		synced, dirty, err := q.sync(ctx, rq)
		if err != nil {
			return nil, err
		}
		quotas[i], changed[i] = synced, dirty
	}
	obj := a.Object
	if acc, err := meta.Accessor(obj); err == nil && acc.GetNamespace() == "" {
		// usage of some objects depends on their namespace; don't mutate the caller's object
		obj = obj.DeepCopyObject()
		acc, _ = meta.Accessor(obj)
		acc.SetNamespace(a.Namespace)
	}

	var interesting []int
	for i, rq := range quotas {
		if !quotaMatches(ev, rq, obj) {
			continue
		}
		restricted := ev.matchingResources(resourceNames(rq.Status.Hard))
		if err := ev.constraints(restricted, obj); err != nil {
			return nil, forbiddenf(a, "failed quota: %s: %v", rq.Name, err)
		}
		interesting = append(interesting, i)
	}

	if len(interesting) > 0 {
		now := q.Now()
		input := ev.usage(obj, now)
		if neg := negativeResources(input); len(neg) > 0 {
			return nil, forbiddenf(a, "quota usage is negative for resource(s): %s", prettyPrintNames(neg))
		}
		delta := map[int]corev1.ResourceList{}
		for _, i := range interesting {
			delta[i] = input
		}
		if a.Operation == Update {
			if a.OldObject == nil {
				return nil, forbiddenf(a, "unable to get previous usage since prior version of object was not found")
			}
			if acc, err := meta.Accessor(a.OldObject); err == nil && acc.GetResourceVersion() != "" {
				d := subtractNonNegative(input, ev.usage(a.OldObject, now))
				for _, i := range interesting {
					if quotaMatches(ev, quotas[i], a.OldObject) {
						delta[i] = d
					}
				}
			}
		}
		for _, i := range interesting {
			d := removeZeros(delta[i])
			if len(d) == 0 {
				continue
			}
			rq := quotas[i]
			requested := maskResources(d, resourceNames(rq.Status.Hard))
			newUsed := addLists(rq.Status.Used, requested)
			if a.Subresource != "status" {
				masked := maskResources(newUsed, resourceNames(requested))
				if exceeded := exceededResources(masked, rq.Status.Hard); len(exceeded) > 0 {
					return nil, forbiddenf(a, "exceeded quota: %s, requested: %s, used: %s, limited: %s",
						rq.Name,
						prettyPrint(maskResources(requested, exceeded)),
						prettyPrint(maskResources(rq.Status.Used, exceeded)),
						prettyPrint(maskResources(rq.Status.Hard, exceeded)))
				}
			}
			if !equality.Semantic.DeepEqual(newUsed, rq.Status.Used) {
				rq.Status.Used = newUsed
				changed[i] = true
			}
		}
	}

	var out []*corev1.ResourceQuota
	for i, rq := range quotas {
		if changed[i] {
			out = append(out, rq)
		}
	}
	return out, nil
}

// sync returns a copy of rq whose status.hard equals spec.hard and whose status.used has every
// hard resource, counting the missing ones; dirty reports whether the copy differs.
func (q *ResourceQuota) sync(ctx context.Context, rq *corev1.ResourceQuota) (*corev1.ResourceQuota, bool, error) {
	out := rq.DeepCopy()
	dirty := false
	if !equality.Semantic.DeepEqual(out.Status.Hard, out.Spec.Hard) {
		out.Status.Hard = out.Spec.Hard.DeepCopy()
		dirty = true
	}
	var missing []corev1.ResourceName
	for _, n := range resourceNames(out.Status.Hard) {
		if _, ok := out.Status.Used[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return out, dirty, nil
	}
	used, err := q.countUsage(ctx, out, missing)
	if err != nil {
		return nil, false, err
	}
	if out.Status.Used == nil {
		out.Status.Used = corev1.ResourceList{}
	}
	for k, v := range used {
		out.Status.Used[k] = v
	}
	return out, true, nil
}

// countUsage measures the namespace's current usage of the given quota resources by listing the
// objects that consume them.
func (q *ResourceQuota) countUsage(ctx context.Context, rq *corev1.ResourceQuota, names []corev1.ResourceName) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for _, n := range names {
		out[n] = qty(0)
	}
	remaining := map[corev1.ResourceName]bool{}
	for _, n := range names {
		remaining[n] = true
	}
	now := q.Now()
	for _, ev := range []quotaEvaluator{podEvaluator{}, serviceEvaluator{}, pvcEvaluator{}} {
		mine := ev.matchingResources(names)
		if len(mine) == 0 {
			continue
		}
		objs, err := q.list(ctx, rq.Namespace, ev)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if !ev.matchesScopes(rq, o) {
				continue
			}
			addResources(out, maskResources(ev.usage(o, now), mine))
		}
		for _, n := range mine {
			delete(remaining, n)
		}
	}
	for _, n := range resourceNames(out) {
		if !remaining[n] {
			continue
		}
		gr, ok := countedResource(n)
		if !ok {
			continue // not an object count kforge can measure; starts at zero
		}
		ev := objectCountEvaluator{gr: gr}
		if !ev.matchesScopes(rq, nil) {
			continue
		}
		objs, err := q.list(ctx, rq.Namespace, ev)
		if err != nil {
			return nil, err
		}
		out[n] = qty(int64(len(objs)))
	}
	return out, nil
}

func (q *ResourceQuota) list(ctx context.Context, ns string, ev quotaEvaluator) ([]runtime.Object, error) {
	objs, err := q.objects.ListObjects(ctx, ns, ev.resource())
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, internal(fmt.Errorf("counting %s for quota: %w", ev.resource(), err))
	}
	return objs, nil
}

// Recalculate returns a copy of rq with status.hard set from spec.hard and status.used counted
// from scratch from the objects in its namespace. It writes nothing; the apiserver can store the
// result after creating or editing a quota so `kubectl describe quota` shows usage at once.
func (q *ResourceQuota) Recalculate(ctx context.Context, rq *corev1.ResourceQuota) (*corev1.ResourceQuota, error) {
	out := rq.DeepCopy()
	out.Status.Hard = out.Spec.Hard.DeepCopy()
	used, err := q.countUsage(ctx, out, resourceNames(out.Status.Hard))
	if err != nil {
		return nil, err
	}
	out.Status.Used = used
	return out, nil
}

// Release implements Releaser: it lowers status.used of the matching quotas by what the deleted
// object (DELETE: a.OldObject, or a.Object when OldObject is nil) used, or by what an update
// stopped using (UPDATE: usage(a.OldObject) - usage(a.Object), floored at zero). Usage never
// drops below zero and resources absent from a quota's status are left alone. Kubernetes' quota
// controller does this by recounting; kforge does it eagerly.
func (q *ResourceQuota) Release(ctx context.Context, a *Attributes) error {
	if q.ignored(a) || a.DryRun {
		return nil
	}
	var oldObj, newObj runtime.Object
	switch a.Operation {
	case Delete:
		oldObj = a.OldObject
		if oldObj == nil {
			oldObj = a.Object
		}
	case Update:
		oldObj, newObj = a.OldObject, a.Object
	default:
		return nil
	}
	if oldObj == nil {
		return nil
	}
	ev := evaluatorFor(a.groupResource())
	defer q.lock(a.Namespace)()

	done := map[string]bool{}
	var lastErr error
	for attempt := 0; attempt < q.attempts(); attempt++ {
		list, err := q.quotas.ListResourceQuotas(ctx, a.Namespace)
		if err != nil {
			return internal(err)
		}
		now := q.Now()
		lastErr = nil
		for _, rq := range list {
			if done[rq.Name] || !quotaMatches(ev, rq, oldObj) {
				continue
			}
			release := ev.usage(oldObj, now)
			if newObj != nil && quotaMatches(ev, rq, newObj) {
				release = subtractNonNegative(release, ev.usage(newObj, now))
			}
			var names []corev1.ResourceName
			for _, n := range resourceNames(removeZeros(release)) {
				_, inHard := rq.Status.Hard[n]
				_, inUsed := rq.Status.Used[n]
				if inHard && inUsed {
					names = append(names, n)
				}
			}
			if len(names) == 0 {
				continue
			}
			upd := rq.DeepCopy()
			for _, n := range names {
				v := upd.Status.Used[n]
				v.Sub(release[n])
				if v.Sign() < 0 {
					v = qty(0)
				}
				upd.Status.Used[n] = v
			}
			if _, err := q.quotas.UpdateResourceQuotaStatus(ctx, upd); err != nil {
				if apierrors.IsConflict(err) {
					lastErr = err
					break
				}
				return internal(err)
			}
			done[rq.Name] = true
		}
		if lastErr == nil {
			return nil
		}
	}
	return internal(lastErr)
}
