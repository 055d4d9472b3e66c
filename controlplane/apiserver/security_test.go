package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
	"kforge.dev/kforge/controlplane/apiserver/authz/authztest"
)

// mustCreate fails the test when the create call it is applied to fails:
// mustCreate(t, "what")(client.Create(...)).
func mustCreate(t *testing.T, what string) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("create %s: %v", what, err)
		}
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func deployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}}
}

func podOn(name, node string, spec corev1.PodSpec) *corev1.Pod {
	if len(spec.Containers) == 0 {
		spec.Containers = []corev1.Container{{Name: "c", Image: "nginx"}}
	}
	spec.NodeName = node
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

// wantStatus fails unless err is an API error with code and a message containing msg.
func wantStatus(t *testing.T, what string, err error, code int32, msg string) {
	t.Helper()
	var se *apierrors.StatusError
	if !asStatus(err, &se) {
		t.Errorf("%s: got %v, want HTTP %d", what, err, code)
		return
	}
	if se.ErrStatus.Code != code || !strings.Contains(se.ErrStatus.Message, msg) {
		t.Errorf("%s: got %d %q, want %d with %q", what, se.ErrStatus.Code, se.ErrStatus.Message, code, msg)
	}
}

func asStatus(err error, se **apierrors.StatusError) bool {
	if err == nil {
		return false
	}
	s, ok := err.(*apierrors.StatusError)
	if ok {
		*se = s
	}
	return ok
}

// TestRBACDocumentationCases asks the running server, through SubjectAccessReviews, every
// case written from the Kubernetes RBAC documentation (authztest), with the objects the
// documentation's examples create.
func TestRBACDocumentationCases(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	cs := s.Clientset(t)
	ctx := context.Background()
	cases, policy := authztest.RBACDocCases()
	for _, ns := range []string{"development", "acme", "qa", "my-namespace", "team", "user-1-namespace"} {
		mustCreate(t, ns)(cs.CoreV1().Namespaces().Create(ctx, namespace(ns), metav1.CreateOptions{}))
	}
	for _, o := range policy.ClusterRoles {
		mustCreate(t, o.Name)(cs.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{}))
	}
	for _, o := range policy.Roles {
		mustCreate(t, o.Name)(cs.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{}))
	}
	for _, o := range policy.ClusterRoleBindings {
		mustCreate(t, o.Name)(cs.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{}))
	}
	for _, o := range policy.RoleBindings {
		mustCreate(t, o.Name)(cs.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{}))
	}
	if len(cases) < 40 {
		t.Fatalf("only %d documentation cases", len(cases))
	}
	allowed := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: c.User.Name, Groups: c.User.Groups}}
			if c.Path != "" {
				sar.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: c.Path, Verb: c.Verb}
			} else {
				sar.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: c.Namespace, Verb: c.Verb, Group: c.APIGroup,
					Resource: c.Resource, Subresource: c.Subresource, Name: c.ResourceName}
			}
			got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Allowed != c.Want {
				t.Errorf("%s (%s): allowed=%v, want %v (reason %q)", c.Name, c.Doc, got.Status.Allowed, c.Want, got.Status.Reason)
			}
			if got.Status.Allowed {
				allowed++
			}
		})
	}
	t.Logf("%d documentation cases, %d allowed, %d denied", len(cases), allowed, len(cases)-allowed)
}

