package registry

import (
	"context"
	"fmt"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"

	"kforge.dev/kforge/controlplane/storage"
)

// Finalizers the registry itself understands (DeleteOptions.propagationPolicy).
const (
	FinalizerOrphan           = "orphan"
	FinalizerDeleteDependents = "foregroundDeletion"
)

// Store is the generic REST storage of one resource.
type Store struct {
	// Resource and Kind name what is stored, for errors and type information.
	Resource schema.GroupResource
	Kind     schema.GroupVersionKind
	// Namespaced says whether objects live in namespaces.
	Namespaced bool
	// NewFunc and NewListFunc make empty objects.
	NewFunc     func() runtime.Object
	NewListFunc func() runtime.Object
	// Strategy holds the resource's rules; StatusStrategy those of its status subresource.
	Strategy       Strategy
	StatusStrategy StatusStrategy
	// NameValidator checks names (DNS subdomain by default).
	NameValidator NameValidator
	// Storage writes to etcd; Cache serves reads and watches.
	Storage *storage.Store
	Cache   *storage.Cacher
	// GetAttrs gives the selectable fields of objects (metadata.name/namespace by default).
	GetAttrs storage.AttrFunc
	// Hooks, when set, run the resource's side effects around writes.
	Hooks Hooks
	// Now is the clock (tests fix it).
	Now func() time.Time
}

// Hooks run resource-specific side effects around writes, such as allocating a Service's
// cluster IP and node ports. Before* may refuse the write; the undo they return is called when
// the write does not happen after all.
type Hooks interface {
	BeforeCreate(ctx context.Context, obj runtime.Object, dryRun bool) (undo func(), err error)
	BeforeUpdate(ctx context.Context, obj, old runtime.Object, dryRun bool) (undo func(), err error)
	AfterUpdate(ctx context.Context, obj, old runtime.Object)
	AfterDelete(ctx context.Context, obj runtime.Object)
}

func (s *Store) now() metav1.Time {
	if s.Now != nil {
		return metav1.NewTime(s.Now())
	}
	return metav1.Now()
}

func (s *Store) key(namespace, name string) string {
	if !s.Namespaced {
		namespace = ""
	}
	return s.Storage.Key(namespace, name)
}

func (s *Store) invalid(m metav1.Object, errs field.ErrorList) error {
	name := m.GetName()
	if name == "" {
		name = m.GetGenerateName()
	}
	return apierrors.NewInvalid(s.Kind.GroupKind(), name, errs)
}

// generationTracker is implemented by strategies of resources whose metadata.generation
// counts spec changes.
type generationTracker interface{ TracksGeneration() bool }

// CreateOptions are the options of a create.
type CreateOptions struct {
	DryRun bool
	// Admission, when set, may change the object before it is validated and may refuse it after.
	Admission Admission

	skipHooks bool // validation-only pass of an upsert; the hooks run with the real write
}

// Create stores a new object: it fills name (from generateName), uid, creationTimestamp and
// generation, validates, and writes unless DryRun.
func (s *Store) Create(ctx context.Context, namespace string, obj runtime.Object, opts CreateOptions) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if s.Namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(namespace)
		} else if namespace != "" && m.GetNamespace() != namespace {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", m.GetNamespace(), namespace))
		}
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(generateName(m.GetGenerateName()))
	}
	m.SetUID(types.UID(uuid.NewUUID()))
	m.SetCreationTimestamp(s.now())
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetGeneration(0)
	if g, ok := s.Strategy.(generationTracker); ok && g.TracksGeneration() {
		m.SetGeneration(1)
	}
	m.SetSelfLink("")
	if opts.Admission != nil {
		if err := opts.Admission.Mutate(ctx, OpCreate, obj, nil); err != nil {
			return nil, err
		}
	}
	s.Strategy.PrepareForCreate(ctx, obj)
	nameFn := s.NameValidator
	if nameFn == nil {
		nameFn = ValidateDNSSubdomainName
	}
	errs := validateObjectMeta(m, s.Namespaced, nameFn)
	errs = append(errs, s.Strategy.Validate(ctx, obj)...)
	if len(errs) > 0 {
		return nil, s.invalid(m, errs)
	}
	if opts.Admission != nil {
		if err := opts.Admission.Validate(ctx, OpCreate, obj, nil); err != nil {
			return nil, err
		}
	}
	undo := func() {}
	if s.Hooks != nil && !opts.skipHooks {
		u, err := s.Hooks.BeforeCreate(ctx, obj, opts.DryRun)
		if err != nil {
			return nil, err
		}
		if u != nil {
			undo = u
		}
	}
	if opts.DryRun {
		return obj, nil
	}
	out := s.NewFunc()
	if err := s.Storage.Create(ctx, s.key(m.GetNamespace(), m.GetName()), obj, out); err != nil {
		undo()
		if apierrors.IsAlreadyExists(err) && m.GetGenerateName() != "" {
			// kube-apiserver returns a retryable error when a generated name collides.
			return nil, apierrors.NewServerTimeoutForKind(s.Kind.GroupKind(), "POST", 0)
		}
		return nil, err
	}
	return out, nil
}

