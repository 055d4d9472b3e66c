package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"kforge.dev/kforge/controlplane/apiserver/admission"
	"kforge.dev/kforge/controlplane/apiserver/audit"
	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// Security is the request path's gatekeeping: who is asking (Authenticator) and whether they
// may (Authorizer). An API without it serves everyone as a superuser, which only tests and
// the in-process components that build the API themselves rely on.
type Security struct {
	Authenticator authn.Authenticator
	Authorizer    authz.Authorizer
	// Rules lists what a user may do, for SelfSubjectRulesReview (kubectl auth can-i --list).
	Rules RuleResolver
	// Tokens checks bearer tokens for TokenReview (webhook token authentication of kubelets).
	Tokens authn.TokenAuthenticator
	// APIAudiences are the audiences this apiserver's tokens are for; TokenReviews and
	// TokenRequests without audiences mean these.
	APIAudiences []string
	// TokenSigner signs the tokens of the TokenRequest API (serviceaccounts/<name>/token);
	// MaxTokenExpiration caps their lifetime when non-zero.
	TokenSigner        *authn.Signer
	MaxTokenExpiration time.Duration
	// Admission runs on every write.
	Admission *admission.Chain
}

// RuleResolver lists the rules that apply to a user in a namespace; incomplete says some
// authorizer could not list all it would allow.
type RuleResolver interface {
	RulesFor(ctx context.Context, user authn.User, namespace string) (resourceRules, nonResourceRules []rbacv1.PolicyRule, incomplete bool, err error)
}

type userKey struct{}

// withUser records the request's (possibly impersonated) user for admission and reviews.
func withUser(ctx context.Context, u authn.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// userFrom is the request's user; requests that did not pass the security filter are the
// superuser of an unsecured API.
func userFrom(ctx context.Context) authn.User {
	if u, ok := ctx.Value(userKey{}).(authn.User); ok {
		return u
	}
	return authn.User{Name: "system:unsecured", Groups: []string{authn.SystemMasters, authn.AllAuthenticated}}
}

// withSecurity authenticates, applies impersonation and authorizes every request before h
// sees it: 401 for bad or missing credentials, 403 for what the user may not do.
func (a *API) withSecurity(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sec := a.security
		if sec == nil {
			h.ServeHTTP(w, r)
			return
		}
		user, ok, err := sec.Authenticator.Authenticate(r)
		if err != nil || !ok {
			a.writeError(w, apierrors.NewUnauthorized("Unauthorized"))
			return
		}
		ctx := r.Context()
		audit.SetUser(ctx, user)
		impersonated, err := a.impersonate(r, user)
		if err != nil {
			a.writeError(w, err)
			return
		}
		if impersonated.Name != user.Name {
			audit.SetImpersonatedUser(ctx, impersonated)
		}
		attrs := requestAttributes(r, impersonated)
		reason, err := a.authorize(ctx, attrs)
		audit.AnnotateAuthorization(ctx, err == nil, reason)
		if err != nil {
			a.writeError(w, err)
			return
		}
		user = impersonated
		h.ServeHTTP(w, r.WithContext(withUser(r.Context(), user)))
	})
}

// authorize answers the authorizer's reason, for the audit log, and nil when it allows attrs,
// else the 403 kube-apiserver gives.
func (a *API) authorize(ctx context.Context, attrs authz.Attributes) (string, error) {
	if a.security == nil || a.security.Authorizer == nil {
		return "", nil
	}
	d, reason, err := a.security.Authorizer.Authorize(ctx, attrs)
	if d == authz.Allow {
		return reason, nil
	}
	if err != nil && reason == "" {
		reason = err.Error()
	}
	return reason, authz.ForbiddenError(attrs, reason)
}

// Impersonation headers, as kubectl --as, --as-group and --as-uid send them.
const (
	impersonateUser        = "Impersonate-User"
	impersonateUID         = "Impersonate-Uid"
	impersonateGroup       = "Impersonate-Group"
	impersonateExtraPrefix = "Impersonate-Extra-"
)

// impersonate switches the request to the user its Impersonate-* headers name, when the
// authenticated user may impersonate each part of that identity (verb impersonate on users,
// groups, serviceaccounts, uids and userextras, like kube-apiserver).
func (a *API) impersonate(r *http.Request, user authn.User) (authn.User, error) {
	name := r.Header.Get(impersonateUser)
	groups := r.Header.Values(impersonateGroup)
	uid := r.Header.Get(impersonateUID)
	extra := map[string][]string{}
	for h, vs := range r.Header {
		if strings.HasPrefix(h, impersonateExtraPrefix) {
			key, err := url.PathUnescape(strings.TrimPrefix(h, impersonateExtraPrefix))
			if err != nil {
				return user, apierrors.NewBadRequest(fmt.Sprintf("invalid %s header %q: %v", impersonateExtraPrefix, h, err))
			}
			extra[strings.ToLower(key)] = vs
		}
	}
	if name == "" {
		if len(groups) > 0 || uid != "" || len(extra) > 0 {
			return user, apierrors.NewBadRequest("requested impersonation of groups, uid or extra without a user: set Impersonate-User (kubectl --as) too")
		}
		return user, nil
	}
	check := func(attrs authz.Attributes) error {
		attrs.User, attrs.Verb, attrs.ResourceRequest = user, "impersonate", true
		_, err := a.authorize(r.Context(), attrs)
		return err
	}
	target := authn.User{Name: name, UID: uid}
	if ns, sa, ok := splitServiceAccount(name); ok {
		if err := check(authz.Attributes{Resource: "serviceaccounts", Namespace: ns, Name: sa}); err != nil {
			return user, err
		}
		if len(groups) == 0 {
			groups = []string{authn.ServiceAccountsGroup, authn.ServiceAccountsGroup + ":" + ns}
		}
	} else if err := check(authz.Attributes{Resource: "users", Name: name}); err != nil {
		return user, err
	}
	for _, g := range groups {
		if err := check(authz.Attributes{Resource: "groups", Name: g}); err != nil {
			return user, err
		}
	}
	if uid != "" {
		if err := check(authz.Attributes{APIGroup: "authentication.k8s.io", Resource: "uids", Name: uid}); err != nil {
			return user, err
		}
	}
	for k, vs := range extra {
		for _, v := range vs {
			if err := check(authz.Attributes{APIGroup: "authentication.k8s.io", Resource: "userextras", Subresource: k, Name: v}); err != nil {
				return user, err
			}
		}
	}
	target.Groups = append([]string(nil), groups...)
	if len(extra) > 0 {
		target.Extra = extra
	}
	switch {
	case name == authn.Anonymous:
		if !target.InGroup(authn.AllUnauthenticated) {
			target.Groups = append(target.Groups, authn.AllUnauthenticated)
		}
	case !target.InGroup(authn.AllAuthenticated):
		target.Groups = append(target.Groups, authn.AllAuthenticated)
	}
	for h := range r.Header {
		if strings.HasPrefix(h, "Impersonate-") {
			r.Header.Del(h)
		}
	}
	return target, nil
}

// splitServiceAccount reads "system:serviceaccount:<ns>:<name>".
func splitServiceAccount(user string) (ns, name string, ok bool) {
	rest, found := strings.CutPrefix(user, authn.ServiceAccountPrefix)
	if !found {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	return ns, name, ok && ns != "" && name != "" && !strings.Contains(name, ":")
}
