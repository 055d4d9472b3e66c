package admission

import (
	"context"
	"maps"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// NodeLeaseNamespace is where kubelets keep their heartbeat Leases.
const NodeLeaseNamespace = corev1.NamespaceNodeLease

// NodeRestriction limits what a kubelet (user system:node:<name> in group system:nodes) may
// write to objects that concern its own node: its Node, its Lease, status of pods bound to it,
// mirror pods for its static pods. RBAC's system:node role grants the verbs cluster-wide; this
// plugin narrows them so a compromised node cannot take over other nodes or steer workloads.
type NodeRestriction struct {
	pods  PodGetter
	nodes NodeGetter
}

// NewNodeRestriction builds the plugin; it needs deps.Pods and deps.Nodes.
func NewNodeRestriction(deps Deps) (*NodeRestriction, error) {
	if err := requireDep(NodeRestrictionPluginName, "Pods", deps.Pods != nil); err != nil {
		return nil, err
	}
	if err := requireDep(NodeRestrictionPluginName, "Nodes", deps.Nodes != nil); err != nil {
		return nil, err
	}
	return &NodeRestriction{pods: deps.Pods, nodes: deps.Nodes}, nil
}

// Name implements Plugin.
func (*NodeRestriction) Name() string { return NodeRestrictionPluginName }

// NodeIdentity returns the node name of a kubelet identity and whether u is a node at all: the
// user name must start with system:node: and the user must be in system:nodes.
func NodeIdentity(u authn.User) (string, bool) {
	if !strings.HasPrefix(u.Name, authn.NodeUserPrefix) || !u.InGroup(authn.NodesGroup) {
		return "", false
	}
	return strings.TrimPrefix(u.Name, authn.NodeUserPrefix), true
}

// Admit implements Mutator (kube-apiserver runs NodeRestriction in the mutating phase; it never
// changes the object).
func (p *NodeRestriction) Admit(ctx context.Context, a *Attributes) error {
	if a.Operation != Create && a.Operation != Update && a.Operation != Delete {
		return nil
	}
	nodeName, isNode := NodeIdentity(a.User)
	if !isNode {
		return nil
	}
	if nodeName == "" {
		return forbiddenf(a, "could not determine node from user %q", a.User.Name)
	}
	switch a.groupResource() {
	case podsResource:
		switch a.Subresource {
		case "":
			return p.admitPod(ctx, nodeName, a)
		case "status":
			return p.admitPodStatus(nodeName, a)
		case "eviction":
			return p.admitPodEviction(ctx, nodeName, a)
		default:
			return forbiddenf(a, "unexpected pod subresource %q, only 'status' and 'eviction' are allowed", a.Subresource)
		}
	case nodesResource:
		return p.admitNode(nodeName, a)
	case pvcResource:
		if a.Subresource == "status" {
			return p.admitPVCStatus(nodeName, a)
		}
		return forbiddenf(a, "may only update PVC status")
	case serviceAccountsResource:
		return p.admitServiceAccount(ctx, nodeName, a)
	case leasesResource:
		return p.admitLease(nodeName, a)
	case csiNodesResource:
		if p.requestName(a) != nodeName {
			return forbiddenf(a, "can only access CSINode with the same name as the requesting node")
		}
	}
	return nil
}

// requestName is the URL name, or on create the object's name.
func (p *NodeRestriction) requestName(a *Attributes) string {
	if a.Operation == Create && a.Object != nil {
		if acc, err := meta.Accessor(a.Object); err == nil && acc.GetName() != "" {
			return acc.GetName()
		}
	}
	return a.Name
}

func (p *NodeRestriction) admitPod(ctx context.Context, nodeName string, a *Attributes) error {
	switch a.Operation {
	case Create:
		return p.admitPodCreate(ctx, nodeName, a)
	case Delete:
		pod, err := p.pods.GetPod(ctx, a.Namespace, a.Name)
		if apierrors.IsNotFound(err) {
			return err
		}
		if err != nil {
			return forbidden(a, err)
		}
		if pod.Spec.NodeName != nodeName {
			return forbiddenf(a, "node %q can only delete pods with spec.nodeName set to itself", nodeName)
		}
		return nil
	default:
		return forbiddenf(a, "unexpected operation %q, node %q can only create and delete mirror pods", a.Operation, nodeName)
	}
}

func (p *NodeRestriction) admitPodCreate(ctx context.Context, nodeName string, a *Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return forbiddenf(a, "unexpected type %T", a.Object)
	}
	if _, mirror := pod.Annotations[MirrorPodAnnotationKey]; !mirror {
		return forbiddenf(a, "pod does not have %q annotation, node %q can only create mirror pods", MirrorPodAnnotationKey, nodeName)
	}
	if pod.Spec.NodeName != nodeName {
		return forbiddenf(a, "node %q can only create pods with spec.nodeName set to itself", nodeName)
	}
	switch len(pod.OwnerReferences) {
	case 0:
		return forbiddenf(a, "node %q can only create pods with an owner reference set to itself", nodeName)
	case 1:
	default:
		return forbiddenf(a, "node %q can only create pods with a single owner reference set to itself", nodeName)
	}
	owner := pod.OwnerReferences[0]
	if owner.APIVersion != "v1" || owner.Kind != "Node" || owner.Name != nodeName {
		return forbiddenf(a, "node %q can only create pods with an owner reference set to itself", nodeName)
	}
	if owner.Controller == nil || !*owner.Controller {
		return forbiddenf(a, "node %q can only create pods with a controller owner reference set to itself", nodeName)
	}
	if owner.BlockOwnerDeletion != nil && *owner.BlockOwnerDeletion {
		return forbiddenf(a, "node %q must not set blockOwnerDeletion on an owner reference", nodeName)
	}
	node, err := p.nodes.GetNode(ctx, nodeName)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return forbiddenf(a, "error looking up node %s to verify uid: %v", nodeName, err)
	}
	if owner.UID != node.UID {
		return forbiddenf(a, "node %s UID mismatch: expected %s got %s", nodeName, owner.UID, node.UID)
	}
	if pod.Spec.ServiceAccountName != "" {
		return forbiddenf(a, "node %q can not create pods that reference a service account", nodeName)
	}
	if podReferencesSecrets(pod) {
		return forbiddenf(a, "node %q can not create pods that reference secrets", nodeName)
	}
	if podReferencesConfigMaps(pod) {
		return forbiddenf(a, "node %q can not create pods that reference configmaps", nodeName)
	}
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ClusterTrustBundle != nil {
				return forbiddenf(a, "node %q can not create pods that reference clustertrustbundles", nodeName)
			}
		}
	}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			return forbiddenf(a, "node %q can not create pods that reference persistentvolumeclaims", nodeName)
		}
	}
	return nil
}

