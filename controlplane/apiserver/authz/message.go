package authz

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ForbiddenMessage describes a denied request exactly as kube-apiserver does, so clients and
// scripts matching on it behave the same, e.g.
//
//	User "jane" cannot list resource "pods" in API group "" in the namespace "default"
//	User "jane" cannot create resource "namespaces" in API group "" at the cluster scope
//	User "system:anonymous" cannot get path "/api"
func ForbiddenMessage(a Attributes) string {
	if !a.ResourceRequest {
		return fmt.Sprintf("User %q cannot %s path %q", a.User.Name, a.Verb, a.Path)
	}
	resource := a.Resource
	if a.Subresource != "" {
		resource += "/" + a.Subresource
	}
	if a.Namespace != "" {
		return fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q",
			a.User.Name, a.Verb, resource, a.APIGroup, a.Namespace)
	}
	return fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope",
		a.User.Name, a.Verb, resource, a.APIGroup)
}

// ForbiddenError is the 403 kube-apiserver returns for a denied request: a Status with reason
// Forbidden, details naming the group, resource and object, and the message
// `<resource>[.<group>] "<name>" is forbidden: <ForbiddenMessage>[: <reason>]`
// (just `forbidden: <message>` for non-resource requests).
func ForbiddenError(a Attributes, reason string) *apierrors.StatusError {
	msg := ForbiddenMessage(a)
	if reason != "" {
		msg += ": " + reason
	}
	var gr schema.GroupResource
	if a.ResourceRequest {
		gr = schema.GroupResource{Group: a.APIGroup, Resource: a.Resource}
	}
	return apierrors.NewForbidden(gr, a.Name, errors.New(msg))
}
