package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImmortalNamespaces are the namespaces NamespaceLifecycle refuses to delete, as kube-apiserver
// does: the cluster's own components live there and cannot be recreated by users.
var ImmortalNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic}

// NamespaceLifecycle refuses writes into namespaces that do not exist or are being deleted, and
// deletion of the immortal namespaces, so that namespace deletion can finish (nothing new appears
// behind the namespace controller's back) and objects are never orphaned in a missing namespace.
type NamespaceLifecycle struct {
	namespaces NamespaceGetter
	immortal   map[string]bool
}

// NewNamespaceLifecycle builds the plugin; it needs deps.Namespaces.
func NewNamespaceLifecycle(deps Deps) (*NamespaceLifecycle, error) {
	if err := requireDep(NamespaceLifecyclePluginName, "Namespaces", deps.Namespaces != nil); err != nil {
		return nil, err
	}
	p := &NamespaceLifecycle{namespaces: deps.Namespaces, immortal: map[string]bool{}}
	for _, n := range ImmortalNamespaces {
		p.immortal[n] = true
	}
	return p, nil
}

// Name implements Plugin.
func (*NamespaceLifecycle) Name() string { return NamespaceLifecyclePluginName }

// Admit implements Mutator: like kube-apiserver, NamespaceLifecycle runs first in the mutating
// phase (it never changes the object), so a request for a missing namespace is answered with
// NotFound before other plugins look anything up.
func (p *NamespaceLifecycle) Admit(ctx context.Context, a *Attributes) error {
	isNamespace := a.groupResource() == namespacesResource
	if isNamespace && a.Operation == Delete && a.Subresource == "" && p.immortal[a.Name] {
		return forbidden(a, fmt.Errorf("this namespace may not be deleted"))
	}
	// Cluster-scoped resources (including TokenReview, SubjectAccessReview and other
	// create-only reviews) and namespaces themselves are not subject to the checks.
	if a.Namespace == "" || isNamespace {
		return nil
	}
	// Deleting content of a dying or missing namespace is always allowed: that is how a
	// namespace empties.
	if a.Operation == Delete {
		return nil
	}
	// Answering access reviews about a namespace must not reveal whether it exists.
	if a.groupResource() == localSARResource {
		return nil
	}
	ns, err := p.namespaces.GetNamespace(ctx, a.Namespace)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return apierrors.NewNotFound(namespacesResource, a.Namespace)
		}
		return internal(err)
	}
	if a.Operation != Create {
		return nil
	}
	if ns.Status.Phase != corev1.NamespaceTerminating && ns.DeletionTimestamp == nil {
		return nil
	}
	err = forbidden(a, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", a.Namespace))
	if se, ok := err.(*apierrors.StatusError); ok && se.ErrStatus.Details != nil {
		se.ErrStatus.Details.Causes = append(se.ErrStatus.Details.Causes, metav1.StatusCause{
			Type:    corev1.NamespaceTerminatingCause,
			Message: fmt.Sprintf("namespace %s is being terminated", a.Namespace),
			Field:   "metadata.namespace",
		})
	}
	return err
}
