package apiserver_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
)

// kubectlBinaries finds the real kubectl releases next to the kubectl on PATH
// (kubectl.1.27 ... kubectl.1.33), the compatibility oracle.
func kubectlBinaries(t *testing.T, versions ...string) map[string]string {
	t.Helper()
	k, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kubectl not on PATH")
		}
		t.Skip("kubectl not on PATH; the kubectl compatibility tests need kubectl.1.27 and kubectl.1.33")
	}
	real, _ := filepath.EvalSymlinks(k)
	out := map[string]string{}
	for _, v := range versions {
		p := filepath.Join(filepath.Dir(real), "kubectl."+v)
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing", p)
			}
			t.Skipf("%s missing", p)
		}
		out[v] = p
	}
	return out
}

type kubectl struct {
	t    *testing.T
	bin  string
	kc   string
	home string
	env  []string
}

func (k kubectl) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(k.bin, append([]string{"--kubeconfig", k.kc}, args...)...)
	cmd.Env = append(append(os.Environ(), "HOME="+k.home), k.env...)
	return cmd
}

// run runs kubectl and fails the test unless it succeeds.
func (k kubectl) run(args ...string) string {
	k.t.Helper()
	out, err := k.cmd(args...).CombinedOutput()
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fails runs kubectl expecting it to fail and returns its output.
func (k kubectl) fails(args ...string) string {
	k.t.Helper()
	out, err := k.cmd(args...).CombinedOutput()
	if err == nil {
		k.t.Fatalf("kubectl %s succeeded, want failure:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}

func expect(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, got)
		}
	}
}

func expectLine(t *testing.T, what, got, pattern string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)` + pattern).MatchString(got) {
		t.Errorf("%s: no line matches %q:\n%s", what, pattern, got)
	}
}

func TestKubectl(t *testing.T) {
	bins := kubectlBinaries(t, "1.27", "1.33")
	s := apiservertest.Start(t, apiserver.APIOptions{})
	kc := s.Kubeconfig(t, t.TempDir())
	for _, v := range []string{"1.27", "1.33"} {
		t.Run(v, func(t *testing.T) {
			k := kubectl{t: t, bin: bins[v], kc: kc, home: t.TempDir()}
			ns := "k" + strings.ReplaceAll(v, ".", "")
			expect(t, "create namespace", k.run("create", "namespace", ns), "namespace/"+ns+" created")
			out := k.run("get", "namespaces")
			expectLine(t, "get namespaces", out, `^NAME\s+STATUS\s+AGE$`)
			expectLine(t, "get namespaces", out, `^`+ns+`\s+Active\s+\d+s$`)
			expectLine(t, "get namespaces", out, `^kube-system\s+Active\s+`)

			n := []string{"-n", ns}
			expect(t, "create configmap", k.run(append(n, "create", "configmap", "cfg", "--from-literal=a=1")...), "configmap/cfg created")
			expectLine(t, "get configmaps", k.run(append(n, "get", "configmaps")...), `^cfg\s+1\s+\d+s$`)
			expect(t, "get -o yaml", k.run(append(n, "get", "configmap", "cfg", "-o", "yaml")...), "kind: ConfigMap", `a: "1"`, "namespace: "+ns, "resourceVersion:", "uid:")
			var obj struct {
				Data map[string]string `json:"data"`
			}
			if err := json.Unmarshal([]byte(k.run(append(n, "get", "configmap", "cfg", "-o", "json")...)), &obj); err != nil || obj.Data["a"] != "1" {
				t.Errorf("get -o json: %v %v", err, obj)
			}
			if got := k.run(append(n, "get", "configmap", "cfg", "-o", "jsonpath={.data.a}")...); got != "1" {
				t.Errorf("jsonpath: %q", got)
			}
			expect(t, "label", k.run(append(n, "label", "configmap", "cfg", "tier=web")...), "configmap/cfg labeled")
			if got := k.run(append(n, "get", "cm", "-l", "tier=web", "-o", "name")...); strings.TrimSpace(got) != "configmap/cfg" {
				t.Errorf("label selector: %q", got)
			}
			// kubectl 1.27 prints "annotate", later releases "annotated".
			expect(t, "annotate", k.run(append(n, "annotate", "configmap", "cfg", "note=hi")...), "configmap/cfg annotate")
			if got := k.run(append(n, "get", "cm", "cfg", "-o", "jsonpath={.metadata.annotations.note}")...); got != "hi" {
				t.Errorf("annotation: %q", got)
			}
			expect(t, "patch merge", k.run(append(n, "patch", "configmap", "cfg", "--type=merge", "-p", `{"data":{"b":"2"}}`)...), "configmap/cfg patched")
			expect(t, "patch json", k.run(append(n, "patch", "configmap", "cfg", "--type=json", "-p", `[{"op":"remove","path":"/data/a"}]`)...), "configmap/cfg patched")
			if got := k.run(append(n, "get", "cm", "cfg", "-o", "jsonpath={.data}")...); got != `{"b":"2"}` {
				t.Errorf("after patches: %s", got)
			}
			expect(t, "describe", k.run(append(n, "describe", "configmap", "cfg")...), "Name:", "cfg", "Namespace:", ns, "tier=web", "note: hi")

			expect(t, "create deployment", k.run(append(n, "create", "deployment", "web", "--image=nginx:1.25")...), "deployment.apps/web created")
			out = k.run(append(n, "get", "deployments", "-o", "wide")...)
			expectLine(t, "get -o wide", out, `^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$`)
			expectLine(t, "get -o wide", out, `^web\s+0/1\s+0\s+0\s+\d+s\s+nginx\s+nginx:1.25\s+app=web$`)
			expect(t, "scale", k.run(append(n, "scale", "deployment", "web", "--replicas=3")...), "deployment.apps/web scaled")
			if got := k.run(append(n, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}")...); got != "3" {
				t.Errorf("after scale: replicas %q", got)
			}
			expect(t, "scale with a stale precondition", k.fails(append(n, "scale", "deployment", "web", "--replicas=4", "--current-replicas=1")...), "Expected replicas to be 1, was 3")
			expect(t, "patch strategic", k.run(append(n, "patch", "deployment", "web", "--type=strategic", "-p",
				`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}`)...), "deployment.apps/web patched")
			if got := k.run(append(n, "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name}")...); got != "sidecar nginx" { // kube-apiserver puts patch-added list items first
				t.Errorf("strategic merge patch: %q", got)
			}

			expect(t, "dry-run=server", k.run(append(n, "create", "configmap", "dry", "--from-literal=x=1", "--dry-run=server")...), "configmap/dry created (server dry run)")
			expect(t, "get after dry run", k.fails(append(n, "get", "configmap", "dry")...), `configmaps "dry" not found`)

			// get -w shows later changes.
			w := k.cmd(append(n, "get", "configmaps", "-w")...)
			stdout, _ := w.StdoutPipe()
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			waitFor := func(pattern string) {
				t.Helper()
				re := regexp.MustCompile(pattern)
				deadline := time.After(10 * time.Second)
				for {
					select {
					case l, ok := <-lines:
						if !ok {
							t.Fatalf("get -w ended before a line matching %q", pattern)
						}
						if re.MatchString(l) {
							return
						}
					case <-deadline:
						t.Fatalf("get -w: no line matching %q in 10s", pattern)
					}
				}
			}
			waitFor(`^cfg\s+1\s+`)
			k.run(append(n, "create", "configmap", "later", "--from-literal=x=1", "--from-literal=y=2")...)
			waitFor(`^later\s+2\s+`)
			w.Process.Kill()
			w.Wait()

			// Foreground deletion leaves the object with a deletionTimestamp until its
			// finalizers clear.
			expect(t, "delete --cascade=foreground", k.run(append(n, "delete", "deployment", "web", "--cascade=foreground", "--wait=false")...), `deployment.apps "web" deleted`)
			got := k.run(append(n, "get", "deployment", "web", "-o", "jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}")...)
			if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\S+ \["foregroundDeletion"\]$`).MatchString(got) {
				t.Errorf("foreground deletion: %q", got)
			}
			expect(t, "delete", k.run(append(n, "delete", "configmap", "cfg")...), `configmap "cfg" deleted`)

			out = k.run("api-resources")
			expectLine(t, "api-resources", out, `^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$`)
			expectLine(t, "api-resources", out, `^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$`)
			expectLine(t, "api-resources", out, `^pods\s+po\s+v1\s+true\s+Pod$`)
			expectLine(t, "api-resources", out, `^clusterroles\s+rbac.authorization.k8s.io/v1\s+false\s+ClusterRole$`)
			out = k.run("api-versions")
			for _, gv := range []string{"v1", "apps/v1", "batch/v1", "coordination.k8s.io/v1", "rbac.authorization.k8s.io/v1"} {
				expectLine(t, "api-versions", out, `^`+regexp.QuoteMeta(gv)+`$`)
			}
			expect(t, "delete namespace", k.run("delete", "namespace", ns), `namespace "`+ns+`" deleted`)
			expect(t, "namespace gone", k.fails("get", "namespace", ns), `namespaces "`+ns+`" not found`)
		})
	}
}