// TestTeamEditor is the acceptance scenario: a certificate with O=dev bound to edit in
// namespace team may create a Deployment there and is forbidden in default, through
// client-go and the real kubectl 1.27 and 1.33.
func TestTeamEditor(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	admin := s.Clientset(t)
	ctx := context.Background()
	mustCreate(t, "team")(admin.CoreV1().Namespaces().Create(ctx, namespace("team"), metav1.CreateOptions{}))
	mustCreate(t, "binding")(admin.RbacV1().RoleBindings("team").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "dev-edit"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "dev"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"}}, metav1.CreateOptions{}))
	aliceCfg := s.UserConfig(t, "alice", "dev")
	alice := apiservertest.ClientsetFor(t, aliceCfg)

	if _, err := alice.AppsV1().Deployments("team").Create(ctx, deployment("web"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("alice creates a deployment in team: %v", err)
	}
	_, err := alice.AppsV1().Deployments("default").Create(ctx, deployment("web"), metav1.CreateOptions{})
	wantStatus(t, "create in default", err, http.StatusForbidden,
		`deployments.apps is forbidden: User "alice" cannot create resource "deployments" in API group "apps" in the namespace "default"`)
	// edit may read but not write RBAC, and may not read roles at all? It may not create them.
	_, err = alice.RbacV1().RoleBindings("team").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "x"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"}}, metav1.CreateOptions{})
	wantStatus(t, "edit creates a rolebinding", err, http.StatusForbidden, `cannot create resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "team"`)
	_, err = alice.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	wantStatus(t, "list nodes", err, http.StatusForbidden, `nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope`)
	// The kubeadm admin.conf identity: group kubeadm:cluster-admins bound to cluster-admin.
	mustCreate(t, "kubeadm:cluster-admins")(admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:cluster-admins"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "kubeadm:cluster-admins"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}}, metav1.CreateOptions{}))
	adminConf := s.UserConfig(t, "kubernetes-admin", "kubeadm:cluster-admins")

	bins := kubectlBinaries(t, "1.27", "1.33")
	dir := t.TempDir()
	aliceKC := s.KubeconfigFor(t, dir, "alice", aliceCfg)
	adminKC := s.KubeconfigFor(t, dir, "admin.conf", adminConf)
	for _, v := range []string{"1.27", "1.33"} {
		t.Run("kubectl"+v, func(t *testing.T) {
			k := kubectl{t: t, bin: bins[v], kc: aliceKC, home: t.TempDir()}
			name := "k" + strings.ReplaceAll(v, ".", "")
			expect(t, "create in team", k.run("-n", "team", "create", "deployment", name, "--image=nginx"), "deployment.apps/"+name+" created")
			expectLine(t, "get in team", k.run("-n", "team", "get", "deployments"), `^`+name+`\s+0/1\s+0\s+0\s+\d+s$`)
			// kubectl create deployment reports server errors as "error: failed to create deployment: ...".
			expect(t, "create in default", k.fails("-n", "default", "create", "deployment", name, "--image=nginx"),
				`deployments.apps is forbidden: User "alice" cannot create resource "deployments" in API group "apps" in the namespace "default"`)
			expect(t, "get secrets in default", k.fails("-n", "default", "get", "secrets"),
				`Error from server (Forbidden): secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"`)

			ka := kubectl{t: t, bin: bins[v], kc: adminKC, home: t.TempDir()}
			expect(t, "admin.conf", ka.run("-n", "kube-system", "create", "configmap", name, "--from-literal=a=b"), "configmap/"+name+" created")
			expect(t, "admin.conf", ka.run("get", "clusterrolebindings", "cluster-admin", "-o", "jsonpath={.subjects[0].name}"), "system:masters")
		})
	}
}

// canI runs kubectl auth can-i, which exits 1 for "no".
func canI(k kubectl, args ...string) string {
	out, _ := k.cmd(append([]string{"auth", "can-i"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// TestKubectlAuthCanI checks kubectl auth can-i, with impersonation and --list, against what
// Kubernetes answers for the same bindings.
func TestKubectlAuthCanI(t *testing.T) {
	bins := kubectlBinaries(t, "1.27", "1.33")
	s := apiservertest.Start(t, apiserver.APIOptions{})
	admin := s.Clientset(t)
	ctx := context.Background()
	mustCreate(t, "team")(admin.CoreV1().Namespaces().Create(ctx, namespace("team"), metav1.CreateOptions{}))
	mustCreate(t, "binding")(admin.RbacV1().RoleBindings("team").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "dev-edit"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "dev"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"}}, metav1.CreateOptions{}))
	dir := t.TempDir()
	adminKC := s.Kubeconfig(t, dir)
	aliceKC := s.KubeconfigFor(t, dir, "alice", s.UserConfig(t, "alice", "dev"))
	for _, v := range []string{"1.27", "1.33"} {
		t.Run(v, func(t *testing.T) {
			ka := kubectl{t: t, bin: bins[v], kc: adminKC, home: t.TempDir()}
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"create", "pods"}, "yes"},
				{[]string{"'*'", "'*'"}, "yes"},
				{[]string{"create", "pods", "--as=alice", "--as-group=dev", "-n", "team"}, "yes"},
				{[]string{"create", "pods", "--as=alice", "--as-group=dev", "-n", "default"}, "no"},
				{[]string{"get", "secrets", "--as=alice", "--as-group=dev", "-n", "team"}, "yes"},
				{[]string{"create", "rolebindings", "--as=alice", "--as-group=dev", "-n", "team"}, "no"},
				{[]string{"list", "nodes", "--as=alice"}, "no"},
				{[]string{"get", "/healthz", "--as=bob"}, "yes"},
				{[]string{"get", "/api", "--as=bob"}, "yes"},
				{[]string{"get", "/metrics", "--as=bob"}, "no"},
				{[]string{"list", "pods", "--as=system:serviceaccount:team:default", "-n", "team"}, "no"},
				{[]string{"create", "selfsubjectaccessreviews", "--as=bob"}, "yes"},
			} {
				got := canI(ka, c.args...)
				if lines := strings.Split(got, "\n"); lines[len(lines)-1] != c.want {
					t.Errorf("kubectl auth can-i %s: %q, want %q", strings.Join(c.args, " "), got, c.want)
				}
			}
			k := kubectl{t: t, bin: bins[v], kc: aliceKC, home: t.TempDir()}
			if got := canI(k, "delete", "deployments", "-n", "team"); got != "yes" {
				t.Errorf("alice can-i delete deployments -n team: %q", got)
			}
			if got := canI(k, "impersonate", "users"); got != "no" {
				t.Errorf("alice can-i impersonate users: %q", got)
			}
			list := k.run("auth", "can-i", "--list", "-n", "team")
			expectLine(t, "can-i --list", list, `^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$`)
			expectLine(t, "can-i --list", list, `^deployments\.apps\s+\[\]\s+\[\]\s+\[.*\bcreate\b.*\]$`)
			expectLine(t, "can-i --list", list, `^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$`)
			expectLine(t, "can-i --list", list, `^\s+\[/healthz\]\s+\[\]\s+\[get\]$`)
			if regexp.MustCompile(`(?m)^rolebindings\.rbac\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[.*create`).MatchString(list) {
				t.Errorf("edit lists create on rolebindings:\n%s", list)
			}
			// Impersonating without the right to is refused with the real message.
			expect(t, "impersonate", k.fails("get", "pods", "-n", "team", "--as=bob"),
				`users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope`)
		})
	}
}

// TestBootstrapTokens: a valid token authenticates as system:bootstrap:<id> in the
// bootstrappers groups; expired, deleted or wrong ones get 401.
func TestBootstrapTokens(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	admin := s.Clientset(t)
	ctx := context.Background()
	secret := func(id, expiration string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
			Type: "bootstrap.kubernetes.io/token",
			StringData: map[string]string{"token-id": id, "token-secret": "0123456789abcdef", "expiration": expiration,
				"usage-bootstrap-authentication": "true", "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"}}
	}
	mustCreate(t, "token")(admin.CoreV1().Secrets("kube-system").Create(ctx, secret("abcdef", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), metav1.CreateOptions{}))
	mustCreate(t, "expired token")(admin.CoreV1().Secrets("kube-system").Create(ctx, secret("expire", time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)), metav1.CreateOptions{}))

	who := func(token string) (*authenticationv1.SelfSubjectReview, error) {
		cs := apiservertest.ClientsetFor(t, s.TokenConfig(token))
		return cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	}
	r, err := who("abcdef.0123456789abcdef")
	if err != nil {
		t.Fatalf("valid bootstrap token: %v", err)
	}
	if u := r.Status.UserInfo; u.Username != "system:bootstrap:abcdef" ||
		strings.Join(u.Groups, ",") != "system:bootstrappers,system:bootstrappers:kubeadm:default-node-token,system:authenticated" {
		t.Errorf("bootstrap user %+v", u)
	}
	// kubeadm's binding lets bootstrappers create CSRs; without it they may not.
	cs := apiservertest.ClientsetFor(t, s.TokenConfig("abcdef.0123456789abcdef"))
	_, err = cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	wantStatus(t, "bootstrapper lists CSRs", err, http.StatusForbidden, `User "system:bootstrap:abcdef" cannot list resource "certificatesigningrequests"`)

	_, err = who("expire.0123456789abcdef")
	wantStatus(t, "expired token", err, http.StatusUnauthorized, "Unauthorized")
	_, err = who("abcdef.0123456789abcdeX")
	wantStatus(t, "wrong secret", err, http.StatusUnauthorized, "Unauthorized")
	_, err = who("not-a-token-at-all")
	wantStatus(t, "garbage token", err, http.StatusUnauthorized, "Unauthorized")
	if err := admin.CoreV1().Secrets("kube-system").Delete(ctx, "bootstrap-token-abcdef", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted token is refused", func() error {
		_, err := who("abcdef.0123456789abcdef")
		if apierrors.IsUnauthorized(err) {
			return nil
		}
		return errorf("got %v", err)
	})
}

// TestNodeAuthorization: a kubelet certificate for n1 reads only what pods on n1 use, and
// changes only its own Node.
func TestNodeAuthorization(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	admin := s.Clientset(t)
	ctx := context.Background()
	for _, n := range []string{"n1", "n2"} {
		mustCreate(t, n)(admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}))
	}
	for _, name := range []string{"used-on-n1", "used-on-n2", "unused"} {
		mustCreate(t, name)(admin.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name},
			Data: map[string][]byte{"k": []byte("v")}}, metav1.CreateOptions{}))
	}
	mustCreate(t, "cm")(admin.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "env-on-n1"}}, metav1.CreateOptions{}))
	secretVolume := func(name string) corev1.PodSpec {
		return corev1.PodSpec{Volumes: []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}}}}
	}
	p1 := secretVolume("used-on-n1")
	p1.Containers = []corev1.Container{{Name: "c", Image: "nginx", EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "env-on-n1"}}}}}}
	mustCreate(t, "pod on n1")(admin.CoreV1().Pods("default").Create(ctx, podOn("p1", "n1", p1), metav1.CreateOptions{}))
	mustCreate(t, "pod on n2")(admin.CoreV1().Pods("default").Create(ctx, podOn("p2", "n2", secretVolume("used-on-n2")), metav1.CreateOptions{}))

	n1 := apiservertest.ClientsetFor(t, s.UserConfig(t, "system:node:n1", "system:nodes"))
	eventually(t, "n1 reads the secret its pod uses", func() error {
		_, err := n1.CoreV1().Secrets("default").Get(ctx, "used-on-n1", metav1.GetOptions{})
		return err
	})
	if _, err := n1.CoreV1().ConfigMaps("default").Get(ctx, "env-on-n1", metav1.GetOptions{}); err != nil {
		t.Errorf("n1 reads the configmap its pod uses: %v", err)
	}
	_, err := n1.CoreV1().Secrets("default").Get(ctx, "used-on-n2", metav1.GetOptions{})
	wantStatus(t, "n1 reads n2's secret", err, http.StatusForbidden,
		`secrets "used-on-n2" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object`)
	_, err = n1.CoreV1().Secrets("default").Get(ctx, "unused", metav1.GetOptions{})
	wantStatus(t, "n1 reads an unused secret", err, http.StatusForbidden, `secrets "unused" is forbidden`)
	_, err = n1.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
	wantStatus(t, "n1 lists secrets", err, http.StatusForbidden, `User "system:node:n1" cannot list resource "secrets"`)

	patch := []byte(`{"metadata":{"labels":{"example.com/seen":"yes"}}}`)
	if _, err := n1.CoreV1().Nodes().Patch(ctx, "n1", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Errorf("n1 patches its own node: %v", err)
	}
	status := []byte(`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}`)
	if _, err := n1.CoreV1().Nodes().Patch(ctx, "n1", types.StrategicMergePatchType, status, metav1.PatchOptions{}, "status"); err != nil {
		t.Errorf("n1 patches its own node status: %v", err)
	}
	_, err = n1.CoreV1().Nodes().Patch(ctx, "n2", types.MergePatchType, patch, metav1.PatchOptions{})
	wantStatus(t, "n1 patches n2", err, http.StatusForbidden, `nodes "n2" is forbidden: User "system:node:n1" cannot patch resource "nodes" in API group "" at the cluster scope`)
	_, err = n1.CoreV1().Nodes().Patch(ctx, "n2", types.StrategicMergePatchType, status, metav1.PatchOptions{}, "status")
	wantStatus(t, "n1 patches n2 status", err, http.StatusForbidden, `nodes "n2" is forbidden`)
	// NodeRestriction: a kubelet updates the status of its own pods only, and may not label
	// itself into a protected role.
	podStatus := []byte(`{"status":{"phase":"Running"}}`)
	if _, err := n1.CoreV1().Pods("default").Patch(ctx, "p1", types.StrategicMergePatchType, podStatus, metav1.PatchOptions{}, "status"); err != nil {
		t.Errorf("n1 updates p1's status: %v", err)
	}
	_, err = n1.CoreV1().Pods("default").Patch(ctx, "p2", types.StrategicMergePatchType, podStatus, metav1.PatchOptions{}, "status")
	wantStatus(t, "n1 updates p2's status", err, http.StatusForbidden, `node "n1" can only update pod status for pods with spec.nodeName set to itself`)
	_, err = n1.CoreV1().Nodes().Patch(ctx, "n1", types.MergePatchType, []byte(`{"metadata":{"labels":{"node-restriction.kubernetes.io/pool":"gold"}}}`), metav1.PatchOptions{})
	wantStatus(t, "n1 sets a restricted label", err, http.StatusForbidden, `is not allowed to modify labels: node-restriction.kubernetes.io/pool`)
	_, err = n1.CoreV1().Pods("default").Create(ctx, podOn("sneaky", "n1", corev1.PodSpec{}), metav1.CreateOptions{})
	wantStatus(t, "n1 creates a regular pod", err, http.StatusForbidden, `pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods`)
}

