package authz

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// Labels and annotations Kubernetes puts on its default RBAC objects.
const (
	// BootstrappingLabel marks objects created by the apiserver's policy reconciliation, so
	// `kubectl get clusterroles -l kubernetes.io/bootstrapping=rbac-defaults` lists them.
	BootstrappingLabel = "kubernetes.io/bootstrapping"
	// BootstrappingValue is the value of BootstrappingLabel on default objects.
	BootstrappingValue = "rbac-defaults"
	// AggregateToAdminLabel, AggregateToEditLabel and AggregateToViewLabel put a ClusterRole's
	// rules into the admin, edit and view roles (set to "true").
	AggregateToAdminLabel = "rbac.authorization.k8s.io/aggregate-to-admin"
	AggregateToEditLabel  = "rbac.authorization.k8s.io/aggregate-to-edit"
	AggregateToViewLabel  = "rbac.authorization.k8s.io/aggregate-to-view"
	// MonitoringGroup is bound to system:monitoring, Kubernetes' read access to health and
	// metrics endpoints.
	MonitoringGroup = "system:monitoring"
	// NodeLeaseNamespace holds the kubelets' heartbeat Leases.
	NodeLeaseNamespace = "kube-node-lease"
)

// Policy is a set of RBAC objects: the bootstrap policy the apiserver reconciles at start-up,
// or any extra objects tests load next to it.
type Policy struct {
	ClusterRoles        []*rbacv1.ClusterRole
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	Roles               []*rbacv1.Role
	RoleBindings        []*rbacv1.RoleBinding
}

// API groups referenced by the default policy.
const (
	grpCore          = ""
	grpApps          = "apps"
	grpAuthn         = "authentication.k8s.io"
	grpAuthz         = "authorization.k8s.io"
	grpAutoscaling   = "autoscaling"
	grpBatch         = "batch"
	grpCertificates  = "certificates.k8s.io"
	grpCoordination  = "coordination.k8s.io"
	grpDiscovery     = "discovery.k8s.io"
	grpEvents        = "events.k8s.io"
	grpExtensions    = "extensions"
	grpNetworking    = "networking.k8s.io"
	grpNode          = "node.k8s.io"
	grpPolicy        = "policy"
	grpRBAC          = "rbac.authorization.k8s.io"
	grpStorage       = "storage.k8s.io"
	grpAdmissionReg  = "admissionregistration.k8s.io"
	grpResource      = "resource.k8s.io"
	grpMetrics       = "metrics.k8s.io"
	grpCustomMetrics = "custom.metrics.k8s.io"
	grpExtMetrics    = "external.metrics.k8s.io"
)

// Verb sets used by the default roles.
var (
	verbsRead      = []string{"get", "list", "watch"}
	verbsWrite     = []string{"create", "delete", "deletecollection", "patch", "update"}
	verbsReadWrite = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	verbsEvents    = []string{"create", "update", "patch"}
)

// pr builds a resource rule; an empty group list means the core group.
type pr struct {
	verbs, groups, resources, names []string
}

func (p pr) rule() rbacv1.PolicyRule {
	groups := p.groups
	if len(groups) == 0 {
		groups = []string{grpCore}
	}
	return rbacv1.PolicyRule{
		Verbs:         append([]string(nil), p.verbs...),
		APIGroups:     append([]string(nil), groups...),
		Resources:     append([]string(nil), p.resources...),
		ResourceNames: append([]string(nil), p.names...),
	}
}

// strs spells out a list of verbs, groups, resources or names.
func strs(s ...string) []string { return s }

func ruleList(ps ...pr) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.rule())
	}
	return out
}

func urlRule(verbs []string, urls ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: append([]string(nil), verbs...), NonResourceURLs: urls}
}

// eventsRule lets a component record events through either events API.
func eventsRule() pr {
	return pr{verbs: verbsEvents, groups: strs(grpCore, grpEvents), resources: strs("events")}
}

func defaultMeta(name, namespace string, extraLabels map[string]string) metav1.ObjectMeta {
	l := map[string]string{BootstrappingLabel: BootstrappingValue}
	for k, val := range extraLabels {
		l[k] = val
	}
	return metav1.ObjectMeta{
		Name:        name,
		Namespace:   namespace,
		Labels:      l,
		Annotations: map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"},
	}
}

func clusterRole(name string, extraLabels map[string]string, rs ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: defaultMeta(name, "", extraLabels),
		Rules:      rs,
	}
}

func aggregatedClusterRole(name string, extraLabels map[string]string, selectLabel string) *rbacv1.ClusterRole {
	cr := clusterRole(name, extraLabels)
	cr.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
		{MatchLabels: map[string]string{selectLabel: "true"}},
	}}
	return cr
}

func role(namespace, name string, rs ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "Role"},
		ObjectMeta: defaultMeta(name, namespace, nil),
		Rules:      rs,
	}
}

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func saSubject(namespace, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
}

func clusterRoleBinding(name, roleName string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRoleBinding"},
		ObjectMeta: defaultMeta(name, "", nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName},
		Subjects:   subjects,
	}
}

func roleBinding(namespace, name, roleName string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "RoleBinding"},
		ObjectMeta: defaultMeta(name, namespace, nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: roleName},
		Subjects:   subjects,
	}
}

