package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kforge.dev/kforge/controlplane/apiserver/registry"
	"kforge.dev/kforge/controlplane/storage"
)

// The security layers (authentication, authorization, admission) read objects on every
// request; they read the watch caches, as kube-apiserver's informers do, and ask etcd only
// when the cache does not have an object yet (it may lag a write by milliseconds).

// cachedGet reads one object of gvr.
func (a *API) cachedGet(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	res, ok := a.lookup(gvr)
	if !ok || res.store == nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("%s is not served", gvr))
	}
	obj, err := res.store.Get(ctx, namespace, name, "0")
	if apierrors.IsNotFound(err) {
		obj, err = res.store.Get(ctx, namespace, name, "")
	}
	return obj, err
}

// cachedList calls each with the objects of gvr in namespace (all when empty) that match sel
// (all when nil). The objects are the watch cache's own: each must not modify them.
func (a *API) cachedList(ctx context.Context, gvr schema.GroupVersionResource, namespace string, sel fields.Selector, each func(runtime.Object)) error {
	res, ok := a.lookup(gvr)
	if !ok || res.store == nil {
		return apierrors.NewInternalError(fmt.Errorf("%s is not served", gvr))
	}
	return res.store.Visit(ctx, namespace, storage.Predicate{Field: sel}, each)
}

// objectReader gives the security layers typed reads of the API's objects.
type objectReader struct{ a *API }

var (
	gvrNamespaces          = corev1.SchemeGroupVersion.WithResource("namespaces")
	gvrPods                = corev1.SchemeGroupVersion.WithResource("pods")
	gvrNodes               = corev1.SchemeGroupVersion.WithResource("nodes")
	gvrSecrets             = corev1.SchemeGroupVersion.WithResource("secrets")
	gvrServiceAccounts     = corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	gvrLimitRanges         = corev1.SchemeGroupVersion.WithResource("limitranges")
	gvrResourceQuotas      = corev1.SchemeGroupVersion.WithResource("resourcequotas")
	gvrPriorityClasses     = schedulingv1.SchemeGroupVersion.WithResource("priorityclasses")
	gvrRoles               = rbacv1.SchemeGroupVersion.WithResource("roles")
	gvrRoleBindings        = rbacv1.SchemeGroupVersion.WithResource("rolebindings")
	gvrClusterRoles        = rbacv1.SchemeGroupVersion.WithResource("clusterroles")
	gvrClusterRoleBindings = rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings")
)

func getAs[T runtime.Object](ctx context.Context, a *API, gvr schema.GroupVersionResource, namespace, name string) (T, error) {
	var zero T
	obj, err := a.cachedGet(ctx, gvr, namespace, name)
	if err != nil {
		return zero, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, apierrors.NewInternalError(fmt.Errorf("%s %s/%s is a %T", gvr.Resource, namespace, name, obj))
	}
	return t, nil
}

// listAs lists copies of the objects, for callers that change what they read (quota status).
func listAs[T runtime.Object](ctx context.Context, a *API, gvr schema.GroupVersionResource, namespace string, sel fields.Selector) ([]T, error) {
	var out []T
	err := a.cachedList(ctx, gvr, namespace, sel, func(o runtime.Object) {
		if t, ok := o.DeepCopyObject().(T); ok {
			out = append(out, t)
		}
	})
	return out, err
}

// listShared lists the watch cache's own objects, for readers on every request (RBAC, the Node
// authorizer's graph) that only look: copying every binding on every request would cost more
// than the rest of the request.
func listShared[T runtime.Object](ctx context.Context, a *API, gvr schema.GroupVersionResource, namespace string, sel fields.Selector) ([]T, error) {
	var out []T
	err := a.cachedList(ctx, gvr, namespace, sel, func(o runtime.Object) {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	})
	return out, err
}

func (o objectReader) GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	return getAs[*corev1.Namespace](ctx, o.a, gvrNamespaces, "", name)
}

func (o objectReader) GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	return getAs[*corev1.ServiceAccount](ctx, o.a, gvrServiceAccounts, namespace, name)
}

func (o objectReader) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return getAs[*corev1.Secret](ctx, o.a, gvrSecrets, namespace, name)
}

func (o objectReader) GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	return getAs[*corev1.Pod](ctx, o.a, gvrPods, namespace, name)
}

func (o objectReader) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	return getAs[*corev1.Node](ctx, o.a, gvrNodes, "", name)
}

func (o objectReader) ListLimitRanges(ctx context.Context, namespace string) ([]*corev1.LimitRange, error) {
	return listAs[*corev1.LimitRange](ctx, o.a, gvrLimitRanges, namespace, nil)
}