// TestServiceAccountTokens: kubectl create token prints a token that authenticates as the
// service account and stops working once the service account is deleted.
func TestServiceAccountTokens(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	admin := s.Clientset(t)
	ctx := context.Background()
	bins := kubectlBinaries(t, "1.27", "1.33")
	kc := s.Kubeconfig(t, t.TempDir())
	for _, v := range []string{"1.27", "1.33"} {
		t.Run(v, func(t *testing.T) {
			ns := "sa" + strings.ReplaceAll(v, ".", "")
			mustCreate(t, ns)(admin.CoreV1().Namespaces().Create(ctx, namespace(ns), metav1.CreateOptions{}))
			mustCreate(t, "sa")(admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}))
			k := kubectl{t: t, bin: bins[v], kc: kc, home: t.TempDir()}
			token := strings.TrimSpace(k.run("-n", ns, "create", "token", "default", "--duration=20m"))
			if strings.Count(token, ".") != 2 {
				t.Fatalf("kubectl create token printed %q", token)
			}
			sa := apiservertest.ClientsetFor(t, s.TokenConfig(token))
			r, err := sa.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("token authenticates: %v", err)
			}
			want := "system:serviceaccount:" + ns + ":default"
			if u := r.Status.UserInfo; u.Username != want || !contains(u.Groups, "system:serviceaccounts:"+ns) || !contains(u.Groups, "system:authenticated") {
				t.Errorf("token user %+v", u)
			}
			if len(r.Status.UserInfo.Extra["authentication.kubernetes.io/credential-id"]) != 1 {
				t.Errorf("no credential-id extra: %+v", r.Status.UserInfo.Extra)
			}
			// The default service account may not list pods (no RBAC binding).
			_, err = sa.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			wantStatus(t, "sa lists pods", err, http.StatusForbidden, `User "`+want+`" cannot list resource "pods"`)
			// TokenReview answers the same for webhook authenticators.
			tr, err := admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
			if err != nil || !tr.Status.Authenticated || tr.Status.User.Username != want {
				t.Errorf("token review: %v %+v", err, tr.Status)
			}
			if v == "1.33" {
				expectLine(t, "auth whoami", kubectl{t: t, bin: bins[v], kc: s.KubeconfigFor(t, t.TempDir(), "sa", s.TokenConfig(token)), home: t.TempDir()}.run("auth", "whoami"),
					`^Username\s+`+want+`$`)
			}
			if err := admin.CoreV1().ServiceAccounts(ns).Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "token of a deleted service account", func() error {
				_, err := sa.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
				if apierrors.IsUnauthorized(err) {
					return nil
				}
				return errorf("got %v", err)
			})
			// A service account recreated with the same name is another account.
			mustCreate(t, "sa again")(admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}))
			time.Sleep(200 * time.Millisecond)
			_, err = sa.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
			wantStatus(t, "token of a recreated service account", err, http.StatusUnauthorized, "Unauthorized")
			expect(t, "token too short", k.fails("-n", ns, "create", "token", "default", "--duration=1m"), "may not specify a duration less than 10 minutes")
		})
	}
}

