package authz_test

import (
	"context"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// memLister is an in-memory RBACLister, standing in for the apiserver's watch cache.
type memLister struct {
	roles        map[string]*rbacv1.Role
	clusterRoles map[string]*rbacv1.ClusterRole
	rbs          map[string][]*rbacv1.RoleBinding
	crbs         []*rbacv1.ClusterRoleBinding
	listErr      error
}

var _ authz.RBACLister = (*memLister)(nil)

func newLister(policies ...authz.Policy) *memLister {
	l := &memLister{
		roles:        map[string]*rbacv1.Role{},
		clusterRoles: map[string]*rbacv1.ClusterRole{},
		rbs:          map[string][]*rbacv1.RoleBinding{},
	}
	for _, p := range policies {
		for _, o := range p.ClusterRoles {
			l.clusterRoles[o.Name] = o
		}
		for _, o := range p.Roles {
			l.roles[o.Namespace+"/"+o.Name] = o
		}
		for _, o := range p.RoleBindings {
			l.rbs[o.Namespace] = append(l.rbs[o.Namespace], o)
		}
		l.crbs = append(l.crbs, p.ClusterRoleBindings...)
	}
	return l
}

func (l *memLister) GetRole(_ context.Context, ns, name string) (*rbacv1.Role, error) {
	if r, ok := l.roles[ns+"/"+name]; ok {
		return r, nil
	}
	return nil, apierrors.NewNotFound(rbacv1.Resource("role"), name)
}

func (l *memLister) GetClusterRole(_ context.Context, name string) (*rbacv1.ClusterRole, error) {
	if r, ok := l.clusterRoles[name]; ok {
		return r, nil
	}
	return nil, apierrors.NewNotFound(rbacv1.Resource("clusterrole"), name)
}

func (l *memLister) ListClusterRoles(context.Context) ([]*rbacv1.ClusterRole, error) {
	if l.listErr != nil {
		return nil, l.listErr
	}
	out := make([]*rbacv1.ClusterRole, 0, len(l.clusterRoles))
	for _, r := range l.clusterRoles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (l *memLister) ListRoleBindings(_ context.Context, ns string) ([]*rbacv1.RoleBinding, error) {
	return l.rbs[ns], nil
}

func (l *memLister) ListClusterRoleBindings(context.Context) ([]*rbacv1.ClusterRoleBinding, error) {
	return l.crbs, nil
}
