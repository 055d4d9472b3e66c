package apiserver

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	clientv3 "go.etcd.io/etcd/client/v3"

	"kforge.dev/kforge/controlplane/apiserver/allocator"
	"kforge.dev/kforge/controlplane/apiserver/audit"
	"kforge.dev/kforge/controlplane/apiserver/registry"
	"kforge.dev/kforge/controlplane/apiserver/resources"
	"kforge.dev/kforge/controlplane/storage"
	"kforge.dev/kforge/controlplane/storage/encryption"
)

// resource is one served resource: its definition and its registry store.
type resource struct {
	def    resources.Definition
	store  *registry.Store
	fields *fieldManagers
}

// API is the set of served resources over one etcd, without the HTTP server around it.
type API struct {
	scheme    *runtime.Scheme
	codecs    codecs
	byGVR     map[schema.GroupVersionResource]*resource
	groups    []groupVersion // discovery order
	cachers   []*storage.Cacher
	namespace *resource
	fieldsErr error
	services  *serviceHooks
	security  *Security
	audit     *audit.Logger
	kubelet   *kubeletClient
}

// SetAudit logs every later request to l (nil turns the audit log off). Call it before
// Handler.
func (a *API) SetAudit(l *audit.Logger) { a.audit = l }

// SetSecurity turns on authentication, authorization and admission for every later request.
// It is separate from NewAPI because the security layers read objects through the API.
func (a *API) SetSecurity(s *Security) { a.security = s }

type groupVersion struct {
	gv        schema.GroupVersion
	resources []*resource
}

// APIOptions tune the API's storage.
type APIOptions struct {
	// WatchCacheCapacity is how many events each resource's watch cache keeps (default 1000).
	WatchCacheCapacity int
	// BookmarkInterval is how often watches that allow bookmarks get one (default 10s).
	BookmarkInterval time.Duration
	// ServiceClusterIPRange is where Service cluster IPs come from (default 10.96.0.0/12);
	// its first address is the kubernetes Service.
	ServiceClusterIPRange string
	// NodePortBase and NodePortSize are the NodePort range (default 30000-32767).
	NodePortBase, NodePortSize int
	// Encryption encrypts the resources it names at rest (--encryption-provider-config).
	Encryption *encryption.Config
}

// NewAPI builds the registry of every resource on client.
func NewAPI(client *clientv3.Client, opts APIOptions) (*API, error) {
	a := &API{scheme: scheme.Scheme, codecs: newCodecs(scheme.Scheme), byGVR: map[schema.GroupVersionResource]*resource{}}
	codec := storage.NewJSONCodec(scheme.Scheme)
	gvIndex := map[schema.GroupVersion]int{}
	for _, def := range resources.All() {
		if def.CreateOnly {
			a.addResource(gvIndex, &resource{def: def})
			continue
		}
		var transformer storage.Transformer
		if opts.Encryption != nil {
			transformer = opts.Encryption.TransformerFor(def.GVK.Group, def.Plural)
		}
		st := storage.NewStore(storage.Config{Client: client, Codec: codec, Prefix: def.StoragePrefix(), Resource: def.GroupResource(),
			NewFunc: def.New, NewListFunc: def.NewList, Transformer: transformer})
		cacher := storage.NewCacher(storage.CacherConfig{Store: st, GetAttrs: def.GetAttrs, Capacity: opts.WatchCacheCapacity, BookmarkInterval: opts.BookmarkInterval})
		var status registry.StatusStrategy
		if def.HasStatus {
			status = resources.StatusStrategy()
		}
		r := &resource{def: def, store: &registry.Store{
			Resource: def.GroupResource(), Kind: def.GVK, Namespaced: def.Namespaced,
			NewFunc: def.New, NewListFunc: def.NewList, Strategy: def.Strategy, StatusStrategy: status,
			NameValidator: def.NameValidator, Storage: st, Cache: cacher, GetAttrs: def.GetAttrs,
		}}
		a.cachers = append(a.cachers, cacher)
		a.addResource(gvIndex, r)
		if def.Plural == "namespaces" && def.GVK.Group == "" {
			a.namespace = r
		}
	}
	for _, g := range a.groups {
		sort.Slice(g.resources, func(i, j int) bool { return g.resources[i].def.Plural < g.resources[j].def.Plural })
	}
	if err := a.newFieldManagers(); err != nil {
		// managedFields and server-side apply need the type information; the rest does not.
		a.fieldsErr = err
	}
	if opts.ServiceClusterIPRange == "" {
		opts.ServiceClusterIPRange = "10.96.0.0/12"
	}
	if opts.NodePortBase == 0 {
		opts.NodePortBase, opts.NodePortSize = 30000, 2768
	}
	ips, err := allocator.NewIPRange(client, opts.ServiceClusterIPRange)
	if err != nil {
		return nil, fmt.Errorf("--service-cluster-ip-range: %w", err)
	}
	a.services = &serviceHooks{ips: ips, ports: allocator.NewPortRange(client, opts.NodePortBase, opts.NodePortSize)}
	a.resourceFor(corev1.SchemeGroupVersion.WithResource("services")).store.Hooks = a.services
	for _, gvr := range []schema.GroupVersionResource{gvrRoles, gvrClusterRoles, gvrRoleBindings, gvrClusterRoleBindings} {
		a.resourceFor(gvr).store.Hooks = rbacGuard{a: a}
	}
	return a, nil
}

// addResource serves r, in its group/version's discovery list.
func (a *API) addResource(gvIndex map[schema.GroupVersion]int, r *resource) {
	a.byGVR[r.def.GroupVersionResource()] = r
	gv := r.def.GVK.GroupVersion()
	i, ok := gvIndex[gv]
	if !ok {
		i = len(a.groups)
		gvIndex[gv] = i
		a.groups = append(a.groups, groupVersion{gv: gv})
	}
	a.groups[i].resources = append(a.groups[i].resources, r)
}

// servedKinds lists every served kind.
func (a *API) servedKinds() []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, g := range a.groups {
		for _, r := range g.resources {
			out = append(out, r.def.GVK)
		}
	}
	return out
}

// Run keeps the watch caches current until ctx ends; it returns once they are all filled.
func (a *API) Run(ctx context.Context) error {
	for _, c := range a.cachers {
		go c.Run(ctx)
	}
	for _, c := range a.cachers {
		if err := c.WaitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// SystemNamespaces exist in every cluster; kube-apiserver creates them at start.
var SystemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// Bootstrap creates what kube-apiserver creates at start-up when it is missing.
func (a *API) Bootstrap(ctx context.Context) error {
	for _, name := range SystemNamespaces {
		_, err := a.namespace.store.Create(ctx, "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, registry.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("bootstrap: create namespace %s: %w", name, err)
		}
	}
	return nil
}

// lookup finds a served resource.
func (a *API) lookup(gvr schema.GroupVersionResource) (*resource, bool) {
	r, ok := a.byGVR[gvr]
	return r, ok
}

// namespaceExists is the NamespaceLifecycle check: objects go only into existing namespaces.
func (a *API) namespaceExists(ctx context.Context, ns string) error {
	obj, err := a.namespace.store.Get(ctx, "", ns, "0")
	if apierrors.IsNotFound(err) {
		// The cache may lag a create that just happened; ask etcd before refusing.
		obj, err = a.namespace.store.Get(ctx, "", ns, "")
	}
	if err != nil {
		return err
	}
	if n := obj.(*corev1.Namespace); n.DeletionTimestamp != nil {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, ns,
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	return nil
}