// NodeRules are the permissions every kubelet needs beyond the objects the Node authorizer
// ties to its node: they are the rules of the system:node ClusterRole, and the Node
// authorizer allows a node identity anything they cover. Kubernetes binds system:node to no
// one, so nodes get these through the Node authorizer only.
func NodeRules() []rbacv1.PolicyRule {
	return ruleList(
		// API access checks (non-mutating creates).
		pr{verbs: strs("create"), groups: strs(grpAuthn), resources: strs("tokenreviews")},
		pr{verbs: strs("create"), groups: strs(grpAuthz), resources: strs("subjectaccessreviews", "localsubjectaccessreviews")},
		// Service environment variables.
		pr{verbs: verbsRead, resources: strs("services")},
		// Registration and status of the node itself (the Node authorizer narrows this to the
		// node's own object).
		pr{verbs: strs("create", "get", "list", "watch"), resources: strs("nodes")},
		pr{verbs: strs("update", "patch"), resources: strs("nodes/status")},
		pr{verbs: strs("update", "patch"), resources: strs("nodes")},
		pr{verbs: verbsEvents, resources: strs("events")},
		// Pods: reading, mirror pods, status and eviction.
		pr{verbs: verbsRead, resources: strs("pods")},
		pr{verbs: strs("create", "delete"), resources: strs("pods")},
		pr{verbs: strs("update", "patch"), resources: strs("pods/status")},
		pr{verbs: strs("create"), resources: strs("pods/eviction")},
		// Secrets, configmaps, claims and volumes: the Node authorizer handles these itself and
		// only allows the objects used by pods on the node.
		pr{verbs: verbsRead, resources: strs("configmaps", "secrets")},
		pr{verbs: strs("get"), resources: strs("persistentvolumeclaims", "persistentvolumes")},
		pr{verbs: strs("get"), resources: strs("endpoints")},
		// Client and serving certificate bootstrap/rotation.
		pr{verbs: strs("create", "get", "list", "watch"), groups: strs(grpCertificates), resources: strs("certificatesigningrequests")},
		// Node heartbeat Lease.
		pr{verbs: strs("get", "create", "update", "patch", "delete"), groups: strs(grpCoordination), resources: strs("leases")},
		pr{verbs: strs("get"), groups: strs(grpStorage), resources: strs("volumeattachments")},
		// Projected service account tokens for the node's pods.
		pr{verbs: strs("create"), resources: strs("serviceaccounts/token")},
		pr{verbs: strs("get", "update", "patch"), resources: strs("persistentvolumeclaims/status")},
		pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("csidrivers")},
		pr{verbs: strs("get", "create", "update", "patch", "delete"), groups: strs(grpStorage), resources: strs("csinodes")},
		pr{verbs: verbsRead, groups: strs(grpNode), resources: strs("runtimeclasses")},
	)
}

// BootstrapPolicy returns the default roles and bindings kube-apiserver reconciles at start-up
// (see "Default roles and role bindings" in Kubernetes' "Using RBAC Authorization"), so
// clients, kubeadm-style components and controllers find the same permissions as on a
// Kubernetes cluster. Every object is labelled kubernetes.io/bootstrapping=rbac-defaults and
// annotated rbac.authorization.kubernetes.io/autoupdate=true. Each call returns fresh objects.
func BootstrapPolicy() Policy {
	p := Policy{
		ClusterRoles:        append(clusterRoles(), controllerRoles()...),
		ClusterRoleBindings: append(clusterRoleBindings(), controllerRoleBindings()...),
	}
	p.Roles, p.RoleBindings = namespaceRoles()
	return p
}

