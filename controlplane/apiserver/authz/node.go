package authz

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// NodeGraph is what the Node authorizer needs to know about the objects bound to a node. The
// apiserver implements it over its watch cache; keeping it this small keeps that cheap.
type NodeGraph interface {
	// PodsOnNode returns the pods whose spec.nodeName is nodeName.
	PodsOnNode(ctx context.Context, nodeName string) ([]*corev1.Pod, error)
	// GetPersistentVolumeClaim returns a claim, or an apimachinery NotFound error.
	GetPersistentVolumeClaim(ctx context.Context, namespace, name string) (*corev1.PersistentVolumeClaim, error)
	// GetPersistentVolume returns a volume, or an apimachinery NotFound error; it is used to
	// find the secrets a pod's bound volumes reference (CSI, RBD, iSCSI... credentials).
	GetPersistentVolume(ctx context.Context, name string) (*corev1.PersistentVolume, error)
}

// Node is Kubernetes' Node authorizer (--authorization-mode=Node): it lets a kubelet,
// authenticated as system:node:<name> in group system:nodes, read the secrets, configmaps,
// persistent volume claims and volumes its pods use, mint tokens for its pods' service
// accounts and manage its own Node, Lease and CSINode, and grants the static NodeRules for
// everything else. Other users, and other nodes' objects, get no opinion, so a request is
// forbidden unless RBAC allows it.
type Node struct {
	graph NodeGraph
	rules []rbacv1.PolicyRule
}

var _ Authorizer = (*Node)(nil)

// NewNode returns a Node authorizer that learns node/object relationships from g.
func NewNode(g NodeGraph) *Node {
	return &Node{graph: g, rules: NodeRules()}
}

// NodeIdentity returns the node name of a kubelet identity: a user named system:node:<name>
// in group system:nodes. isNode is false for any other user; nodeName may be empty for a
// member of system:nodes named just "system:node:".
func NodeIdentity(u authn.User) (nodeName string, isNode bool) {
	if !strings.HasPrefix(u.Name, authn.NodeUserPrefix) || !u.InGroup(authn.NodesGroup) {
		return "", false
	}
	return strings.TrimPrefix(u.Name, authn.NodeUserPrefix), true
}

// Authorize decides a kubelet's request. Errors reading the graph are returned (the request
// then fails unless another authorizer allows it); an object that does not exist is simply
// unrelated to the node.
func (n *Node) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	nodeName, isNode := NodeIdentity(a.User)
	if !isNode {
		return NoOpinion, "", nil
	}
	if nodeName == "" {
		return NoOpinion, fmt.Sprintf("unknown node for user %q", a.User.Name), nil
	}
	if a.ResourceRequest {
		switch a.APIGroup + "/" + a.Resource {
		case "/secrets":
			return n.authorizeReadNamespaced(ctx, nodeName, kindSecret, a)
		case "/configmaps":
			return n.authorizeReadNamespaced(ctx, nodeName, kindConfigMap, a)
		case "/persistentvolumeclaims":
			if a.Subresource == "status" {
				return n.authorizeStatusUpdate(ctx, nodeName, kindPVC, a)
			}
			return n.authorizeGet(ctx, nodeName, kindPVC, a)
		case "/persistentvolumes":
			return n.authorizeGet(ctx, nodeName, kindPV, a)
		case "/serviceaccounts":
			return n.authorizeCreateToken(ctx, nodeName, a)
		case grpCoordination + "/leases":
			return authorizeLease(nodeName, a)
		case grpStorage + "/csinodes":
			return authorizeCSINode(nodeName, a)
		case "/nodes":
			if d, reason, done := authorizeNodeObject(nodeName, a); done {
				return d, reason, nil
			}
		}
	}
	if RulesAllow(a, n.rules...) {
		return Allow, "", nil
	}
	return NoOpinion, "", nil
}

type objectKind int

const (
	kindSecret objectKind = iota
	kindConfigMap
	kindPVC
	kindPV
	kindServiceAccount
)

func (n *Node) authorizeReadNamespaced(ctx context.Context, nodeName string, kind objectKind, a Attributes) (Decision, string, error) {
	switch a.Verb {
	case "get", "list", "watch":
		// list/watch are only allowed for a single named object (a metadata.name field
		// selector), which is how kubelets watch the secrets and configmaps they use.
	default:
		return NoOpinion, "can only read resources of this type", nil
	}
	if a.Subresource != "" {
		return NoOpinion, "cannot read subresource", nil
	}
	if a.Namespace == "" {
		return NoOpinion, "can only read namespaced object of this type", nil
	}
	return n.authorizeRelated(ctx, nodeName, kind, a)
}

