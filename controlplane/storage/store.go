package storage

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	rpctypes "go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Codec turns objects into the bytes kept in etcd and back.
type Codec interface {
	runtime.Encoder
	runtime.Decoder
}

// Store keeps the objects of one resource in etcd. It is safe for concurrent use.
type Store struct {
	client      *clientv3.Client
	codec       Codec
	prefix      string
	resource    schema.GroupResource
	newFunc     func() runtime.Object
	newListFunc func() runtime.Object
	transformer Transformer
	// written is the etcd revision of the newest write this Store made, so that readers of a
	// watch cache can wait until it shows this process's own writes.
	written atomic.Int64
}

// LastWrite is the etcd revision of the newest create, update or delete this Store made (0
// before the first): a cache read that waits for it sees every write this process made.
func (s *Store) LastWrite() int64 { return s.written.Load() }

func (s *Store) wrote(rev int64) {
	for {
		cur := s.written.Load()
		if rev <= cur || s.written.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// Transformer changes values on their way to and from etcd: encryption at rest. The etcd key
// is the authenticated context, so a value cannot be moved to another key. stale reports a
// value that should be rewritten (encrypted with an old key or not at all).
type Transformer interface {
	TransformToStorage(ctx context.Context, data []byte, dataCtx []byte) ([]byte, error)
	TransformFromStorage(ctx context.Context, data []byte, dataCtx []byte) (out []byte, stale bool, err error)
}

// Config describes one resource's storage.
type Config struct {
	// Client is the etcd client.
	Client *clientv3.Client
	// Codec encodes objects (JSON with apiVersion and kind).
	Codec Codec
	// Prefix is the resource's key prefix, e.g. /registry/pods.
	Prefix string
	// Resource names the resource in errors (pods, deployments.apps).
	Resource schema.GroupResource
	// NewFunc and NewListFunc make empty objects and lists of the resource's type.
	NewFunc     func() runtime.Object
	NewListFunc func() runtime.Object
	// Transformer, when set, encrypts values at rest.
	Transformer Transformer
}

// NewStore returns the etcd store for one resource.
func NewStore(c Config) *Store {
	return &Store{client: c.Client, codec: c.Codec, prefix: strings.TrimSuffix(c.Prefix, "/"), resource: c.Resource,
		newFunc: c.NewFunc, newListFunc: c.NewListFunc, transformer: c.Transformer}
}

// Key is where an object lives: <prefix>/<namespace>/<name>, or <prefix>/<name> when
// cluster-scoped (namespace empty).
func (s *Store) Key(namespace, name string) string {
	if namespace == "" {
		return s.prefix + "/" + name
	}
	return s.prefix + "/" + namespace + "/" + name
}

// KeyPrefix is the prefix of every key in a namespace, or of the whole resource when empty.
func (s *Store) KeyPrefix(namespace string) string {
	if namespace == "" {
		return s.prefix + "/"
	}
	return s.prefix + "/" + namespace + "/"
}

// Resource is the resource this store keeps.
func (s *Store) Resource() schema.GroupResource { return s.resource }

// Preconditions must hold for an update or delete to proceed.
type Preconditions struct {
	UID             *types.UID
	ResourceVersion *string
}

func (p *Preconditions) check(gr schema.GroupResource, key string, obj runtime.Object) error {
	if p == nil {
		return nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	name := path.Base(key)
	if p.UID != nil && *p.UID != m.GetUID() {
		return apierrors.NewConflict(gr, name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
		return apierrors.NewConflict(gr, name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
	}
	return nil
}

// encode stores objects without a resourceVersion: etcd's revision is the truth.
func (s *Store) encode(obj runtime.Object) ([]byte, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	defer m.SetResourceVersion(rv)
	var b strings.Builder
	if err := s.codec.Encode(obj, &b); err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.resource, err)
	}
	return []byte(b.String()), nil
}

// seal turns an encoded object into the value stored at key.
func (s *Store) seal(ctx context.Context, key string, plain []byte) ([]byte, error) {
	if s.transformer == nil {
		return plain, nil
	}
	out, err := s.transformer.TransformToStorage(ctx, plain, []byte(key))
	if err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", key, err)
	}
	return out, nil
}

// open turns the value stored at key back into the encoded object.
func (s *Store) open(ctx context.Context, key string, stored []byte) (plain []byte, stale bool, err error) {
	if s.transformer == nil {
		return stored, false, nil
	}
	plain, stale, err = s.transformer.TransformFromStorage(ctx, stored, []byte(key))
	if err != nil {
		return nil, false, apierrors.NewInternalError(fmt.Errorf("decrypt %s: %w", key, err))
	}
	return plain, stale, nil
}

// decodeStored fills into from the value stored at key.
func (s *Store) decodeStored(ctx context.Context, key string, stored []byte, rev int64, into runtime.Object) error {
	plain, _, err := s.open(ctx, key, stored)
	if err != nil {
		return err
	}
	return s.decode(plain, rev, into)
}

// decode fills into from data and sets its resourceVersion to rev.
func (s *Store) decode(data []byte, rev int64, into runtime.Object) error {
	if _, _, err := s.codec.Decode(data, nil, into); err != nil {
		return fmt.Errorf("decode %s: %w", s.resource, err)
	}
	return setRV(into, rev)
}

func setRV(obj runtime.Object, rev int64) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	m.SetResourceVersion(strconv.FormatInt(rev, 10))
	return nil
}

// Create writes obj at key if nothing is there and fills out with what was stored.
func (s *Store) Create(ctx context.Context, key string, obj, out runtime.Object) error {
	if m, err := meta.Accessor(obj); err == nil && m.GetResourceVersion() != "" {
		return apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	data, err := s.encode(obj)
	if err != nil {
		return err
	}
	sealed, err := s.seal(ctx, key, data)
	if err != nil {
		return err
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(sealed))).
		Commit()
	if err != nil {
		return s.etcdError(err)
	}
	if !resp.Succeeded {
		return apierrors.NewAlreadyExists(s.resource, path.Base(key))
	}
	s.wrote(resp.Header.Revision)
	if out != nil {
		return s.decode(data, resp.Header.Revision, out)
	}
	return nil
}

// Get reads key into out; a missing object is NotFound unless ignoreNotFound, which leaves out
// empty.
func (s *Store) Get(ctx context.Context, key string, ignoreNotFound bool, out runtime.Object) error {
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return s.etcdError(err)
	}
	if len(resp.Kvs) == 0 {
		if ignoreNotFound {
			return nil
		}
		return apierrors.NewNotFound(s.resource, path.Base(key))
	}
	return s.decodeStored(ctx, key, resp.Kvs[0].Value, resp.Kvs[0].ModRevision, out)
}