func clusterRoles() []*rbacv1.ClusterRole {
	agg := func(label string) map[string]string { return map[string]string{label: "true"} }
	return []*rbacv1.ClusterRole{
		// The super-user role.
		clusterRole("cluster-admin", nil,
			pr{verbs: strs("*"), groups: strs("*"), resources: strs("*")}.rule(),
			urlRule(strs("*"), "*"),
		),

		// Discovery and public information.
		clusterRole("system:discovery", nil,
			urlRule(strs("get"), "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
				"/openapi", "/openapi/*", "/readyz", "/version", "/version/"),
		),
		clusterRole("system:basic-user", nil, ruleList(
			pr{verbs: strs("create"), groups: strs(grpAuthz), resources: strs("selfsubjectaccessreviews", "selfsubjectrulesreviews")},
			pr{verbs: strs("create"), groups: strs(grpAuthn), resources: strs("selfsubjectreviews")},
		)...),
		clusterRole("system:public-info-viewer", nil,
			urlRule(strs("get"), "/healthz", "/livez", "/readyz", "/version", "/version/"),
		),
		clusterRole("system:monitoring", nil,
			urlRule(strs("get"), "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics",
				"/metrics/slis", "/readyz", "/readyz/*"),
		),
		clusterRole("system:service-account-issuer-discovery", nil,
			urlRule(strs("get"), "/.well-known/openid-configuration", "/openid/v1/jwks"),
		),

		// User-facing roles: aggregated from the system:aggregate-to-* roles (and any
		// ClusterRole carrying the aggregate-to labels).
		aggregatedClusterRole("admin", nil, AggregateToAdminLabel),
		aggregatedClusterRole("edit", agg(AggregateToAdminLabel), AggregateToEditLabel),
		aggregatedClusterRole("view", agg(AggregateToEditLabel), AggregateToViewLabel),
		clusterRole("system:aggregate-to-admin", agg(AggregateToAdminLabel), ruleList(
			pr{verbs: strs("create"), groups: strs(grpAuthz), resources: strs("localsubjectaccessreviews")},
			pr{verbs: verbsReadWrite, groups: strs(grpRBAC), resources: strs("rolebindings", "roles")},
		)...),
		clusterRole("system:aggregate-to-edit", agg(AggregateToEditLabel), ruleList(
			// Reading secrets and the pod/service proxies is edit's, not view's.
			pr{verbs: verbsRead, resources: strs("pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy")},
			pr{verbs: strs("impersonate"), resources: strs("serviceaccounts")},
			pr{verbs: verbsWrite, resources: strs("pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy")},
			pr{verbs: strs("create"), resources: strs("pods/eviction")},
			pr{verbs: verbsWrite, resources: strs("configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
				"replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy")},
			pr{verbs: strs("create"), resources: strs("serviceaccounts/token")},
			pr{verbs: verbsWrite, groups: strs(grpApps), resources: strs("daemonsets", "deployments", "deployments/rollback",
				"deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale")},
			pr{verbs: verbsWrite, groups: strs(grpAutoscaling), resources: strs("horizontalpodautoscalers")},
			pr{verbs: verbsWrite, groups: strs(grpBatch), resources: strs("cronjobs", "jobs")},
			pr{verbs: verbsWrite, groups: strs(grpExtensions), resources: strs("daemonsets", "deployments", "deployments/rollback",
				"deployments/scale", "ingresses", "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale")},
			pr{verbs: verbsWrite, groups: strs(grpPolicy), resources: strs("poddisruptionbudgets")},
			pr{verbs: verbsWrite, groups: strs(grpNetworking), resources: strs("ingresses", "networkpolicies")},
			pr{verbs: verbsReadWrite, groups: strs(grpCoordination), resources: strs("leases")},
		)...),
		clusterRole("system:aggregate-to-view", agg(AggregateToViewLabel), ruleList(
			pr{verbs: verbsRead, resources: strs("configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
				"pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status")},
			pr{verbs: verbsRead, resources: strs("bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
				"replicationcontrollers/status", "resourcequotas", "resourcequotas/status")},
			// Reading namespaces through a RoleBinding shows the user its own namespace.
			pr{verbs: verbsRead, resources: strs("namespaces")},
			pr{verbs: verbsRead, groups: strs(grpDiscovery), resources: strs("endpointslices")},
			pr{verbs: verbsRead, groups: strs(grpApps), resources: strs("controllerrevisions", "daemonsets", "daemonsets/status",
				"deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status",
				"statefulsets", "statefulsets/scale", "statefulsets/status")},
			pr{verbs: verbsRead, groups: strs(grpAutoscaling), resources: strs("horizontalpodautoscalers", "horizontalpodautoscalers/status")},
			pr{verbs: verbsRead, groups: strs(grpBatch), resources: strs("cronjobs", "cronjobs/status", "jobs", "jobs/status")},
			pr{verbs: verbsRead, groups: strs(grpExtensions), resources: strs("daemonsets", "daemonsets/status", "deployments",
				"deployments/scale", "deployments/status", "ingresses", "ingresses/status", "networkpolicies", "replicasets",
				"replicasets/scale", "replicasets/status", "replicationcontrollers/scale")},
			pr{verbs: verbsRead, groups: strs(grpPolicy), resources: strs("poddisruptionbudgets", "poddisruptionbudgets/status")},
			pr{verbs: verbsRead, groups: strs(grpNetworking), resources: strs("ingresses", "ingresses/status", "networkpolicies")},
		)...),

		// Core component roles.
		clusterRole("system:auth-delegator", nil, ruleList(
			pr{verbs: strs("create"), groups: strs(grpAuthn), resources: strs("tokenreviews")},
			pr{verbs: strs("create"), groups: strs(grpAuthz), resources: strs("subjectaccessreviews")},
		)...),
		clusterRole("system:heapster", nil, ruleList(
			pr{verbs: verbsRead, resources: strs("events", "namespaces", "nodes", "pods")},
			pr{verbs: verbsRead, groups: strs(grpExtensions), resources: strs("deployments")},
		)...),
		clusterRole("system:kube-aggregator", nil, ruleList(
			pr{verbs: verbsRead, resources: strs("endpoints", "services")},
		)...),
		clusterRole("system:kube-controller-manager", nil, ruleList(
			eventsRule(),
			pr{verbs: strs("create"), groups: strs(grpCoordination), resources: strs("leases")},
			pr{verbs: strs("get", "update"), groups: strs(grpCoordination), resources: strs("leases"), names: strs("kube-controller-manager")},
			pr{verbs: strs("create"), resources: strs("secrets", "serviceaccounts")},
			pr{verbs: strs("delete"), resources: strs("secrets")},
			pr{verbs: strs("get"), resources: strs("configmaps", "namespaces", "secrets", "serviceaccounts")},
			pr{verbs: strs("update"), resources: strs("secrets", "serviceaccounts")},
			pr{verbs: strs("create"), groups: strs(grpAuthn), resources: strs("tokenreviews")},
			pr{verbs: strs("create"), groups: strs(grpAuthz), resources: strs("subjectaccessreviews")},
			// Shared informers for every controller.
			pr{verbs: strs("list", "watch"), groups: strs("*"), resources: strs("*")},
			pr{verbs: strs("create"), resources: strs("serviceaccounts/token")},
		)...),
		clusterRole("system:kube-dns", nil, ruleList(
			pr{verbs: strs("list", "watch"), resources: strs("endpoints", "services")},
		)...),
		clusterRole("system:kube-scheduler", nil, ruleList(
			eventsRule(),
			pr{verbs: strs("create"), groups: strs(grpCoordination), resources: strs("leases")},
			pr{verbs: strs("get", "update"), groups: strs(grpCoordination), resources: strs("leases"), names: strs("kube-scheduler")},
			pr{verbs: verbsRead, resources: strs("nodes")},
			pr{verbs: strs("delete", "get", "list", "watch"), resources: strs("pods")},
			pr{verbs: strs("create"), resources: strs("bindings", "pods/binding")},
			pr{verbs: strs("patch", "update"), resources: strs("pods/status")},
			pr{verbs: verbsRead, resources: strs("replicationcontrollers", "services")},
			pr{verbs: verbsRead, groups: strs(grpApps, grpExtensions), resources: strs("replicasets")},
			pr{verbs: verbsRead, groups: strs(grpApps), resources: strs("statefulsets")},
			pr{verbs: verbsRead, groups: strs(grpPolicy), resources: strs("poddisruptionbudgets")},
			pr{verbs: verbsRead, resources: strs("persistentvolumeclaims", "persistentvolumes")},
			pr{verbs: strs("create"), groups: strs(grpAuthn), resources: strs("tokenreviews")},
			pr{verbs: strs("create"), groups: strs(grpAuthz), resources: strs("subjectaccessreviews")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("csinodes")},
			pr{verbs: verbsRead, resources: strs("namespaces")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("csidrivers")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("csistoragecapacities")},
		)...),
		clusterRole("system:volume-scheduler", nil, ruleList(
			pr{verbs: strs("get", "list", "patch", "update", "watch"), resources: strs("persistentvolumes")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("storageclasses")},
			pr{verbs: strs("get", "list", "patch", "update", "watch"), resources: strs("persistentvolumeclaims")},
		)...),
		clusterRole("system:kubelet-api-admin", nil, ruleList(
			pr{verbs: verbsRead, resources: strs("nodes")},
			pr{verbs: strs("proxy"), resources: strs("nodes")},
			pr{verbs: strs("*"), resources: strs("nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats")},
		)...),

		// Node roles.
		clusterRole("system:node", nil, NodeRules()...),
		clusterRole("system:node-bootstrapper", nil, ruleList(
			pr{verbs: strs("create", "get", "list", "watch"), groups: strs(grpCertificates), resources: strs("certificatesigningrequests")},
		)...),
		clusterRole("system:node-problem-detector", nil, ruleList(
			pr{verbs: strs("get"), resources: strs("nodes")},
			pr{verbs: strs("patch"), resources: strs("nodes/status")},
			eventsRule(),
		)...),
		clusterRole("system:node-proxier", nil, ruleList(
			pr{verbs: strs("list", "watch"), resources: strs("endpoints", "services")},
			pr{verbs: verbsRead, resources: strs("nodes")},
			eventsRule(),
			pr{verbs: strs("list", "watch"), groups: strs(grpDiscovery), resources: strs("endpointslices")},
		)...),
		clusterRole("system:persistent-volume-provisioner", nil, ruleList(
			pr{verbs: strs("create", "delete", "get", "list", "watch"), resources: strs("persistentvolumes")},
			pr{verbs: strs("get", "list", "update", "watch"), resources: strs("persistentvolumeclaims")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("storageclasses")},
			pr{verbs: strs("watch"), resources: strs("events")},
			eventsRule(),
		)...),

		// Certificate signing: kubelet client CSRs and per-signer approval.
		clusterRole("system:certificates.k8s.io:certificatesigningrequests:nodeclient", nil, ruleList(
			pr{verbs: strs("create"), groups: strs(grpCertificates), resources: strs("certificatesigningrequests/nodeclient")},
		)...),
		clusterRole("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", nil, ruleList(
			pr{verbs: strs("create"), groups: strs(grpCertificates), resources: strs("certificatesigningrequests/selfnodeclient")},
		)...),
		signerApprover("system:certificates.k8s.io:kube-apiserver-client-approver", "kubernetes.io/kube-apiserver-client"),
		signerApprover("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", "kubernetes.io/kube-apiserver-client-kubelet"),
		signerApprover("system:certificates.k8s.io:kubelet-serving-approver", "kubernetes.io/kubelet-serving"),
		signerApprover("system:certificates.k8s.io:legacy-unknown-approver", "kubernetes.io/legacy-unknown"),
	}
}