func TestKubectlOpenAPI(t *testing.T) {
	bins := kubectlBinaries(t, "1.27", "1.33")
	s := apiservertest.Start(t, apiserver.APIOptions{})
	kc := s.Kubeconfig(t, t.TempDir())
	for _, v := range []string{"1.27", "1.33"} {
		t.Run(v, func(t *testing.T) {
			k := kubectl{t: t, bin: bins[v], kc: kc, home: t.TempDir()}
			expect(t, "explain", k.run("explain", "deployment.spec.replicas"), "KIND:", "Deployment", "VERSION:", "v1", "FIELD: replicas <integer>", "Number of desired pods")
			dir := t.TempDir()
			manifest := filepath.Join(dir, "app.yaml")
			ns := "o" + strings.ReplaceAll(v, ".", "")
			os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Namespace
metadata:
  name: `+ns+`
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: `+ns+`
data:
  mode: fast
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: `+ns+`
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: `+ns+`
spec:
  selector: {app: web}
  ports:
  - port: 80
`), 0o644)
			expect(t, "apply", k.run("apply", "-f", manifest), "namespace/"+ns+" created", "configmap/settings created", "deployment.apps/web created", "service/web created")
			expect(t, "apply again", k.run("apply", "-f", manifest), "namespace/"+ns+" unchanged", "configmap/settings unchanged", "deployment.apps/web unchanged", "service/web unchanged")
			b, _ := os.ReadFile(manifest)
			os.WriteFile(manifest, []byte(strings.Replace(string(b), "replicas: 2", "replicas: 4", 1)), 0o644)
			expect(t, "apply a change", k.run("apply", "-f", manifest), "deployment.apps/web configured", "configmap/settings unchanged")
			if got := k.run("-n", ns, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.metadata.generation}"); got != "4 2" {
				t.Errorf("after apply: replicas and generation %q, want \"4 2\"", got)
			}
			// Unknown fields are refused by the server (kubectl asks for strict validation).
			bad := filepath.Join(dir, "bad.yaml")
			os.WriteFile(bad, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: "+ns+"\ndatta:\n  a: b\n"), 0o644)
			expect(t, "apply with an unknown field", k.fails("apply", "-f", bad), "datta")
			editor := filepath.Join(t.TempDir(), "editor.sh")
			os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/mode: fast/mode: slow/' \"$1\"\n"), 0o755)
			ke := k
			ke.env = []string{"EDITOR=" + editor, "KUBE_EDITOR=" + editor}
			expect(t, "edit", ke.run("-n", ns, "edit", "configmap", "settings"), "configmap/settings edited")

			// Server-side apply: create, re-apply unchanged, conflicts with another manager.
			ssa := filepath.Join(dir, "ssa.yaml")
			os.WriteFile(ssa, []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: "+ns+"\nspec:\n  replicas: 2\n"+
				"  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n      - name: api\n        image: busybox:1.36\n"), 0o644)
			expect(t, "apply --server-side", k.run("apply", "--server-side", "-f", ssa), "deployment.apps/api serverside-applied")
			expect(t, "apply --server-side again", k.run("apply", "--server-side", "-f", ssa), "deployment.apps/api serverside-applied")
			expect(t, "managed fields", k.run("-n", ns, "get", "deploy", "api", "-o", "yaml", "--show-managed-fields"),
				"managedFields:", "manager: kubectl", "operation: Apply", "f:replicas: {}")
			k.run("-n", ns, "patch", "deploy", "api", "--type=merge", "-p", `{"spec":{"replicas":5}}`)
			expect(t, "apply conflict", k.fails("apply", "--server-side", "-f", ssa), "conflict", ".spec.replicas")
			expect(t, "apply --force-conflicts", k.run("apply", "--server-side", "--force-conflicts", "-f", ssa), "deployment.apps/api serverside-applied")
			if got := k.run("-n", ns, "get", "deploy", "api", "-o", "jsonpath={.spec.replicas}"); got != "2" {
				t.Errorf("after forced apply: replicas %q", got)
			}
			if got := k.run("-n", ns, "get", "cm", "settings", "-o", "jsonpath={.data.mode}"); got != "slow" {
				t.Errorf("after edit: mode %q, want slow", got)
			}
		})
	}
}

func TestKubectlGetEveryResource(t *testing.T) {
	bins := kubectlBinaries(t, "1.33")
	s := apiservertest.Start(t, apiserver.APIOptions{})
	k := kubectl{t: t, bin: bins["1.33"], kc: s.Kubeconfig(t, t.TempDir()), home: t.TempDir()}
	k.run("create", "deployment", "web", "--image=nginx:1.25")
	k.run("create", "job", "once", "--image=busybox:1.36")
	k.run("create", "serviceaccount", "robot")
	k.run("create", "role", "reader", "--verb=get", "--resource=pods")
	k.run("create", "rolebinding", "read", "--role=reader", "--serviceaccount=default:robot")
	k.run("create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1")
	for _, tc := range []struct{ resource, header, row string }{
		{"jobs", `^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE$`, `^once\s+Running\s+0/1\s+`},
		{"serviceaccounts", `^NAME\s+SECRETS\s+AGE$`, `^robot\s+0\s+`},
		{"rolebindings", `^NAME\s+ROLE\s+AGE$`, `^read\s+Role/reader\s+`},
		{"roles", `^NAME\s+CREATED AT$`, `^reader\s+\d{4}-`},
		{"poddisruptionbudgets", `^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE$`, `^web\s+1\s+N/A\s+0\s+`},
		{"endpointslices", `^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$`, `^kubernetes\s+IPv4\s+\d+\s+127.0.0.1\s+`},
		{"endpoints", `^NAME\s+ENDPOINTS\s+AGE$`, `^kubernetes\s+127.0.0.1:\d+\s+`},
		{"services", `^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$`, `^kubernetes\s+ClusterIP\s+10.96.0.1\s+<none>\s+443/TCP\s+`},
	} {
		out := k.run("get", tc.resource)
		expectLine(t, "get "+tc.resource, out, tc.header)
		expectLine(t, "get "+tc.resource, out, tc.row)
	}
	for _, r := range []string{"replicasets", "daemonsets", "statefulsets", "events", "leases", "csr", "clusterroles", "clusterrolebindings", "limitranges", "resourcequotas", "nodes", "secrets"} {
		k.run("get", r, "-A")
	}
}