// TestAnonymousRequests: anonymous requests reach health, version and the cluster-info
// ConfigMap (with kubeadm's Role for it) and nothing else; with --anonymous-auth=false they
// get 401.
func TestAnonymousRequests(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	admin := s.Clientset(t)
	ctx := context.Background()
	mustCreate(t, "cluster-info")(admin.CoreV1().ConfigMaps("kube-public").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cluster-info"},
		Data: map[string]string{"kubeconfig": "x"}}, metav1.CreateOptions{}))
	mustCreate(t, "role")(admin.RbacV1().Roles("kube-public").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:bootstrap-signer-clusterinfo"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"cluster-info"}}}}, metav1.CreateOptions{}))
	mustCreate(t, "binding")(admin.RbacV1().RoleBindings("kube-public").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:bootstrap-signer-clusterinfo"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "system:anonymous"}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "kubeadm:bootstrap-signer-clusterinfo"}}, metav1.CreateOptions{}))
	mustCreate(t, "other")(admin.CoreV1().ConfigMaps("kube-public").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{}))

	anon := &http.Client{Transport: transportFor(t, s.AnonymousConfig())}
	get := func(path string) (int, string) {
		resp, err := anon.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st metav1.Status
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		_ = json.Unmarshal([]byte(b.String()), &st)
		if st.Message != "" {
			return resp.StatusCode, st.Message
		}
		return resp.StatusCode, b.String()
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz", "/version"} {
		if code, _ := get(p); code != http.StatusOK {
			t.Errorf("anonymous GET %s: %d", p, code)
		}
	}
	eventually(t, "anonymous reads cluster-info", func() error {
		if code, body := get("/api/v1/namespaces/kube-public/configmaps/cluster-info"); code != http.StatusOK {
			return errorf("%d %s", code, body)
		}
		return nil
	})
	for path, want := range map[string]string{
		"/api": `forbidden: User "system:anonymous" cannot get path "/api"`,
		"/api/v1/namespaces/kube-public/configmaps/other": `configmaps "other" is forbidden: User "system:anonymous" cannot get resource "configmaps" in API group "" in the namespace "kube-public"`,
		"/api/v1/namespaces/kube-public/configmaps":       `configmaps is forbidden: User "system:anonymous" cannot list resource "configmaps" in API group "" in the namespace "kube-public"`,
		"/api/v1/namespaces/default/secrets":              `secrets is forbidden: User "system:anonymous" cannot list resource "secrets"`,
	} {
		code, msg := get(path)
		if code != http.StatusForbidden || !strings.Contains(msg, want) {
			t.Errorf("anonymous GET %s: %d %q, want 403 %q", path, code, msg, want)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api", nil)
	req.Header.Set("Authorization", "Bearer bogus")
	resp, err := anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad token with anonymous enabled: %d, want 401", resp.StatusCode)
	}

	closed := apiservertest.StartWith(t, apiservertest.Options{Security: func(c *apiserver.SecurityConfig) { c.AnonymousAuth = false }})
	anon = &http.Client{Transport: transportFor(t, closed.AnonymousConfig())}
	resp, err = anon.Get(closed.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("--anonymous-auth=false: GET /healthz gave %d, want 401", resp.StatusCode)
	}
}

// TestFrontProxyHeaders: a client certificate from the front-proxy CA with an allowed name may
// assert identities in X-Remote-* headers; others may not.
func TestFrontProxyHeaders(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	ctx := context.Background()
	whoami := func(cfg *rest.Config) (authenticationv1.UserInfo, error) {
		cfg = rest.CopyConfig(cfg)
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				r.Header.Set("X-Remote-User", "carol")
				r.Header.Add("X-Remote-Group", "ops")
				r.Header.Set("X-Remote-Extra-Scopes", "read")
				return rt.RoundTrip(r)
			})
		}
		r, err := apiservertest.ClientsetFor(t, cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			return authenticationv1.UserInfo{}, err
		}
		return r.Status.UserInfo, nil
	}
	u, err := whoami(s.CertConfig(t, "front-proxy-ca", "front-proxy-client"))
	if err != nil || u.Username != "carol" || !contains(u.Groups, "ops") || strings.Join(u.Extra["scopes"], ",") != "read" {
		t.Errorf("front proxy: %v %+v", err, u)
	}
	_, err = whoami(s.CertConfig(t, "front-proxy-ca", "someone-else"))
	wantStatus(t, "front-proxy CA, name not allowed", err, http.StatusUnauthorized, "Unauthorized")
	// A cluster-CA client's headers are ignored: it is itself.
	u, err = whoami(s.UserConfig(t, "dave"))
	if err != nil || u.Username != "dave" {
		t.Errorf("cluster CA client with headers: %v %+v", err, u)
	}
}