// UpdateFunc computes the new object from the current one; returning an error aborts.
type UpdateFunc func(current runtime.Object) (runtime.Object, error)

// GuaranteedUpdate applies tryUpdate to the current object and writes the result only if
// nothing changed meanwhile, retrying on a lost race: a read-modify-write that never loses an
// update. With ignoreNotFound a missing object is passed to tryUpdate as an empty one (create).
func (s *Store) GuaranteedUpdate(ctx context.Context, key string, out runtime.Object, ignoreNotFound bool, pre *Preconditions, tryUpdate UpdateFunc) error {
	for {
		current := s.newFunc()
		var modRev int64
		var plain []byte
		stale := false
		resp, err := s.client.Get(ctx, key)
		if err != nil {
			return s.etcdError(err)
		}
		if len(resp.Kvs) == 0 {
			if !ignoreNotFound {
				return apierrors.NewNotFound(s.resource, path.Base(key))
			}
		} else {
			modRev = resp.Kvs[0].ModRevision
			if plain, stale, err = s.open(ctx, key, resp.Kvs[0].Value); err != nil {
				return err
			}
			if err := s.decode(plain, modRev, current); err != nil {
				return err
			}
			if err := pre.check(s.resource, key, current); err != nil {
				return err
			}
		}
		updated, err := tryUpdate(current)
		if err != nil {
			return err
		}
		data, err := s.encode(updated)
		if err != nil {
			return err
		}
		if modRev != 0 && !stale && string(data) == string(plain) {
			// Nothing changed: no write, no new resourceVersion, no watch event. A value
			// under an old encryption key is rewritten even then, which is how keys rotate.
			return s.decode(data, modRev, out)
		}
		sealed, err := s.seal(ctx, key, data)
		if err != nil {
			return err
		}
		txn, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
			Then(clientv3.OpPut(key, string(sealed))).
			Commit()
		if err != nil {
			return s.etcdError(err)
		}
		if !txn.Succeeded {
			continue // someone else wrote first: recompute from their version
		}
		s.wrote(txn.Header.Revision)
		return s.decode(data, txn.Header.Revision, out)
	}
}

// Delete removes key if pre holds for the current object; validate may refuse based on the
// object (e.g. finalizers). out receives the object as it was deleted.
func (s *Store) Delete(ctx context.Context, key string, out runtime.Object, pre *Preconditions, validate func(runtime.Object) error) error {
	for {
		resp, err := s.client.Get(ctx, key)
		if err != nil {
			return s.etcdError(err)
		}
		if len(resp.Kvs) == 0 {
			return apierrors.NewNotFound(s.resource, path.Base(key))
		}
		kv := resp.Kvs[0]
		current := s.newFunc()
		if err := s.decodeStored(ctx, key, kv.Value, kv.ModRevision, current); err != nil {
			return err
		}
		if err := pre.check(s.resource, key, current); err != nil {
			return err
		}
		if validate != nil {
			if err := validate(current); err != nil {
				return err
			}
		}
		txn, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
			Then(clientv3.OpDelete(key)).
			Commit()
		if err != nil {
			return s.etcdError(err)
		}
		if !txn.Succeeded {
			continue
		}
		s.wrote(txn.Header.Revision)
		if out != nil {
			if err := s.decodeStored(ctx, key, kv.Value, txn.Header.Revision, out); err != nil {
				return err
			}
		}
		return nil
	}
}

// CurrentRevision is etcd's revision now: what a consistent read must at least reflect.
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, s.prefix+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, s.etcdError(err)
	}
	return resp.Header.Revision, nil
}

// etcdError turns etcd failures into API errors a client understands.
func (s *Store) etcdError(err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return apierrors.NewResourceExpired("The resourceVersion for the provided list is too old.")
	case errors.Is(err, context.DeadlineExceeded):
		return apierrors.NewTimeoutError("etcd did not answer in time", 1)
	case errors.Is(err, context.Canceled):
		return err
	}
	return apierrors.NewInternalError(fmt.Errorf("etcd: %w", err))
}
