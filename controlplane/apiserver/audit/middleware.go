package audit

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// HeaderAuditID is the header carrying a request's audit ID: a client may send one, and the
// response always echoes it, as kube-apiserver does, so a client's error can be found in the log.
const HeaderAuditID = "Audit-ID"

const (
	maxUserAgent      = 1024
	userAgentTruncSfx = "...TRUNCATED"
	// maxErrorBody bounds how much of a failed response is kept to recover its Status.
	maxErrorBody = 8 << 10
)

type ctxKey struct{}

// request is the audit state of one request, shared through its context by the middleware
// and the layers below that report what they learn.
type request struct {
	l        *Logger
	fallback authz.Attributes

	mu            sync.Mutex
	ev            Event
	decided       bool
	level         Level
	omit          []Stage
	longRunning   bool
	startedLogged bool
	status        *metav1.Status

	// Owned by the goroutine serving the request.
	code    int
	errBody []byte
}

// Middleware logs every request passing through next according to the Logger's policy: a
// ResponseComplete event when it ends (including 401s and 403s), a RequestReceived event once the
// user is known, and a ResponseStarted event when a long-running request (watch, exec, attach,
// port-forward, proxy, pod logs) starts answering, unless the policy omits those stages. Wrap
// it around authentication, so failed authentications are seen.
//
// attrsOf describes the request as it arrives. It returns authenticated=true if attrs.User is
// already the authenticated user (the middleware sits inside authentication); the policy is
// then evaluated at once. Otherwise the layers below call SetUser or SetAttributes once
// authentication succeeds, and a request that never gets that far (401) is logged at the end
// with attrs as given, user empty, as kube-apiserver logs failed authentications. A nil attrsOf
// treats every request as non-resource (verb = lower-case method, path), which still lets
// SetAttributes supply the truth later.
func (l *Logger) Middleware(next http.Handler, attrsOf func(r *http.Request) (attrs authz.Attributes, authenticated bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := l.begin(r, attrsOf)
		if w.Header().Get(HeaderAuditID) == "" {
			w.Header().Set(HeaderAuditID, rq.ev.AuditID)
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, rq))
		aw := &responseWriter{ResponseWriter: w, rq: rq}
		var rw http.ResponseWriter = aw
		if _, ok := w.(http.Hijacker); ok {
			rw = &hijackWriter{aw}
		}
		defer func() {
			if p := recover(); p != nil {
				rq.panicked(p)
				panic(p)
			}
			rq.finish()
		}()
		next.ServeHTTP(rw, r)
	})
}

func (l *Logger) begin(r *http.Request, attrsOf func(*http.Request) (authz.Attributes, bool)) *request {
	rq := &request{l: l}
	now := time.Now()
	id := r.Header.Get(HeaderAuditID)
	if id == "" {
		id = newUUID()
	}
	rq.ev = Event{
		Kind:                     "Event",
		APIVersion:               "audit.k8s.io/v1",
		AuditID:                  id,
		RequestURI:               r.URL.RequestURI(),
		SourceIPs:                sourceIPs(r),
		UserAgent:                truncateUserAgent(r.UserAgent()),
		RequestReceivedTimestamp: metav1.NewMicroTime(now),
	}
	authenticated := false
	if attrsOf != nil {
		rq.fallback, authenticated = attrsOf(r)
	} else {
		rq.fallback = authz.Attributes{Verb: strings.ToLower(r.Method), Path: r.URL.Path}
	}
	if authenticated {
		rq.mu.Lock()
		rq.decideLocked(rq.fallback, true)
		rq.mu.Unlock()
	}
	return rq
}

// decideLocked evaluates the policy for attrs and fills in the event; authenticated says
// whether the RequestReceived stage happened (a failed authentication has none).
func (rq *request) decideLocked(attrs authz.Attributes, authenticated bool) {
	if rq.decided {
		return
	}
	rq.decided = true
	rq.level, rq.omit = rq.l.policy.LevelFor(attrs)
	if rq.level == LevelNone {
		return
	}
	rq.ev.Level = rq.level
	if rq.level != LevelMetadata {
		rq.ev.Level = LevelMetadata
		rq.addAnnotationLocked(LevelReducedAnnotation, string(rq.level))
	}
	rq.ev.Verb = attrs.Verb
	rq.ev.User = userInfo(attrs.User)
	if attrs.ResourceRequest {
		rq.ev.ObjectRef = &ObjectReference{
			Resource:    attrs.Resource,
			Namespace:   attrs.Namespace,
			Name:        attrs.Name,
			APIGroup:    attrs.APIGroup,
			APIVersion:  attrs.APIVersion,
			Subresource: attrs.Subresource,
		}
	}
	rq.longRunning = isLongRunning(&attrs)
	if authenticated {
		rq.emitLocked(StageRequestReceived)
	}
}

