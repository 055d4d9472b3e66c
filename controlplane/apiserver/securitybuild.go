package apiserver

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"kforge.dev/kforge/controlplane/apiserver/admission"
	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// SecurityConfig is what the security layers are built from: loaded CAs and keys and the
// chosen modes. AuthOptions.Load reads one from kube-apiserver's flags; tests build one
// directly.
type SecurityConfig struct {
	// ClientCA verifies client certificates (user = CN, groups = O).
	ClientCA *x509.CertPool
	// RequestHeader, when set, trusts front-proxy identity headers from clients whose
	// certificate it verifies.
	RequestHeader *authn.RequestHeaderConfig
	AnonymousAuth bool
	// BootstrapTokenAuth accepts bootstrap tokens.
	BootstrapTokenAuth bool
	// ServiceAccountKeys verify service-account tokens; ServiceAccountSigner signs TokenRequest
	// tokens as the first of ServiceAccountIssuers.
	ServiceAccountKeys    []crypto.PublicKey
	ServiceAccountSigner  crypto.Signer
	ServiceAccountIssuers []string
	APIAudiences          []string
	ServiceAccountLookup  bool
	MaxTokenExpiration    time.Duration
	// AuthorizationModes are tried in order (Node, RBAC, AlwaysAllow, AlwaysDeny).
	AuthorizationModes []string
	// AdmissionPlugins is the admission chain, in kube-apiserver's order whatever the order here.
	AdmissionPlugins []string
}

// DefaultAdmissionPlugins is the admission chain kube-apiserver runs by default that kforge has.
func DefaultAdmissionPlugins() []string { return slices.Clone(admission.DefaultPlugins) }

// EnableSecurity builds the security layers from cfg and turns them on.
func (a *API) EnableSecurity(cfg SecurityConfig) error {
	s, err := a.newSecurity(cfg)
	if err != nil {
		return err
	}
	a.SetSecurity(s)
	return nil
}

func (a *API) newSecurity(cfg SecurityConfig) (*Security, error) {
	objs := objectReader{a: a}
	s := &Security{APIAudiences: cfg.APIAudiences, MaxTokenExpiration: cfg.MaxTokenExpiration}
	if len(s.APIAudiences) == 0 {
		s.APIAudiences = cfg.ServiceAccountIssuers
	}

	var tokens []authn.TokenAuthenticator
	if cfg.BootstrapTokenAuth {
		tokens = append(tokens, authn.NewBootstrapToken(objs))
	}
	if len(cfg.ServiceAccountKeys) > 0 {
		if len(cfg.ServiceAccountIssuers) == 0 {
			return nil, errors.New("--service-account-issuer is required with --service-account-key-file (kubeadm uses https://kubernetes.default.svc.cluster.local)")
		}
		sa, err := authn.NewServiceAccountTokens(authn.ServiceAccountConfig{PublicKeys: cfg.ServiceAccountKeys, Issuers: cfg.ServiceAccountIssuers,
			APIAudiences: s.APIAudiences, Getter: tokenReader{objs}, Lookup: cfg.ServiceAccountLookup})
		if err != nil {
			return nil, fmt.Errorf("service account tokens: %w", err)
		}
		tokens = append(tokens, sa)
	}
	if cfg.ServiceAccountSigner != nil {
		if len(cfg.ServiceAccountIssuers) == 0 {
			return nil, errors.New("--service-account-issuer is required with --service-account-signing-key-file")
		}
		signer, err := authn.NewSigner(cfg.ServiceAccountSigner, cfg.ServiceAccountIssuers[0])
		if err != nil {
			return nil, fmt.Errorf("--service-account-signing-key-file: %w", err)
		}
		s.TokenSigner = signer
	}
	var authenticators []authn.Authenticator
	if cfg.RequestHeader != nil {
		authenticators = append(authenticators, authn.NewRequestHeader(*cfg.RequestHeader))
	}
	if cfg.ClientCA != nil {
		authenticators = append(authenticators, authn.NewX509(cfg.ClientCA))
	}
	if len(tokens) > 0 {
		s.Tokens = authn.TokenChain(tokens...)
		authenticators = append(authenticators, authn.NewBearer(tokens...))
	}
	s.Authenticator = authn.NewChain(authn.ChainOptions{AllowAnonymous: cfg.AnonymousAuth}, authenticators...)

	authorizers := []authz.Authorizer{authz.SuperUser}
	var rules []RuleResolver
	for _, mode := range cfg.AuthorizationModes {
		switch strings.TrimSpace(mode) {
		case "Node":
			authorizers = append(authorizers, authz.NewNode(objs))
			rules = append(rules, nodeRules{})
		case "RBAC":
			rbac := authz.NewRBAC(objs)
			authorizers = append(authorizers, rbac)
			rules = append(rules, rbac)
		case "AlwaysAllow":
			authorizers = append(authorizers, authz.AlwaysAllow)
			rules = append(rules, allRules{})
		case "AlwaysDeny":
			authorizers = append(authorizers, authz.AlwaysDeny)
		default:
			return nil, fmt.Errorf("--authorization-mode %q is not supported; use Node, RBAC, AlwaysAllow or AlwaysDeny", mode)
		}
	}
	s.Authorizer = authz.NewUnion(authorizers...)
	s.Rules = unionRules(rules)

	chain, err := admission.New(cfg.AdmissionPlugins, admission.Deps{Namespaces: objs, ServiceAccounts: objs, LimitRanges: objs,
		ResourceQuotas: objs, Objects: objs, PriorityClasses: objs, Pods: objs, Nodes: objs})
	if err != nil {
		return nil, fmt.Errorf("admission: %w", err)
	}
	s.Admission = chain
	return s, nil
}

