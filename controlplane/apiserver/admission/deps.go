package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The lookups plugins need, kept as small single-purpose interfaces so the apiserver can serve
// them from its watch cache (or storage) and tests from maps. "Not found" must be reported as an
// apimachinery NotFound error (apierrors.NewNotFound), which the plugins pass to clients as is.
// Returned objects are treated as read-only.

// NamespaceGetter reads namespaces (NamespaceLifecycle).
type NamespaceGetter interface {
	GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error)
}

// ServiceAccountGetter reads service accounts (ServiceAccount).
type ServiceAccountGetter interface {
	GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
}

// LimitRangeLister lists a namespace's LimitRanges (LimitRanger).
type LimitRangeLister interface {
	ListLimitRanges(ctx context.Context, namespace string) ([]*corev1.LimitRange, error)
}

// ResourceQuotaStore reads a namespace's ResourceQuotas and writes their status (ResourceQuota).
// UpdateResourceQuotaStatus must behave like PUT .../resourcequotas/<name>/status: it replaces
// only the status, refuses with an apierrors Conflict when q.ResourceVersion is stale, and returns
// the stored object.
type ResourceQuotaStore interface {
	ListResourceQuotas(ctx context.Context, namespace string) ([]*corev1.ResourceQuota, error)
	UpdateResourceQuotaStatus(ctx context.Context, q *corev1.ResourceQuota) (*corev1.ResourceQuota, error)
}

// ObjectLister lists every stored object of a resource in a namespace (ResourceQuota, to count
// current usage when a quota's status does not have it yet, since kforge has no quota
// controller). Pods, services and persistentvolumeclaims must come back as typed k8s.io/api
// objects; for other resources only the number of objects matters. An unknown resource may be
// reported as NotFound and counts as zero.
type ObjectLister interface {
	ListObjects(ctx context.Context, namespace string, resource schema.GroupResource) ([]runtime.Object, error)
}

// PriorityClassGetter reads PriorityClasses (Priority).
type PriorityClassGetter interface {
	GetPriorityClass(ctx context.Context, name string) (*schedulingv1.PriorityClass, error)
	ListPriorityClasses(ctx context.Context) ([]*schedulingv1.PriorityClass, error)
}

// PodGetter reads pods (NodeRestriction: is the pod a node deletes/evicts bound to it?).
type PodGetter interface {
	GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
}

// NodeGetter reads nodes (NodeRestriction: the UID in a mirror pod's owner reference).
type NodeGetter interface {
	GetNode(ctx context.Context, name string) (*corev1.Node, error)
}

// Deps holds the lookups the plugins need. Only the fields used by the enabled plugins must be
// set; New reports the missing ones. One type implementing every interface can fill all fields.
//
//	NamespaceLifecycle: Namespaces
//	LimitRanger:        LimitRanges
//	ServiceAccount:     ServiceAccounts
//	NodeRestriction:    Pods, Nodes
//	Priority:           PriorityClasses
//	ResourceQuota:      ResourceQuotas, Objects
type Deps struct {
	Namespaces      NamespaceGetter
	ServiceAccounts ServiceAccountGetter
	LimitRanges     LimitRangeLister
	ResourceQuotas  ResourceQuotaStore
	Objects         ObjectLister
	PriorityClasses PriorityClassGetter
	Pods            PodGetter
	Nodes           NodeGetter
}

// requireDep returns the start-up error for a plugin missing a lookup.
func requireDep(plugin, field string, ok bool) error {
	if ok {
		return nil
	}
	return fmt.Errorf("admission plugin %s requires Deps.%s", plugin, field)
}