// TestRBACEscalationPrevention: a namespace admin may bind roles whose permissions they hold,
// and not cluster-admin; nobody without escalate may write a role granting more than they have.
func TestRBACEscalationPrevention(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	admin := s.Clientset(t)
	ctx := context.Background()
	mustCreate(t, "team")(admin.CoreV1().Namespaces().Create(ctx, namespace("team"), metav1.CreateOptions{}))
	mustCreate(t, "binding")(admin.RbacV1().RoleBindings("team").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "lead-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "lead"}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"}}, metav1.CreateOptions{}))
	lead := apiservertest.ClientsetFor(t, s.UserConfig(t, "lead"))
	bind := func(name, role string) error {
		_, err := lead.RbacV1().RoleBindings("team").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "intern"}},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}, metav1.CreateOptions{})
		return err
	}
	eventually(t, "admin binds view in its namespace", func() error { return bind("intern-view", "view") })
	err := bind("intern-root", "cluster-admin")
	wantStatus(t, "admin binds cluster-admin", err, http.StatusForbidden,
		`rolebindings.rbac.authorization.k8s.io "intern-root" is forbidden: user "lead" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:`)
	_, err = lead.RbacV1().Roles("team").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "nodes"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes"}}}}, metav1.CreateOptions{})
	wantStatus(t, "admin writes a role with nodes", err, http.StatusForbidden, `{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`)
	if _, err := lead.RbacV1().Roles("team").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods", "secrets"}}}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("admin writes a role within its permissions: %v", err)
	}
}

