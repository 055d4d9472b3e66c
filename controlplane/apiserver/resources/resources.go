package resources

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kforge.dev/kforge/controlplane/apiserver/registry"
	"kforge.dev/kforge/controlplane/storage"
)

// Definition is one resource as the apiserver serves it.
type Definition struct {
	// GVK is the kind and the group/version it is served at.
	GVK schema.GroupVersionKind
	// Plural is the resource name in URLs; Singular, ShortNames and Categories feed discovery.
	Plural, Singular string
	ShortNames       []string
	Categories       []string
	// Namespaced says whether objects live in namespaces.
	Namespaced bool
	// New and NewList make empty objects of the resource's types.
	New, NewList func() runtime.Object
	// Strategy holds the resource's rules; HasStatus adds the /status subresource.
	Strategy  registry.Strategy
	HasStatus bool
	// NameValidator checks names (DNS subdomain when nil).
	NameValidator registry.NameValidator
	// GetAttrs adds resource-specific field selectors (metadata.name/namespace when nil).
	GetAttrs storage.AttrFunc
	// CreateOnly marks a review: a request the apiserver answers without storing anything
	// (access reviews, token reviews), so it has no storage and no verb but create.
	CreateOnly bool
}

// GroupResource names the resource for errors and storage.
func (d Definition) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: d.GVK.Group, Resource: d.Plural}
}

// GroupVersionResource is where the resource is served.
func (d Definition) GroupVersionResource() schema.GroupVersionResource {
	return d.GVK.GroupVersion().WithResource(d.Plural)
}

// StoragePrefix is the resource's etcd key prefix, kube-apiserver's layout: core resources
// directly under /registry, others too (kube-apiserver uses the plural without the group).
func (d Definition) StoragePrefix() string {
	switch d.Plural {
	case "services":
		return "/registry/services/specs"
	case "endpoints":
		return "/registry/services/endpoints"
	case "nodes":
		return "/registry/minions"
	case "serviceaccounts":
		return "/registry/serviceaccounts"
	case "certificatesigningrequests":
		return "/registry/certificatesigningrequests"
	case "leases":
		return "/registry/leases"
	}
	return "/registry/" + d.Plural
}

// review defines a create-only review resource.
func review(k schema.GroupVersionKind, plural string, namespaced bool, newFn func() runtime.Object) Definition {
	return Definition{GVK: k, Plural: plural, Singular: strings.ToLower(k.Kind), Namespaced: namespaced, New: newFn, CreateOnly: true}
}

func gvk(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}

