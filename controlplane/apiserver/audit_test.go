package apiserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
	"kforge.dev/kforge/controlplane/apiserver/audit"
)

// auditPolicy is an operator's usual policy: no RequestReceived stage, nothing for
// ConfigMap reads in kube-system, Metadata for everything else; Secrets at Request level,
// which kforge lowers to Metadata and says so.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  verbs: ["get", "list", "watch"]
  namespaces: ["kube-system"]
  resources: [{group: "", resources: ["configmaps"]}]
- level: Request
  resources: [{group: "", resources: ["secrets"]}]
- level: Metadata
`

// TestAuditLog drives the server with an audit log configured from a policy file, as
// --audit-log-path and --audit-policy-file do, and reads the events back from the file.
func TestAuditLog(t *testing.T) {
	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyPath, []byte(auditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	policy, err := audit.LoadPolicy(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "log", "audit.log")
	logger, err := audit.NewLogger(audit.LoggerConfig{Path: logPath, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	s := apiservertest.StartWith(t, apiservertest.Options{Audit: logger})
	ctx := context.Background()
	admin := s.Clientset(t)
	alice := apiservertest.ClientsetFor(t, s.UserConfig(t, "alice", "dev"))

	mustCreate(t, "configmap")(admin.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "audited"}}, metav1.CreateOptions{}))
	mustCreate(t, "secret")(admin.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "audited"}, StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{}))
	if _, err := admin.CoreV1().ConfigMaps("kube-system").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, "binding")(admin.RbacV1().RoleBindings("default").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "dev-view"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "dev"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}}, metav1.CreateOptions{}))
	eventually(t, "alice lists configmaps", func() error {
		_, err := alice.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
		return err
	})
	_, err = alice.CoreV1().Secrets("default").Get(ctx, "audited", metav1.GetOptions{})
	wantStatus(t, "alice reads a secret", err, http.StatusForbidden, `cannot get resource "secrets"`)
	// A request with a bad token is logged too, with no user.
	bad := apiservertest.ClientsetFor(t, s.TokenConfig("abcdef.0123456789abcdef"))
	_, err = bad.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	wantStatus(t, "bad token", err, http.StatusUnauthorized, "Unauthorized")

	if err := logger.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600: it names every user and object", fi.Mode().Perm())
	}
	events := readAuditLog(t, logPath)

	find := func(what string, match func(audit.Event) bool) audit.Event {
		t.Helper()
		for _, ev := range events {
			if match(ev) {
				return ev
			}
		}
		t.Fatalf("no audit event for %s among %d events", what, len(events))
		return audit.Event{}
	}
	for _, ev := range events {
		if ev.Stage == audit.StageRequestReceived {
			t.Errorf("RequestReceived logged although the policy omits it: %s", ev.RequestURI)
		}
		if ev.Kind != "Event" || ev.APIVersion != "audit.k8s.io/v1" || ev.AuditID == "" || ev.Level != audit.LevelMetadata {
			t.Errorf("event %+v: want kind Event, apiVersion audit.k8s.io/v1, an auditID and level Metadata", ev)
		}
		if ref := ev.ObjectRef; ref != nil && ref.Resource == "configmaps" && ref.Namespace == "kube-system" && ev.Verb == "list" {
			t.Errorf("kube-system configmap list logged although the policy says None")
		}
	}

	created := find("the configmap create", func(ev audit.Event) bool {
		return ev.Verb == "create" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "configmaps" && ev.Stage == audit.StageResponseComplete
	})
	if created.User.Username != "kubernetes-super-admin" || created.ObjectRef.Namespace != "default" || created.ObjectRef.APIVersion != "v1" ||
		created.ResponseStatus == nil || created.ResponseStatus.Code != http.StatusCreated ||
		created.Annotations[audit.DecisionAnnotation] != "allow" || len(created.SourceIPs) == 0 || created.UserAgent == "" {
		t.Errorf("configmap create event: %+v", created)
	}
	secret := find("the secret create", func(ev audit.Event) bool {
		return ev.Verb == "create" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "secrets" && ev.Stage == audit.StageResponseComplete
	})
	if secret.Annotations[audit.LevelReducedAnnotation] != string(audit.LevelRequest) {
		t.Errorf("secret create at Request level should be lowered to Metadata and annotated, got %v", secret.Annotations)
	}
	denied := find("alice's forbidden get", func(ev audit.Event) bool {
		return ev.User.Username == "alice" && ev.Verb == "get" && ev.Stage == audit.StageResponseComplete
	})
	if denied.ResponseStatus == nil || denied.ResponseStatus.Code != http.StatusForbidden ||
		denied.Annotations[audit.DecisionAnnotation] != "forbid" || denied.ObjectRef == nil || denied.ObjectRef.Name != "audited" ||
		!contains(denied.User.Groups, "dev") || !contains(denied.User.Groups, "system:authenticated") {
		t.Errorf("alice's get event: %+v", denied)
	}
	allowed := find("alice's list", func(ev audit.Event) bool {
		return ev.User.Username == "alice" && ev.Verb == "list" && ev.ResponseStatus != nil && ev.ResponseStatus.Code == http.StatusOK
	})
	if want := `RBAC: allowed by RoleBinding "dev-view/default" of ClusterRole "view" to Group "dev"`; allowed.Annotations[audit.ReasonAnnotation] != want {
		t.Errorf("alice's list reason %q, want %q", allowed.Annotations[audit.ReasonAnnotation], want)
	}
	unauth := find("the bad token", func(ev audit.Event) bool {
		return ev.ResponseStatus != nil && ev.ResponseStatus.Code == http.StatusUnauthorized
	})
	if unauth.User.Username != "" || unauth.Stage != audit.StageResponseComplete {
		t.Errorf("unauthenticated event: %+v", unauth)
	}
}

// readAuditLog decodes the JSON-lines audit log at path.
func readAuditLog(t *testing.T, path string) []audit.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []audit.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev audit.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		t.Fatal("audit log is empty")
	}
	return events
}
