package apiserver_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
)

// fakeKubelet stands in for a node's kubelet: it serves /containerLogs and /exec as the
// kubelet does (exec over SPDY, protocol v4.channel.k8s.io) and records who called.
type fakeKubelet struct {
	srv *httptest.Server

	mu        sync.Mutex
	callers   []string // client certificate CNs
	forwarded []string // credentials that should never have reached the kubelet
}

func startFakeKubelet(t *testing.T, s *apiservertest.Server) *fakeKubelet {
	t.Helper()
	k := &fakeKubelet{}
	mux := http.NewServeMux()
	mux.HandleFunc("/containerLogs/", k.logs)
	mux.HandleFunc("/exec/", k.exec)
	k.srv = httptest.NewUnstartedServer(k.record(mux))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM)
	k.srv.TLS = &tls.Config{Certificates: []tls.Certificate{s.ServingCert(t, "n1", net.IPv4(127, 0, 0, 1))},
		ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	k.srv.StartTLS()
	t.Cleanup(k.srv.Close)
	return k
}

func (k *fakeKubelet) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.callers = append(k.callers, r.TLS.PeerCertificates[0].Subject.CommonName)
		for name := range r.Header {
			if l := strings.ToLower(name); l == "authorization" || strings.HasPrefix(l, "impersonate-") {
				k.forwarded = append(k.forwarded, name)
			}
		}
		k.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (k *fakeKubelet) port() int32 { return int32(k.srv.Listener.Addr().(*net.TCPAddr).Port) }

// logs writes five lines (the last tailLines of them), then, when following, a line every
// 20ms until the caller goes away.
func (k *fakeKubelet) logs(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	q := r.URL.Query()
	if parts[1] == "crashing" && q.Get("previous") == "true" {
		http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", parts[2], parts[1]), http.StatusBadRequest)
		return
	}
	var lines []string
	for i := 1; i <= 5; i++ {
		lines = append(lines, fmt.Sprintf("%s line %d", strings.Join(parts, "/"), i))
	}
	if n, err := strconv.Atoi(q.Get("tailLines")); err == nil && n < len(lines) {
		lines = lines[len(lines)-n:]
	}
	w.Header().Set("Content-Type", "text/plain")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	if q.Get("follow") != "true" {
		return
	}
	for i := 1; ; i++ {
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(20 * time.Millisecond):
			fmt.Fprintf(w, "followed line %d\n", i)
		}
	}
}

// exec runs a pretend command: "cat" copies stdin to stdout, "false" fails with exit code 1,
// anything else prints what it was asked to run. WebSocket upgrades are refused, as a kubelet
// that only speaks SPDY does, so newer kubectl falls back to SPDY.
func (k *fakeKubelet) exec(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "websocket upgrade not supported", http.StatusBadRequest)
		return
	}
	target := strings.TrimPrefix(r.URL.Path, "/exec/")
	q := r.URL.Query()
	if _, err := httpstream.Handshake(r, w, []string{"v4.channel.k8s.io"}); err != nil {
		return
	}
	streams := make(chan httpstream.Stream, 8)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, _ <-chan struct{}) error {
		streams <- s
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	want := 1 // the error stream
	for _, p := range []string{"input", "output", "error", "tty"} {
		if q.Get(p) == "1" {
			want++
		}
	}
	byType := map[string]httpstream.Stream{}
	for len(byType) < want {
		select {
		case s := <-streams:
			byType[s.Headers().Get("streamType")] = s
		case <-time.After(5 * time.Second):
			return
		}
	}
	cmd := q["command"]
	out := byType["stdout"]
	status := metav1.Status{Status: metav1.StatusSuccess}
	switch {
	case cmd[0] == "cat" && byType["stdin"] != nil:
		io.Copy(out, byType["stdin"])
	case cmd[0] == "false":
		status = metav1.Status{Status: metav1.StatusFailure, Reason: "NonZeroExitCode", Message: "command terminated with non-zero exit code",
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: "ExitCode", Message: "1"}}}}
	default:
		fmt.Fprintf(out, "ran %q in %s\n", cmd, target)
	}
	if out != nil {
		out.Close()
	}
	b, _ := json.Marshal(status)
	byType["error"].Write(b)
	byType["error"].Close()
	time.Sleep(50 * time.Millisecond) // let the client read before the connection closes
}

