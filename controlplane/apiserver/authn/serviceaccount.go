package authn

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LegacyIssuer is the "iss" of pre-1.22 Secret-based service-account tokens; such tokens are
// accepted (when signed by a trusted key) so clusters migrated from Kubernetes keep working.
const LegacyIssuer = "kubernetes/serviceaccount"

// ServiceAccountGroupPrefix + namespace is the group of all service accounts in a namespace.
const ServiceAccountGroupPrefix = "system:serviceaccounts:"

// Leeway tolerated on exp/nbf/iat and on deletion of bound objects, as Kubernetes allows for
// clock skew between the apiserver and whoever checks or presents the token.
const tokenLeeway = 60 * time.Second

// Algorithms we sign with and accept. HMAC and "none" are never accepted: a public key must
// not be usable as a shared secret.
var signatureAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512}

// ServiceAccountUsername is the user name of a service account: system:serviceaccount:<ns>:<name>.
func ServiceAccountUsername(namespace, name string) string {
	return ServiceAccountPrefix + namespace + ":" + name
}

// ServiceAccountGroups are the groups a service account belongs to: all service accounts and
// those of its namespace.
func ServiceAccountGroups(namespace string) []string {
	return []string{ServiceAccountsGroup, ServiceAccountGroupPrefix + namespace}
}

// KeyID computes Kubernetes' "kid" for a public key: the unpadded base64url SHA-256 of its DER
// PKIX encoding. Matching Kubernetes lets OIDC relying parties and kubelets treat our JWKS and
// tokens like kube-apiserver's.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("computing key id: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// ---- claims (Kubernetes' wire format) ----

type saRef struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

type k8sClaims struct {
	Namespace string           `json:"namespace,omitempty"`
	Svcacct   saRef            `json:"serviceaccount,omitempty"`
	Pod       *saRef           `json:"pod,omitempty"`
	Secret    *saRef           `json:"secret,omitempty"`
	Node      *saRef           `json:"node,omitempty"`
	WarnAfter *jwt.NumericDate `json:"warnafter,omitempty"`
}