// generateName appends five random characters, as kube-apiserver does.
func generateName(base string) string {
	const maxNameLength, randomLength = 63, 5
	if len(base) > maxNameLength-randomLength {
		base = base[:maxNameLength-randomLength]
	}
	return base + utilrand.String(randomLength)
}

// Get reads one object; resourceVersion "" reads etcd, "0"/N may be served from the cache.
func (s *Store) Get(ctx context.Context, namespace, name, resourceVersion string) (runtime.Object, error) {
	out := s.NewFunc()
	key := s.key(namespace, name)
	var err error
	if s.Cache != nil && resourceVersion != "" {
		err = s.Cache.Get(ctx, key, resourceVersion, out)
	} else {
		err = s.Storage.Get(ctx, key, false, out)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// List reads objects of a namespace (all namespaces when empty).
func (s *Store) List(ctx context.Context, namespace string, opts storage.ListOptions) (runtime.Object, error) {
	list := s.NewListFunc()
	opts.Predicate.GetAttrs = s.GetAttrs
	prefix := s.Storage.KeyPrefix(namespace)
	if !s.Namespaced {
		prefix = s.Storage.KeyPrefix("")
	}
	var err error
	if s.Cache != nil {
		err = s.Cache.List(ctx, prefix, opts, list)
	} else {
		err = s.Storage.List(ctx, prefix, opts, list)
	}
	if err != nil {
		return nil, err
	}
	return list, nil
}

// Visit calls fn with the objects of a namespace (all when empty) that pred matches, shared
// with the watch cache rather than copied, so fn must not modify them. Without a cache it reads
// etcd.
func (s *Store) Visit(ctx context.Context, namespace string, pred storage.Predicate, fn func(runtime.Object)) error {
	if s.Cache == nil {
		list, err := s.List(ctx, namespace, storage.ListOptions{Predicate: pred})
		if err != nil {
			return err
		}
		return meta.EachListItem(list, func(o runtime.Object) error { fn(o); return nil })
	}
	pred.GetAttrs = s.GetAttrs
	prefix := s.Storage.KeyPrefix(namespace)
	if !s.Namespaced {
		prefix = s.Storage.KeyPrefix("")
	}
	return s.Cache.Visit(ctx, prefix, pred, fn)
}

// Watch streams changes of a namespace (all namespaces when empty).
func (s *Store) Watch(ctx context.Context, namespace string, opts storage.WatchOptions) (watch.Interface, error) {
	opts.Predicate.GetAttrs = s.GetAttrs
	prefix := s.Storage.KeyPrefix(namespace)
	if !s.Namespaced {
		prefix = s.Storage.KeyPrefix("")
	}
	if s.Cache != nil {
		return s.Cache.Watch(ctx, prefix, opts)
	}
	rv, err := storage.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	return s.Storage.Watch(ctx, prefix, rv, opts.Predicate)
}

// UpdateOptions are the options of an update.
type UpdateOptions struct {
	DryRun bool
	// Subresource is "" or "status".
	Subresource string
	// AllowCreate lets an update of a missing object create it (PUT upsert, apply).
	AllowCreate bool
	// Admission, when set, sees the update (or the create of an upsert) like CreateOptions'.
	Admission Admission
}

// Transform computes the new object from the current one (nil when it does not exist yet).
type Transform func(ctx context.Context, current runtime.Object) (runtime.Object, error)

// Update replaces an object with what transform returns. A resourceVersion in the new object
// must equal the stored one (409 otherwise); without one the update is unconditional.
func (s *Store) Update(ctx context.Context, namespace, name string, transform Transform, opts UpdateOptions) (runtime.Object, bool, error) {
	key := s.key(namespace, name)
	out := s.NewFunc()
	created := false
	var deleteAfter bool
	var dryRunResult, old runtime.Object
	undo := func() {}
	err := s.Storage.GuaranteedUpdate(ctx, key, out, opts.AllowCreate, nil, func(current runtime.Object) (runtime.Object, error) {
		created, deleteAfter = false, false
		undo() // a retry after a lost race starts from the stored object again
		undo, old = func() {}, nil
		cm, _ := meta.Accessor(current)
		exists := cm.GetUID() != "" || cm.GetResourceVersion() != ""
		var cur runtime.Object
		if exists {
			cur = current.DeepCopyObject()
		}
		obj, err := transform(ctx, cur)
		if err != nil {
			return nil, err
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if s.Namespaced && m.GetNamespace() == "" {
			m.SetNamespace(namespace)
		}
		if m.GetName() != name || (s.Namespaced && m.GetNamespace() != namespace) {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), name))
		}
		if !exists {
			if !opts.AllowCreate || opts.Subresource != "" {
				return nil, apierrors.NewNotFound(s.Resource, name)
			}
			m.SetResourceVersion("")
			created = true
			res, err := s.Create(ctx, namespace, obj, CreateOptions{DryRun: true, skipHooks: true, Admission: opts.Admission})
			if err != nil {
				return nil, err
			}
			if s.Hooks != nil {
				u, err := s.Hooks.BeforeCreate(ctx, res, opts.DryRun)
				if err != nil {
					return nil, err
				}
				if u != nil {
					undo = u
				}
			}
			if opts.DryRun {
				dryRunResult = res
				return nil, errDryRun
			}
			return res, nil
		}
		if rv := m.GetResourceVersion(); rv != "" && rv != cm.GetResourceVersion() {
			return nil, apierrors.NewConflict(s.Resource, name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		// Server-owned metadata always comes from the stored object.
		m.SetUID(cm.GetUID())
		m.SetCreationTimestamp(cm.GetCreationTimestamp())
		m.SetGeneration(cm.GetGeneration())
		m.SetDeletionTimestamp(cm.GetDeletionTimestamp())
		m.SetDeletionGracePeriodSeconds(cm.GetDeletionGracePeriodSeconds())
		m.SetResourceVersion(cm.GetResourceVersion())
		if opts.Admission != nil {
			if err := opts.Admission.Mutate(ctx, OpUpdate, obj, current); err != nil {
				return nil, err
			}
		}
		var errs field.ErrorList
		switch {
		case opts.Subresource == "status" && s.StatusStrategy != nil:
			s.StatusStrategy.PrepareForUpdate(ctx, obj, current)
			errs = append(validateObjectMetaUpdate(m, cm), s.StatusStrategy.ValidateUpdate(ctx, obj, current)...)
		case opts.Subresource != "":
			// Subresources the apiserver implements itself (binding) write exactly what their
			// transform computed.
			errs = validateObjectMetaUpdate(m, cm)
		default:
			s.Strategy.PrepareForUpdate(ctx, obj, current)
			errs = append(validateObjectMetaUpdate(m, cm), s.Strategy.ValidateUpdate(ctx, obj, current)...)
			if s.Strategy.SpecChanged(obj, current) {
				m.SetGeneration(cm.GetGeneration() + 1)
			}
		}
		if len(errs) > 0 {
			return nil, s.invalid(m, errs)
		}
		if opts.Admission != nil {
			if err := opts.Admission.Validate(ctx, OpUpdate, obj, current); err != nil {
				return nil, err
			}
		}
		if s.Hooks != nil {
			u, err := s.Hooks.BeforeUpdate(ctx, obj, current, opts.DryRun)
			if err != nil {
				return nil, err
			}
			if u != nil {
				undo = u
			}
			old = current
		}
		// An object being deleted goes once its last finalizer is removed.
		deleteAfter = m.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) == 0
		if opts.DryRun {
			dryRunResult = obj
			return nil, errDryRun
		}
		return obj, nil
	})
	if err == errDryRun {
		undo()
		return dryRunResult, created, nil
	}
	if err != nil {
		undo()
		return nil, false, err
	}
	if s.Hooks != nil && old != nil {
		s.Hooks.AfterUpdate(ctx, out, old)
	}
	if deleteAfter {
		om, _ := meta.Accessor(out)
		rv := om.GetResourceVersion()
		del := s.NewFunc()
		err := s.Storage.Delete(ctx, key, del, &storage.Preconditions{ResourceVersion: &rv}, nil)
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return nil, false, err
		}
		if err == nil && s.Hooks != nil {
			s.Hooks.AfterDelete(ctx, del)
		}
	}
	return out, created, nil
}