func (p *NodeRestriction) admitPodStatus(nodeName string, a *Attributes) error {
	if a.Operation != Update {
		return forbiddenf(a, "unexpected operation %q", a.Operation)
	}
	oldPod, ok := a.OldObject.(*corev1.Pod)
	if !ok {
		return forbiddenf(a, "unexpected type %T", a.OldObject)
	}
	if oldPod.Spec.NodeName != nodeName {
		return forbiddenf(a, "node %q can only update pod status for pods with spec.nodeName set to itself", nodeName)
	}
	newPod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return forbiddenf(a, "unexpected type %T", a.Object)
	}
	if !maps.Equal(oldPod.Labels, newPod.Labels) {
		return forbiddenf(a, "node %q cannot update labels through pod status", nodeName)
	}
	if !equality.Semantic.DeepEqual(claimStatusKeys(oldPod.Status.ResourceClaimStatuses), claimStatusKeys(newPod.Status.ResourceClaimStatuses)) {
		return forbiddenf(a, "node %q cannot update resource claim statues", nodeName)
	}
	return nil
}

func claimStatusKeys(in []corev1.PodResourceClaimStatus) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		k := s.Name + "\x00"
		if s.ResourceClaimName != nil {
			k += "=" + *s.ResourceClaimName
		}
		out = append(out, k)
	}
	return out
}