// AdmissionPlugins is the default chain with enable and disable applied, as kube-apiserver's
// --enable-admission-plugins and --disable-admission-plugins do.
func AdmissionPlugins(enable, disable []string) []string {
	out := DefaultAdmissionPlugins()
	for _, p := range enable {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return slices.DeleteFunc(out, func(p string) bool { return slices.Contains(disable, p) })
}

// unionRules lists the rules of every authorizer that can list them.
type unionRules []RuleResolver

func (u unionRules) RulesFor(ctx context.Context, user authn.User, ns string) (res, nonRes []rbacv1.PolicyRule, incomplete bool, err error) {
	var errs []error
	for _, r := range u {
		a, b, inc, e := r.RulesFor(ctx, user, ns)
		res, nonRes = append(res, a...), append(nonRes, b...)
		incomplete = incomplete || inc
		if e != nil {
			errs = append(errs, e)
		}
	}
	return res, nonRes, incomplete, errors.Join(errs...)
}

// nodeRules are the Node authorizer's rules for nodes: incomplete, because it also allows
// reads of what each node's pods use, which no rule can list.
type nodeRules struct{}

func (nodeRules) RulesFor(_ context.Context, user authn.User, _ string) ([]rbacv1.PolicyRule, []rbacv1.PolicyRule, bool, error) {
	if !strings.HasPrefix(user.Name, authn.NodeUserPrefix) || !user.InGroup(authn.NodesGroup) {
		return nil, nil, false, nil
	}
	return authz.NodeRules(), nil, true, nil
}

// allRules is AlwaysAllow's answer: everything.
type allRules struct{}

func (allRules) RulesFor(context.Context, authn.User, string) ([]rbacv1.PolicyRule, []rbacv1.PolicyRule, bool, error) {
	return []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}},
		[]rbacv1.PolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}, false, nil
}

// Load reads the files the options name into a SecurityConfig.
func (o AuthOptions) Load(clientCAFile string) (SecurityConfig, error) {
	cfg := SecurityConfig{AnonymousAuth: o.AnonymousAuth, BootstrapTokenAuth: o.EnableBootstrapTokenAuth,
		ServiceAccountIssuers: o.ServiceAccountIssuers, APIAudiences: o.APIAudiences, ServiceAccountLookup: o.ServiceAccountLookup,
		MaxTokenExpiration: o.ServiceAccountMaxTokenExpiry, AuthorizationModes: o.AuthorizationModes,
		AdmissionPlugins: AdmissionPlugins(o.EnableAdmissionPlugins, o.DisableAdmissionPlugins)}
	if clientCAFile != "" {
		pool, err := loadPool(clientCAFile, "--client-ca-file")
		if err != nil {
			return cfg, err
		}
		cfg.ClientCA = pool
	}
	if o.RequestHeaderClientCAFile != "" {
		pool, err := loadPool(o.RequestHeaderClientCAFile, "--requestheader-client-ca-file")
		if err != nil {
			return cfg, err
		}
		if len(o.RequestHeaderUsernameHeaders) == 0 {
			return cfg, errors.New("--requestheader-client-ca-file needs --requestheader-username-headers (kubeadm sets X-Remote-User)")
		}
		cfg.RequestHeader = &authn.RequestHeaderConfig{ClientCA: pool, AllowedNames: o.RequestHeaderAllowedNames,
			UsernameHeaders: o.RequestHeaderUsernameHeaders, GroupHeaders: o.RequestHeaderGroupHeaders, ExtraHeaderPrefixes: o.RequestHeaderExtraHeaderPrefixes}
	}
	for _, f := range o.ServiceAccountKeyFiles {
		keys, err := authn.LoadPublicKeys(f)
		if err != nil {
			return cfg, fmt.Errorf("--service-account-key-file: %w", err)
		}
		cfg.ServiceAccountKeys = append(cfg.ServiceAccountKeys, keys...)
	}
	if o.ServiceAccountSigningKeyFile != "" {
		key, err := authn.LoadPrivateKey(o.ServiceAccountSigningKeyFile)
		if err != nil {
			return cfg, fmt.Errorf("--service-account-signing-key-file: %w", err)
		}
		cfg.ServiceAccountSigner = key
		if len(o.ServiceAccountKeyFiles) == 0 {
			// kube-apiserver verifies with the signing key when no verification keys are given.
			cfg.ServiceAccountKeys = append(cfg.ServiceAccountKeys, key.Public())
		}
	}
	return cfg, nil
}

// loadPool reads a PEM CA bundle.
func loadPool(path, flag string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s %s holds no PEM certificate", flag, path)
	}
	return pool, nil
}