// signedClaims are the registered claims we sign. jwt.Claims would serialise a single
// audience as a bare string; Kubernetes always sends "aud" as an array, and some relying
// parties depend on that.
type signedClaims struct {
	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	Audience  []string         `json:"aud,omitempty"`
	Expiry    *jwt.NumericDate `json:"exp,omitempty"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
	ID        string           `json:"jti,omitempty"`
}

type boundPrivateClaims struct {
	Kubernetes *k8sClaims `json:"kubernetes.io,omitempty"`
}

type legacyPrivateClaims struct {
	ServiceAccountName string `json:"kubernetes.io/serviceaccount/service-account.name"`
	ServiceAccountUID  string `json:"kubernetes.io/serviceaccount/service-account.uid"`
	SecretName         string `json:"kubernetes.io/serviceaccount/secret.name"`
	Namespace          string `json:"kubernetes.io/serviceaccount/namespace"`
}

// ---- signing ----

// Signer issues service-account tokens (TokenRequest, projected volumes, legacy token
// Secrets) with the apiserver's --service-account-signing-key-file.
type Signer struct {
	signer jose.Signer
	issuer string
	keyID  string
	pub    crypto.PublicKey
	alg    jose.SignatureAlgorithm
	now    func() time.Time
}

// NewSigner returns a Signer for an RSA (RS256) or ECDSA (ES256/ES384/ES512 by curve) key.
// Tokens carry Kubernetes' key id in "kid" and issuer as "iss" (legacy tokens excepted).
func NewSigner(key crypto.Signer, issuer string) (*Signer, error) {
	if key == nil {
		return nil, errors.New("service account signer: no key")
	}
	if issuer == "" {
		return nil, errors.New("service account signer: no issuer")
	}
	pub := key.Public()
	var alg jose.SignatureAlgorithm
	switch p := pub.(type) {
	case *rsa.PublicKey:
		alg = jose.RS256
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			alg = jose.ES256
		case elliptic.P384():
			alg = jose.ES384
		case elliptic.P521():
			alg = jose.ES512
		default:
			return nil, fmt.Errorf("service account signer: unsupported ECDSA curve %s", p.Curve.Params().Name)
		}
	default:
		return nil, fmt.Errorf("service account signer: unsupported key type %T (want RSA or ECDSA)", pub)
	}
	kid, err := KeyID(pub)
	if err != nil {
		return nil, fmt.Errorf("service account signer: %w", err)
	}
	var signingKey any
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		signingKey = &jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(alg), Use: "sig"}
	default:
		// An HSM- or KMS-backed crypto.Signer: go-jose drives it through the opaque interface.
		signingKey = cryptosigner.Opaque(key)
	}
	// Kubernetes tokens carry only alg and kid in the header (no typ).
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signingKey}, opts)
	if err != nil {
		return nil, fmt.Errorf("service account signer: %w", err)
	}
	return &Signer{signer: s, issuer: issuer, keyID: kid, pub: pub, alg: alg, now: time.Now}, nil
}

// Issuer is the "iss" of the bound tokens this signer issues.
func (s *Signer) Issuer() string { return s.issuer }

// KeyID is the "kid" header of tokens this signer issues.
func (s *Signer) KeyID() string { return s.keyID }

// PublicKey is the key that verifies this signer's tokens, for the JWKS endpoint.
func (s *Signer) PublicKey() crypto.PublicKey { return s.pub }

// Algorithm is the JWS algorithm this signer uses (RS256, ES256, ...).
func (s *Signer) Algorithm() string { return string(s.alg) }

// BoundClaims describes a bound service-account token (TokenRequest): who it is for, which
// audiences may accept it, how long it lives, and the object it is bound to (at most one of
// pod or secret; a pod-bound token may also record its node; or a node alone).
type BoundClaims struct {
	Audiences []string
	// ExpirationSeconds is the token lifetime from now; Expiry, if set, overrides it.
	ExpirationSeconds int64
	Expiry            time.Time
	// WarnAfter, if set, records when a deliberately extended token becomes stale
	// (Kubernetes' "warnafter" claim for projected tokens).
	WarnAfter time.Time

	Namespace          string
	ServiceAccountName string
	ServiceAccountUID  string

	PodName, PodUID       string
	SecretName, SecretUID string
	NodeName, NodeUID     string
}

// IssueBound signs a bound token with Kubernetes' claims: iss, sub, aud, exp, iat, nbf, jti
// and the private "kubernetes.io" claim naming the namespace, service account and bound
// objects.
func (s *Signer) IssueBound(c BoundClaims) (string, error) {
	tok, _, err := s.IssueBoundWithID(c)
	return tok, err
}

// IssueBoundWithID is IssueBound that also returns the token's JTI, which TokenRequest records
// in the audit log (authentication.kubernetes.io/issued-credential-id).
func (s *Signer) IssueBoundWithID(c BoundClaims) (token, jti string, err error) {
	if c.Namespace == "" || c.ServiceAccountName == "" || c.ServiceAccountUID == "" {
		return "", "", errors.New("issuing service account token: namespace, service account name and uid are required")
	}
	if len(c.Audiences) == 0 {
		return "", "", errors.New("issuing service account token: at least one audience is required")
	}
	if c.SecretName != "" && (c.PodName != "" || c.NodeName != "") {
		return "", "", errors.New("issuing service account token: a token can be bound to a secret or to a pod/node, not both")
	}
	now := s.now()
	exp := c.Expiry
	if exp.IsZero() {
		if c.ExpirationSeconds <= 0 {
			return "", "", errors.New("issuing service account token: expiration is required")
		}
		exp = now.Add(time.Duration(c.ExpirationSeconds) * time.Second)
	}
	jti = uuid.NewString()
	pub := signedClaims{
		Issuer:    s.issuer,
		Subject:   ServiceAccountUsername(c.Namespace, c.ServiceAccountName),
		Audience:  slices.Clone(c.Audiences),
		Expiry:    jwt.NewNumericDate(exp),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ID:        jti,
	}
	k := &k8sClaims{
		Namespace: c.Namespace,
		Svcacct:   saRef{Name: c.ServiceAccountName, UID: c.ServiceAccountUID},
	}
	if c.PodName != "" {
		k.Pod = &saRef{Name: c.PodName, UID: c.PodUID}
	}
	if c.SecretName != "" {
		k.Secret = &saRef{Name: c.SecretName, UID: c.SecretUID}
	}
	if c.NodeName != "" {
		k.Node = &saRef{Name: c.NodeName, UID: c.NodeUID}
	}
	if !c.WarnAfter.IsZero() {
		k.WarnAfter = jwt.NewNumericDate(c.WarnAfter)
	}
	token, err = jwt.Signed(s.signer).Claims(pub).Claims(boundPrivateClaims{Kubernetes: k}).Serialize()
	if err != nil {
		return "", "", fmt.Errorf("signing service account token: %w", err)
	}
	return token, jti, nil
}

// IssueLegacy signs a Secret-based (non-expiring) token with Kubernetes' legacy claims, for the
// token controller that fills kubernetes.io/service-account-token Secrets.
func (s *Signer) IssueLegacy(namespace, saName, saUID, secretName string) (string, error) {
	if namespace == "" || saName == "" || saUID == "" || secretName == "" {
		return "", errors.New("issuing legacy service account token: namespace, names and uid are required")
	}
	pub := signedClaims{
		Issuer:  LegacyIssuer,
		Subject: ServiceAccountUsername(namespace, saName),
	}
	priv := legacyPrivateClaims{
		ServiceAccountName: saName,
		ServiceAccountUID:  saUID,
		SecretName:         secretName,
		Namespace:          namespace,
	}
	token, err := jwt.Signed(s.signer).Claims(pub).Claims(priv).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing legacy service account token: %w", err)
	}
	return token, nil
}

// ---- verification ----

// ServiceAccountGetter reads the objects a service-account token refers to, so tokens die with
// their ServiceAccount, Secret, Pod or Node. Missing objects must be apimachinery NotFound
// errors. Nodes are cluster-scoped: GetNode is called with an empty namespace.
type ServiceAccountGetter interface {
	GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	GetNode(ctx context.Context, namespace, name string) (*corev1.Node, error)
}

// ServiceAccountConfig mirrors kube-apiserver's --service-account-* flags.
type ServiceAccountConfig struct {
	// PublicKeys verify signatures (--service-account-key-file, possibly several files).
	PublicKeys []crypto.PublicKey
	// Issuers accepted in bound tokens (--service-account-issuer, repeatable); the first is
	// the one kforge signs with.
	Issuers []string
	// APIAudiences a bound token must be for (--api-audiences); defaults to Issuers.
	APIAudiences []string
	// Getter looks up the referenced objects; required when Lookup is set.
	Getter ServiceAccountGetter
	// Lookup makes tokens invalid once the objects they name are gone or replaced
	// (--service-account-lookup). Kubernetes defaults it to true.
	Lookup bool
}

type verifyKey struct {
	key crypto.PublicKey
	kid string
}

// ServiceAccountTokens authenticates bound and legacy service-account JWTs.
type ServiceAccountTokens struct {
	keys      []verifyKey
	issuers   []string
	audiences []string
	getter    ServiceAccountGetter
	lookup    bool
	now       func() time.Time
}

// NewServiceAccountTokens returns the service-account token authenticator.
func NewServiceAccountTokens(cfg ServiceAccountConfig) (*ServiceAccountTokens, error) {
	if len(cfg.PublicKeys) == 0 {
		return nil, errors.New("service account tokens: no public keys")
	}
	if len(cfg.Issuers) == 0 {
		return nil, errors.New("service account tokens: no issuers")
	}
	if cfg.Lookup && cfg.Getter == nil {
		return nil, errors.New("service account tokens: lookup requires a getter")
	}
	a := &ServiceAccountTokens{
		issuers:   slices.Clone(cfg.Issuers),
		audiences: slices.Clone(cfg.APIAudiences),
		getter:    cfg.Getter,
		lookup:    cfg.Lookup,
		now:       time.Now,
	}
	if len(a.audiences) == 0 {
		a.audiences = slices.Clone(cfg.Issuers)
	}
	for i, k := range cfg.PublicKeys {
		switch k.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
		default:
			return nil, fmt.Errorf("service account tokens: public key %d has unsupported type %T", i, k)
		}
		kid, err := KeyID(k)
		if err != nil {
			return nil, fmt.Errorf("service account tokens: public key %d: %w", i, err)
		}
		a.keys = append(a.keys, verifyKey{key: k, kid: kid})
	}
	return a, nil
}

// peekIssuer reads "iss" from an unverified compact JWT; ok is false when the token is not a
// JWT at all. Used only to decide whether the token is ours before any expensive work.
func peekIssuer(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", false
	}
	return c.Issuer, true
}

// AuthenticateToken implements TokenAuthenticator. Tokens that are not JWTs or name an issuer
// we do not accept are not ours; tokens with our issuer that fail signature, time, audience
// or lookup checks are errors.
func (a *ServiceAccountTokens) AuthenticateToken(ctx context.Context, token string) (User, bool, error) {
	iss, ok := peekIssuer(token)
	if !ok {
		return User{}, false, nil
	}
	legacy := iss == LegacyIssuer
	if !legacy && !slices.Contains(a.issuers, iss) {
		return User{}, false, nil
	}
	tok, err := jwt.ParseSigned(token, signatureAlgorithms)
	if err != nil {
		return User{}, false, fmt.Errorf("service account token: %w", err)
	}
	var (
		pub   jwt.Claims
		bound boundPrivateClaims
		leg   legacyPrivateClaims
	)
	if err := a.verify(tok, &pub, &bound, &leg); err != nil {
		return User{}, false, err
	}
	// Re-check the issuer from the verified claims: peekIssuer read unverified bytes.
	if pub.Issuer != iss {
		return User{}, false, fmt.Errorf("service account token: issuer %q is invalid", pub.Issuer)
	}
	now := a.now()
	if err := pub.ValidateWithLeeway(jwt.Expected{Time: now}, tokenLeeway); err != nil {
		switch {
		case errors.Is(err, jwt.ErrExpired):
			return User{}, false, fmt.Errorf("service account token has expired: %w", err)
		case errors.Is(err, jwt.ErrNotValidYet):
			return User{}, false, fmt.Errorf("service account token is not valid yet: %w", err)
		case errors.Is(err, jwt.ErrIssuedInTheFuture):
			return User{}, false, fmt.Errorf("service account token is issued in the future: %w", err)
		}
		return User{}, false, fmt.Errorf("service account token claims could not be validated: %w", err)
	}
	if legacy {
		return a.legacyUser(ctx, token, &pub, &leg)
	}
	return a.boundUser(ctx, now, &pub, bound.Kubernetes)
}

// verify checks the signature with the keys whose kid matches first, then with the others,
// so a key rotation where old tokens lack or misstate kid still verifies.
func (a *ServiceAccountTokens) verify(tok *jwt.JSONWebToken, dest ...any) error {
	var kid string
	if len(tok.Headers) > 0 {
		kid = tok.Headers[0].KeyID
	}
	ordered := make([]verifyKey, 0, len(a.keys))
	for _, k := range a.keys {
		if kid != "" && k.kid == kid {
			ordered = append(ordered, k)
		}
	}
	for _, k := range a.keys {
		if kid == "" || k.kid != kid {
			ordered = append(ordered, k)
		}
	}
	var errs []error
	for _, k := range ordered {
		if err := tok.Claims(k.key, dest...); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return fmt.Errorf("service account token: signature verification failed: %w", errors.Join(errs...))
}

func (a *ServiceAccountTokens) boundUser(ctx context.Context, now time.Time, pub *jwt.Claims, k *k8sClaims) (User, bool, error) {
	if k == nil || k.Namespace == "" || k.Svcacct.Name == "" || k.Svcacct.UID == "" {
		return User{}, false, errors.New("service account token: kubernetes.io claim is missing or incomplete")
	}
	if pub.Expiry == nil {
		return User{}, false, errors.New("service account token: exp claim is missing")
	}
	if pub.Subject != ServiceAccountUsername(k.Namespace, k.Svcacct.Name) {
		return User{}, false, errors.New("service account token: sub claim does not match kubernetes.io claim")
	}
	want := a.audiences
	if auds, ok := AudiencesFrom(ctx); ok && len(auds) > 0 {
		want = auds
	}
	if !slices.ContainsFunc(want, func(aud string) bool { return slices.Contains(pub.Audience, aud) }) {
		return User{}, false, fmt.Errorf("service account token audiences %q are invalid for the target audiences %q", []string(pub.Audience), want)
	}
	var podName, podUID, nodeName, nodeUID string
	if k.Pod != nil {
		podName, podUID = k.Pod.Name, k.Pod.UID
	}
	if k.Node != nil {
		nodeName, nodeUID = k.Node.Name, k.Node.UID
	}
	if a.lookup {
		if err := a.checkBoundObjects(ctx, now, k); err != nil {
			return User{}, false, err
		}
	}
	u := User{
		Name:   ServiceAccountUsername(k.Namespace, k.Svcacct.Name),
		UID:    k.Svcacct.UID,
		Groups: ServiceAccountGroups(k.Namespace),
	}
	extra := map[string][]string{}
	if podName != "" && podUID != "" {
		extra[PodNameKey] = []string{podName}
		extra[PodUIDKey] = []string{podUID}
	}
	if nodeName != "" {
		extra[NodeNameKey] = []string{nodeName}
		if nodeUID != "" {
			extra[NodeUIDKey] = []string{nodeUID}
		}
	}
	if pub.ID != "" {
		extra[CredentialIDKey] = []string{"JTI=" + pub.ID}
	}
	if len(extra) > 0 {
		u.Extra = extra
	}
	return u, true, nil
}

// deletedLongAgo reports whether an object's deletion started more than the leeway ago.
// Kubernetes keeps honouring tokens for that long so a pod in graceful termination can still
// talk to the apiserver while it shuts down.
func deletedLongAgo(ts *metav1.Time, now time.Time) bool {
	return ts != nil && ts.Time.Before(now.Add(-tokenLeeway))
}

var errTokenInvalidated = errors.New("service account token has been invalidated")

func (a *ServiceAccountTokens) checkBoundObjects(ctx context.Context, now time.Time, k *k8sClaims) error {
	ns := k.Namespace
	sa, err := a.getter.GetServiceAccount(ctx, ns, k.Svcacct.Name)
	if err != nil {
		return fmt.Errorf("service account %s/%s: %w", ns, k.Svcacct.Name, err)
	}
	if string(sa.UID) != k.Svcacct.UID {
		return fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, k.Svcacct.UID)
	}
	if deletedLongAgo(sa.DeletionTimestamp, now) {
		return fmt.Errorf("service account %s/%s has been deleted", ns, k.Svcacct.Name)
	}
	if ref := k.Secret; ref != nil {
		s, err := a.getter.GetSecret(ctx, ns, ref.Name)
		if err != nil {
			return fmt.Errorf("bound secret %s/%s: %w: %w", ns, ref.Name, errTokenInvalidated, err)
		}
		if string(s.UID) != ref.UID {
			return fmt.Errorf("secret UID (%s) does not match service account secret ref claim (%s)", s.UID, ref.UID)
		}
		if deletedLongAgo(s.DeletionTimestamp, now) {
			return fmt.Errorf("bound secret %s/%s is being deleted: %w", ns, ref.Name, errTokenInvalidated)
		}
	}
	if ref := k.Pod; ref != nil {
		p, err := a.getter.GetPod(ctx, ns, ref.Name)
		if err != nil {
			return fmt.Errorf("bound pod %s/%s: %w: %w", ns, ref.Name, errTokenInvalidated, err)
		}
		if string(p.UID) != ref.UID {
			return fmt.Errorf("pod UID (%s) does not match service account pod ref claim (%s)", p.UID, ref.UID)
		}
		if deletedLongAgo(p.DeletionTimestamp, now) {
			return fmt.Errorf("bound pod %s/%s is being deleted: %w", ns, ref.Name, errTokenInvalidated)
		}
	} else if ref := k.Node; ref != nil {
		// Only node-bound tokens are checked against the Node; for pod-bound tokens the node is
		// informational (the pod check already ties the token to a live object), as in
		// Kubernetes.
		n, err := a.getter.GetNode(ctx, "", ref.Name)
		if err != nil {
			return fmt.Errorf("bound node %s: %w: %w", ref.Name, errTokenInvalidated, err)
		}
		if string(n.UID) != ref.UID {
			return fmt.Errorf("node UID (%s) does not match service account node ref claim (%s)", n.UID, ref.UID)
		}
		if deletedLongAgo(n.DeletionTimestamp, now) {
			return fmt.Errorf("bound node %s is being deleted: %w", ref.Name, errTokenInvalidated)
		}
	}
	return nil
}

func (a *ServiceAccountTokens) legacyUser(ctx context.Context, token string, pub *jwt.Claims, c *legacyPrivateClaims) (User, bool, error) {
	switch {
	case pub.Subject == "":
		return User{}, false, errors.New("legacy service account token: sub claim is missing")
	case c.Namespace == "":
		return User{}, false, errors.New("legacy service account token: namespace claim is missing")
	case c.SecretName == "":
		return User{}, false, errors.New("legacy service account token: secret name claim is missing")
	case c.ServiceAccountName == "":
		return User{}, false, errors.New("legacy service account token: service account name claim is missing")
	case c.ServiceAccountUID == "":
		return User{}, false, errors.New("legacy service account token: service account uid claim is missing")
	case pub.Subject != ServiceAccountUsername(c.Namespace, c.ServiceAccountName):
		return User{}, false, errors.New("legacy service account token: sub claim is invalid")
	}
	if a.lookup {
		ns := c.Namespace
		secret, err := a.getter.GetSecret(ctx, ns, c.SecretName)
		if err != nil {
			return User{}, false, fmt.Errorf("legacy token secret %s/%s: %w: %w", ns, c.SecretName, errTokenInvalidated, err)
		}
		if secret.DeletionTimestamp != nil {
			return User{}, false, fmt.Errorf("legacy token secret %s/%s is being deleted: %w", ns, c.SecretName, errTokenInvalidated)
		}
		if secret.Annotations[corev1.ServiceAccountNameKey] != c.ServiceAccountName {
			return User{}, false, fmt.Errorf("legacy token secret %s/%s is not for service account %s: %w", ns, c.SecretName, c.ServiceAccountName, errTokenInvalidated)
		}
		if uid := secret.Annotations[corev1.ServiceAccountUIDKey]; uid != "" && uid != c.ServiceAccountUID {
			return User{}, false, fmt.Errorf("legacy token secret %s/%s is for service account UID %s, token claims %s: %w", ns, c.SecretName, uid, c.ServiceAccountUID, errTokenInvalidated)
		}
		stored := secret.Data[corev1.ServiceAccountTokenKey]
		if subtle.ConstantTimeCompare(stored, []byte(token)) != 1 {
			return User{}, false, fmt.Errorf("legacy token does not match the copy in secret %s/%s", ns, c.SecretName)
		}
		sa, err := a.getter.GetServiceAccount(ctx, ns, c.ServiceAccountName)
		if err != nil {
			return User{}, false, fmt.Errorf("service account %s/%s: %w", ns, c.ServiceAccountName, err)
		}
		if sa.DeletionTimestamp != nil {
			return User{}, false, fmt.Errorf("service account %s/%s has been deleted", ns, c.ServiceAccountName)
		}
		if string(sa.UID) != c.ServiceAccountUID {
			return User{}, false, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, c.ServiceAccountUID)
		}
	}
	return User{
		Name:   ServiceAccountUsername(c.Namespace, c.ServiceAccountName),
		UID:    c.ServiceAccountUID,
		Groups: ServiceAccountGroups(c.Namespace),
	}, true, nil
}