var errDryRun = fmt.Errorf("dry run")

// DeleteOptions are the options of a delete.
type DeleteOptions struct {
	DryRun        bool
	Preconditions *storage.Preconditions
	// PropagationPolicy: Orphan, Background (default) or Foreground.
	PropagationPolicy *metav1.DeletionPropagation
	// GracePeriodSeconds is recorded as deletionGracePeriodSeconds when the object waits.
	GracePeriodSeconds *int64
	// Admission, when set, may refuse the delete; it sees the current object as old.
	Admission Admission
}

// Delete removes an object, or, when it has finalizers (or foreground deletion is asked for),
// marks it with deletionTimestamp and leaves it until the finalizers are gone. It returns the
// object and whether it is gone now.
func (s *Store) Delete(ctx context.Context, namespace, name string, opts DeleteOptions) (runtime.Object, bool, error) {
	key := s.key(namespace, name)
	current, err := s.Get(ctx, namespace, name, "")
	if err != nil {
		return nil, false, err
	}
	cm, _ := meta.Accessor(current)
	if opts.Admission != nil {
		if err := opts.Admission.Validate(ctx, OpDelete, nil, current); err != nil {
			return nil, false, err
		}
	}
	if p := opts.Preconditions; p != nil {
		if p.UID != nil && *p.UID != cm.GetUID() {
			return nil, false, apierrors.NewConflict(s.Resource, name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, cm.GetUID()))
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != cm.GetResourceVersion() {
			return nil, false, apierrors.NewConflict(s.Resource, name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, cm.GetResourceVersion()))
		}
	}
	extra := ""
	if pp := opts.PropagationPolicy; pp != nil {
		switch *pp {
		case metav1.DeletePropagationForeground:
			extra = FinalizerDeleteDependents
		case metav1.DeletePropagationOrphan:
			extra = FinalizerOrphan
		case metav1.DeletePropagationBackground:
		default:
			return nil, false, apierrors.NewBadRequest(fmt.Sprintf("unknown propagationPolicy %q: use Orphan, Background or Foreground", *pp))
		}
	}
	if len(cm.GetFinalizers()) > 0 || extra != "" {
		obj, _, err := s.Update(ctx, namespace, name, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
			if cur == nil {
				return nil, apierrors.NewNotFound(s.Resource, name)
			}
			m, _ := meta.Accessor(cur)
			m.SetResourceVersion("")
			if extra != "" && !hasString(m.GetFinalizers(), extra) {
				m.SetFinalizers(append(m.GetFinalizers(), extra))
			}
			return cur, nil
		}, UpdateOptions{DryRun: opts.DryRun})
		if err != nil {
			return nil, false, err
		}
		// The deletion mark is server-owned, so it is written apart from the client's update.
		return s.markDeleting(ctx, key, obj, opts)
	}
	if opts.DryRun {
		return current, true, nil
	}
	out := s.NewFunc()
	rv := cm.GetResourceVersion()
	pre := opts.Preconditions
	if pre == nil {
		pre = &storage.Preconditions{}
	}
	if pre.ResourceVersion == nil {
		pre.ResourceVersion = &rv
	}
	if err := s.Storage.Delete(ctx, key, out, pre, nil); err != nil {
		if apierrors.IsConflict(err) && opts.Preconditions == nil {
			return s.Delete(ctx, namespace, name, opts) // changed meanwhile (e.g. a finalizer added)
		}
		return nil, false, err
	}
	if s.Hooks != nil {
		s.Hooks.AfterDelete(ctx, out)
	}
	return out, true, nil
}