func (p *NodeRestriction) admitPodEviction(ctx context.Context, nodeName string, a *Attributes) error {
	if a.Operation != Create {
		return forbiddenf(a, "unexpected operation %s", a.Operation)
	}
	podName := a.Name
	if podName == "" {
		ev, ok := a.Object.(*policyv1.Eviction)
		if !ok {
			return forbiddenf(a, "unexpected type %T", a.Object)
		}
		if ev.Name == "" {
			return forbiddenf(a, "could not determine pod from request data")
		}
		podName = ev.Name
	}
	pod, err := p.pods.GetPod(ctx, a.Namespace, podName)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return forbidden(a, err)
	}
	if pod.Spec.NodeName != nodeName {
		return forbiddenf(a, "node %s can only evict pods with spec.nodeName set to itself", nodeName)
	}
	return nil
}

func (p *NodeRestriction) admitPVCStatus(nodeName string, a *Attributes) error {
	if a.Operation != Update {
		return forbiddenf(a, "unexpected operation %q", a.Operation)
	}
	oldPVC, ok := a.OldObject.(*corev1.PersistentVolumeClaim)
	if !ok {
		return forbiddenf(a, "unexpected type %T", a.OldObject)
	}
	newPVC, ok := a.Object.(*corev1.PersistentVolumeClaim)
	if !ok {
		return forbiddenf(a, "unexpected type %T", a.Object)
	}
	oldPVC, newPVC = oldPVC.DeepCopy(), newPVC.DeepCopy()
	for _, c := range []*corev1.PersistentVolumeClaim{oldPVC, newPVC} {
		c.ResourceVersion = ""
		c.ManagedFields = nil
		c.Status.Capacity = nil
		c.Status.Conditions = nil
		c.Status.AllocatedResources = nil
		c.Status.AllocatedResourceStatuses = nil
	}
	if !equality.Semantic.DeepEqual(oldPVC, newPVC) {
		return forbiddenf(a, "node %q is not allowed to update fields other than status.quantity and status.conditions", nodeName)
	}
	return nil
}

func (p *NodeRestriction) admitNode(nodeName string, a *Attributes) error {
	requested := p.requestName(a)
	if requested != nodeName {
		return forbiddenf(a, "node %q is not allowed to modify node %q", nodeName, requested)
	}
	switch a.Operation {
	case Create:
		node, ok := a.Object.(*corev1.Node)
		if !ok {
			return forbiddenf(a, "unexpected type %T", a.Object)
		}
		if node.Spec.ConfigSource != nil {
			return forbiddenf(a, "node %q is not allowed to create pods with a non-nil configSource", nodeName)
		}
		if bad := forbiddenNodeLabels(modifiedLabels(node.Labels, nil)); len(bad) > 0 {
			return forbiddenf(a, "node %q is not allowed to set the following labels: %s", nodeName, strings.Join(bad, ", "))
		}
	case Update:
		node, ok := a.Object.(*corev1.Node)
		if !ok {
			return forbiddenf(a, "unexpected type %T", a.Object)
		}
		oldNode, ok := a.OldObject.(*corev1.Node)
		if !ok {
			return forbiddenf(a, "unexpected type %T", a.OldObject)
		}
		if node.Spec.ConfigSource != nil && !equality.Semantic.DeepEqual(node.Spec.ConfigSource, oldNode.Spec.ConfigSource) {
			return forbiddenf(a, "node %q is not allowed to update configSource to a new non-nil configSource", nodeName)
		}
		if !equality.Semantic.DeepEqual(node.Spec.Taints, oldNode.Spec.Taints) {
			return forbiddenf(a, "node %q is not allowed to modify taints", nodeName)
		}
		if bad := forbiddenNodeLabels(modifiedLabels(node.Labels, oldNode.Labels)); len(bad) > 0 {
			return forbiddenf(a, "is not allowed to modify labels: %s", strings.Join(bad, ", "))
		}
	}
	return nil
}

