package authn

import (
	"context"

	authenticationv1 "k8s.io/api/authentication/v1"
)

// TokenReviewStatus answers a TokenReview (webhook token authentication for kubelets,
// aggregated API servers and OIDC-style consumers) the way kube-apiserver does: the token is
// checked by a with spec.Audiences as the target audiences (apiAudiences when none are
// given), and the status carries the user with system:authenticated added, or the error.
//
// Status.Audiences is spec.Audiences when the review named some (audience-aware
// authenticators have already required an overlap with them) and apiAudiences otherwise; it
// is not narrowed to the exact intersection with the token's own audiences.
func TokenReviewStatus(ctx context.Context, a TokenAuthenticator, spec authenticationv1.TokenReviewSpec, apiAudiences []string) authenticationv1.TokenReviewStatus {
	if spec.Token == "" {
		return authenticationv1.TokenReviewStatus{Error: "token is required"}
	}
	auds := apiAudiences
	if len(spec.Audiences) > 0 {
		auds = spec.Audiences
		ctx = WithAudiences(ctx, spec.Audiences)
	}
	u, ok, err := a.AuthenticateToken(ctx, spec.Token)
	var st authenticationv1.TokenReviewStatus
	if err != nil {
		st.Error = err.Error()
	}
	if !ok || err != nil {
		return st
	}
	u = WithDefaultGroups(u)
	st.Authenticated = true
	st.User = authenticationv1.UserInfo{
		Username: u.Name,
		UID:      u.UID,
		Groups:   append([]string(nil), u.Groups...),
	}
	if len(u.Extra) > 0 {
		st.User.Extra = make(map[string]authenticationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			st.User.Extra[k] = append(authenticationv1.ExtraValue(nil), v...)
		}
	}
	st.Audiences = append([]string(nil), auds...)
	return st
}