func (s *Store) markDeleting(ctx context.Context, key string, obj runtime.Object, opts DeleteOptions) (runtime.Object, bool, error) {
	if opts.DryRun {
		m, _ := meta.Accessor(obj)
		if m.GetDeletionTimestamp() == nil {
			now := s.now()
			m.SetDeletionTimestamp(&now)
		}
		return obj, false, nil
	}
	out := s.NewFunc()
	err := s.Storage.GuaranteedUpdate(ctx, key, out, false, nil, func(cur runtime.Object) (runtime.Object, error) {
		m, _ := meta.Accessor(cur)
		if m.GetDeletionTimestamp() == nil {
			now := s.now()
			m.SetDeletionTimestamp(&now)
			grace := int64(0)
			if opts.GracePeriodSeconds != nil {
				grace = *opts.GracePeriodSeconds
			}
			m.SetDeletionGracePeriodSeconds(&grace)
		}
		return cur, nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, false, nil
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SemanticEqualExceptMetaAndStatus is the usual SpecChanged: everything but metadata and status.
func SemanticEqualExceptMetaAndStatus(a, b runtime.Object) bool {
	ua, err1 := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
	ub, err2 := runtime.DefaultUnstructuredConverter.ToUnstructured(b)
	if err1 != nil || err2 != nil {
		return false
	}
	for _, k := range []string{"metadata", "status", "apiVersion", "kind"} {
		delete(ua, k)
		delete(ub, k)
	}
	return apiequality.Semantic.DeepEqual(ua, ub)
}
