package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// docsPolicy is the example policy of the Kubernetes "Auditing" documentation page.
const docsPolicy = `
apiVersion: audit.k8s.io/v1 # This is required.
kind: Policy
omitStages:
  - "RequestReceived"
rules:
  - level: RequestResponse
    resources:
    - group: ""
      resources: ["pods"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: ""
      resources: ["endpoints", "services"]
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*"
    - "/version"
  - level: Request
    resources:
    - group: ""
      resources: ["configmaps"]
    namespaces: ["kube-system"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["secrets", "configmaps"]
  - level: Request
    resources:
    - group: ""
    - group: "extensions"
  - level: Metadata
    omitStages:
      - "RequestReceived"
`

func TestParsePolicyDocsExample(t *testing.T) {
	p, err := ParsePolicy([]byte(docsPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 9 || p.Rules[2].Resources[0].ResourceNames[0] != "controller-leader" || p.OmitStages[0] != StageRequestReceived {
		t.Fatalf("decoded wrongly: %+v", p)
	}
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
}

func TestParsePolicyGood(t *testing.T) {
	for name, src := range map[string]string{
		"json":      `{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"Metadata"}]}`,
		"unknown":   "apiVersion: audit.k8s.io/v1\nkind: Policy\nfutureField: 1\nrules:\n- level: None\n  futureRuleField: x\n",
		"metadata":  "apiVersion: audit.k8s.io/v1\nkind: Policy\nmetadata:\n  name: p\nomitManagedFields: true\nrules:\n- level: Metadata\n  omitManagedFields: false\n",
		"wildcards": "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  resources:\n  - group: apps\n    resources: ['*', '*/status', 'deployments/*', 'deployments/scale']\n- level: None\n  nonResourceURLs: ['*', '/healthz*', '/livez']\n",
	} {
		if _, err := ParsePolicy([]byte(src)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParsePolicyBad(t *testing.T) {
	const head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n"
	for _, tc := range []struct{ name, src, want string }{
		{"not yaml", "rules: [", "decoding audit policy"},
		{"wrong type", head + "rules: 3\n", "decoding audit policy"},
		{"no apiVersion", "kind: Policy\nrules:\n- level: None\n", "apiVersion: Required value"},
		{"old apiVersion", "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: None\n", `apiVersion: Unsupported value: "audit.k8s.io/v1beta1"`},
		{"no kind", "apiVersion: audit.k8s.io/v1\nrules:\n- level: None\n", "kind: Required value"},
		{"wrong kind", "apiVersion: audit.k8s.io/v1\nkind: Event\nrules:\n- level: None\n", `kind: Unsupported value: "Event"`},
		{"no rules", head, "rules: Required value"},
		{"no level", head + "rules:\n- verbs: [get]\n", "rules[0].level: Required value"},
		{"bad level", head + "rules:\n- level: Metadata\n- level: Verbose\n", `rules[1].level: Unsupported value: "Verbose"`},
		{"url slash", head + "rules:\n- level: None\n  nonResourceURLs: [healthz]\n", "rules[0].nonResourceURLs[0]: Invalid value: \"healthz\": non-resource URLs must begin with '/'"},
		{"url star", head + "rules:\n- level: None\n  nonResourceURLs: ['/a*/b']\n", "rules[0].nonResourceURLs[0]: Invalid value: \"/a*/b\": a '*' wildcard may only be the last"},
		{"url and resources", head + "rules:\n- level: None\n  nonResourceURLs: ['/x']\n  namespaces: [default]\n", "rules[0].nonResourceURLs: Invalid value"},
		{"group version", head + "rules:\n- level: None\n  resources:\n  - group: apps/v1\n", `rules[0].resources[0].group: Invalid value: "apps/v1"`},
		{"names without resources", head + "rules:\n- level: None\n  resources:\n  - resourceNames: [a]\n", "rules[0].resources[0].resourceNames: Invalid value"},
		{"rule stage", head + "rules:\n- level: None\n  omitStages: [Done]\n", `rules[0].omitStages[0]: Unsupported value: "Done"`},
		{"policy stage", head + "omitStages: [RequestReceived, Started]\nrules:\n- level: None\n", `omitStages[1]: Unsupported value: "Started"`},
	} {
		_, err := ParsePolicy([]byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	// All mistakes are reported at once.
	_, err := ParsePolicy([]byte("rules:\n- level: X\n- {}\n"))
	for _, want := range []string{"apiVersion", "kind", "rules[0].level", "rules[1].level"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestLoadPolicy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(docsPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPolicy(path); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPolicy(filepath.Join(dir, "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "--audit-policy-file") {
		t.Fatalf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("kind: Policy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadPolicy(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "apiVersion") {
		t.Fatalf("bad file: %v", err)
	}
}

func res(verb, group, resource, sub, ns, name string, u authn.User) authz.Attributes {
	return authz.Attributes{User: u, Verb: verb, ResourceRequest: true, APIGroup: group, APIVersion: "v1",
		Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

func nonRes(verb, path string, u authn.User) authz.Attributes {
	return authz.Attributes{User: u, Verb: verb, Path: path}
}

func TestLevelForDocsPolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(docsPolicy))
	if err != nil {
		t.Fatal(err)
	}
	alice := authn.User{Name: "alice", Groups: []string{authn.AllAuthenticated}}
	proxy := authn.User{Name: authn.KubeProxyUser, Groups: []string{authn.AllAuthenticated}}
	anon := authn.User{Name: authn.Anonymous, Groups: []string{authn.AllUnauthenticated}}
	for _, tc := range []struct {
		name  string
		attrs authz.Attributes
		want  Level
	}{
		{"pod create", res("create", "", "pods", "", "default", "", alice), LevelRequestResponse},
		{"pod get", res("get", "", "pods", "", "default", "web", alice), LevelRequestResponse},
		{"pods rule skips subresources: exec", res("create", "", "pods", "exec", "default", "web", alice), LevelRequest},
		{"pods/log", res("get", "", "pods", "log", "default", "web", alice), LevelMetadata},
		{"pods/status", res("update", "", "pods", "status", "default", "web", alice), LevelMetadata},
		{"controller-leader configmap", res("update", "", "configmaps", "", "kube-system", "controller-leader", alice), LevelNone},
		{"other configmap in kube-system", res("update", "", "configmaps", "", "kube-system", "other", alice), LevelRequest},
		{"configmap list in kube-system (no name)", res("list", "", "configmaps", "", "kube-system", "", alice), LevelRequest},
		{"configmap elsewhere", res("update", "", "configmaps", "", "default", "cfg", alice), LevelMetadata},
		{"secret", res("get", "", "secrets", "", "kube-system", "token", alice), LevelMetadata},
		{"kube-proxy watches services", res("watch", "", "services", "", "", "", proxy), LevelNone},
		{"kube-proxy watches endpoints", res("watch", "", "endpoints", "", "", "", proxy), LevelNone},
		{"kube-proxy lists services", res("list", "", "services", "", "", "", proxy), LevelRequest},
		{"alice watches services", res("watch", "", "services", "", "", "", alice), LevelRequest},
		{"authenticated /api", nonRes("get", "/api", alice), LevelNone},
		{"authenticated /apis/apps", nonRes("get", "/apis/apps", alice), LevelNone},
		{"authenticated /version", nonRes("get", "/version", alice), LevelNone},
		{"authenticated /versionz", nonRes("get", "/versionz", alice), LevelMetadata},
		{"authenticated /healthz", nonRes("get", "/healthz", alice), LevelMetadata},
		{"anonymous /api", nonRes("get", "/api", anon), LevelMetadata},
		{"unauthenticated (no user) /version", nonRes("get", "/version", authn.User{}), LevelMetadata},
		{"core nodes", res("get", "", "nodes", "", "", "n1", alice), LevelRequest},
		{"extensions ingresses", res("list", "extensions", "ingresses", "", "default", "", alice), LevelRequest},
		{"apps deployments", res("create", "apps", "deployments", "", "default", "", alice), LevelMetadata},
		{"rbac", res("delete", "rbac.authorization.k8s.io", "roles", "", "default", "r", alice), LevelMetadata},
	} {
		got, omit := p.LevelFor(tc.attrs)
		if got != tc.want {
			t.Errorf("%s: level %s, want %s", tc.name, got, tc.want)
		}
		if !hasStage(omit, StageRequestReceived) {
			t.Errorf("%s: omitStages %v lack the policy's RequestReceived", tc.name, omit)
		}
	}
}

func TestLevelForMatching(t *testing.T) {
	const head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n"
	alice := authn.User{Name: "alice", Groups: []string{"devs"}}
	for _, tc := range []struct {
		name  string
		rules string
		attrs authz.Attributes
		want  Level
	}{
		{"no rule matches", "- level: Metadata\n  users: [bob]\n", res("get", "", "pods", "", "a", "b", alice), LevelNone},
		{"star matches subresources", "- level: Metadata\n  resources: [{resources: ['*']}]\n", res("get", "", "pods", "log", "a", "b", alice), LevelMetadata},
		{"star is per group", "- level: Metadata\n  resources: [{resources: ['*']}]\n", res("get", "apps", "deployments", "", "a", "b", alice), LevelNone},
		{"*/status", "- level: Metadata\n  resources: [{group: apps, resources: ['*/status']}]\n", res("update", "apps", "deployments", "status", "a", "b", alice), LevelMetadata},
		{"*/status not the resource", "- level: Metadata\n  resources: [{group: apps, resources: ['*/status']}]\n", res("update", "apps", "deployments", "", "a", "b", alice), LevelNone},
		{"*/status not another subresource", "- level: Metadata\n  resources: [{group: apps, resources: ['*/status']}]\n", res("update", "apps", "deployments", "scale", "a", "b", alice), LevelNone},
		{"pods/* matches subresource", "- level: Metadata\n  resources: [{resources: ['pods/*']}]\n", res("create", "", "pods", "exec", "a", "b", alice), LevelMetadata},
		{"pods/* matches pods itself (as Kubernetes)", "- level: Metadata\n  resources: [{resources: ['pods/*']}]\n", res("get", "", "pods", "", "a", "b", alice), LevelMetadata},
		{"pods/log not pods", "- level: Metadata\n  resources: [{resources: ['pods/log']}]\n", res("get", "", "pods", "", "a", "b", alice), LevelNone},
		{"resourceNames on a list", "- level: Metadata\n  resources: [{resources: [pods], resourceNames: [b]}]\n", res("list", "", "pods", "", "a", "", alice), LevelNone},
		{"empty namespace is cluster scope", "- level: Metadata\n  namespaces: ['']\n", res("get", "", "nodes", "", "", "n", alice), LevelMetadata},
		{"namespaces exclude non-resource", "- level: Metadata\n  namespaces: ['']\n", nonRes("get", "/healthz", alice), LevelNone},
		{"nonResourceURLs exclude resources", "- level: Metadata\n  nonResourceURLs: ['*']\n", res("get", "", "pods", "", "a", "b", alice), LevelNone},
		{"url star", "- level: Metadata\n  nonResourceURLs: ['*']\n", nonRes("get", "/metrics", alice), LevelMetadata},
		{"url prefix", "- level: Metadata\n  nonResourceURLs: ['/healthz*']\n", nonRes("get", "/healthz/etcd", alice), LevelMetadata},
		{"url exact", "- level: Metadata\n  nonResourceURLs: ['/healthz']\n", nonRes("get", "/healthz/etcd", alice), LevelNone},
		{"group match", "- level: Metadata\n  userGroups: [ops, devs]\n", nonRes("get", "/x", alice), LevelMetadata},
		{"verb mismatch", "- level: Metadata\n  verbs: [create]\n", nonRes("get", "/x", alice), LevelNone},
		{"first match wins", "- level: None\n  users: [alice]\n- level: Metadata\n", nonRes("get", "/x", alice), LevelNone},
		{"catch-all matches everything", "- level: RequestResponse\n", res("watch", "", "pods", "", "", "", authn.User{}), LevelRequestResponse},
	} {
		p, err := ParsePolicy([]byte(head + "rules:\n" + tc.rules))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got, _ := p.LevelFor(tc.attrs); got != tc.want {
			t.Errorf("%s: level %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestLevelForOmitStages(t *testing.T) {
	p, err := ParsePolicy([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: None\n  users: [x]\n- level: Metadata\n  omitStages: [ResponseStarted, RequestReceived]\n"))
	if err != nil {
		t.Fatal(err)
	}
	lvl, omit := p.LevelFor(nonRes("get", "/", authn.User{Name: "y"}))
	if lvl != LevelMetadata || len(omit) != 2 || !hasStage(omit, StageRequestReceived) || !hasStage(omit, StageResponseStarted) {
		t.Fatalf("got %s %v", lvl, omit)
	}
	if lvl, omit := (*Policy)(nil).LevelFor(authz.Attributes{}); lvl != LevelNone || omit != nil {
		t.Fatalf("nil policy: %s %v", lvl, omit)
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(docsPolicy))
	f.Add([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"))
	f.Add([]byte(`{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"None","nonResourceURLs":["*"]}]}`))
	f.Add([]byte("rules: [{level: X, resources: [{group: a/b, resourceNames: [x]}]}]"))
	attrs := []authz.Attributes{
		res("get", "", "pods", "log", "default", "p", authn.User{Name: "a", Groups: []string{"g"}}),
		res("list", "apps", "deployments", "", "", "", authn.User{}),
		nonRes("get", "/healthz", authn.User{Name: "b"}),
		nonRes("get", "", authn.User{}),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		for _, a := range attrs {
			lvl, _ := p.LevelFor(a)
			if !hasLevel(lvl) {
				t.Fatalf("LevelFor returned %q", lvl)
			}
		}
	})
}

func hasLevel(l Level) bool {
	for _, v := range validLevels {
		if v == l {
			return true
		}
	}
	return false
}
