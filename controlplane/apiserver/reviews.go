package apiserver

import (
	"context"
	"fmt"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// review answers a create of a review resource: the request is evaluated, the answer written
// into status, and nothing is stored.
func (a *API) review(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	_, body, err := readWrite(r)
	if err != nil {
		return err
	}
	obj, err := a.decodeObject(w, r, res, body)
	if err != nil {
		return err
	}
	user := userFrom(ctx)
	var out runtime.Object
	switch o := obj.(type) {
	case *authorizationv1.SelfSubjectAccessReview:
		err = a.accessReview(ctx, res, user, "", o.Spec.ResourceAttributes, o.Spec.NonResourceAttributes, &o.Status)
		out = o
	case *authorizationv1.SubjectAccessReview:
		err = a.subjectAccessReview(ctx, res, "", &o.Spec, &o.Status)
		out = o
	case *authorizationv1.LocalSubjectAccessReview:
		err = a.subjectAccessReview(ctx, res, ri.namespace, &o.Spec, &o.Status)
		out = o
	case *authorizationv1.SelfSubjectRulesReview:
		err = a.rulesReview(ctx, user, o)
		out = o
	case *authenticationv1.SelfSubjectReview:
		o.Status.UserInfo = userInfo(user)
		out = o
	case *authenticationv1.TokenReview:
		err = a.tokenReview(ctx, o)
		out = o
	default:
		return apierrors.NewInternalError(fmt.Errorf("no review for %T", obj))
	}
	if err != nil {
		return err
	}
	a.writeObject(w, r, http.StatusCreated, out)
	return nil
}

func userInfo(u authn.User) authenticationv1.UserInfo {
	info := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		info.Extra = map[string]authenticationv1.ExtraValue{}
		for k, v := range u.Extra {
			info.Extra[k] = v
		}
	}
	return info
}

// subjectAccessReview checks another user's access, for webhook authorizers such as kubelets.
func (a *API) subjectAccessReview(ctx context.Context, res *resource, namespace string, spec *authorizationv1.SubjectAccessReviewSpec, status *authorizationv1.SubjectAccessReviewStatus) error {
	if spec.User == "" && len(spec.Groups) == 0 {
		return apierrors.NewInvalid(res.def.GVK.GroupKind(), "", field.ErrorList{field.Invalid(field.NewPath("spec", "user"), spec.User, "at least one of user or group must be specified")})
	}
	if namespace != "" {
		if ra := spec.ResourceAttributes; ra == nil || ra.Namespace != namespace {
			return apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %s", namespace))
		}
		if spec.NonResourceAttributes != nil {
			return apierrors.NewInvalid(res.def.GVK.GroupKind(), "", field.ErrorList{field.Invalid(field.NewPath("spec", "nonResourceAttributes"), spec.NonResourceAttributes, "disallowed on this kind of request")})
		}
	}
	user := authn.User{Name: spec.User, UID: spec.UID, Groups: spec.Groups}
	if len(spec.Extra) > 0 {
		user.Extra = map[string][]string{}
		for k, v := range spec.Extra {
			user.Extra[k] = v
		}
	}
	return a.accessReview(ctx, res, user, namespace, spec.ResourceAttributes, spec.NonResourceAttributes, status)
}

// accessReview asks the authorizer about one request of user, as the request path would.
func (a *API) accessReview(ctx context.Context, res *resource, user authn.User, _ string, ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes, status *authorizationv1.SubjectAccessReviewStatus) error {
	if (ra == nil) == (nra == nil) {
		return apierrors.NewInvalid(res.def.GVK.GroupKind(), "", field.ErrorList{field.Invalid(field.NewPath("spec", "resourceAttributes"), ra,
			"exactly one of nonResourceAttributes or resourceAttributes must be specified")})
	}
	attrs := authz.Attributes{User: user}
	if ra != nil {
		attrs.ResourceRequest = true
		attrs.Verb, attrs.Namespace, attrs.APIGroup, attrs.APIVersion = ra.Verb, ra.Namespace, ra.Group, ra.Version
		attrs.Resource, attrs.Subresource, attrs.Name = ra.Resource, ra.Subresource, ra.Name
	} else {
		attrs.Verb, attrs.Path = nra.Verb, nra.Path
	}
	if a.security == nil || a.security.Authorizer == nil {
		status.Allowed, status.Reason = true, "the apiserver authorizes every request"
		return nil
	}
	d, reason, err := a.security.Authorizer.Authorize(ctx, attrs)
	status.Allowed = d == authz.Allow
	status.Denied = d == authz.Deny
	status.Reason = reason
	if err != nil {
		status.EvaluationError = err.Error()
	}
	return nil
}

// rulesReview lists what the requesting user may do in a namespace (kubectl auth can-i --list).
func (a *API) rulesReview(ctx context.Context, user authn.User, o *authorizationv1.SelfSubjectRulesReview) error {
	if o.Spec.Namespace == "" {
		return apierrors.NewInvalid(o.GroupVersionKind().GroupKind(), "", field.ErrorList{field.Required(field.NewPath("spec", "namespace"), "")})
	}
	if a.security == nil || a.security.Rules == nil {
		o.Status.ResourceRules = []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
		o.Status.NonResourceRules = []authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}
		return nil
	}
	rules, nonResource, incomplete, err := a.security.Rules.RulesFor(ctx, user, o.Spec.Namespace)
	for _, r := range rules {
		o.Status.ResourceRules = append(o.Status.ResourceRules, authorizationv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
	}
	for _, r := range nonResource {
		o.Status.NonResourceRules = append(o.Status.NonResourceRules, authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
	}
	o.Status.Incomplete = incomplete
	if err != nil {
		o.Status.EvaluationError = err.Error()
	}
	return nil
}

// tokenReview authenticates a bearer token for another component (webhook token
// authentication): the answer is in status, never an error status for a bad token.
func (a *API) tokenReview(ctx context.Context, o *authenticationv1.TokenReview) error {
	if o.Spec.Token == "" {
		return apierrors.NewInvalid(o.GroupVersionKind().GroupKind(), "", field.ErrorList{field.Required(field.NewPath("spec", "token"), "")})
	}
	if a.security == nil || a.security.Tokens == nil {
		o.Status.Error = "token authentication is not configured on this apiserver"
		return nil
	}
	o.Status = authn.TokenReviewStatus(ctx, a.security.Tokens, o.Spec, a.security.APIAudiences)
	return nil
}