func (n *Node) authorizeGet(ctx context.Context, nodeName string, kind objectKind, a Attributes) (Decision, string, error) {
	if a.Verb != "get" {
		return NoOpinion, "can only get individual resources of this type", nil
	}
	if a.Subresource != "" {
		return NoOpinion, "cannot get subresource", nil
	}
	return n.authorizeRelated(ctx, nodeName, kind, a)
}

func (n *Node) authorizeStatusUpdate(ctx context.Context, nodeName string, kind objectKind, a Attributes) (Decision, string, error) {
	if a.Verb != "update" && a.Verb != "patch" {
		return NoOpinion, "can only get/update/patch this type", nil
	}
	return n.authorizeRelated(ctx, nodeName, kind, a)
}

func (n *Node) authorizeCreateToken(ctx context.Context, nodeName string, a Attributes) (Decision, string, error) {
	if a.Verb != "create" || a.Name == "" {
		return NoOpinion, "can only create tokens for individual service accounts", nil
	}
	if a.Subresource != "token" {
		return NoOpinion, "can only create token subresource of serviceaccount", nil
	}
	return n.authorizeRelated(ctx, nodeName, kindServiceAccount, a)
}

func (n *Node) authorizeRelated(ctx context.Context, nodeName string, kind objectKind, a Attributes) (Decision, string, error) {
	if a.Name == "" {
		return NoOpinion, "No Object name found", nil
	}
	ok, err := n.related(ctx, nodeName, kind, a.Namespace, a.Name)
	if err != nil {
		return NoOpinion, noRelationship(nodeName), err
	}
	if !ok {
		return NoOpinion, noRelationship(nodeName), nil
	}
	return Allow, "", nil
}

func noRelationship(nodeName string) string {
	return fmt.Sprintf("no relationship found between node '%s' and this object", nodeName)
}

// related reports whether the object kind namespace/name is used by a pod bound to nodeName.
func (n *Node) related(ctx context.Context, nodeName string, kind objectKind, namespace, name string) (bool, error) {
	pods, err := n.graph.PodsOnNode(ctx, nodeName)
	if err != nil {
		return false, fmt.Errorf("node authorizer: listing pods on node %q: %w", nodeName, err)
	}
	switch kind {
	case kindSecret:
		for _, p := range pods {
			if p.Namespace == namespace && contains(podSecretNames(p), name) {
				return true, nil
			}
		}
		// Credentials referenced by the persistent volumes the pods mount.
		return n.anyBoundVolume(ctx, pods, func(_ *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) bool {
			for _, ref := range pvSecretRefs(pv) {
				if ref == namespace+"/"+name {
					return true
				}
			}
			return false
		})
	case kindConfigMap:
		for _, p := range pods {
			if p.Namespace == namespace && contains(podConfigMapNames(p), name) {
				return true, nil
			}
		}
		return false, nil
	case kindPVC:
		for _, p := range pods {
			if p.Namespace == namespace && contains(podClaimNames(p), name) {
				return true, nil
			}
		}
		return false, nil
	case kindPV:
		return n.anyBoundClaim(ctx, pods, func(pvc *corev1.PersistentVolumeClaim) bool {
			return pvc.Spec.VolumeName == name
		})
	case kindServiceAccount:
		for _, p := range pods {
			if p.Namespace == namespace && p.Spec.ServiceAccountName == name {
				return true, nil
			}
		}
		return false, nil
	}
	return false, nil
}

// anyBoundClaim reports whether f holds for some existing claim used by pods.
func (n *Node) anyBoundClaim(ctx context.Context, pods []*corev1.Pod, f func(*corev1.PersistentVolumeClaim) bool) (bool, error) {
	for _, p := range pods {
		for _, claim := range podClaimNames(p) {
			pvc, err := n.graph.GetPersistentVolumeClaim(ctx, p.Namespace, claim)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return false, fmt.Errorf("node authorizer: getting persistentvolumeclaim %s/%s: %w", p.Namespace, claim, err)
			}
			if f(pvc) {
				return true, nil
			}
		}
	}
	return false, nil
}

// anyBoundVolume reports whether f holds for some existing volume bound to a claim used by pods.
func (n *Node) anyBoundVolume(ctx context.Context, pods []*corev1.Pod, f func(*corev1.PersistentVolumeClaim, *corev1.PersistentVolume) bool) (bool, error) {
	var getErr error
	found, err := n.anyBoundClaim(ctx, pods, func(pvc *corev1.PersistentVolumeClaim) bool {
		if pvc.Spec.VolumeName == "" {
			return false
		}
		pv, err := n.graph.GetPersistentVolume(ctx, pvc.Spec.VolumeName)
		if apierrors.IsNotFound(err) {
			return false
		}
		if err != nil {
			getErr = fmt.Errorf("node authorizer: getting persistentvolume %s: %w", pvc.Spec.VolumeName, err)
			return true
		}
		return f(pvc, pv)
	})
	if err != nil {
		return false, err
	}
	if getErr != nil {
		return false, getErr
	}
	return found, nil
}