func signerApprover(name, signer string) *rbacv1.ClusterRole {
	return clusterRole(name, nil, pr{verbs: strs("approve"), groups: strs(grpCertificates), resources: strs("signers"), names: strs(signer)}.rule())
}

func clusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	return []*rbacv1.ClusterRoleBinding{
		clusterRoleBinding("cluster-admin", "cluster-admin", groupSubject(authn.SystemMasters)),
		clusterRoleBinding("system:discovery", "system:discovery", groupSubject(authn.AllAuthenticated)),
		clusterRoleBinding("system:basic-user", "system:basic-user", groupSubject(authn.AllAuthenticated)),
		clusterRoleBinding("system:public-info-viewer", "system:public-info-viewer",
			groupSubject(authn.AllAuthenticated), groupSubject(authn.AllUnauthenticated)),
		clusterRoleBinding("system:monitoring", "system:monitoring", groupSubject(MonitoringGroup)),
		clusterRoleBinding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery",
			groupSubject(authn.ServiceAccountsGroup)),
		clusterRoleBinding("system:kube-controller-manager", "system:kube-controller-manager", userSubject(authn.KubeControllerManager)),
		clusterRoleBinding("system:kube-dns", "system:kube-dns", saSubject("kube-system", "kube-dns")),
		clusterRoleBinding("system:kube-scheduler", "system:kube-scheduler", userSubject(authn.KubeSchedulerUser)),
		clusterRoleBinding("system:volume-scheduler", "system:volume-scheduler", userSubject(authn.KubeSchedulerUser)),
		// Bound to nobody: nodes get system:node's rules through the Node authorizer.
		clusterRoleBinding("system:node", "system:node"),
		clusterRoleBinding("system:node-proxier", "system:node-proxier", userSubject(authn.KubeProxyUser)),
	}
}

