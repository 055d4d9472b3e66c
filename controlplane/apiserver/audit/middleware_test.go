package audit

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// syncBuffer is a bytes.Buffer safe for the Logger's flusher and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var alice = authn.User{Name: "alice", UID: "u-1", Groups: []string{"devs", authn.AllAuthenticated}, Extra: map[string][]string{"scopes": {"a", "b"}}}

// testAttrs stands in for the apiserver's request parsing: /api/v1/namespaces/NS/pods[/NAME[/SUB]]
// is a pod request, anything else non-resource.
func testAttrs(r *http.Request) (authz.Attributes, bool) {
	a := authz.Attributes{Verb: strings.ToLower(r.Method), Path: r.URL.Path}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) >= 5 && parts[0] == "api" && parts[2] == "namespaces" {
		a.ResourceRequest, a.APIVersion, a.Namespace, a.Resource = true, parts[1], parts[3], parts[4]
		switch {
		case r.URL.Query().Get("watch") == "true":
			a.Verb = "watch"
		case r.Method == http.MethodGet && len(parts) == 5:
			a.Verb = "list"
		case r.Method == http.MethodGet:
			a.Verb = "get"
		case r.Method == http.MethodPost:
			a.Verb = "create"
		}
		if len(parts) > 5 {
			a.Name = parts[5]
		}
		if len(parts) > 6 {
			a.Subresource = parts[6]
		}
	}
	return a, false
}

// server is a miniature apiserver chain: authentication (token "alice" or "bob",
// "impersonate" header), authorization (bob may do nothing), then the handler.
func server(l *Logger, handler http.HandlerFunc) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u authn.User
		switch r.Header.Get("Authorization") {
		case "Bearer alice":
			u = alice
		case "Bearer bob":
			u = authn.User{Name: "bob", Groups: []string{authn.AllAuthenticated}}
		default:
			writeStatus(w, &metav1.Status{Status: metav1.StatusFailure, Message: "Unauthorized", Reason: metav1.StatusReasonUnauthorized, Code: 401})
			return
		}
		SetUser(r.Context(), u)
		if as := r.Header.Get("Impersonate-User"); as != "" {
			SetImpersonatedUser(r.Context(), authn.User{Name: as, Groups: []string{"imp"}})
		}
		if u.Name == "bob" {
			AnnotateAuthorization(r.Context(), false, "no RBAC policy matched")
			writeStatus(w, &metav1.Status{Status: metav1.StatusFailure, Message: `pods is forbidden: User "bob" cannot list resource "pods"`, Reason: metav1.StatusReasonForbidden,
				Details: &metav1.StatusDetails{Kind: "pods"}, Code: 403})
			return
		}
		AnnotateAuthorization(r.Context(), true, `RBAC: allowed by ClusterRoleBinding "admin"`)
		handler(w, r)
	})
	return l.Middleware(inner, testAttrs)
}

func writeStatus(w http.ResponseWriter, st *metav1.Status) {
	st.Kind, st.APIVersion = "Status", "v1"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	_ = json.NewEncoder(w).Encode(st)
}

