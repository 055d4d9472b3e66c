package authn

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bootstrap-token names and keys, as defined by Kubernetes' cluster-bootstrap API so that
// tokens created by kubeadm or `kforge token create` work against either control plane.
const (
	// BootstrapTokenSecretPrefix + token id is the name of the Secret holding a token.
	BootstrapTokenSecretPrefix = "bootstrap-token-"
	// SecretTypeBootstrapToken is the Secret type bootstrap tokens must have.
	SecretTypeBootstrapToken corev1.SecretType = "bootstrap.kubernetes.io/token"
	// BootstrapTokenIDKey holds the public part of the token.
	BootstrapTokenIDKey = "token-id"
	// BootstrapTokenSecretKey holds the private part of the token.
	BootstrapTokenSecretKey = "token-secret"
	// BootstrapTokenExpirationKey holds an RFC 3339 expiry; empty means no expiry.
	BootstrapTokenExpirationKey = "expiration"
	// BootstrapTokenDescriptionKey holds a free-text description.
	BootstrapTokenDescriptionKey = "description"
	// BootstrapTokenUsageAuthentication must be "true" for the token to authenticate.
	BootstrapTokenUsageAuthentication = "usage-bootstrap-authentication"
	// BootstrapTokenUsageSigning must be "true" for the token to sign the cluster-info
	// ConfigMap.
	BootstrapTokenUsageSigning = "usage-bootstrap-signing"
	// BootstrapTokenExtraGroupsKey holds comma-separated extra groups.
	BootstrapTokenExtraGroupsKey = "auth-extra-groups"
)

var (
	bootstrapTokenRe      = regexp.MustCompile(`\A([a-z0-9]{6})\.([a-z0-9]{16})\z`)
	bootstrapTokenIDRe    = regexp.MustCompile(`\A[a-z0-9]{6}\z`)
	bootstrapGroupRe      = regexp.MustCompile(`\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`)
	errMalformedBootstrap = errors.New("bootstrap token must be of the form [a-z0-9]{6}.[a-z0-9]{16}")
)