// TestAdmissionChain shows each default admission plugin at work through the API.
func TestAdmissionChain(t *testing.T) {
	s := apiservertest.StartWith(t, apiservertest.Options{}) // the whole default chain, ServiceAccount included
	admin := s.Clientset(t)
	ctx := context.Background()
	mustCreate(t, "app")(admin.CoreV1().Namespaces().Create(ctx, namespace("app"), metav1.CreateOptions{}))

	// ServiceAccount: without the default service account a pod is refused; with it the pod
	// gets the projected token volume.
	_, err := admin.CoreV1().Pods("app").Create(ctx, podOn("p0", "", corev1.PodSpec{}), metav1.CreateOptions{})
	wantStatus(t, "pod without default service account", err, http.StatusForbidden, `error looking up service account app/default: serviceaccount "default" not found`)
	mustCreate(t, "sa")(admin.CoreV1().ServiceAccounts("app").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}))
	pod, err := admin.CoreV1().Pods("app").Create(ctx, podOn("p1", "", corev1.PodSpec{}), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}
	if pod.Spec.ServiceAccountName != "default" || len(pod.Spec.Volumes) != 1 || !strings.HasPrefix(pod.Spec.Volumes[0].Name, "kube-api-access-") ||
		pod.Spec.Containers[0].VolumeMounts[0].MountPath != "/var/run/secrets/kubernetes.io/serviceaccount" {
		t.Errorf("ServiceAccount admission: %+v %+v", pod.Spec.Volumes, pod.Spec.Containers[0].VolumeMounts)
	}
	// DefaultTolerationSeconds and Priority.
	if len(pod.Spec.Tolerations) != 2 || pod.Spec.Tolerations[0].TolerationSeconds == nil || *pod.Spec.Tolerations[0].TolerationSeconds != 300 {
		t.Errorf("DefaultTolerationSeconds: %+v", pod.Spec.Tolerations)
	}
	if pod.Spec.Priority == nil || *pod.Spec.Priority != 0 {
		t.Errorf("Priority: %v", pod.Spec.Priority)
	}
	critical := podOn("p2", "", corev1.PodSpec{PriorityClassName: "system-cluster-critical"})
	critical.Namespace = "app"
	if p, err := admin.CoreV1().Pods("app").Create(ctx, critical, metav1.CreateOptions{}); err != nil || p.Spec.Priority == nil || *p.Spec.Priority != 2000000000 {
		t.Errorf("system-cluster-critical: %v %v", err, p)
	}
	_, err = admin.CoreV1().Pods("app").Create(ctx, podOn("p3", "", corev1.PodSpec{PriorityClassName: "nope"}), metav1.CreateOptions{})
	wantStatus(t, "unknown priority class", err, http.StatusForbidden, "no PriorityClass with name nope was found")

	// LimitRanger fills defaults; ResourceQuota counts and refuses.
	mustCreate(t, "limits")(admin.CoreV1().LimitRanges("app").Create(ctx, &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "defaults"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer,
			Default:        corev1.ResourceList{corev1.ResourceCPU: mustQuantity("500m")},
			DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("100m")},
			Max:            corev1.ResourceList{corev1.ResourceCPU: mustQuantity("1")}}}}}, metav1.CreateOptions{}))
	mustCreate(t, "quota")(admin.CoreV1().ResourceQuotas("app").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "pods"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: mustQuantity("4")}}}, metav1.CreateOptions{}))
	eventually(t, "limit range and quota in effect", func() error {
		p, err := admin.CoreV1().Pods("app").Create(ctx, podOn("q1", "", corev1.PodSpec{}), metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if got := p.Spec.Containers[0].Resources.Requests.Cpu().String(); got != "100m" {
			return errorf("LimitRanger request %s", got)
		}
		return nil
	})
	q1, _ := admin.CoreV1().Pods("app").Get(ctx, "q1", metav1.GetOptions{})
	if got := q1.Annotations["kubernetes.io/limit-ranger"]; !strings.Contains(got, "cpu request for container c") {
		t.Errorf("limit-ranger annotation %q", got)
	}
	big := podOn("big", "", corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx",
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("2")}}}}})
	_, err = admin.CoreV1().Pods("app").Create(ctx, big, metav1.CreateOptions{})
	wantStatus(t, "over the limit range", err, http.StatusForbidden, `maximum cpu usage per Container is 1, but limit is 2`)
	// p1, p2 and q1 exist: the quota's fourth pod is admitted, the fifth is not.
	mustCreate(t, "4th pod")(admin.CoreV1().Pods("app").Create(ctx, podOn("q2", "", corev1.PodSpec{}), metav1.CreateOptions{}))
	_, err = admin.CoreV1().Pods("app").Create(ctx, podOn("q3", "", corev1.PodSpec{}), metav1.CreateOptions{})
	wantStatus(t, "quota exceeded", err, http.StatusForbidden, `pods "q3" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=4, limited: pods=4`)
	if err := admin.CoreV1().Pods("app").Delete(ctx, "q2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().Pods("app").Create(ctx, podOn("q3", "", corev1.PodSpec{}), metav1.CreateOptions{}); err != nil {
		t.Errorf("after a delete the quota has room: %v", err)
	}
	rq, _ := admin.CoreV1().ResourceQuotas("app").Get(ctx, "pods", metav1.GetOptions{})
	if used := rq.Status.Used[corev1.ResourcePods]; used.String() != "4" {
		t.Errorf("quota used %s, want 4", used.String())
	}

	// NamespaceLifecycle.
	err = admin.CoreV1().Namespaces().Delete(ctx, "kube-system", metav1.DeleteOptions{})
	wantStatus(t, "delete kube-system", err, http.StatusForbidden, `namespaces "kube-system" is forbidden: this namespace may not be deleted`)
	_, err = admin.CoreV1().ConfigMaps("missing").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	wantStatus(t, "create in a missing namespace", err, http.StatusNotFound, `namespaces "missing" not found`)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// eventually retries f for up to 10 s: the watch caches the security layers read may lag a