// forEachContainerEnv calls f with the env and envFrom of every container, init container and
// ephemeral container of p.
func forEachContainerEnv(p *corev1.Pod, f func([]corev1.EnvVar, []corev1.EnvFromSource)) {
	for i := range p.Spec.InitContainers {
		f(p.Spec.InitContainers[i].Env, p.Spec.InitContainers[i].EnvFrom)
	}
	for i := range p.Spec.Containers {
		f(p.Spec.Containers[i].Env, p.Spec.Containers[i].EnvFrom)
	}
	for i := range p.Spec.EphemeralContainers {
		f(p.Spec.EphemeralContainers[i].Env, p.Spec.EphemeralContainers[i].EnvFrom)
	}
}

// podSecretNames lists the secrets (in the pod's namespace) a pod references: image pull
// secrets, secret and projected volumes, volume plugin credentials and env sources.
func podSecretNames(p *corev1.Pod) []string {
	var names []string
	add := func(n string) {
		if n != "" {
			names = append(names, n)
		}
	}
	addRef := func(ref *corev1.LocalObjectReference) {
		if ref != nil {
			add(ref.Name)
		}
	}
	for _, s := range p.Spec.ImagePullSecrets {
		add(s.Name)
	}
	for i := range p.Spec.Volumes {
		vs := &p.Spec.Volumes[i].VolumeSource
		switch {
		case vs.Secret != nil:
			add(vs.Secret.SecretName)
		case vs.Projected != nil:
			for _, src := range vs.Projected.Sources {
				if src.Secret != nil {
					add(src.Secret.Name)
				}
			}
		case vs.AzureFile != nil:
			add(vs.AzureFile.SecretName)
		case vs.CephFS != nil:
			addRef(vs.CephFS.SecretRef)
		case vs.Cinder != nil:
			addRef(vs.Cinder.SecretRef)
		case vs.FlexVolume != nil:
			addRef(vs.FlexVolume.SecretRef)
		case vs.ISCSI != nil:
			addRef(vs.ISCSI.SecretRef)
		case vs.RBD != nil:
			addRef(vs.RBD.SecretRef)
		case vs.ScaleIO != nil:
			addRef(vs.ScaleIO.SecretRef)
		case vs.StorageOS != nil:
			addRef(vs.StorageOS.SecretRef)
		case vs.CSI != nil:
			addRef(vs.CSI.NodePublishSecretRef)
		}
	}
	forEachContainerEnv(p, func(env []corev1.EnvVar, envFrom []corev1.EnvFromSource) {
		for _, e := range envFrom {
			if e.SecretRef != nil {
				add(e.SecretRef.Name)
			}
		}
		for _, e := range env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				add(e.ValueFrom.SecretKeyRef.Name)
			}
		}
	})
	return names
}