// isLongRunning is kube-apiserver's definition of requests that may stream for a long time.
func isLongRunning(a *authz.Attributes) bool {
	if !a.ResourceRequest {
		return false
	}
	if a.Verb == "watch" || a.Verb == "proxy" {
		return true
	}
	switch a.Subresource {
	case "attach", "exec", "proxy", "log", "portforward":
		return true
	}
	return false
}

func (rq *request) addAnnotationLocked(k, v string) {
	if rq.ev.Annotations == nil {
		rq.ev.Annotations = make(map[string]string, 4)
	}
	if _, ok := rq.ev.Annotations[k]; !ok {
		rq.ev.Annotations[k] = v
	}
}

// emitLocked logs the event at stage unless the policy omits it.
func (rq *request) emitLocked(stage Stage) {
	if rq.level == LevelNone || hasStage(rq.omit, stage) {
		return
	}
	rq.ev.Stage = stage
	if stage == StageRequestReceived {
		rq.ev.StageTimestamp = rq.ev.RequestReceivedTimestamp
	} else {
		rq.ev.StageTimestamp = metav1.NewMicroTime(time.Now())
	}
	_ = rq.l.Log(&rq.ev) // Failures are reported by the Logger; the request goes on.
}

// responseStarted runs when the status line is sent.
func (rq *request) responseStarted(code int) {
	if rq.code != 0 || (code >= 100 && code < 200 && code != http.StatusSwitchingProtocols) {
		return
	}
	rq.code = code
	rq.mu.Lock()
	defer rq.mu.Unlock()
	if rq.decided && rq.longRunning {
		rq.startedLogged = true
		rq.ev.ResponseStatus = &metav1.Status{Code: int32(code)}
		rq.emitLocked(StageResponseStarted)
	}
}

func (rq *request) finish() {
	if rq.code == 0 {
		rq.code = http.StatusOK // net/http answers 200 for a handler that wrote nothing.
	}
	rq.mu.Lock()
	defer rq.mu.Unlock()
	rq.decideLocked(rq.fallback, false)
	if rq.level == LevelNone {
		return
	}
	if rq.longRunning && !rq.startedLogged {
		rq.startedLogged = true
		rq.ev.ResponseStatus = &metav1.Status{Code: int32(rq.code)}
		rq.emitLocked(StageResponseStarted)
	}
	rq.ev.ResponseStatus = rq.finalStatusLocked()
	rq.emitLocked(StageResponseComplete)
}

func (rq *request) panicked(p any) {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	rq.decideLocked(rq.fallback, false)
	rq.ev.ResponseStatus = &metav1.Status{
		Status:  metav1.StatusFailure,
		Message: fmt.Sprintf("kforge apiserver panicked: %v", p),
		Reason:  metav1.StatusReasonInternalError,
		Code:    http.StatusInternalServerError,
	}
	rq.emitLocked(StagePanic)
}

// finalStatusLocked is the ResponseComplete status: the HTTP code, and for failures the Status
// reported with SetResponseStatus or, failing that, the one found in the response body.
func (rq *request) finalStatusLocked() *metav1.Status {
	st := &metav1.Status{Code: int32(rq.code)}
	if rq.code < 400 {
		return st
	}
	src := rq.status
	if src == nil && len(rq.errBody) > 0 {
		var body metav1.Status
		if json.Unmarshal(rq.errBody, &body) == nil && body.Kind == "Status" {
			src = &body
		}
	}
	if src != nil {
		st.Status, st.Message, st.Reason, st.Details = src.Status, src.Message, src.Reason, src.Details
	}
	if st.Status == "" {
		st.Status = metav1.StatusFailure
	}
	return st
}

func userInfo(u authn.User) authenticationv1.UserInfo {
	ui := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		ui.Extra = make(map[string]authenticationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			ui.Extra[k] = v
		}
	}
	return ui
}

func from(ctx context.Context) *request {
	rq, _ := ctx.Value(ctxKey{}).(*request)
	return rq
}

// SetUser reports the authenticated user of the request in ctx: authentication calls it on
// success. The policy is then evaluated, with the attributes the middleware's attrsOf gave plus
// this user, and the RequestReceived stage is logged. Calls after the first, or after
// SetAttributes, are ignored; outside Middleware it does nothing.
func SetUser(ctx context.Context, u authn.User) {
	rq := from(ctx)
	if rq == nil {
		return
	}
	rq.mu.Lock()
	defer rq.mu.Unlock()
	attrs := rq.fallback
	attrs.User = u
	rq.decideLocked(attrs, true)
}