// ListResourceQuotas reads a namespace's quotas from the watch cache once it shows this
// apiserver's own quota writes: usage this server just charged or released, or a quota created a
// moment ago, is seen by the next request.
func (o objectReader) ListResourceQuotas(ctx context.Context, namespace string) ([]*corev1.ResourceQuota, error) {
	return listAs[*corev1.ResourceQuota](ctx, o.a, gvrResourceQuotas, namespace, nil)
}

// UpdateResourceQuotaStatus writes q's status if q is still the stored version (409 if not).
func (o objectReader) UpdateResourceQuotaStatus(ctx context.Context, q *corev1.ResourceQuota) (*corev1.ResourceQuota, error) {
	res, _ := o.a.lookup(gvrResourceQuotas)
	out, _, err := res.store.Update(ctx, q.Namespace, q.Name, func(context.Context, runtime.Object) (runtime.Object, error) {
		return q.DeepCopy(), nil
	}, registry.UpdateOptions{Subresource: "status"})
	if apierrors.IsConflict(err) {
		// Another apiserver changed the quota since our cache saw it. A consistent list makes
		// the cache catch up with etcd, so the caller's retry reads the quota as it is now.
		_, _ = res.store.List(ctx, q.Namespace, storage.ListOptions{})
	}
	if err != nil {
		return nil, err
	}
	return out.(*corev1.ResourceQuota), nil
}

// ListObjects lists any served resource of a namespace, for quota usage counts.
func (o objectReader) ListObjects(ctx context.Context, namespace string, gr schema.GroupResource) ([]runtime.Object, error) {
	for gvr, res := range o.a.byGVR {
		if gvr.GroupResource() == gr && res.store != nil {
			var out []runtime.Object
			err := o.a.cachedList(ctx, gvr, namespace, nil, func(obj runtime.Object) { out = append(out, obj) })
			return out, err
		}
	}
	return nil, apierrors.NewNotFound(gr, "")
}

func (o objectReader) GetPriorityClass(ctx context.Context, name string) (*schedulingv1.PriorityClass, error) {
	return getAs[*schedulingv1.PriorityClass](ctx, o.a, gvrPriorityClasses, "", name)
}

func (o objectReader) ListPriorityClasses(ctx context.Context) ([]*schedulingv1.PriorityClass, error) {
	return listAs[*schedulingv1.PriorityClass](ctx, o.a, gvrPriorityClasses, "", nil)
}

func (o objectReader) GetRole(ctx context.Context, namespace, name string) (*rbacv1.Role, error) {
	return getAs[*rbacv1.Role](ctx, o.a, gvrRoles, namespace, name)
}

func (o objectReader) GetClusterRole(ctx context.Context, name string) (*rbacv1.ClusterRole, error) {
	return getAs[*rbacv1.ClusterRole](ctx, o.a, gvrClusterRoles, "", name)
}

func (o objectReader) ListClusterRoles(ctx context.Context) ([]*rbacv1.ClusterRole, error) {
	return listShared[*rbacv1.ClusterRole](ctx, o.a, gvrClusterRoles, "", nil)
}

func (o objectReader) ListRoleBindings(ctx context.Context, namespace string) ([]*rbacv1.RoleBinding, error) {
	return listShared[*rbacv1.RoleBinding](ctx, o.a, gvrRoleBindings, namespace, nil)
}

func (o objectReader) ListClusterRoleBindings(ctx context.Context) ([]*rbacv1.ClusterRoleBinding, error) {
	return listShared[*rbacv1.ClusterRoleBinding](ctx, o.a, gvrClusterRoleBindings, "", nil)
}

// PodsOnNode lists the pods bound to a node, for the Node authorizer.
func (o objectReader) PodsOnNode(ctx context.Context, node string) ([]*corev1.Pod, error) {
	return listShared[*corev1.Pod](ctx, o.a, gvrPods, "", fields.OneTermEqualSelector("spec.nodeName", node))
}

// tokenReader is objectReader as service-account token authentication asks for objects.
type tokenReader struct{ objectReader }

func (t tokenReader) GetNode(ctx context.Context, _, name string) (*corev1.Node, error) {
	return t.objectReader.GetNode(ctx, name)
}

// GetPersistentVolumeClaim answers NotFound: kforge serves no persistent volumes yet, so no
// node is related to one.
func (o objectReader) GetPersistentVolumeClaim(_ context.Context, _, name string) (*corev1.PersistentVolumeClaim, error) {
	return nil, apierrors.NewNotFound(corev1.Resource("persistentvolumeclaims"), name)
}

// GetPersistentVolume answers NotFound, as GetPersistentVolumeClaim does.
func (o objectReader) GetPersistentVolume(_ context.Context, name string) (*corev1.PersistentVolume, error) {
	return nil, apierrors.NewNotFound(corev1.Resource("persistentvolumes"), name)
}
