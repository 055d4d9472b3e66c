package authz

import (
	"context"
	"errors"
	"strings"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// union tries authorizers in order, as kube-apiserver does for --authorization-mode.
type union []Authorizer

// NewUnion returns an Authorizer that asks each authorizer in turn: the first Allow or Deny is
// the answer (with that authorizer's reason and error). If none decides, the result is
// NoOpinion with every reason joined by newlines and every error joined, so a request is
// forbidden with all explanations. An error does not stop the evaluation, since a later
// authorizer may still allow the request.
func NewUnion(authorizers ...Authorizer) Authorizer {
	return union(authorizers)
}

func (u union) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	var (
		reasons []string
		errs    []error
	)
	for _, az := range u {
		d, reason, err := az.Authorize(ctx, a)
		if err != nil {
			errs = append(errs, err)
		}
		if reason != "" {
			reasons = append(reasons, reason)
		}
		if d == Allow || d == Deny {
			return d, reason, err
		}
	}
	return NoOpinion, strings.Join(reasons, "\n"), errors.Join(errs...)
}

// AuthorizerFunc adapts a function to the Authorizer interface.
type AuthorizerFunc func(ctx context.Context, a Attributes) (Decision, string, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	return f(ctx, a)
}

// AlwaysAllow allows every request: --authorization-mode=AlwaysAllow, for tests and
// single-user development clusters.
var AlwaysAllow Authorizer = AuthorizerFunc(func(context.Context, Attributes) (Decision, string, error) {
	return Allow, "", nil
})

// AlwaysDeny has no opinion on any request, with kube-apiserver's reason:
// --authorization-mode=AlwaysDeny.
var AlwaysDeny Authorizer = AuthorizerFunc(func(context.Context, Attributes) (Decision, string, error) {
	return NoOpinion, "Everything is forbidden.", nil
})

// SuperUser allows every request from a member of system:masters. kube-apiserver puts this
// check in front of the configured authorization modes so the cluster's break-glass
// credentials keep working even when RBAC objects are broken or missing.
var SuperUser Authorizer = NewPrivilegedGroups(authn.SystemMasters)

// NewPrivilegedGroups returns an authorizer allowing everything to members of any of groups
// and having no opinion otherwise.
func NewPrivilegedGroups(groups ...string) Authorizer {
	return AuthorizerFunc(func(_ context.Context, a Attributes) (Decision, string, error) {
		for _, g := range groups {
			if a.User.InGroup(g) {
				return Allow, "", nil
			}
		}
		return NoOpinion, "", nil
	})
}
