package authn

import (
	"crypto/x509"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// RequestHeaderConfig mirrors kube-apiserver's --requestheader-* flags, which let a trusted
// front proxy (kube-aggregator's callers, an authenticating proxy) assert the user in HTTP
// headers.
type RequestHeaderConfig struct {
	// ClientCA verifies the proxy's client certificate (--requestheader-client-ca-file).
	ClientCA *x509.CertPool
	// AllowedNames, when non-empty, restricts which proxy certificate CommonNames are trusted
	// (--requestheader-allowed-names).
	AllowedNames []string
	// UsernameHeaders are tried in order; the first non-empty one names the user
	// (--requestheader-username-headers, typically X-Remote-User).
	UsernameHeaders []string
	// UIDHeaders are tried in order for the user's UID (--requestheader-uid-headers).
	UIDHeaders []string
	// GroupHeaders are all read, every value a group (--requestheader-group-headers).
	GroupHeaders []string
	// ExtraHeaderPrefixes: a header <prefix><key> adds its values to extra[<key>], the key
	// lower-cased and URL-unescaped (--requestheader-extra-headers-prefix).
	ExtraHeaderPrefixes []string
}

// RequestHeader is the front-proxy authenticator built by NewRequestHeader.
type RequestHeader struct {
	cfg      RequestHeaderConfig
	now      func() time.Time
	verified verifyCache
}

// NewRequestHeader returns an authenticator that believes identity headers only from a client
// whose certificate verifies against cfg.ClientCA (and, if cfg.AllowedNames is set, whose
// CommonName is listed), as kube-apiserver does for its front proxy.
func NewRequestHeader(cfg RequestHeaderConfig) *RequestHeader {
	cfg.AllowedNames = slices.Clone(cfg.AllowedNames)
	cfg.UsernameHeaders = trimmed(cfg.UsernameHeaders)
	cfg.UIDHeaders = trimmed(cfg.UIDHeaders)
	cfg.GroupHeaders = trimmed(cfg.GroupHeaders)
	cfg.ExtraHeaderPrefixes = trimmed(cfg.ExtraHeaderPrefixes)
	return &RequestHeader{cfg: cfg, now: time.Now}
}

func trimmed(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Authenticate implements Authenticator. Requests without a client certificate are not ours;
// a certificate that does not verify against the proxy CA or whose name is not allowed is an
// error (another authenticator, such as X509, may still accept it). The identity headers are
// removed from the request whatever the outcome, so headers a client set itself can never
// reach later handlers or be forwarded as if a trusted proxy had set them.
func (a *RequestHeader) Authenticate(r *http.Request) (User, bool, error) {
	defer a.clearHeaders(r.Header)
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return User{}, false, nil
	}
	leaf, err := a.verified.verify(r.TLS.PeerCertificates, a.cfg.ClientCA, a.now())
	if err != nil {
		return User{}, false, fmt.Errorf("request header authentication: %w", err)
	}
	if len(a.cfg.AllowedNames) > 0 && !slices.Contains(a.cfg.AllowedNames, leaf.Subject.CommonName) {
		return User{}, false, fmt.Errorf("request header authentication: x509: subject with cn=%s is not in the allowed list", leaf.Subject.CommonName)
	}
	name := firstHeader(r.Header, a.cfg.UsernameHeaders)
	if name == "" {
		return User{}, false, nil
	}
	u := User{
		Name:   name,
		UID:    firstHeader(r.Header, a.cfg.UIDHeaders),
		Groups: allHeaderValues(r.Header, a.cfg.GroupHeaders),
		Extra:  extraFromHeaders(r.Header, a.cfg.ExtraHeaderPrefixes),
	}
	return u, true, nil
}

func firstHeader(h http.Header, names []string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

func allHeaderValues(h http.Header, names []string) []string {
	var out []string
	for _, n := range names {
		for _, v := range h.Values(n) {
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func extraFromHeaders(h http.Header, prefixes []string) map[string][]string {
	var extra map[string][]string
	// Prefixes outermost so values keep the order of the configured prefixes.
	for _, prefix := range prefixes {
		lp := strings.ToLower(prefix)
		// Sort header names so the order of values within a key is deterministic.
		for _, name := range slices.Sorted(maps.Keys(h)) {
			if !strings.HasPrefix(strings.ToLower(name), lp) {
				continue
			}
			key := unescapeExtraKey(strings.ToLower(name[len(prefix):]))
			if key == "" {
				continue
			}
			if extra == nil {
				extra = map[string][]string{}
			}
			extra[key] = append(extra[key], h[name]...)
		}
	}
	return extra
}

// unescapeExtraKey undoes the percent-encoding proxies use for extra keys that are not valid
// header name characters (such as "/"); keys that do not unescape are used as sent.
func unescapeExtraKey(k string) string {
	if u, err := url.PathUnescape(k); err == nil {
		return u
	}
	return k
}

func (a *RequestHeader) clearHeaders(h http.Header) {
	for _, names := range [][]string{a.cfg.UsernameHeaders, a.cfg.UIDHeaders, a.cfg.GroupHeaders} {
		for _, n := range names {
			h.Del(n)
		}
	}
	if len(a.cfg.ExtraHeaderPrefixes) == 0 {
		return
	}
	for name := range h {
		ln := strings.ToLower(name)
		for _, p := range a.cfg.ExtraHeaderPrefixes {
			if strings.HasPrefix(ln, strings.ToLower(p)) {
				delete(h, name)
				break
			}
		}
	}
}
