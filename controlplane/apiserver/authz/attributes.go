// Package authz decides whether an authenticated user may make a request: the Node
// authorizer (kubelets reach only their own Node and what their pods use) and RBAC, tried in
// the order of --authorization-mode, with Kubernetes' bootstrap policy reconciled at start.
package authz

import (
	"context"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// Attributes describe one request as authorizers see it, with Kubernetes' meanings: Verb is
// get, list, watch, create, update, patch, delete, deletecollection (or impersonate, bind,
// escalate, approve, ...) for resource requests and the lower-case HTTP method otherwise.
type Attributes struct {
	User            authn.User
	Verb            string
	ResourceRequest bool
	// For resource requests.
	Namespace   string
	APIGroup    string
	APIVersion  string
	Resource    string
	Subresource string
	Name        string
	// For non-resource requests: the URL path.
	Path string
}

// Decision is an authorizer's answer. NoOpinion passes the request to the next authorizer;
// a request nobody allows is forbidden.
type Decision int

const (
	NoOpinion Decision = iota
	Allow
	Deny
)

// Authorizer decides one request; reason explains the decision for 403 messages and
// SubjectAccessReview status.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (d Decision, reason string, err error)
}