// TestPodLogsAndExec relays pod logs and exec through the apiserver to the pod's kubelet, with
// client-go and the real kubectl, and checks kube-apiserver's answers to bad requests.
func TestPodLogsAndExec(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	kubelet := startFakeKubelet(t, s)
	admin := s.Clientset(t)
	ctx := context.Background()

	mustCreate(t, "node")(admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{}))
	node, _ := admin.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = kubelet.port()
	if _, err := admin.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := func(name, node string, containers ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
		}
		return p
	}
	for _, p := range []*corev1.Pod{pod("web", "n1", "c"), pod("multi", "n1", "a", "b"), pod("pending", "", "c"), pod("crashing", "n1", "c")} {
		mustCreate(t, p.Name)(admin.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}))
	}

	// Stream, as kubectl logs uses: it decodes the server's Status on failure (DoRaw does not).
	logs := func(cs kubernetes.Interface, name string, o corev1.PodLogOptions) (string, error) {
		rc, err := cs.CoreV1().Pods("default").GetLogs(name, &o).Stream(ctx)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	got, err := logs(admin, "web", corev1.PodLogOptions{})
	if err != nil || got != "default/web/c line 1\ndefault/web/c line 2\ndefault/web/c line 3\ndefault/web/c line 4\ndefault/web/c line 5\n" {
		t.Errorf("logs web: %q, %v", got, err)
	}
	tail := int64(2)
	if got, err := logs(admin, "multi", corev1.PodLogOptions{Container: "b", TailLines: &tail}); err != nil || got != "default/multi/b line 4\ndefault/multi/b line 5\n" {
		t.Errorf("logs multi -c b --tail 2: %q, %v", got, err)
	}
	_, err = logs(admin, "multi", corev1.PodLogOptions{})
	wantStatus(t, "logs without a container", err, http.StatusBadRequest, "a container name must be specified for pod multi, choose one of: [a b]")
	_, err = logs(admin, "web", corev1.PodLogOptions{Container: "zzz"})
	wantStatus(t, "logs of a missing container", err, http.StatusBadRequest, "container zzz is not valid for pod web")
	_, err = logs(admin, "pending", corev1.PodLogOptions{})
	wantStatus(t, "logs of an unscheduled pod", err, http.StatusBadRequest, "pod pending does not have a host assigned")
	_, err = logs(admin, "nosuch", corev1.PodLogOptions{})
	wantStatus(t, "logs of a missing pod", err, http.StatusNotFound, `pods "nosuch" not found`)
	_, err = logs(admin, "crashing", corev1.PodLogOptions{Previous: true})
	wantStatus(t, "the kubelet's own error", err, http.StatusBadRequest, `previous terminated container "c" in pod "crashing" not found`)

	// Following outlives the request timeout and stops when the client goes away.
	fctx, cancel := context.WithCancel(ctx)
	stream, err := admin.CoreV1().Pods("default").GetLogs("web", &corev1.PodLogOptions{Follow: true}).Stream(fctx)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stream)
	var followed []string
	for sc.Scan() && len(followed) < 8 {
		followed = append(followed, sc.Text())
	}
	cancel()
	stream.Close()
	if len(followed) != 8 || followed[5] != "followed line 1" || followed[7] != "followed line 3" {
		t.Errorf("followed log: %q", followed)
	}

	// RBAC: view may read logs but not exec; edit may exec.
	for _, b := range []struct{ user, role string }{{"viewer", "view"}, {"editor", "edit"}} {
		mustCreate(t, b.user)(admin.RbacV1().RoleBindings("default").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: b.user},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: b.user}},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.role}}, metav1.CreateOptions{}))
	}
	viewerCfg := s.UserConfig(t, "viewer")
	eventually(t, "viewer reads logs", func() error {
		_, err := logs(apiservertest.ClientsetFor(t, viewerCfg), "web", corev1.PodLogOptions{})
		return err
	})

	bins := kubectlBinaries(t, "1.27", "1.33")
	dir := t.TempDir()
	adminKC := s.KubeconfigFor(t, dir, "admin", s.Config)
	viewerKC := s.KubeconfigFor(t, dir, "viewer", viewerCfg)
	editorKC := s.KubeconfigFor(t, dir, "editor", s.UserConfig(t, "editor"))
	for _, v := range []string{"1.27", "1.33"} {
		t.Run("kubectl"+v, func(t *testing.T) {
			k := kubectl{t: t, bin: bins[v], kc: adminKC, home: t.TempDir()}
			expect(t, "logs", k.run("logs", "web"), "default/web/c line 1\ndefault/web/c line 2\ndefault/web/c line 3\ndefault/web/c line 4\ndefault/web/c line 5\n")
			if out := k.run("logs", "web", "--tail=1"); out != "default/web/c line 5\n" {
				t.Errorf("logs --tail=1: %q", out)
			}
			// kubectl picks the first container itself and says so.
			expect(t, "logs of a two-container pod", k.run("logs", "multi"), `Defaulted container "a" out of: a, b`, "default/multi/a line 1")
			expect(t, "logs -c", k.run("logs", "multi", "-c", "b"), "default/multi/b line 3")
			expect(t, "logs of an unscheduled pod", k.fails("logs", "pending"), "pod pending does not have a host assigned")

			if out := k.run("exec", "web", "--", "echo", "hi"); out != `ran ["echo" "hi"] in default/web/c`+"\n" {
				t.Errorf("exec echo: %q", out)
			}
			cat := k.cmd("exec", "-i", "multi", "-c", "b", "--", "cat")
			cat.Stdin = strings.NewReader("through stdin\n")
			if out, err := cat.CombinedOutput(); err != nil || string(out) != "through stdin\n" {
				t.Errorf("exec -i cat: %q, %v", out, err)
			}
			fail := k.cmd("exec", "web", "--", "false")
			out, err := fail.CombinedOutput()
			var exitErr *exec.ExitError
			if !asExitError(err, &exitErr) || exitErr.ExitCode() != 1 || !strings.Contains(string(out), "command terminated with exit code 1") {
				t.Errorf("exec false: %q, %v; want exit code 1 and kubectl's message", out, err)
			}

			kv := kubectl{t: t, bin: bins[v], kc: viewerKC, home: t.TempDir()}
			expect(t, "viewer reads logs", kv.run("logs", "web", "--tail=1"), "default/web/c line 5")
			expect(t, "viewer execs", kv.fails("exec", "web", "--", "true"),
				`pods "web" is forbidden: User "viewer" cannot create resource "pods/exec" in API group "" in the namespace "default"`)
			ke := kubectl{t: t, bin: bins[v], kc: editorKC, home: t.TempDir()}
			expect(t, "editor execs", ke.run("exec", "web", "--", "id"), `ran ["id"] in default/web/c`)
		})
	}

	kubelet.mu.Lock()
	defer kubelet.mu.Unlock()
	if len(kubelet.callers) == 0 {
		t.Fatal("the kubelet was never called")
	}
	for _, cn := range kubelet.callers {
		if cn != "kube-apiserver-kubelet-client" {
			t.Errorf("the kubelet was called as %q, want the apiserver's kubelet client certificate", cn)
		}
	}
	if len(kubelet.forwarded) > 0 {
		t.Errorf("user credentials reached the kubelet: %v", kubelet.forwarded)
	}
}

func asExitError(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}