// ControllerPrefix prefixes the roles, bindings' names and (without it) the kube-system
// service accounts of kube-controller-manager's controllers when they run with
// --use-service-account-credentials.
const ControllerPrefix = "system:controller:"

func controllerRole(name string, rs ...pr) *rbacv1.ClusterRole {
	return clusterRole(ControllerPrefix+name, nil, ruleList(rs...)...)
}

func controllerRoles() []*rbacv1.ClusterRole {
	ev := eventsRule()
	return []*rbacv1.ClusterRole{
		controllerRole("attachdetach-controller",
			pr{verbs: strs("list", "watch"), resources: strs("persistentvolumeclaims", "persistentvolumes")},
			pr{verbs: verbsRead, resources: strs("nodes")},
			pr{verbs: strs("patch", "update"), resources: strs("nodes/status")},
			pr{verbs: strs("list", "watch"), resources: strs("pods")},
			ev,
			pr{verbs: strs("create", "delete", "get", "list", "watch"), groups: strs(grpStorage), resources: strs("volumeattachments")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("csidrivers")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("csinodes")},
		),
		controllerRole("certificate-controller",
			pr{verbs: strs("delete", "get", "list", "watch"), groups: strs(grpCertificates), resources: strs("certificatesigningrequests")},
			pr{verbs: strs("update"), groups: strs(grpCertificates), resources: strs("certificatesigningrequests/approval", "certificatesigningrequests/status")},
			pr{verbs: strs("approve"), groups: strs(grpCertificates), resources: strs("signers"), names: strs("kubernetes.io/kube-apiserver-client-kubelet")},
			pr{verbs: strs("sign"), groups: strs(grpCertificates), resources: strs("signers"), names: strs("kubernetes.io/kube-apiserver-client",
				"kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving", "kubernetes.io/legacy-unknown")},
			pr{verbs: strs("create"), groups: strs(grpAuthz), resources: strs("subjectaccessreviews")},
			ev,
		),
		controllerRole("clusterrole-aggregation-controller",
			pr{verbs: strs("escalate", "get", "list", "patch", "update", "watch"), groups: strs(grpRBAC), resources: strs("clusterroles")},
		),
		controllerRole("cronjob-controller",
			pr{verbs: strs("get", "list", "update", "watch"), groups: strs(grpBatch), resources: strs("cronjobs")},
			pr{verbs: strs("create", "delete", "get", "list", "patch", "update", "watch"), groups: strs(grpBatch), resources: strs("jobs")},
			pr{verbs: strs("update"), groups: strs(grpBatch), resources: strs("cronjobs/status")},
			pr{verbs: strs("update"), groups: strs(grpBatch), resources: strs("cronjobs/finalizers")},
			pr{verbs: strs("delete", "list", "watch"), resources: strs("pods")},
			ev,
		),
		controllerRole("daemon-set-controller",
			pr{verbs: verbsRead, groups: strs(grpApps, grpExtensions), resources: strs("daemonsets")},
			pr{verbs: strs("update"), groups: strs(grpApps, grpExtensions), resources: strs("daemonsets/status")},
			pr{verbs: strs("update"), groups: strs(grpApps, grpExtensions), resources: strs("daemonsets/finalizers")},
			pr{verbs: strs("list", "watch"), resources: strs("nodes")},
			pr{verbs: strs("create", "delete", "list", "patch", "watch"), resources: strs("pods")},
			pr{verbs: strs("create"), resources: strs("pods/binding")},
			pr{verbs: strs("create", "delete", "get", "list", "patch", "update", "watch"), groups: strs(grpApps), resources: strs("controllerrevisions")},
			ev,
		),
		controllerRole("deployment-controller",
			pr{verbs: strs("get", "list", "update", "watch"), groups: strs(grpApps, grpExtensions), resources: strs("deployments")},
			pr{verbs: strs("update"), groups: strs(grpApps, grpExtensions), resources: strs("deployments/status")},
			pr{verbs: strs("update"), groups: strs(grpApps, grpExtensions), resources: strs("deployments/finalizers")},
			pr{verbs: strs("create", "delete", "get", "list", "patch", "update", "watch"), groups: strs(grpApps, grpExtensions), resources: strs("replicasets")},
			pr{verbs: strs("get", "list", "update", "watch"), resources: strs("pods")},
			ev,
		),
		controllerRole("device-taint-eviction-controller",
			pr{verbs: strs("delete", "get", "list", "watch"), resources: strs("pods")},
			pr{verbs: strs("patch", "update"), resources: strs("pods/status")},
			pr{verbs: verbsRead, groups: strs(grpResource), resources: strs("resourceclaims")},
			pr{verbs: verbsRead, groups: strs(grpResource), resources: strs("resourceslices")},
			pr{verbs: verbsRead, groups: strs(grpResource), resources: strs("deviceclasses")},
			ev,
		),
		controllerRole("disruption-controller",
			pr{verbs: verbsRead, groups: strs(grpApps, grpExtensions), resources: strs("deployments")},
			pr{verbs: verbsRead, groups: strs(grpApps, grpExtensions), resources: strs("replicasets")},
			pr{verbs: verbsRead, resources: strs("replicationcontrollers")},
			pr{verbs: verbsRead, groups: strs(grpPolicy), resources: strs("poddisruptionbudgets")},
			pr{verbs: verbsRead, groups: strs(grpApps), resources: strs("statefulsets")},
			pr{verbs: strs("update"), groups: strs(grpPolicy), resources: strs("poddisruptionbudgets/status")},
			pr{verbs: strs("patch", "update"), resources: strs("pods/status")},
			pr{verbs: strs("get"), groups: strs("*"), resources: strs("*/scale")},
			ev,
		),
		controllerRole("endpoint-controller",
			pr{verbs: verbsRead, resources: strs("pods", "services")},
			pr{verbs: strs("create", "delete", "get", "list", "update", "watch"), resources: strs("endpoints")},
			pr{verbs: strs("create"), resources: strs("endpoints/restricted")},
			ev,
		),
		controllerRole("endpointslice-controller",
			pr{verbs: verbsRead, resources: strs("nodes", "pods", "services")},
			pr{verbs: strs("update"), resources: strs("services/finalizers")},
			pr{verbs: strs("create", "delete", "get", "list", "update", "watch"), groups: strs(grpDiscovery), resources: strs("endpointslices")},
			ev,
		),
		controllerRole("endpointslicemirroring-controller",
			pr{verbs: verbsRead, resources: strs("endpoints", "services")},
			pr{verbs: strs("update"), resources: strs("services/finalizers")},
			pr{verbs: strs("update"), resources: strs("endpoints/finalizers")},
			pr{verbs: strs("create", "delete", "get", "list", "update", "watch"), groups: strs(grpDiscovery), resources: strs("endpointslices")},
			ev,
		),
		controllerRole("ephemeral-volume-controller",
			pr{verbs: verbsRead, resources: strs("pods")},
			pr{verbs: strs("update"), resources: strs("pods/finalizers")},
			pr{verbs: strs("create", "get", "list", "watch"), resources: strs("persistentvolumeclaims")},
			ev,
		),
		controllerRole("expand-controller",
			pr{verbs: strs("get", "list", "patch", "update", "watch"), resources: strs("persistentvolumes")},
			pr{verbs: strs("patch", "update"), resources: strs("persistentvolumeclaims/status")},
			pr{verbs: verbsRead, resources: strs("persistentvolumeclaims")},
			ev,
		),
		controllerRole("generic-garbage-collector",
			pr{verbs: strs("delete", "get", "list", "patch", "update", "watch"), groups: strs("*"), resources: strs("*")},
			ev,
		),
		controllerRole("horizontal-pod-autoscaler",
			pr{verbs: verbsRead, groups: strs(grpAutoscaling), resources: strs("horizontalpodautoscalers")},
			pr{verbs: strs("update"), groups: strs(grpAutoscaling), resources: strs("horizontalpodautoscalers/status")},
			pr{verbs: strs("get", "update"), groups: strs("*"), resources: strs("*/scale")},
			pr{verbs: strs("list", "watch"), resources: strs("pods")},
			pr{verbs: strs("list", "watch"), groups: strs(grpMetrics), resources: strs("pods")},
			pr{verbs: verbsRead, groups: strs(grpCustomMetrics), resources: strs("*")},
			pr{verbs: verbsRead, groups: strs(grpExtMetrics), resources: strs("*")},
			ev,
		),
		controllerRole("job-controller",
			pr{verbs: strs("get", "list", "patch", "update", "watch"), groups: strs(grpBatch), resources: strs("jobs")},
			pr{verbs: strs("update"), groups: strs(grpBatch), resources: strs("jobs/status")},
			pr{verbs: strs("update"), groups: strs(grpBatch), resources: strs("jobs/finalizers")},
			pr{verbs: strs("create", "delete", "list", "patch", "watch"), resources: strs("pods")},
			ev,
		),
		controllerRole("legacy-service-account-token-cleaner",
			pr{verbs: strs("get"), resources: strs("configmaps"), names: strs("kube-apiserver-legacy-service-account-token-tracking")},
			pr{verbs: strs("delete", "patch"), resources: strs("secrets")},
		),
		controllerRole("namespace-controller",
			pr{verbs: strs("delete", "get", "list", "watch"), resources: strs("namespaces")},
			pr{verbs: strs("update"), resources: strs("namespaces/finalize", "namespaces/status")},
			pr{verbs: strs("delete", "deletecollection", "get", "list", "watch"), groups: strs("*"), resources: strs("*")},
		),
		controllerRole("node-controller",
			pr{verbs: strs("delete", "get", "list", "patch", "update", "watch"), resources: strs("nodes")},
			pr{verbs: strs("patch", "update"), resources: strs("nodes/status")},
			pr{verbs: strs("patch", "update"), resources: strs("pods/status")},
			pr{verbs: strs("delete", "get", "list", "watch"), resources: strs("pods")},
			ev,
		),
		controllerRole("persistent-volume-binder",
			pr{verbs: strs("create", "delete", "get", "list", "update", "watch"), resources: strs("persistentvolumes")},
			pr{verbs: strs("update"), resources: strs("persistentvolumes/status")},
			pr{verbs: strs("get", "list", "update", "watch"), resources: strs("persistentvolumeclaims")},
			pr{verbs: strs("update"), resources: strs("persistentvolumeclaims/status")},
			pr{verbs: strs("create", "delete", "get", "list", "watch"), resources: strs("pods")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("storageclasses")},
			pr{verbs: strs("list", "watch"), resources: strs("nodes")},
			ev,
			pr{verbs: strs("watch"), resources: strs("events")},
		),
		controllerRole("pod-garbage-collector",
			pr{verbs: strs("delete", "list", "watch"), resources: strs("pods")},
			pr{verbs: verbsRead, resources: strs("nodes")},
			pr{verbs: strs("patch"), resources: strs("pods/status")},
		),
		controllerRole("pv-protection-controller",
			pr{verbs: strs("get", "list", "update", "watch"), resources: strs("persistentvolumes")},
			ev,
		),
		controllerRole("pvc-protection-controller",
			pr{verbs: strs("get", "list", "update", "watch"), resources: strs("persistentvolumeclaims")},
			pr{verbs: strs("update"), resources: strs("persistentvolumeclaims/status")},
			pr{verbs: verbsRead, resources: strs("pods")},
			ev,
		),
		controllerRole("replicaset-controller",
			pr{verbs: strs("get", "list", "update", "watch"), groups: strs(grpApps, grpExtensions), resources: strs("replicasets")},
			pr{verbs: strs("update"), groups: strs(grpApps, grpExtensions), resources: strs("replicasets/status")},
			pr{verbs: strs("update"), groups: strs(grpApps, grpExtensions), resources: strs("replicasets/finalizers")},
			pr{verbs: strs("create", "delete", "list", "patch", "watch"), resources: strs("pods")},
			ev,
		),
		controllerRole("replication-controller",
			pr{verbs: strs("get", "list", "update", "watch"), resources: strs("replicationcontrollers")},
			pr{verbs: strs("update"), resources: strs("replicationcontrollers/status")},
			pr{verbs: strs("update"), resources: strs("replicationcontrollers/finalizers")},
			pr{verbs: strs("create", "delete", "list", "patch", "watch"), resources: strs("pods")},
			ev,
		),
		controllerRole("resource-claim-controller",
			pr{verbs: verbsRead, resources: strs("pods")},
			pr{verbs: strs("update"), resources: strs("pods/finalizers")},
			pr{verbs: strs("create", "delete", "get", "list", "watch"), groups: strs(grpResource), resources: strs("resourceclaims")},
			pr{verbs: strs("patch", "update"), groups: strs(grpResource), resources: strs("resourceclaims", "resourceclaims/status")},
			pr{verbs: strs("patch", "update"), resources: strs("pods/status")},
			ev,
			pr{verbs: strs("patch", "update"), groups: strs(grpResource), resources: strs("resourceclaims/binding")},
		),
		controllerRole("resourcequota-controller",
			pr{verbs: strs("list", "watch"), groups: strs("*"), resources: strs("*")},
			pr{verbs: strs("update"), resources: strs("resourcequotas/status")},
			ev,
		),
		controllerRole("root-ca-cert-publisher",
			pr{verbs: strs("create", "update"), resources: strs("configmaps")},
			ev,
		),
		controllerRole("route-controller",
			pr{verbs: strs("list", "watch"), resources: strs("nodes")},
			pr{verbs: strs("patch"), resources: strs("nodes/status")},
			ev,
		),
		controllerRole("selinux-warning-controller",
			ev,
			pr{verbs: verbsRead, resources: strs("persistentvolumes")},
			pr{verbs: verbsRead, resources: strs("persistentvolumeclaims")},
			pr{verbs: verbsRead, resources: strs("pods")},
			pr{verbs: verbsRead, groups: strs(grpStorage), resources: strs("csidrivers")},
		),
		controllerRole("service-account-controller",
			pr{verbs: strs("create"), resources: strs("serviceaccounts")},
			ev,
		),
		controllerRole("service-cidrs-controller",
			pr{verbs: strs("get", "list", "patch", "update", "watch"), groups: strs(grpNetworking), resources: strs("servicecidrs")},
			pr{verbs: strs("patch", "update"), groups: strs(grpNetworking), resources: strs("servicecidrs/finalizers")},
			pr{verbs: strs("patch", "update"), groups: strs(grpNetworking), resources: strs("servicecidrs/status")},
			pr{verbs: verbsRead, groups: strs(grpNetworking), resources: strs("ipaddresses")},
			ev,
		),
		controllerRole("service-controller",
			pr{verbs: verbsRead, resources: strs("services")},
			pr{verbs: strs("patch", "update"), resources: strs("services/status")},
			pr{verbs: strs("list", "watch"), resources: strs("nodes")},
			ev,
		),
		controllerRole("statefulset-controller",
			pr{verbs: strs("list", "watch"), resources: strs("pods")},
			pr{verbs: verbsRead, groups: strs(grpApps), resources: strs("statefulsets")},
			pr{verbs: strs("update"), groups: strs(grpApps), resources: strs("statefulsets/status")},
			pr{verbs: strs("update"), groups: strs(grpApps), resources: strs("statefulsets/finalizers")},
			pr{verbs: strs("create", "delete", "get", "patch", "update"), resources: strs("pods")},
			pr{verbs: strs("create", "delete", "get", "list", "patch", "update", "watch"), groups: strs(grpApps), resources: strs("controllerrevisions")},
			pr{verbs: strs("create", "get", "list", "watch"), resources: strs("persistentvolumeclaims")},
			pr{verbs: strs("delete", "update"), resources: strs("persistentvolumeclaims")},
			pr{verbs: strs("update"), resources: strs("pods/finalizers")},
			ev,
		),
		controllerRole("ttl-after-finished-controller",
			pr{verbs: strs("delete", "get", "list", "watch"), groups: strs(grpBatch), resources: strs("jobs")},
			ev,
		),
		controllerRole("ttl-controller",
			pr{verbs: strs("list", "patch", "update", "watch"), resources: strs("nodes")},
			ev,
		),
		controllerRole("validatingadmissionpolicy-status-controller",
			pr{verbs: verbsRead, groups: strs(grpAdmissionReg), resources: strs("validatingadmissionpolicies")},
			pr{verbs: strs("get", "patch", "update"), groups: strs(grpAdmissionReg), resources: strs("validatingadmissionpolicies/status")},
			ev,
		),
		controllerRole("volumeattributesclass-protection-controller",
			pr{verbs: verbsRead, resources: strs("persistentvolumeclaims")},
			pr{verbs: verbsRead, resources: strs("persistentvolumes")},
			pr{verbs: strs("get", "list", "update", "watch"), groups: strs(grpStorage), resources: strs("volumeattributesclasses")},
			ev,
		),
	}
}