// podConfigMapNames lists the configmaps (in the pod's namespace) a pod references.
func podConfigMapNames(p *corev1.Pod) []string {
	var names []string
	for i := range p.Spec.Volumes {
		vs := &p.Spec.Volumes[i].VolumeSource
		switch {
		case vs.ConfigMap != nil:
			names = append(names, vs.ConfigMap.Name)
		case vs.Projected != nil:
			for _, src := range vs.Projected.Sources {
				if src.ConfigMap != nil {
					names = append(names, src.ConfigMap.Name)
				}
			}
		}
	}
	forEachContainerEnv(p, func(env []corev1.EnvVar, envFrom []corev1.EnvFromSource) {
		for _, e := range envFrom {
			if e.ConfigMapRef != nil {
				names = append(names, e.ConfigMapRef.Name)
			}
		}
		for _, e := range env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				names = append(names, e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	})
	return names
}

// podClaimNames lists the persistent volume claims a pod uses, including the claims
// generated for its generic ephemeral volumes (named <pod>-<volume>).
func podClaimNames(p *corev1.Pod) []string {
	var names []string
	for i := range p.Spec.Volumes {
		vol := &p.Spec.Volumes[i]
		switch {
		case vol.PersistentVolumeClaim != nil:
			names = append(names, vol.PersistentVolumeClaim.ClaimName)
		case vol.Ephemeral != nil:
			names = append(names, p.Name+"-"+vol.Name)
		}
	}
	return names
}

// pvSecretRefs lists, as namespace/name, the secrets a persistent volume's plugin uses.
// References without a namespace default to the bound claim's namespace.
func pvSecretRefs(pv *corev1.PersistentVolume) []string {
	claimNS := ""
	if pv.Spec.ClaimRef != nil {
		claimNS = pv.Spec.ClaimRef.Namespace
	}
	var refs []string
	add := func(ns, name string) {
		if name == "" {
			return
		}
		if ns == "" {
			ns = claimNS
		}
		refs = append(refs, ns+"/"+name)
	}
	addRef := func(ref *corev1.SecretReference) {
		if ref != nil {
			add(ref.Namespace, ref.Name)
		}
	}
	src := &pv.Spec.PersistentVolumeSource
	switch {
	case src.AzureFile != nil:
		ns := ""
		if src.AzureFile.SecretNamespace != nil {
			ns = *src.AzureFile.SecretNamespace
		}
		add(ns, src.AzureFile.SecretName)
	case src.CephFS != nil:
		addRef(src.CephFS.SecretRef)
	case src.Cinder != nil:
		addRef(src.Cinder.SecretRef)
	case src.FlexVolume != nil:
		addRef(src.FlexVolume.SecretRef)
	case src.ISCSI != nil:
		addRef(src.ISCSI.SecretRef)
	case src.RBD != nil:
		addRef(src.RBD.SecretRef)
	case src.ScaleIO != nil:
		addRef(src.ScaleIO.SecretRef)
	case src.StorageOS != nil:
		if src.StorageOS.SecretRef != nil {
			add(src.StorageOS.SecretRef.Namespace, src.StorageOS.SecretRef.Name)
		}
	case src.CSI != nil:
		addRef(src.CSI.ControllerPublishSecretRef)
		addRef(src.CSI.ControllerExpandSecretRef)
		addRef(src.CSI.NodeStageSecretRef)
		addRef(src.CSI.NodePublishSecretRef)
		addRef(src.CSI.NodeExpandSecretRef)
	}
	return refs
}

// authorizeLease lets a node manage its own heartbeat Lease in kube-node-lease. create is
// allowed without a name check, which the node-restriction admission step performs.
func authorizeLease(nodeName string, a Attributes) (Decision, string, error) {
	switch a.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return NoOpinion, "can only get, create, update, patch, or delete a node lease", nil
	}
	if a.Namespace != NodeLeaseNamespace {
		return NoOpinion, fmt.Sprintf("can only access leases in the %q system namespace", NodeLeaseNamespace), nil
	}
	if a.Verb != "create" && a.Name != nodeName {
		return NoOpinion, "can only access node lease with the same name as the requesting node", nil
	}
	return Allow, "", nil
}

// authorizeCSINode lets a node manage the CSINode object named after it.
func authorizeCSINode(nodeName string, a Attributes) (Decision, string, error) {
	switch a.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return NoOpinion, "can only get, create, update, patch, or delete a CSINode", nil
	}
	if a.Subresource != "" {
		return NoOpinion, "cannot authorize CSINode subresources", nil
	}
	if a.Verb != "create" && a.Name != nodeName {
		return NoOpinion, "can only access CSINode with the same name as the requesting node", nil
	}
	return Allow, "", nil
}

// authorizeNodeObject restricts a node to its own Node object and status. done is false when
// the request should fall through to NodeRules (an unnamed list or watch of nodes).
func authorizeNodeObject(nodeName string, a Attributes) (d Decision, reason string, done bool) {
	switch a.Subresource {
	case "":
		switch a.Verb {
		case "create":
			// The name is in the body; node-restriction admission checks it.
			if a.Name == "" || a.Name == nodeName {
				return Allow, "", true
			}
			return NoOpinion, fmt.Sprintf("node '%s' cannot modify '%s', only its own Node object", nodeName, a.Name), true
		case "get", "list", "watch":
			switch a.Name {
			case nodeName:
				return Allow, "", true
			case "":
				if a.Verb == "get" {
					return NoOpinion, fmt.Sprintf("node '%s' cannot read all nodes, only its own Node object", nodeName), true
				}
				return NoOpinion, "", false
			default:
				return NoOpinion, fmt.Sprintf("node '%s' cannot read '%s', only its own Node object", nodeName, a.Name), true
			}
		case "update", "patch":
			if a.Name == nodeName {
				return Allow, "", true
			}
			return NoOpinion, fmt.Sprintf("node '%s' cannot modify '%s', only its own Node object", nodeName, a.Name), true
		}
	case "status":
		switch a.Verb {
		case "update", "patch":
			if a.Name == nodeName {
				return Allow, "", true
			}
			return NoOpinion, fmt.Sprintf("node '%s' cannot modify '%s', only its own Node object", nodeName, a.Name), true
		}
	}
	return NoOpinion, "", true
}
