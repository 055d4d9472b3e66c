package authz_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

type fakeGraph struct {
	pods    []*corev1.Pod
	pvcs    []*corev1.PersistentVolumeClaim
	pvs     []*corev1.PersistentVolume
	podsErr error
}

func (g *fakeGraph) PodsOnNode(_ context.Context, node string) ([]*corev1.Pod, error) {
	if g.podsErr != nil {
		return nil, g.podsErr
	}
	var out []*corev1.Pod
	for _, p := range g.pods {
		if p.Spec.NodeName == node {
			out = append(out, p)
		}
	}
	return out, nil
}

func (g *fakeGraph) GetPersistentVolumeClaim(_ context.Context, ns, name string) (*corev1.PersistentVolumeClaim, error) {
	for _, c := range g.pvcs {
		if c.Namespace == ns && c.Name == name {
			return c, nil
		}
	}
	return nil, apierrors.NewNotFound(corev1.Resource("persistentvolumeclaims"), name)
}

func (g *fakeGraph) GetPersistentVolume(_ context.Context, name string) (*corev1.PersistentVolume, error) {
	for _, v := range g.pvs {
		if v.Name == name {
			return v, nil
		}
	}
	return nil, apierrors.NewNotFound(corev1.Resource("persistentvolumes"), name)
}

func nodeUser(name string) authn.User {
	return authn.User{Name: authn.NodeUserPrefix + name, Groups: []string{authn.NodesGroup, authn.AllAuthenticated}}
}

func testGraph() *fakeGraph {
	optional := true
	pod1 := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.PodSpec{
			NodeName:           "n1",
			ServiceAccountName: "web-sa",
			ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "pull"}},
			Volumes: []corev1.Volume{
				{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol-secret"}}},
				{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "vol-cm"}}}},
				{Name: "p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj-secret"}}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj-cm"}}},
				}}}},
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
				{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
			},
			InitContainers: []corev1.Container{{Name: "init", EnvFrom: []corev1.EnvFromSource{
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "init-secret"}}},
			}}},
			Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{
				{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "env-secret"}, Key: "k", Optional: &optional}}},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "env-cm"}, Key: "k"}}},
			}}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", EnvFrom: []corev1.EnvFromSource{
					{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "debug-cm"}}},
				}}}},
		},
	}
	pod2 := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"},
		Spec: corev1.PodSpec{
			NodeName:           "n2",
			ServiceAccountName: "db-sa",
			Volumes: []corev1.Volume{
				{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "db-secret"}}},
				{Name: "d", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "db-data"}}},
			},
		},
	}
	return &fakeGraph{
		pods: []*corev1.Pod{pod1, pod2},
		pvcs: []*corev1.PersistentVolumeClaim{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-data"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-scratch"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-scratch"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db-data"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-db"}},
		},
		pvs: []*corev1.PersistentVolume{
			{ObjectMeta: metav1.ObjectMeta{Name: "pv-data"}, Spec: corev1.PersistentVolumeSpec{
				ClaimRef: &corev1.ObjectReference{Namespace: "ns", Name: "data"},
				PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
					Driver: "d", VolumeHandle: "h", NodeStageSecretRef: &corev1.SecretReference{Namespace: "storage", Name: "csi-creds"},
				}},
			}},
		},
	}
}

