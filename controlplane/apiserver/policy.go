package apiserver

import (
	"context"
	"fmt"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"kforge.dev/kforge/controlplane/apiserver/admission"
	"kforge.dev/kforge/controlplane/apiserver/authz"
	"kforge.dev/kforge/controlplane/apiserver/registry"
	"kforge.dev/kforge/controlplane/storage"
)

// ReconcileBootstrapPolicy makes the default RBAC roles and bindings and the system
// PriorityClasses exist, as kube-apiserver's start-up hooks do: missing objects are created,
// and objects annotated rbac.authorization.kubernetes.io/autoupdate=true get any missing rules
// and subjects back; an administrator's additions are never removed.
func (a *API) ReconcileBootstrapPolicy(ctx context.Context) error {
	p := authz.BootstrapPolicy()
	for _, cr := range p.ClusterRoles {
		if err := reconcile(ctx, a, gvrClusterRoles, "", cr.Name, cr, func(cur runtime.Object) (runtime.Object, bool) {
			return authz.ReconcileClusterRole(cur.(*rbacv1.ClusterRole), cr)
		}); err != nil {
			return err
		}
	}
	for _, b := range p.ClusterRoleBindings {
		if err := reconcile(ctx, a, gvrClusterRoleBindings, "", b.Name, b, func(cur runtime.Object) (runtime.Object, bool) {
			return authz.ReconcileClusterRoleBinding(cur.(*rbacv1.ClusterRoleBinding), b)
		}); err != nil {
			return err
		}
	}
	for _, r := range p.Roles {
		if err := reconcile(ctx, a, gvrRoles, r.Namespace, r.Name, r, func(cur runtime.Object) (runtime.Object, bool) {
			return authz.ReconcileRole(cur.(*rbacv1.Role), r)
		}); err != nil {
			return err
		}
	}
	for _, b := range p.RoleBindings {
		if err := reconcile(ctx, a, gvrRoleBindings, b.Namespace, b.Name, b, func(cur runtime.Object) (runtime.Object, bool) {
			return authz.ReconcileRoleBinding(cur.(*rbacv1.RoleBinding), b)
		}); err != nil {
			return err
		}
	}
	pcs, _ := a.lookup(gvrPriorityClasses)
	for _, pc := range admission.SystemPriorityClasses() {
		if _, err := pcs.store.Create(ctx, "", pc, registry.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("bootstrap: create priorityclass %s: %w", pc.Name, err)
		}
	}
	return a.aggregateClusterRoles(ctx)
}

// reconcile creates want, or updates the stored object with what merge makes of it.
func reconcile(ctx context.Context, a *API, gvr schema.GroupVersionResource, ns, name string, want runtime.Object, merge func(runtime.Object) (runtime.Object, bool)) error {
	res, _ := a.lookup(gvr)
	_, err := res.store.Create(ctx, ns, want.DeepCopyObject(), registry.CreateOptions{})
	if err == nil || !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return fmt.Errorf("bootstrap policy: create %s %s: %w", gvr.Resource, name, err)
		}
		return nil
	}
	_, _, err = res.store.Update(ctx, ns, name, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		if cur == nil {
			return want.DeepCopyObject(), nil
		}
		out, changed := merge(cur)
		if !changed {
			return cur, nil
		}
		return out, nil
	}, registry.UpdateOptions{AllowCreate: true})
	if err != nil {
		return fmt.Errorf("bootstrap policy: reconcile %s %s: %w", gvr.Resource, name, err)
	}
	return nil
}

// aggregateClusterRoles writes the rules of aggregated ClusterRoles (admin, edit, view, and
// any with an aggregationRule) from the roles their selectors match: kube-controller-manager's
// clusterrole-aggregation controller, which kforge runs in the apiserver.
func (a *API) aggregateClusterRoles(ctx context.Context) error {
	roles, err := objectReader{a: a}.ListClusterRoles(ctx)
	if err != nil {
		return err
	}
	res, _ := a.lookup(gvrClusterRoles)
	for _, cr := range authz.AggregateClusterRoles(roles) {
		_, _, err := res.store.Update(ctx, "", cr.Name, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
			if cur == nil {
				return nil, apierrors.NewNotFound(gvrClusterRoles.GroupResource(), cr.Name)
			}
			c := cur.(*rbacv1.ClusterRole)
			c.Rules = cr.Rules
			return c, nil
		}, registry.UpdateOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("aggregate clusterrole %s: %w", cr.Name, err)
		}
	}
	return nil
}

// RunClusterRoleAggregation keeps aggregated ClusterRoles' rules current until ctx ends.
func (a *API) RunClusterRoleAggregation(ctx context.Context) {
	res, _ := a.lookup(gvrClusterRoles)
	for ctx.Err() == nil {
		w, err := res.store.Watch(ctx, "", storage.WatchOptions{})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		a.aggregateOnChange(ctx, w.ResultChan())
		w.Stop()
	}
}

// aggregateOnChange aggregates once per burst of ClusterRole events (kubectl apply of many
// roles, the initial state of the watch) until events stops or ctx ends.
func (a *API) aggregateOnChange(ctx context.Context, events <-chan watch.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
		}
		settle := time.After(100 * time.Millisecond)
	drain:
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-events:
				if !ok {
					return
				}
			case <-settle:
				break drain
			}
		}
		if err := a.aggregateClusterRoles(ctx); err != nil && ctx.Err() == nil {
			time.Sleep(time.Second)
		}
	}
}