// SecretGetter reads Secrets for authenticators that keep credentials in them. A missing
// Secret must be reported as an apimachinery NotFound error.
type SecretGetter interface {
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// ParseToken splits a bootstrap token "abcdef.0123456789abcdef" into its id and secret, so
// callers can find the Secret (TokenSecretName(id)) without handling the format themselves.
func ParseToken(s string) (id, secret string, err error) {
	m := bootstrapTokenRe.FindStringSubmatch(s)
	if m == nil {
		return "", "", errMalformedBootstrap
	}
	return m[1], m[2], nil
}

// TokenSecretName is the kube-system Secret that stores the bootstrap token with this id.
func TokenSecretName(id string) string {
	return BootstrapTokenSecretPrefix + id
}

// GenerateToken returns a new random bootstrap token "<6>.<16>" over [a-z0-9] using
// crypto/rand, for `kforge token create` and cluster init.
func GenerateToken() (string, error) {
	id, err := randomTokenChars(6)
	if err != nil {
		return "", err
	}
	secret, err := randomTokenChars(16)
	if err != nil {
		return "", err
	}
	return id + "." + secret, nil
}

const tokenAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// randomTokenChars draws n uniformly distributed characters from tokenAlphabet by rejection
// sampling, so no character is more likely than another.
func randomTokenChars(n int) (string, error) {
	const limit = 256 - 256%len(tokenAlphabet) // 252: largest multiple of 36 within a byte
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generating bootstrap token: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, tokenAlphabet[int(b)%len(tokenAlphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// BootstrapToken authenticates bootstrap tokens (kubeadm join's --token) against their
// Secrets in kube-system, as kube-apiserver's --enable-bootstrap-token-auth does.
type BootstrapToken struct {
	getter SecretGetter
	now    func() time.Time
}

// NewBootstrapToken returns a bootstrap-token authenticator reading Secrets through getter.
func NewBootstrapToken(getter SecretGetter) *BootstrapToken {
	return &BootstrapToken{getter: getter, now: time.Now}
}

// AuthenticateToken implements TokenAuthenticator. Tokens not shaped like bootstrap tokens are
// not ours; shaped ones whose Secret is missing, deleted, of the wrong type, expired, not for
// authentication, or whose secret differs are errors. The user is system:bootstrap:<id> in
// system:bootstrappers plus the Secret's extra groups.
func (a *BootstrapToken) AuthenticateToken(ctx context.Context, token string) (User, bool, error) {
	id, tokenSecret, err := ParseToken(token)
	if err != nil {
		return User{}, false, nil
	}
	name := TokenSecretName(id)
	secret, err := a.getter.GetSecret(ctx, metav1.NamespaceSystem, name)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return User{}, false, fmt.Errorf("bootstrap token %s: no secret %s/%s", id, metav1.NamespaceSystem, name)
		}
		return User{}, false, fmt.Errorf("bootstrap token %s: reading secret: %w", id, err)
	}
	if secret == nil {
		return User{}, false, fmt.Errorf("bootstrap token %s: no secret %s/%s", id, metav1.NamespaceSystem, name)
	}
	if secret.DeletionTimestamp != nil {
		return User{}, false, fmt.Errorf("bootstrap token %s: secret is deleted and awaiting removal", id)
	}
	if secret.Type != SecretTypeBootstrapToken || secret.Data == nil {
		return User{}, false, fmt.Errorf("bootstrap token %s: secret has type %q, want %q", id, secret.Type, SecretTypeBootstrapToken)
	}
	if subtle.ConstantTimeCompare(secret.Data[BootstrapTokenSecretKey], []byte(tokenSecret)) != 1 {
		return User{}, false, fmt.Errorf("bootstrap token %s: secret does not match", id)
	}
	if string(secret.Data[BootstrapTokenIDKey]) != id {
		return User{}, false, fmt.Errorf("bootstrap token %s: secret %s has token-id %q", id, name, secret.Data[BootstrapTokenIDKey])
	}
	if err := checkBootstrapExpiry(secret, a.now()); err != nil {
		return User{}, false, fmt.Errorf("bootstrap token %s: %w", id, err)
	}
	if string(secret.Data[BootstrapTokenUsageAuthentication]) != "true" {
		return User{}, false, fmt.Errorf("bootstrap token %s: not marked %s=true", id, BootstrapTokenUsageAuthentication)
	}
	groups, err := BootstrapTokenGroups(string(secret.Data[BootstrapTokenExtraGroupsKey]))
	if err != nil {
		return User{}, false, fmt.Errorf("bootstrap token %s: %w", id, err)
	}
	return User{Name: BootstrapUserPrefix + id, Groups: groups}, true, nil
}

func checkBootstrapExpiry(secret *corev1.Secret, now time.Time) error {
	s := string(secret.Data[BootstrapTokenExpirationKey])
	if s == "" {
		return nil
	}
	exp, err := time.Parse(time.RFC3339, s)
	if err != nil {
		// Kubernetes treats an unparseable expiration as expired: fail closed.
		return fmt.Errorf("unparseable expiration %q: %w", s, err)
	}
	if now.After(exp) {
		return fmt.Errorf("expired at %s", exp.Format(time.RFC3339))
	}
	return nil
}

// BootstrapTokenGroups validates a Secret's comma-separated auth-extra-groups and returns
// them with system:bootstrappers, sorted and de-duplicated, which is what the token's user is
// a member of. Only system:bootstrappers:* groups are allowed, so a token can never grant, for
// example, system:masters.
func BootstrapTokenGroups(extra string) ([]string, error) {
	groups := []string{BootstrappersGroup}
	if extra != "" {
		for _, g := range strings.Split(extra, ",") {
			if !bootstrapGroupRe.MatchString(g) {
				return nil, fmt.Errorf("%s: group %q does not match %s", BootstrapTokenExtraGroupsKey, g, bootstrapGroupRe)
			}
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	return slices.Compact(groups), nil
}

// ValidBootstrapTokenID reports whether id is a well-formed bootstrap token id.
func ValidBootstrapTokenID(id string) bool { return bootstrapTokenIDRe.MatchString(id) }
