package admission

import (
	"context"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

func TestNodeRestriction(t *testing.T) {
	f := newFake()
	f.nodes["n1"] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "uid-n1"}}
	f.pods["ns/mine"] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "mine"}, Spec: corev1.PodSpec{NodeName: "n1"}}
	f.pods["ns/theirs"] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "theirs"}, Spec: corev1.PodSpec{NodeName: "n2"}}
	p, err := NewNodeRestriction(f.deps())
	if err != nil {
		t.Fatal(err)
	}
	n1 := authn.User{Name: "system:node:n1", Groups: []string{authn.NodesGroup, authn.AllAuthenticated}}
	tru := true
	mirror := func(mut func(*corev1.Pod)) *corev1.Pod {
		pod := newPod("ns", "static-n1")
		pod.Annotations = map[string]string{MirrorPodAnnotationKey: "hash"}
		pod.Spec.NodeName = "n1"
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "uid-n1", Controller: &tru}}
		if mut != nil {
			mut(pod)
		}
		return pod
	}
	nodeGVR := schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	leaseGVR := schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
	node := func(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	tests := []struct {
		name string
		user authn.User
		a    Attributes
		code int32
		msg  string
	}{
		{name: "non-node user ignored", user: authn.User{Name: "alice"}, a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: newPod("ns", "x")}},
		{name: "node user without group ignored", user: authn.User{Name: "system:node:n1"}, a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: newPod("ns", "x")}},
		{name: "empty node name", user: authn.User{Name: "system:node:", Groups: []string{authn.NodesGroup}}, a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: newPod("ns", "x")},
			code: 403, msg: `pods "x" is forbidden: could not determine node from user "system:node:"`},
		{name: "mirror pod ok", a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: mirror(nil)}},
		{name: "non-mirror pod", a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: newPod("ns", "x")}, code: 403,
			msg: `pods "x" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods`},
		{name: "mirror pod for other node", a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: mirror(func(p *corev1.Pod) { p.Spec.NodeName = "n2" })}, code: 403,
			msg: `pods "static-n1" is forbidden: node "n1" can only create pods with spec.nodeName set to itself`},
		{name: "mirror pod without owner", a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: mirror(func(p *corev1.Pod) { p.OwnerReferences = nil })}, code: 403,
			msg: `pods "static-n1" is forbidden: node "n1" can only create pods with an owner reference set to itself`},
		{name: "mirror pod with secret", a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: mirror(func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}
		})}, code: 403, msg: `pods "static-n1" is forbidden: node "n1" can not create pods that reference secrets`},
		{name: "mirror pod with configmap", a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}}}
		})}, code: 403, msg: `pods "static-n1" is forbidden: node "n1" can not create pods that reference configmaps`},
		{name: "mirror pod with pvc", a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}}}
		})}, code: 403, msg: `pods "static-n1" is forbidden: node "n1" can not create pods that reference persistentvolumeclaims`},
		{name: "mirror pod with service account", a: Attributes{Operation: Create, Resource: podGVR, Namespace: "ns", Object: mirror(func(p *corev1.Pod) { p.Spec.ServiceAccountName = "default" })}, code: 403,
			msg: `pods "static-n1" is forbidden: node "n1" can not create pods that reference a service account`},
		{name: "pod update", a: Attributes{Operation: Update, Resource: podGVR, Namespace: "ns", Name: "mine", Object: f.pods["ns/mine"], OldObject: f.pods["ns/mine"]}, code: 403,
			msg: `pods "mine" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods`},
		{name: "delete own pod", a: Attributes{Operation: Delete, Resource: podGVR, Namespace: "ns", Name: "mine"}},
		{name: "delete other's pod", a: Attributes{Operation: Delete, Resource: podGVR, Namespace: "ns", Name: "theirs"}, code: 403,
			msg: `pods "theirs" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself`},
		{name: "delete missing pod", a: Attributes{Operation: Delete, Resource: podGVR, Namespace: "ns", Name: "gone"}, code: 404, msg: `pods "gone" not found`},
		{name: "own pod status", a: Attributes{Operation: Update, Resource: podGVR, Subresource: "status", Namespace: "ns", Name: "mine", Object: f.pods["ns/mine"], OldObject: f.pods["ns/mine"]}},
		{name: "other pod status", a: Attributes{Operation: Update, Resource: podGVR, Subresource: "status", Namespace: "ns", Name: "theirs", Object: f.pods["ns/theirs"], OldObject: f.pods["ns/theirs"]}, code: 403,
			msg: `pods "theirs" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself`},
		{name: "evict own pod", a: Attributes{Operation: Create, Resource: podGVR, Subresource: "eviction", Namespace: "ns", Name: "mine", Object: &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "mine"}}}},
		{name: "evict other's pod", a: Attributes{Operation: Create, Resource: podGVR, Subresource: "eviction", Namespace: "ns", Name: "theirs", Object: &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "theirs"}}}, code: 403,
			msg: `pods "theirs" is forbidden: node n1 can only evict pods with spec.nodeName set to itself`},
		{name: "pod exec", a: Attributes{Operation: Create, Resource: podGVR, Subresource: "exec", Namespace: "ns", Name: "mine"}, code: 403,
			msg: `pods "mine" is forbidden: unexpected pod subresource "exec", only 'status' and 'eviction' are allowed`},
		{name: "create own node", a: Attributes{Operation: Create, Resource: nodeGVR, Object: node("n1", map[string]string{"kubernetes.io/hostname": "n1", "node.kubernetes.io/instance-type": "x", "example.com/a": "b"})}},
		{name: "create other node", a: Attributes{Operation: Create, Resource: nodeGVR, Object: node("n2", nil)}, code: 403, msg: `nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`},
		{name: "update other node", a: Attributes{Operation: Update, Resource: nodeGVR, Subresource: "status", Name: "n2", Object: node("n2", nil), OldObject: node("n2", nil)}, code: 403,
			msg: `nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`},
		{name: "create with restricted label", a: Attributes{Operation: Create, Resource: nodeGVR, Object: node("n1", map[string]string{"node-restriction.kubernetes.io/trusted": "yes", "node-role.kubernetes.io/control-plane": ""})}, code: 403,
			msg: `nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-restriction.kubernetes.io/trusted, node-role.kubernetes.io/control-plane`},
		{name: "update removes restricted label", a: Attributes{Operation: Update, Resource: nodeGVR, Name: "n1",
			Object: node("n1", nil), OldObject: node("n1", map[string]string{"node-restriction.kubernetes.io/trusted": "yes"})}, code: 403,
			msg: `nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/trusted`},
		{name: "update keeps restricted label", a: Attributes{Operation: Update, Resource: nodeGVR, Name: "n1",
			Object: node("n1", map[string]string{"node-restriction.kubernetes.io/trusted": "yes", "topology.kubernetes.io/zone": "z"}), OldObject: node("n1", map[string]string{"node-restriction.kubernetes.io/trusted": "yes"})}},
		{name: "update taints", a: Attributes{Operation: Update, Resource: nodeGVR, Name: "n1",
			Object: node("n1", nil), OldObject: node("n1", nil, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule})}, code: 403,
			msg: `nodes "n1" is forbidden: node "n1" is not allowed to modify taints`},
		{name: "own lease", a: Attributes{Operation: Update, Resource: leaseGVR, Namespace: "kube-node-lease", Name: "n1", Object: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}}},
		{name: "create own lease", a: Attributes{Operation: Create, Resource: leaseGVR, Namespace: "kube-node-lease", Object: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}}},
		{name: "other lease", a: Attributes{Operation: Update, Resource: leaseGVR, Namespace: "kube-node-lease", Name: "n2", Object: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}}, code: 403,
			msg: `leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node`},
		{name: "lease elsewhere", a: Attributes{Operation: Update, Resource: leaseGVR, Namespace: "default", Name: "n1", Object: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}}, code: 403,
			msg: `leases.coordination.k8s.io "n1" is forbidden: can only access leases in the "kube-node-lease" system namespace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.a
			a.User = n1
			if tt.user.Name != "" {
				a.User = tt.user
			}
			wantErr(t, p.Admit(context.Background(), &a), tt.code, tt.msg)
		})
	}
}