// SetAttributes reports the request's full authorization attributes, user included, for
// callers that compute them after authentication; it replaces what attrsOf gave and otherwise
// acts as SetUser. Pass the authenticated user, not the impersonated one: kube-apiserver
// evaluates the policy before impersonation.
func SetAttributes(ctx context.Context, attrs authz.Attributes) {
	rq := from(ctx)
	if rq == nil {
		return
	}
	rq.mu.Lock()
	defer rq.mu.Unlock()
	rq.fallback = attrs
	rq.decideLocked(attrs, true)
}

// SetImpersonatedUser records the user the request impersonates (impersonatedUser in the
// event); the event's user stays the authenticated one.
func SetImpersonatedUser(ctx context.Context, u authn.User) {
	rq := from(ctx)
	if rq == nil {
		return
	}
	ui := userInfo(u)
	rq.mu.Lock()
	rq.ev.ImpersonatedUser = &ui
	rq.mu.Unlock()
}

// AddAnnotation attaches key=value to the request's events from now on. As in kube-apiserver,
// the first value for a key wins. It is safe from any goroutine and does nothing outside
// Middleware.
func AddAnnotation(ctx context.Context, key, value string) {
	rq := from(ctx)
	if rq == nil {
		return
	}
	rq.mu.Lock()
	rq.addAnnotationLocked(key, value)
	rq.mu.Unlock()
}

// AnnotateAuthorization records the authorizers' decision with kube-apiserver's annotations
// (authorization.k8s.io/decision = allow|forbid, authorization.k8s.io/reason).
func AnnotateAuthorization(ctx context.Context, allowed bool, reason string) {
	decision := "forbid"
	if allowed {
		decision = "allow"
	}
	AddAnnotation(ctx, DecisionAnnotation, decision)
	AddAnnotation(ctx, ReasonAnnotation, reason)
}

// SetResponseStatus reports the Status a failed request answered with, for the event's
// responseStatus (status, message, reason, details). Without it the middleware reads the Status
// from a JSON error body, which covers kforge's own errors; the code is always the HTTP one.
func SetResponseStatus(ctx context.Context, st *metav1.Status) {
	rq := from(ctx)
	if rq == nil || st == nil {
		return
	}
	cp := *st
	rq.mu.Lock()
	rq.status = &cp
	rq.mu.Unlock()
}

// AuditID is the audit ID of the request in ctx, or "" outside Middleware, for correlating
// other logs with the audit log.
func AuditID(ctx context.Context) string {
	if rq := from(ctx); rq != nil {
		return rq.ev.AuditID
	}
	return ""
}

// responseWriter notes when the response starts and keeps the start of error bodies.
type responseWriter struct {
	http.ResponseWriter
	rq *request
}

func (w *responseWriter) WriteHeader(code int) {
	w.rq.responseStarted(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	rq := w.rq
	if rq.code == 0 {
		rq.responseStarted(http.StatusOK)
	}
	if rq.code >= 400 && len(rq.errBody) < maxErrorBody {
		rq.errBody = append(rq.errBody, b[:min(len(b), maxErrorBody-len(rq.errBody))]...)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data, as watches need; net/http sends a 200 status first if none was.
func (w *responseWriter) Flush() {
	if w.rq.code == 0 {
		w.rq.responseStarted(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// hijackWriter is used only over connections that can be hijacked (HTTP/1), so a handler's
// Hijacker check answers as it would without auditing.
type hijackWriter struct{ *responseWriter }

// Hijack hands the connection over (exec, attach, port-forward upgrades), logged as a 101
// response as kube-apiserver does.
func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.rq.responseStarted(http.StatusSwitchingProtocols)
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

// sourceIPs lists the client addresses as kube-apiserver does: X-Forwarded-For entries, then
// X-Real-Ip unless already listed, then the peer unless it is the last one listed.
func sourceIPs(r *http.Request) []string {
	var ips []netip.Addr
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		for part := range strings.SplitSeq(xff, ",") {
			if ip, err := netip.ParseAddr(strings.TrimSpace(part)); err == nil {
				ips = append(ips, ip.Unmap())
			}
		}
	}
	if xr := r.Header.Get("X-Real-Ip"); xr != "" {
		if ip, err := netip.ParseAddr(strings.TrimSpace(xr)); err == nil {
			ip = ip.Unmap()
			found := false
			for _, x := range ips {
				found = found || x == ip
			}
			if !found {
				ips = append(ips, ip)
			}
		}
	}
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		host = h
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if len(ips) == 0 || ips[len(ips)-1] != ip {
			ips = append(ips, ip)
		}
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

func truncateUserAgent(ua string) string {
	if len(ua) > maxUserAgent {
		return ua[:maxUserAgent] + userAgentTruncSfx
	}
	return ua
}

// newUUID returns a random (version 4) UUID. Audit IDs need to be unique, not secret, so the
// runtime's fast ChaCha8 generator suffices.
func newUUID() string {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