func ok(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"kind":"Pod"}`)) }

// do sends one request through a fresh Logger and returns the decoded events.
func do(t *testing.T, policy *Policy, handler http.HandlerFunc, req *http.Request) ([]map[string]any, *httptest.ResponseRecorder) {
	t.Helper()
	var out syncBuffer
	l, err := NewLogger(LoggerConfig{Out: &out, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	server(l, handler).ServeHTTP(rec, req)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return decodeLines(t, out.String()), rec
}

func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		// Every line is a full audit.k8s.io/v1 Event.
		var ev Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Kind != "Event" || ev.APIVersion != "audit.k8s.io/v1" {
			t.Fatalf("line %q: %v %+v", line, err, ev)
		}
		evs = append(evs, m)
	}
	return evs
}

// get walks a decoded JSON value by keys.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func stages(evs []map[string]any) string {
	var s []string
	for _, e := range evs {
		s = append(s, e["stage"].(string))
	}
	return strings.Join(s, ",")
}

func TestMiddlewareAllowed(t *testing.T) {
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods/web?pretty=true", nil)
	req.Header.Set("Authorization", "Bearer alice")
	req.Header.Set("User-Agent", "kubectl/v1.37.2")
	req.Header.Set("X-Forwarded-For", "10.0.0.1, bogus, 10.0.0.2")
	req.RemoteAddr = "192.0.2.7:5555"
	before := time.Now().UTC().Add(-time.Second)
	evs, rec := do(t, nil, ok, req)
	if got := stages(evs); got != "RequestReceived,ResponseComplete" {
		t.Fatalf("stages %s", got)
	}
	id := rec.Header().Get("Audit-Id")
	if len(id) != 36 || id[14] != '4' {
		t.Fatalf("Audit-Id %q is not a UUID v4", id)
	}
	e := evs[1]
	want := map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": id,
		"requestURI": "/api/v1/namespaces/default/pods/web?pretty=true", "verb": "get", "userAgent": "kubectl/v1.37.2",
	}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("%s = %v, want %v", k, e[k], v)
		}
	}
	if got, _ := json.Marshal(e["user"]); string(got) != `{"extra":{"scopes":["a","b"]},"groups":["devs","system:authenticated"],"uid":"u-1","username":"alice"}` {
		t.Errorf("user %s", got)
	}
	if got, _ := json.Marshal(e["objectRef"]); string(got) != `{"apiVersion":"v1","name":"web","namespace":"default","resource":"pods"}` {
		t.Errorf("objectRef %s", got)
	}
	if got, _ := json.Marshal(e["sourceIPs"]); string(got) != `["10.0.0.1","10.0.0.2","192.0.2.7"]` {
		t.Errorf("sourceIPs %s", got)
	}
	if got, _ := json.Marshal(e["responseStatus"]); string(got) != `{"code":200,"metadata":{}}` {
		t.Errorf("responseStatus %s", got)
	}
	if get(e, "annotations", DecisionAnnotation) != "allow" || get(e, "annotations", ReasonAnnotation) != `RBAC: allowed by ClusterRoleBinding "admin"` {
		t.Errorf("annotations %v", e["annotations"])
	}
	if _, ok := e["impersonatedUser"]; ok {
		t.Errorf("unexpected impersonatedUser")
	}
	for _, k := range []string{"requestReceivedTimestamp", "stageTimestamp"} {
		s, _ := e[k].(string)
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || len(s) != len("2006-01-02T15:04:05.000000Z") || ts.Before(before) {
			t.Errorf("%s = %q (%v)", k, s, err)
		}
	}
	// RequestReceived: no response yet, stamped when received.
	if _, ok := evs[0]["responseStatus"]; ok || evs[0]["stageTimestamp"] != evs[0]["requestReceivedTimestamp"] || evs[0]["auditID"] != id {
		t.Errorf("RequestReceived event %v", evs[0])
	}
}

func TestMiddlewareForbidden(t *testing.T) {
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods", nil)
	req.Header.Set("Authorization", "Bearer bob")
	req.Header.Set(HeaderAuditID, "client-chosen-id")
	evs, rec := do(t, nil, ok, req)
	if rec.Code != 403 || rec.Header().Get("Audit-Id") != "client-chosen-id" {
		t.Fatalf("response %d, Audit-Id %q", rec.Code, rec.Header().Get("Audit-Id"))
	}
	e := evs[len(evs)-1]
	if e["stage"] != "ResponseComplete" || e["verb"] != "list" || get(e, "user", "username") != "bob" || e["auditID"] != "client-chosen-id" {
		t.Fatalf("event %v", e)
	}
	if get(e, "responseStatus", "code") != 403.0 || get(e, "responseStatus", "reason") != "Forbidden" || get(e, "responseStatus", "status") != "Failure" ||
		!strings.Contains(get(e, "responseStatus", "message").(string), `User "bob" cannot list`) || get(e, "responseStatus", "details", "kind") != "pods" {
		t.Errorf("responseStatus %v", e["responseStatus"])
	}
	if get(e, "annotations", DecisionAnnotation) != "forbid" || get(e, "annotations", ReasonAnnotation) != "no RBAC policy matched" {
		t.Errorf("annotations %v", e["annotations"])
	}
}

func TestMiddlewareUnauthenticated(t *testing.T) {
	req := httptest.NewRequest("POST", "/api/v1/namespaces/default/pods", strings.NewReader("{}"))
	evs, _ := do(t, nil, ok, req)
	if got := stages(evs); got != "ResponseComplete" {
		t.Fatalf("stages %s", got)
	}
	e := evs[0]
	if u, _ := json.Marshal(e["user"]); string(u) != "{}" {
		t.Errorf("user %s", u)
	}
	if e["verb"] != "create" || get(e, "objectRef", "resource") != "pods" || get(e, "responseStatus", "code") != 401.0 || get(e, "responseStatus", "reason") != "Unauthorized" {
		t.Errorf("event %v", e)
	}
}

func TestMiddlewareReducedLevel(t *testing.T) {
	p, err := ParsePolicy([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: RequestResponse\n  resources: [{resources: [pods]}]\n- level: Request\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods/web", nil)
	req.Header.Set("Authorization", "Bearer alice")
	req.Header.Set("Impersonate-User", "carol")
	evs, _ := do(t, p, ok, req)
	if len(evs) != 1 {
		t.Fatalf("%d events, want only ResponseComplete", len(evs))
	}
	e := evs[0]
	if e["level"] != "Metadata" || get(e, "annotations", LevelReducedAnnotation) != "RequestResponse" {
		t.Errorf("level %v, annotations %v", e["level"], e["annotations"])
	}
	if _, ok := e["requestObject"]; ok {
		t.Error("request body logged")
	}
	if get(e, "impersonatedUser", "username") != "carol" || get(e, "user", "username") != "alice" {
		t.Errorf("users %v / %v", e["user"], e["impersonatedUser"])
	}

	req = httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("Authorization", "Bearer alice")
	evs, _ = do(t, p, ok, req)
	if len(evs) != 1 || get(evs[0], "annotations", LevelReducedAnnotation) != "Request" || evs[0]["objectRef"] != nil || evs[0]["verb"] != "get" {
		t.Fatalf("non-resource event %v", evs)
	}
}

func TestMiddlewareNone(t *testing.T) {
	p, err := ParsePolicy([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [alice]\n- level: Metadata\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods/web", nil)
	req.Header.Set("Authorization", "Bearer alice")
	if evs, rec := do(t, p, ok, req); len(evs) != 0 || rec.Header().Get("Audit-Id") == "" {
		t.Fatalf("events %v, Audit-Id %q", evs, rec.Header().Get("Audit-Id"))
	}
}

func TestMiddlewareWatch(t *testing.T) {
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods?watch=true", nil)
	req.Header.Set("Authorization", "Bearer alice")
	evs, _ := do(t, nil, func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		AddAnnotation(r.Context(), "late", "yes") // after ResponseStarted
		_, _ = w.Write([]byte(`{"type":"ADDED"}`))
	}, req)
	if got := stages(evs); got != "RequestReceived,ResponseStarted,ResponseComplete" {
		t.Fatalf("stages %s", got)
	}
	if evs[1]["verb"] != "watch" || get(evs[1], "responseStatus", "code") != 200.0 || get(evs[1], "annotations", "late") != nil {
		t.Errorf("ResponseStarted %v", evs[1])
	}
	if get(evs[2], "annotations", "late") != "yes" {
		t.Errorf("ResponseComplete %v", evs[2])
	}
}

func TestMiddlewareWatchWithoutResponse(t *testing.T) {
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods?watch=true", nil)
	req.Header.Set("Authorization", "Bearer alice")
	evs, _ := do(t, nil, func(http.ResponseWriter, *http.Request) {}, req)
	if got := stages(evs); got != "RequestReceived,ResponseStarted,ResponseComplete" {
		t.Fatalf("stages %s", got)
	}
}

func TestMiddlewarePanic(t *testing.T) {
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods/web", nil)
	req.Header.Set("Authorization", "Bearer alice")
	var out syncBuffer
	l, err := NewLogger(LoggerConfig{Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	h := server(l, func(http.ResponseWriter, *http.Request) { panic("boom") })
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	_ = l.Close()
	evs := decodeLines(t, out.String())
	if got := stages(evs); got != "RequestReceived,Panic" {
		t.Fatalf("stages %s", got)
	}
	if get(evs[1], "responseStatus", "code") != 500.0 || !strings.Contains(get(evs[1], "responseStatus", "message").(string), "boom") {
		t.Errorf("panic event %v", evs[1])
	}
}

func TestSetAttributesAndHelpersOutsideMiddleware(t *testing.T) {
	ctx := httptest.NewRequest("GET", "/", nil).Context()
	// None of these may panic without the middleware.
	SetUser(ctx, alice)
	SetAttributes(ctx, authz.Attributes{})
	SetImpersonatedUser(ctx, alice)
	AddAnnotation(ctx, "k", "v")
	SetResponseStatus(ctx, &metav1.Status{})
	if AuditID(ctx) != "" {
		t.Fatal("audit ID outside middleware")
	}

	var out syncBuffer
	l, _ := NewLogger(LoggerConfig{Out: &out})
	var seenID string
	h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenID = AuditID(r.Context())
		SetAttributes(r.Context(), authz.Attributes{User: alice, Verb: "delete", ResourceRequest: true, APIGroup: "apps", APIVersion: "v1", Resource: "deployments", Namespace: "ns", Name: "d"})
		SetUser(r.Context(), authn.User{Name: "ignored"})
		AddAnnotation(r.Context(), "k", "first")
		AddAnnotation(r.Context(), "k", "second")
		SetResponseStatus(r.Context(), &metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReasonConflict, Message: "conflict", Code: 409})
		w.WriteHeader(409)
	}), nil)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("DELETE", "/apis/apps/v1/namespaces/ns/deployments/d", nil))
	_ = l.Close()
	evs := decodeLines(t, out.String())
	e := evs[len(evs)-1]
	if e["auditID"] != seenID || e["verb"] != "delete" || get(e, "user", "username") != "alice" || get(e, "objectRef", "apiGroup") != "apps" ||
		get(e, "annotations", "k") != "first" || get(e, "responseStatus", "reason") != "Conflict" || get(e, "responseStatus", "code") != 409.0 {
		t.Errorf("event %v", e)
	}
}

func TestLoggerFileRotationAndFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "audit.log")
	l, err := NewLogger(LoggerConfig{Path: path, MaxSizeMB: 1, MaxBackups: 2, MaxAgeDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file not created 0600: %v %v", fi, err)
	}
	ev := &Event{AuditID: "x", Stage: StageResponseComplete, Level: LevelMetadata, Annotations: map[string]string{"pad": strings.Repeat("p", 1000)}}
	if err := l.Log(ev); err != nil {
		t.Fatal(err)
	}
	// The periodic flush makes the event visible without Flush or Close.
	deadline := time.Now().Add(3 * FlushInterval)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(`"auditID":"x"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("event not flushed within the flush interval")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 3000 { // ~3 MB: at least two rotations.
		if err := l.Log(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Log(ev); err != ErrClosed {
		t.Fatalf("Log after Close: %v", err)
	}
	// lumberjack removes surplus backups in a goroutine of its own after each rotation, so
	// the count settles shortly after Close.
	var files []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		files, _ = filepath.Glob(filepath.Join(filepath.Dir(path), "audit-*.log"))
		if len(files) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(files) != 2 {
		t.Fatalf("%d backups, want 2 (MaxBackups)", len(files))
	}
}

func TestNewLoggerErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  LoggerConfig
		want string
	}{
		{LoggerConfig{}, "--audit-log-path"},
		{LoggerConfig{Path: "x", MaxSizeMB: -1}, "must not be negative"},
		{LoggerConfig{Path: "/proc/nonexistent/audit.log"}, "choose a writable"},
	} {
		if _, err := NewLogger(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestSourceIPsAndUserAgent(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[::ffff:10.1.1.1]:443"
	r.Header.Set("X-Real-Ip", "10.9.9.9")
	if got := strings.Join(sourceIPs(r), ","); got != "10.9.9.9,10.1.1.1" {
		t.Errorf("sourceIPs %s", got)
	}
	r.Header.Set("X-Forwarded-For", "10.9.9.9, 10.1.1.1")
	if got := strings.Join(sourceIPs(r), ","); got != "10.9.9.9,10.1.1.1" {
		t.Errorf("sourceIPs with duplicates %s", got)
	}
	if ua := truncateUserAgent(strings.Repeat("a", 2000)); len(ua) != maxUserAgent+len(userAgentTruncSfx) {
		t.Errorf("user agent not truncated: %d", len(ua))
	}
}

// BenchmarkRecord measures what auditing adds to one request: the middleware, SetUser,
// the authorization annotations and encoding and buffering the events.
func BenchmarkRecord(b *testing.B) {
	for _, bc := range []struct{ name, policy string }{
		{"Metadata-2events", "rules:\n- level: Metadata\n"},
		{"Metadata-1event", "omitStages: [RequestReceived]\nrules:\n- level: Metadata\n"},
		{"None", "rules:\n- level: None\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := ParsePolicy([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\n" + bc.policy))
			if err != nil {
				b.Fatal(err)
			}
			l, err := NewLogger(LoggerConfig{Out: discard{}, Policy: p})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				SetUser(r.Context(), alice)
				AnnotateAuthorization(r.Context(), true, `RBAC: allowed by ClusterRoleBinding "admin"`)
				w.WriteHeader(200)
			}), testAttrs)
			req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods/web", nil)
			req.Header.Set("User-Agent", "kubectl/v1.37.2 (linux/amd64) kubernetes/abcdef")
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}