// controllerRoleBindings binds each system:controller:<name> role to the kube-system service
// account <name>, under which kube-controller-manager runs that controller.
func controllerRoleBindings() []*rbacv1.ClusterRoleBinding {
	var out []*rbacv1.ClusterRoleBinding
	for _, cr := range controllerRoles() {
		sa := cr.Name[len(ControllerPrefix):]
		out = append(out, clusterRoleBinding(cr.Name, cr.Name, saSubject("kube-system", sa)))
	}
	return out
}

func namespaceRoles() ([]*rbacv1.Role, []*rbacv1.RoleBinding) {
	const sys, pub = "kube-system", "kube-public"
	leaderLocking := func() []rbacv1.PolicyRule {
		return ruleList(
			pr{verbs: strs("create", "get", "list", "update", "watch"), groups: strs(grpCoordination), resources: strs("leases")},
			pr{verbs: strs("create", "get", "list", "update", "watch"), groups: strs(grpCoordination), resources: strs("leasecandidates")},
		)
	}
	roles := []*rbacv1.Role{
		// Lets aggregated/extension apiservers read the client-CA configmap.
		role(sys, "extension-apiserver-authentication-reader", ruleList(
			pr{verbs: verbsRead, resources: strs("configmaps"), names: strs("extension-apiserver-authentication")},
		)...),
		role(sys, "system::leader-locking-kube-controller-manager", leaderLocking()...),
		role(sys, "system::leader-locking-kube-scheduler", leaderLocking()...),
		role(sys, ControllerPrefix+"bootstrap-signer", ruleList(
			pr{verbs: verbsRead, resources: strs("secrets")},
		)...),
		role(sys, ControllerPrefix+"cloud-provider", ruleList(
			pr{verbs: strs("create", "get", "list", "watch"), resources: strs("configmaps")},
		)...),
		role(sys, ControllerPrefix+"token-cleaner", ruleList(
			pr{verbs: strs("delete", "get", "list", "watch"), resources: strs("secrets")},
			eventsRule(),
		)...),
		// The bootstrap signer signs the cluster-info configmap in kube-public.
		role(pub, ControllerPrefix+"bootstrap-signer", ruleList(
			pr{verbs: verbsRead, resources: strs("configmaps")},
			pr{verbs: strs("update"), resources: strs("configmaps"), names: strs("cluster-info")},
			eventsRule(),
		)...),
	}
	bindings := []*rbacv1.RoleBinding{
		roleBinding(sys, "system::extension-apiserver-authentication-reader", "extension-apiserver-authentication-reader",
			userSubject(authn.KubeControllerManager), userSubject(authn.KubeSchedulerUser)),
		roleBinding(sys, "system::leader-locking-kube-controller-manager", "system::leader-locking-kube-controller-manager",
			userSubject(authn.KubeControllerManager), saSubject(sys, "kube-controller-manager"), saSubject(sys, "leader-election-controller")),
		roleBinding(sys, "system::leader-locking-kube-scheduler", "system::leader-locking-kube-scheduler",
			userSubject(authn.KubeSchedulerUser), saSubject(sys, "kube-scheduler")),
		roleBinding(sys, ControllerPrefix+"bootstrap-signer", ControllerPrefix+"bootstrap-signer", saSubject(sys, "bootstrap-signer")),
		roleBinding(sys, ControllerPrefix+"cloud-provider", ControllerPrefix+"cloud-provider", saSubject(sys, "cloud-provider")),
		roleBinding(sys, ControllerPrefix+"token-cleaner", ControllerPrefix+"token-cleaner", saSubject(sys, "token-cleaner")),
		roleBinding(pub, ControllerPrefix+"bootstrap-signer", ControllerPrefix+"bootstrap-signer", saSubject(sys, "bootstrap-signer")),
	}
	return roles, bindings
}
