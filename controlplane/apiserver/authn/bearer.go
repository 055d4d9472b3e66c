package authn

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Bearer authenticates "Authorization: Bearer <token>" with token authenticators (bootstrap
// tokens, service-account tokens, ...). The access_token query parameter is deliberately not
// read: Kubernetes dropped it because URLs end up in logs.
type Bearer struct {
	tokens TokenAuthenticator
}

// NewBearer returns a request authenticator that hands the bearer token to each token
// authenticator in turn (see TokenChain).
func NewBearer(authenticators ...TokenAuthenticator) *Bearer {
	return &Bearer{tokens: TokenChain(authenticators...)}
}

// Authenticate implements Authenticator. Without an Authorization header, or with a
// different scheme, the request is not ours. An empty token, or one that no token
// authenticator accepts, is an error: a client that sent a token meant to authenticate, and
// must get 401 rather than be treated as anonymous. On success the Authorization header is
// removed so the credential is not forwarded (to aggregated APIs, proxied pods or logs).
func (b *Bearer) Authenticate(r *http.Request) (User, bool, error) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		return User{}, false, nil
	}
	scheme, token, found := strings.Cut(auth, " ")
	if !found && strings.EqualFold(auth, "bearer") {
		return User{}, false, fmt.Errorf("%w: empty token", ErrInvalidBearerToken)
	}
	if !found || !strings.EqualFold(scheme, "bearer") {
		return User{}, false, nil
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return User{}, false, fmt.Errorf("%w: empty token", ErrInvalidBearerToken)
	}
	u, ok, err := b.tokens.AuthenticateToken(r.Context(), token)
	if err != nil {
		return User{}, false, fmt.Errorf("%w: %w", ErrInvalidBearerToken, err)
	}
	if !ok {
		return User{}, false, ErrInvalidBearerToken
	}
	r.Header.Del("Authorization")
	return u, true, nil
}

// IsInvalidBearerToken reports whether err came from a rejected bearer token.
func IsInvalidBearerToken(err error) bool { return errors.Is(err, ErrInvalidBearerToken) }