// All returns every resource kforge serves.
func All() []Definition {
	withStatus := func(d Definition) Definition { d.HasStatus = true; return d }
	return []Definition{
		withStatus(Definition{GVK: gvk("", "v1", "Namespace"), Plural: "namespaces", Singular: "namespace", ShortNames: []string{"ns"},
			New: func() runtime.Object { return &corev1.Namespace{} }, NewList: func() runtime.Object { return &corev1.NamespaceList{} },
			Strategy: specStatus{defaults: defaultNamespace, validate: validateNamespace}, NameValidator: registry.ValidateDNSLabelName, GetAttrs: namespaceAttrs}),
		withStatus(Definition{GVK: gvk("", "v1", "Node"), Plural: "nodes", Singular: "node", ShortNames: []string{"no"},
			New: func() runtime.Object { return &corev1.Node{} }, NewList: func() runtime.Object { return &corev1.NodeList{} },
			Strategy: specStatus{validate: validateNode, validateUpdate: validateNodeUpdate}, GetAttrs: nodeAttrs}),
		withStatus(Definition{GVK: gvk("", "v1", "Pod"), Plural: "pods", Singular: "pod", ShortNames: []string{"po"}, Categories: []string{"all"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.Pod{} }, NewList: func() runtime.Object { return &corev1.PodList{} },
			Strategy: specStatus{generation: true, defaults: defaultPod, validate: validatePod, validateUpdate: validatePodUpdate}, GetAttrs: podAttrs}),
		withStatus(Definition{GVK: gvk("", "v1", "Service"), Plural: "services", Singular: "service", ShortNames: []string{"svc"}, Categories: []string{"all"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.Service{} }, NewList: func() runtime.Object { return &corev1.ServiceList{} },
			Strategy: specStatus{defaults: defaultService, validate: validateService}, NameValidator: registry.ValidateDNSLabelName}),
		{GVK: gvk("", "v1", "Endpoints"), Plural: "endpoints", Singular: "endpoints", ShortNames: []string{"ep"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.Endpoints{} }, NewList: func() runtime.Object { return &corev1.EndpointsList{} },
			Strategy: plain{defaults: defaultEndpoints, validate: validateEndpoints}},
		{GVK: gvk("", "v1", "ConfigMap"), Plural: "configmaps", Singular: "configmap", ShortNames: []string{"cm"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.ConfigMap{} }, NewList: func() runtime.Object { return &corev1.ConfigMapList{} },
			Strategy: plain{validate: validateConfigMap}},
		{GVK: gvk("", "v1", "Secret"), Plural: "secrets", Singular: "secret", Namespaced: true,
			New: func() runtime.Object { return &corev1.Secret{} }, NewList: func() runtime.Object { return &corev1.SecretList{} },
			Strategy: plain{defaults: defaultSecret, validate: validateSecret}, GetAttrs: secretAttrs},
		{GVK: gvk("", "v1", "ServiceAccount"), Plural: "serviceaccounts", Singular: "serviceaccount", ShortNames: []string{"sa"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.ServiceAccount{} }, NewList: func() runtime.Object { return &corev1.ServiceAccountList{} },
			Strategy: plain{}},
		{GVK: gvk("", "v1", "Event"), Plural: "events", Singular: "event", ShortNames: []string{"ev"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.Event{} }, NewList: func() runtime.Object { return &corev1.EventList{} },
			Strategy: plain{validate: validateEvent}, GetAttrs: eventAttrs},
		{GVK: gvk("", "v1", "LimitRange"), Plural: "limitranges", Singular: "limitrange", ShortNames: []string{"limits"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.LimitRange{} }, NewList: func() runtime.Object { return &corev1.LimitRangeList{} },
			Strategy: plain{validate: validateLimitRange}},
		withStatus(Definition{GVK: gvk("", "v1", "ResourceQuota"), Plural: "resourcequotas", Singular: "resourcequota", ShortNames: []string{"quota"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.ResourceQuota{} }, NewList: func() runtime.Object { return &corev1.ResourceQuotaList{} },
			Strategy: specStatus{validate: validateResourceQuota, validateUpdate: validateResourceQuotaUpdate}}),

		withStatus(Definition{GVK: gvk("apps", "v1", "Deployment"), Plural: "deployments", Singular: "deployment", ShortNames: []string{"deploy"}, Categories: []string{"all"}, Namespaced: true,
			New: func() runtime.Object { return &appsv1.Deployment{} }, NewList: func() runtime.Object { return &appsv1.DeploymentList{} },
			Strategy: specStatus{generation: true, defaults: defaultDeployment, validate: validateDeployment, validateUpdate: validateDeploymentUpdate}}),
		withStatus(Definition{GVK: gvk("apps", "v1", "ReplicaSet"), Plural: "replicasets", Singular: "replicaset", ShortNames: []string{"rs"}, Categories: []string{"all"}, Namespaced: true,
			New: func() runtime.Object { return &appsv1.ReplicaSet{} }, NewList: func() runtime.Object { return &appsv1.ReplicaSetList{} },
			Strategy: specStatus{generation: true, defaults: defaultReplicaSet, validate: validateReplicaSet, validateUpdate: validateReplicaSetUpdate}}),
		withStatus(Definition{GVK: gvk("apps", "v1", "DaemonSet"), Plural: "daemonsets", Singular: "daemonset", ShortNames: []string{"ds"}, Categories: []string{"all"}, Namespaced: true,
			New: func() runtime.Object { return &appsv1.DaemonSet{} }, NewList: func() runtime.Object { return &appsv1.DaemonSetList{} },
			Strategy: specStatus{generation: true, defaults: defaultDaemonSet, validate: validateDaemonSet, validateUpdate: validateDaemonSetUpdate}}),
		withStatus(Definition{GVK: gvk("apps", "v1", "StatefulSet"), Plural: "statefulsets", Singular: "statefulset", ShortNames: []string{"sts"}, Categories: []string{"all"}, Namespaced: true,
			New: func() runtime.Object { return &appsv1.StatefulSet{} }, NewList: func() runtime.Object { return &appsv1.StatefulSetList{} },
			Strategy: specStatus{generation: true, defaults: defaultStatefulSet, validate: validateStatefulSet, validateUpdate: validateStatefulSetUpdate}}),
		withStatus(Definition{GVK: gvk("batch", "v1", "Job"), Plural: "jobs", Singular: "job", Categories: []string{"all"}, Namespaced: true,
			New: func() runtime.Object { return &batchv1.Job{} }, NewList: func() runtime.Object { return &batchv1.JobList{} },
			Strategy: specStatus{generation: true, defaults: defaultJob, validate: validateJob, validateUpdate: validateJobUpdate}}),
		{GVK: gvk("discovery.k8s.io", "v1", "EndpointSlice"), Plural: "endpointslices", Singular: "endpointslice", Namespaced: true,
			New: func() runtime.Object { return &discoveryv1.EndpointSlice{} }, NewList: func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
			Strategy: plain{defaults: defaultEndpointSlice, validate: validateEndpointSlice, validateUpdate: validateEndpointSliceUpdate}},
		{GVK: gvk("coordination.k8s.io", "v1", "Lease"), Plural: "leases", Singular: "lease", Namespaced: true,
			New: func() runtime.Object { return &coordinationv1.Lease{} }, NewList: func() runtime.Object { return &coordinationv1.LeaseList{} },
			Strategy: plain{validate: validateLease}},
		withStatus(Definition{GVK: gvk("certificates.k8s.io", "v1", "CertificateSigningRequest"), Plural: "certificatesigningrequests", Singular: "certificatesigningrequest", ShortNames: []string{"csr"},
			New: func() runtime.Object { return &certificatesv1.CertificateSigningRequest{} }, NewList: func() runtime.Object { return &certificatesv1.CertificateSigningRequestList{} },
			Strategy: specStatus{validate: validateCertificateSigningRequest}}),
		withStatus(Definition{GVK: gvk("policy", "v1", "PodDisruptionBudget"), Plural: "poddisruptionbudgets", Singular: "poddisruptionbudget", ShortNames: []string{"pdb"}, Namespaced: true,
			New: func() runtime.Object { return &policyv1.PodDisruptionBudget{} }, NewList: func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
			Strategy: specStatus{generation: true, validate: validatePodDisruptionBudget}}),
		{GVK: gvk("rbac.authorization.k8s.io", "v1", "Role"), Plural: "roles", Singular: "role", Namespaced: true,
			New: func() runtime.Object { return &rbacv1.Role{} }, NewList: func() runtime.Object { return &rbacv1.RoleList{} },
			Strategy: plain{validate: validateRole}, NameValidator: registry.ValidatePathSegmentName},
		{GVK: gvk("rbac.authorization.k8s.io", "v1", "RoleBinding"), Plural: "rolebindings", Singular: "rolebinding", Namespaced: true,
			New: func() runtime.Object { return &rbacv1.RoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.RoleBindingList{} },
			Strategy: plain{defaults: defaultRoleBinding, validate: validateRoleBinding, validateUpdate: validateRoleBindingUpdate}, NameValidator: registry.ValidatePathSegmentName},
		{GVK: gvk("rbac.authorization.k8s.io", "v1", "ClusterRole"), Plural: "clusterroles", Singular: "clusterrole",
			New: func() runtime.Object { return &rbacv1.ClusterRole{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleList{} },
			Strategy: plain{validate: validateClusterRole}, NameValidator: registry.ValidatePathSegmentName},
		{GVK: gvk("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"), Plural: "clusterrolebindings", Singular: "clusterrolebinding",
			New: func() runtime.Object { return &rbacv1.ClusterRoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
			Strategy: plain{defaults: defaultClusterRoleBinding, validate: validateClusterRoleBinding, validateUpdate: validateClusterRoleBindingUpdate}, NameValidator: registry.ValidatePathSegmentName},
		{GVK: gvk("scheduling.k8s.io", "v1", "PriorityClass"), Plural: "priorityclasses", Singular: "priorityclass", ShortNames: []string{"pc"},
			New: func() runtime.Object { return &schedulingv1.PriorityClass{} }, NewList: func() runtime.Object { return &schedulingv1.PriorityClassList{} },
			Strategy: plain{defaults: defaultPriorityClass, validate: validatePriorityClass, validateUpdate: validatePriorityClassUpdate}},

		review(gvk("authorization.k8s.io", "v1", "SelfSubjectAccessReview"), "selfsubjectaccessreviews", false, func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} }),
		review(gvk("authorization.k8s.io", "v1", "SelfSubjectRulesReview"), "selfsubjectrulesreviews", false, func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} }),
		review(gvk("authorization.k8s.io", "v1", "SubjectAccessReview"), "subjectaccessreviews", false, func() runtime.Object { return &authorizationv1.SubjectAccessReview{} }),
		review(gvk("authorization.k8s.io", "v1", "LocalSubjectAccessReview"), "localsubjectaccessreviews", true, func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} }),
		review(gvk("authentication.k8s.io", "v1", "TokenReview"), "tokenreviews", false, func() runtime.Object { return &authenticationv1.TokenReview{} }),
		review(gvk("authentication.k8s.io", "v1", "SelfSubjectReview"), "selfsubjectreviews", false, func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }),
	}
}