// write by a moment, as kube-apiserver's informers do.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// transportFor is an HTTP transport with cfg's TLS settings and credentials.
func transportFor(t *testing.T, cfg *rest.Config) http.RoundTripper {
	t.Helper()
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

// TestQuotaAcrossAPIServers: two apiservers on one etcd admit pods against one quota at the
// same time; the quota is never exceeded, its usage matches the pods that exist, and nothing
// fails but with "exceeded quota" or a conflict the client may retry.
func TestQuotaAcrossAPIServers(t *testing.T) {
	s1 := apiservertest.StartWith(t, apiservertest.Options{})
	s2 := apiservertest.StartWith(t, apiservertest.Options{Etcd: s1.Etcd, PKIDir: s1.PKIDir})
	ctx := context.Background()
	admin := s1.Clientset(t)
	mustCreate(t, "ns")(admin.CoreV1().Namespaces().Create(ctx, namespace("q"), metav1.CreateOptions{}))
	mustCreate(t, "sa")(admin.CoreV1().ServiceAccounts("q").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}))
	mustCreate(t, "quota")(admin.CoreV1().ResourceQuotas("q").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "pods"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: mustQuantity("10")}}}, metav1.CreateOptions{}))
	clients := []*kubernetes.Clientset{s1.Clientset(t), s2.Clientset(t)}
	// Both servers' watch caches must hold the quota before the race starts.
	for i, cs := range clients {
		eventually(t, fmt.Sprintf("server %d caches the quota", i+1), func() error {
			l, err := cs.CoreV1().ResourceQuotas("q").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			if err != nil || len(l.Items) != 1 {
				return errorf("cached quotas: %v, %v", l, err)
			}
			return nil
		})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Two servers charging one quota can race; the loser answers 409, as kube-apiserver
			// does, and clients (controllers) retry.
			err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
				_, err := clients[i%2].CoreV1().Pods("q").Create(ctx, podOn(fmt.Sprintf("p%d", i), "", corev1.PodSpec{}), metav1.CreateOptions{})
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota"):
				refused++
			default:
				t.Errorf("create p%d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	pods, err := admin.CoreV1().Pods("q").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rq, err := admin.CoreV1().ResourceQuotas("q").Get(ctx, "pods", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	used := rq.Status.Used[corev1.ResourcePods]
	if created != 10 || refused != 14 || len(pods.Items) != 10 || used.Value() != 10 {
		t.Errorf("created %d, refused %d, %d pods exist, quota used %s; want 10 created, 14 refused, 10 pods, used 10",
			created, refused, len(pods.Items), used.String())
	}
}