func TestNodeAuthorizer(t *testing.T) {
	n1, n2 := nodeUser("n1"), nodeUser("n2")
	type tc struct {
		name   string
		user   authn.User
		verb   string
		ns     string
		group  string
		res    string
		sub    string
		obj    string
		want   authz.Decision
		reason string
	}
	core, coord, storage := "", "coordination.k8s.io", "storage.k8s.io"
	cases := []tc{
		{"secret used by a pod on n1", n1, "get", "ns", core, "secrets", "", "vol-secret", authz.Allow, ""},
		{"image pull secret", n1, "get", "ns", core, "secrets", "", "pull", authz.Allow, ""},
		{"projected secret", n1, "get", "ns", core, "secrets", "", "proj-secret", authz.Allow, ""},
		{"init container envFrom secret", n1, "get", "ns", core, "secrets", "", "init-secret", authz.Allow, ""},
		{"env secretKeyRef", n1, "get", "ns", core, "secrets", "", "env-secret", authz.Allow, ""},
		{"secret of a bound PV", n1, "get", "storage", core, "secrets", "", "csi-creds", authz.Allow, ""},
		{"watch of a single used secret", n1, "watch", "ns", core, "secrets", "", "vol-secret", authz.Allow, ""},
		{"secret used only on n2", n1, "get", "ns", core, "secrets", "", "db-secret", authz.NoOpinion, "no relationship found between node 'n1' and this object"},
		{"n2 reads its secret", n2, "get", "ns", core, "secrets", "", "db-secret", authz.Allow, ""},
		{"same name in another namespace", n1, "get", "other", core, "secrets", "", "vol-secret", authz.NoOpinion, "no relationship found between node 'n1' and this object"},
		{"list secrets", n1, "list", "ns", core, "secrets", "", "", authz.NoOpinion, "No Object name found"},
		{"update a used secret", n1, "update", "ns", core, "secrets", "", "vol-secret", authz.NoOpinion, "can only read resources of this type"},
		{"configmap volume", n1, "get", "ns", core, "configmaps", "", "vol-cm", authz.Allow, ""},
		{"projected configmap", n1, "get", "ns", core, "configmaps", "", "proj-cm", authz.Allow, ""},
		{"env configmap", n1, "get", "ns", core, "configmaps", "", "env-cm", authz.Allow, ""},
		{"ephemeral container configmap", n1, "get", "ns", core, "configmaps", "", "debug-cm", authz.Allow, ""},
		{"unrelated configmap", n1, "get", "ns", core, "configmaps", "", "other", authz.NoOpinion, "no relationship found between node 'n1' and this object"},
		{"pvc used", n1, "get", "ns", core, "persistentvolumeclaims", "", "data", authz.Allow, ""},
		{"ephemeral pvc", n1, "get", "ns", core, "persistentvolumeclaims", "", "web-scratch", authz.Allow, ""},
		{"pvc of n2", n1, "get", "ns", core, "persistentvolumeclaims", "", "db-data", authz.NoOpinion, "no relationship found between node 'n1' and this object"},
		{"list pvcs", n1, "list", "ns", core, "persistentvolumeclaims", "", "", authz.NoOpinion, "can only get individual resources of this type"},
		{"pvc status update", n1, "patch", "ns", core, "persistentvolumeclaims", "status", "data", authz.Allow, ""},
		{"pv bound to used pvc", n1, "get", "", core, "persistentvolumes", "", "pv-data", authz.Allow, ""},
		{"pv of n2", n1, "get", "", core, "persistentvolumes", "", "pv-db", authz.NoOpinion, "no relationship found between node 'n1' and this object"},
		{"token for pod SA", n1, "create", "ns", core, "serviceaccounts", "token", "web-sa", authz.Allow, ""},
		{"token for n2's SA", n1, "create", "ns", core, "serviceaccounts", "token", "db-sa", authz.NoOpinion, "no relationship found between node 'n1' and this object"},
		{"get SA", n1, "get", "ns", core, "serviceaccounts", "", "web-sa", authz.NoOpinion, "can only create tokens for individual service accounts"},
		{"own lease update", n1, "update", "kube-node-lease", coord, "leases", "", "n1", authz.Allow, ""},
		{"own lease get", n1, "get", "kube-node-lease", coord, "leases", "", "n1", authz.Allow, ""},
		{"lease create", n1, "create", "kube-node-lease", coord, "leases", "", "", authz.Allow, ""},
		{"other node's lease", n1, "update", "kube-node-lease", coord, "leases", "", "n2", authz.NoOpinion, "can only access node lease with the same name as the requesting node"},
		{"lease elsewhere", n1, "get", "kube-system", coord, "leases", "", "n1", authz.NoOpinion, `can only access leases in the "kube-node-lease" system namespace`},
		{"list leases", n1, "list", "kube-node-lease", coord, "leases", "", "", authz.NoOpinion, "can only get, create, update, patch, or delete a node lease"},
		{"own node get", n1, "get", "", core, "nodes", "", "n1", authz.Allow, ""},
		{"own node patch", n1, "patch", "", core, "nodes", "", "n1", authz.Allow, ""},
		{"node create", n1, "create", "", core, "nodes", "", "", authz.Allow, ""},
		{"own node status", n1, "patch", "", core, "nodes", "status", "n1", authz.Allow, ""},
		{"own node status update", n1, "update", "", core, "nodes", "status", "n1", authz.Allow, ""},
		{"other node status", n1, "patch", "", core, "nodes", "status", "n2", authz.NoOpinion, "node 'n1' cannot modify 'n2', only its own Node object"},
		{"other node patch", n1, "patch", "", core, "nodes", "", "n2", authz.NoOpinion, "node 'n1' cannot modify 'n2', only its own Node object"},
		{"other node get", n1, "get", "", core, "nodes", "", "n2", authz.NoOpinion, "node 'n1' cannot read 'n2', only its own Node object"},
		{"list nodes (NodeRules)", n1, "list", "", core, "nodes", "", "", authz.Allow, ""},
		{"delete own node", n1, "delete", "", core, "nodes", "", "n1", authz.NoOpinion, ""},
		{"own csinode", n1, "update", "", storage, "csinodes", "", "n1", authz.Allow, ""},
		{"other csinode", n1, "update", "", storage, "csinodes", "", "n2", authz.NoOpinion, "can only access CSINode with the same name as the requesting node"},
		{"NodeRules: create events", n1, "create", "ns", core, "events", "", "", authz.Allow, ""},
		{"NodeRules: pod status", n1, "patch", "ns", core, "pods", "status", "web", authz.Allow, ""},
		{"NodeRules: mirror pod create", n1, "create", "ns", core, "pods", "", "", authz.Allow, ""},
		{"NodeRules: eviction", n1, "create", "ns", core, "pods", "eviction", "web", authz.Allow, ""},
		{"NodeRules: watch services", n1, "watch", "", core, "services", "", "", authz.Allow, ""},
		{"NodeRules: tokenreviews", n1, "create", "", "authentication.k8s.io", "tokenreviews", "", "", authz.Allow, ""},
		{"NodeRules: csr", n1, "create", "", "certificates.k8s.io", "certificatesigningrequests", "", "", authz.Allow, ""},
		{"not in NodeRules: delete services", n1, "delete", "ns", core, "services", "", "s", authz.NoOpinion, ""},
		{"not in NodeRules: deployments", n1, "list", "ns", "apps", "deployments", "", "", authz.NoOpinion, ""},
		{"not a node user", authn.User{Name: "system:node:n1"}, "get", "ns", core, "secrets", "", "vol-secret", authz.NoOpinion, ""},
		{"node group without node name", authn.User{Name: "system:node:", Groups: []string{authn.NodesGroup}}, "get", "ns", core, "secrets", "", "vol-secret", authz.NoOpinion, `unknown node for user "system:node:"`},
		{"regular user", authn.User{Name: "jane", Groups: []string{authn.NodesGroup}}, "create", "ns", core, "events", "", "", authz.NoOpinion, ""},
	}
	node := authz.NewNode(testGraph())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := authz.Attributes{User: c.user, Verb: c.verb, ResourceRequest: true, Namespace: c.ns, APIGroup: c.group,
				Resource: c.res, Subresource: c.sub, Name: c.obj}
			d, reason, err := node.Authorize(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			if d != c.want || reason != c.reason {
				t.Fatalf("got (%v, %q), want (%v, %q)", d, reason, c.want, c.reason)
			}
		})
	}

	t.Run("non-resource NodeRules", func(t *testing.T) {
		d, _, _ := node.Authorize(context.Background(), authz.Attributes{User: n1, Verb: "get", Path: "/metrics"})
		if d != authz.NoOpinion {
			t.Fatalf("got %v", d)
		}
	})
}

