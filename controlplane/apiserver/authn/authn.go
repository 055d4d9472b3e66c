package authn

import (
	"context"
	"errors"
	"net/http"
	"slices"
)

// Extra keys Kubernetes puts in a user's extra info. They are part of the wire contract:
// audit logs, SubjectAccessReviews and webhooks match on these exact strings.
const (
	// CredentialIDKey identifies the credential a request was made with (a service-account
	// token's JTI, a client certificate's fingerprint) so audit can trace a leaked credential.
	CredentialIDKey = "authentication.kubernetes.io/credential-id"
	// PodNameKey and PodUIDKey name the pod a bound service-account token was issued for; the
	// Node authorizer and NodeRestriction use them to tie a token to its pod.
	PodNameKey = "authentication.kubernetes.io/pod-name"
	PodUIDKey  = "authentication.kubernetes.io/pod-uid"
	// NodeNameKey and NodeUIDKey name the node a service-account token is bound to or whose pod
	// it was issued for.
	NodeNameKey = "authentication.kubernetes.io/node-name"
	NodeUIDKey  = "authentication.kubernetes.io/node-uid"
)

// ErrInvalidBearerToken is returned when a request carries a bearer token that no token
// authenticator recognised. Kubernetes answers such requests 401 even when anonymous access
// is on, so a typo in a token is never silently downgraded to system:anonymous.
var ErrInvalidBearerToken = errors.New("invalid bearer token")

// Authenticator finds who made an HTTP request. ok=false with a nil error means the request
// carries no credentials of this kind, so the next authenticator may try; a non-nil error
// means credentials of this kind were present but are invalid, and the caller answers 401.
type Authenticator interface {
	Authenticate(r *http.Request) (u User, ok bool, err error)
}

// TokenAuthenticator checks a bearer token. ok=false with a nil error means the token is not
// of this authenticator's kind (another may recognise it); an error means it is of this kind
// but invalid (expired, revoked, bad signature).
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (u User, ok bool, err error)
}

// AuthenticatorFunc adapts a function to Authenticator, for small special cases and tests.
type AuthenticatorFunc func(r *http.Request) (User, bool, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(r *http.Request) (User, bool, error) { return f(r) }

// TokenAuthenticatorFunc adapts a function to TokenAuthenticator, for static tokens and tests.
type TokenAuthenticatorFunc func(ctx context.Context, token string) (User, bool, error)

// AuthenticateToken calls f.
func (f TokenAuthenticatorFunc) AuthenticateToken(ctx context.Context, token string) (User, bool, error) {
	return f(ctx, token)
}

// ChainOptions configures NewChain.
type ChainOptions struct {
	// AllowAnonymous lets requests that carry no credentials at all through as
	// system:anonymous (kube-apiserver's --anonymous-auth). Requests whose credentials are
	// invalid are still rejected.
	AllowAnonymous bool
}

// Chain tries authenticators in order and returns the first success, like kube-apiserver's
// union authenticator. Anonymous access is off; see NewChain.
func Chain(authenticators ...Authenticator) Authenticator {
	return NewChain(ChainOptions{}, authenticators...)
}

// NewChain builds the request authenticator the apiserver runs on every request: the first
// authenticator that succeeds wins; if none succeeds but some found invalid credentials, their
// errors are returned (401); if none found credentials and opts.AllowAnonymous is set, the
// request is system:anonymous. Every successful user is given system:authenticated (or, for
// anonymous, system:unauthenticated) so RBAC bindings to those groups work as in Kubernetes.
func NewChain(opts ChainOptions, authenticators ...Authenticator) Authenticator {
	return &chain{authenticators: slices.Clone(authenticators), allowAnonymous: opts.AllowAnonymous}
}

type chain struct {
	authenticators []Authenticator
	allowAnonymous bool
}

func (c *chain) Authenticate(r *http.Request) (User, bool, error) {
	var errs []error
	for _, a := range c.authenticators {
		u, ok, err := a.Authenticate(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			return WithDefaultGroups(u), true, nil
		}
	}
	if len(errs) > 0 {
		return User{}, false, errors.Join(errs...)
	}
	if c.allowAnonymous {
		return AnonymousUser(), true, nil
	}
	return User{}, false, nil
}

// AnonymousUser is the identity of a credential-less request when anonymous access is on.
func AnonymousUser() User {
	return User{Name: Anonymous, Groups: []string{AllUnauthenticated}}
}

// WithDefaultGroups returns u with system:authenticated added (system:unauthenticated for
// system:anonymous), as Kubernetes' authenticated-group adder does, so the built-in
// discovery and self-review bindings apply to every authenticated user. Groups are copied, not
// modified in place.
func WithDefaultGroups(u User) User {
	if u.Name == Anonymous {
		if !u.InGroup(AllUnauthenticated) {
			u.Groups = append(slices.Clone(u.Groups), AllUnauthenticated)
		}
		return u
	}
	if u.InGroup(AllAuthenticated) || u.InGroup(AllUnauthenticated) {
		return u
	}
	u.Groups = append(slices.Clone(u.Groups), AllAuthenticated)
	return u
}

// TokenChain tries token authenticators in order and returns the first success. If none
// succeeds, the errors of those that recognised the token are returned; if none recognised
// it, ok is false with a nil error. All are tried even after an error, because two kinds of
// token can share a format (a bootstrap-token-shaped static token, say).
func TokenChain(authenticators ...TokenAuthenticator) TokenAuthenticator {
	return tokenChain(slices.Clone(authenticators))
}

type tokenChain []TokenAuthenticator

func (c tokenChain) AuthenticateToken(ctx context.Context, token string) (User, bool, error) {
	var errs []error
	for _, a := range c {
		u, ok, err := a.AuthenticateToken(ctx, token)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			return u, true, nil
		}
	}
	if len(errs) > 0 {
		return User{}, false, errors.Join(errs...)
	}
	return User{}, false, nil
}

type audiencesKey struct{}

// WithAudiences records the audiences a token must be valid for (a TokenReview's
// spec.audiences). Audience-aware authenticators (service-account tokens) check against these
// instead of the apiserver's own audiences.
func WithAudiences(ctx context.Context, audiences []string) context.Context {
	return context.WithValue(ctx, audiencesKey{}, slices.Clone(audiences))
}

// AudiencesFrom returns the audiences recorded by WithAudiences, if any.
func AudiencesFrom(ctx context.Context) ([]string, bool) {
	a, ok := ctx.Value(audiencesKey{}).([]string)
	return a, ok
}