// modifiedLabels returns the keys added, removed or changed between two label maps.
func modifiedLabels(a, b map[string]string) []string {
	set := map[string]bool{}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			set[k] = true
		}
	}
	for k, v := range b {
		if w, ok := a[k]; !ok || v != w {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func labelNamespace(key string) string {
	if i := strings.Index(key, "/"); i >= 0 {
		return key[:i]
	}
	return ""
}

func inLabelDomain(ns, domain string) bool {
	return ns == domain || strings.HasSuffix(ns, "."+domain)
}

// kubeletLabels are the kubernetes.io labels a kubelet may set on its own Node.
var kubeletLabels = map[string]bool{
	corev1.LabelHostname:                true,
	corev1.LabelTopologyZone:            true,
	corev1.LabelTopologyRegion:          true,
	corev1.LabelFailureDomainBetaZone:   true,
	corev1.LabelFailureDomainBetaRegion: true,
	corev1.LabelInstanceType:            true,
	corev1.LabelInstanceTypeStable:      true,
	corev1.LabelOSStable:                true,
	corev1.LabelArchStable:              true,
	"beta.kubernetes.io/os":             true,
	"beta.kubernetes.io/arch":           true,
}

// IsKubeletLabel reports whether a kubelet may set the label key on its Node: the well-known
// topology/os/arch/hostname labels and anything under kubelet.kubernetes.io or
// node.kubernetes.io.
func IsKubeletLabel(key string) bool {
	if kubeletLabels[key] {
		return true
	}
	ns := labelNamespace(key)
	return inLabelDomain(ns, corev1.LabelNamespaceSuffixKubelet) || inLabelDomain(ns, corev1.LabelNamespaceSuffixNode)
}

// forbiddenNodeLabels returns the sorted keys a node may not add, change or remove: anything
// under node-restriction.kubernetes.io (reserved for admins to steer workloads to trusted
// nodes) and kubernetes.io/k8s.io labels outside the kubelet set.
func forbiddenNodeLabels(modified []string) []string {
	var out []string
	for _, k := range modified {
		ns := labelNamespace(k)
		switch {
		case inLabelDomain(ns, corev1.LabelNamespaceNodeRestriction):
			out = append(out, k)
		case (inLabelDomain(ns, "kubernetes.io") || inLabelDomain(ns, "k8s.io")) && !IsKubeletLabel(k):
			out = append(out, k)
		}
	}
	return out
}

func (p *NodeRestriction) admitServiceAccount(ctx context.Context, nodeName string, a *Attributes) error {
	if a.Operation != Create || a.Subresource != "token" {
		return nil
	}
	tr, ok := a.Object.(*authenticationv1.TokenRequest)
	if !ok {
		return forbiddenf(a, "unexpected type %T", a.Object)
	}
	ref := tr.Spec.BoundObjectRef
	if ref == nil || ref.APIVersion != "v1" || ref.Kind != "Pod" || ref.Name == "" {
		return forbiddenf(a, "node requested token not bound to a pod")
	}
	if ref.UID == "" {
		return forbiddenf(a, "node requested token with a pod binding without a uid")
	}
	pod, err := p.pods.GetPod(ctx, a.Namespace, ref.Name)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return forbidden(a, err)
	}
	if ref.UID != pod.UID {
		return forbiddenf(a, "the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID)
	}
	if pod.Spec.NodeName != nodeName {
		return forbiddenf(a, "node requested token bound to a pod scheduled on a different node")
	}
	return nil
}

func (p *NodeRestriction) admitLease(nodeName string, a *Attributes) error {
	if a.Namespace != NodeLeaseNamespace {
		return forbiddenf(a, "can only access leases in the %q system namespace", NodeLeaseNamespace)
	}
	name := a.Name
	if a.Operation == Create {
		lease, ok := a.Object.(*coordinationv1.Lease)
		if !ok {
			return forbiddenf(a, "unexpected type %T", a.Object)
		}
		name = lease.Name
	}
	if name != nodeName {
		return forbiddenf(a, "can only access node lease with the same name as the requesting node")
	}
	return nil
}