func TestNodeAuthorizerGraphError(t *testing.T) {
	node := authz.NewNode(&fakeGraph{podsErr: errors.New("cache not synced")})
	a := authz.Attributes{User: nodeUser("n1"), Verb: "get", ResourceRequest: true, Namespace: "ns", Resource: "secrets", Name: "s"}
	d, _, err := node.Authorize(context.Background(), a)
	if d != authz.NoOpinion || err == nil || !strings.Contains(err.Error(), "cache not synced") || !strings.Contains(err.Error(), `"n1"`) {
		t.Fatalf("got %v, %v", d, err)
	}
}

// TestNodeWithRBAC checks the kube-apiserver chain Node,RBAC: another node's status is
// forbidden with the Node authorizer's reason in the message.
func TestNodeWithRBAC(t *testing.T) {
	chain := authz.NewUnion(authz.NewNode(testGraph()), authz.NewRBAC(newLister(authz.BootstrapPolicy())))
	a := authz.Attributes{User: nodeUser("n1"), Verb: "patch", ResourceRequest: true, APIVersion: "v1", Resource: "nodes", Subresource: "status", Name: "n2"}
	d, reason, err := chain.Authorize(context.Background(), a)
	if d != authz.NoOpinion || err != nil {
		t.Fatalf("got %v %v", d, err)
	}
	got := authz.ForbiddenError(a, reason).Error()
	want := `nodes "n2" is forbidden: User "system:node:n1" cannot patch resource "nodes/status" in API group "" at the cluster scope: node 'n1' cannot modify 'n2', only its own Node object`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
