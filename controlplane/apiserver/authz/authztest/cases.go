// Package authztest holds authorization cases written from the Kubernetes documentation
// ("Using RBAC Authorization", kubernetes.io/docs/reference/access-authn-authz/rbac/), with
// the RBAC objects they need, so the same table can be run against kforge's authorizers in
// unit tests and against a running server (SubjectAccessReview or impersonation) in
// end-to-end tests.
package authztest

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// Case is one request and whether a cluster holding the default bootstrap policy plus
// RBACDocCases' extra objects must allow it. A Case with Path set is a non-resource request.
type Case struct {
	Name string
	// Doc names the section of the RBAC documentation the case comes from.
	Doc  string
	User authn.User

	Verb         string
	Namespace    string
	APIGroup     string
	Resource     string
	Subresource  string
	ResourceName string
	Path         string

	Want bool
}

// Attributes returns the request as authorizers see it.
func (c Case) Attributes() authz.Attributes {
	return authz.Attributes{
		User:            c.User,
		Verb:            c.Verb,
		ResourceRequest: c.Path == "",
		Namespace:       c.Namespace,
		APIGroup:        c.APIGroup,
		Resource:        c.Resource,
		Subresource:     c.Subresource,
		Name:            c.ResourceName,
		Path:            c.Path,
	}
}

// Section titles of kubernetes.io/docs/reference/access-authn-authz/rbac/.
const (
	DocRoleExample        = "Role and ClusterRole / RoleBinding and ClusterRoleBinding examples"
	DocReferringResources = "Referring to resources"
	DocAggregated         = "Aggregated ClusterRoles"
	DocRoleExamples       = "Role examples"
	DocSubjects           = "Referring to subjects / RoleBinding examples"
	DocDefaultRoles       = "Default roles and role bindings / API discovery roles"
	DocUserFacing         = "User-facing roles"
	DocComponentRoles     = "Core component roles / Controller roles"
	DocEscalation         = "Privilege escalation prevention and bootstrapping"
	DocCommandLine        = "Command-line utilities"
)

// User returns an authenticated user (member of system:authenticated) in groups.
func User(name string, groups ...string) authn.User {
	return authn.User{Name: name, Groups: append(groups, authn.AllAuthenticated)}
}

// ServiceAccount returns the user a service account token authenticates as.
func ServiceAccount(namespace, name string) authn.User {
	return User(authn.ServiceAccountPrefix+namespace+":"+name,
		authn.ServiceAccountsGroup, authn.ServiceAccountsGroup+":"+namespace)
}

// Anonymous is the user of unauthenticated requests.
var Anonymous = authn.User{Name: authn.Anonymous, Groups: []string{authn.AllUnauthenticated}}

func res(name, doc string, u authn.User, verb, ns, group, resource, objName string, want bool) Case {
	c := Case{Name: name, Doc: doc, User: u, Verb: verb, Namespace: ns, APIGroup: group, ResourceName: objName, Want: want}
	c.Resource, c.Subresource = resource, ""
	for i := range resource {
		if resource[i] == '/' {
			c.Resource, c.Subresource = resource[:i], resource[i+1:]
			break
		}
	}
	return c
}

func path(name, doc string, u authn.User, verb, p string, want bool) Case {
	return Case{Name: name, Doc: doc, User: u, Verb: verb, Path: p, Want: want}
}

// RBACDocCases returns the documentation cases and the RBAC objects (beyond the bootstrap
// policy) they rely on. Both are freshly built on each call.
func RBACDocCases() ([]Case, authz.Policy) {
	var (
		jane    = User("jane")
		dave    = User("dave")
		mia     = User("mia", "manager")
		logan   = User("logan")
		cora    = User("cora")
		sam     = User("sam")
		scaler  = User("scaler")
		mon     = User("mona", "monitoring-team")
		victor  = User("victor")
		erin    = User("erin")
		bob     = User("bob")
		nora    = User("nora")
		prober  = User("prober", "probers")
		dana    = User("dana")
		lou     = User("lou")
		root    = User("root")
		masters = User("kubernetes-admin", authn.SystemMasters)
		user1   = User("user-1")
		nodeN1  = User(authn.NodeUserPrefix+"n1", authn.NodesGroup)
		metrics = User("prometheus", authz.MonitoringGroup)
	)
	const (
		core  = ""
		apps  = "apps"
		rbac  = "rbac.authorization.k8s.io"
		crons = "stable.example.com"
	)

	cases := []Case{
		// Role and ClusterRole / RoleBinding and ClusterRoleBinding: pod-reader Role in
		// "default" bound to jane; secret-reader ClusterRole bound to dave in "development"
		// only, and cluster-wide to group "manager".
		res("jane gets a pod in default", DocRoleExample, jane, "get", "default", core, "pods", "p", true),
		res("jane lists pods in default", DocRoleExample, jane, "list", "default", core, "pods", "", true),
		res("jane watches pods in default", DocRoleExample, jane, "watch", "default", core, "pods", "", true),
		res("jane cannot delete pods", DocRoleExample, jane, "delete", "default", core, "pods", "p", false),
		res("jane cannot list pods outside default", DocRoleExample, jane, "list", "kube-system", core, "pods", "", false),
		res("jane cannot list secrets", DocRoleExample, jane, "list", "default", core, "secrets", "", false),
		res("dave reads secrets in development", DocRoleExample, dave, "get", "development", core, "secrets", "s", true),
		res("dave lists secrets in development", DocRoleExample, dave, "list", "development", core, "secrets", "", true),
		res("dave cannot read secrets in default", DocRoleExample, dave, "get", "default", core, "secrets", "s", false),
		res("manager lists secrets in all namespaces", DocRoleExample, mia, "list", "", core, "secrets", "", true),
		res("manager reads secrets in kube-system", DocRoleExample, mia, "get", "kube-system", core, "secrets", "s", true),
		res("manager cannot delete secrets", DocRoleExample, mia, "delete", "kube-system", core, "secrets", "s", false),

		// Referring to resources: subresources ("pods/log"), resourceNames, "*/scale"; there
		// is no "resource/*" wildcard.
		res("pods/log reader gets logs", DocReferringResources, logan, "get", "default", core, "pods/log", "p", true),
		res("pods/log reader gets pods", DocReferringResources, logan, "get", "default", core, "pods", "p", true),
		res("pods/log reader cannot exec", DocReferringResources, logan, "create", "default", core, "pods/exec", "p", false),
		res("pods/log reader only in default", DocReferringResources, logan, "get", "kube-system", core, "pods/log", "p", false),
		res("configmap-updater gets my-configmap", DocReferringResources, cora, "get", "default", core, "configmaps", "my-configmap", true),
		res("configmap-updater updates my-configmap", DocReferringResources, cora, "update", "default", core, "configmaps", "my-configmap", true),
		res("configmap-updater cannot get another configmap", DocReferringResources, cora, "get", "default", core, "configmaps", "other", false),
		res("resourceNames do not allow list", DocReferringResources, cora, "list", "default", core, "configmaps", "", false),
		res("resourceNames do not allow create", DocReferringResources, cora, "create", "default", core, "configmaps", "", false),
		res("pods/* is not a subresource wildcard", DocReferringResources, sam, "get", "default", core, "pods/log", "p", false),
		res("*/scale matches deployments/scale", DocReferringResources, scaler, "get", "team", apps, "deployments/scale", "web", true),
		res("*/scale does not match the resource", DocReferringResources, scaler, "get", "team", apps, "deployments", "web", false),

		// Aggregated ClusterRoles: "monitoring" aggregates roles labelled
		// rbac.example.com/aggregate-to-monitoring; CronTab roles labelled
		// aggregate-to-admin/edit/view extend the default roles.
		res("aggregated monitoring role reads services", DocAggregated, mon, "list", "", core, "services", "", true),
		res("aggregated monitoring role reads pods", DocAggregated, mon, "get", "team", core, "pods", "p", true),
		res("aggregated monitoring role cannot delete", DocAggregated, mon, "delete", "team", core, "services", "s", false),
		res("view aggregates crontab read", DocAggregated, victor, "list", "acme", crons, "crontabs", "", true),
		res("view does not aggregate crontab write", DocAggregated, victor, "create", "acme", crons, "crontabs", "", false),
		res("edit aggregates crontab write", DocAggregated, erin, "create", "acme", crons, "crontabs", "", true),
		res("admin aggregates crontab write", DocAggregated, bob, "delete", "acme", crons, "crontabs", "c", true),

		// Role examples: nodes (cluster-scoped, ClusterRole+ClusterRoleBinding), /healthz and
		// subpaths for GET and POST, deployments in both "extensions" and "apps".
		res("nodes reader lists nodes", DocRoleExamples, nora, "list", "", core, "nodes", "", true),
		res("nodes reader gets a node", DocRoleExamples, nora, "get", "", core, "nodes", "n1", true),
		res("nodes reader cannot delete nodes", DocRoleExamples, nora, "delete", "", core, "nodes", "n1", false),
		path("healthz GET", DocRoleExamples, prober, "get", "/healthz", true),
		path("healthz subpath POST", DocRoleExamples, prober, "post", "/healthz/etcd", true),
		path("healthz rule does not cover /metrics", DocRoleExamples, prober, "get", "/metrics", false),
		res("deployments in apps", DocRoleExamples, dana, "create", "default", apps, "deployments", "", true),
		res("deployments in extensions", DocRoleExamples, dana, "create", "default", "extensions", "deployments", "", true),
		res("deployments rule does not cover daemonsets", DocRoleExamples, dana, "create", "default", apps, "daemonsets", "", false),

		// Command-line utilities: kubectl create clusterrole --non-resource-url=/logs/*.
		path("non-resource prefix match", DocCommandLine, lou, "get", "/logs/kube-apiserver.log", true),
		path("non-resource prefix needs the slash", DocCommandLine, lou, "get", "/logs", false),

		// Referring to subjects / RoleBinding examples: all service accounts in "qa"
		// (group system:serviceaccounts:qa); a named service account; a ServiceAccount subject
		// without namespace means the RoleBinding's namespace; kubectl create rolebinding
		// --serviceaccount=acme:myapp.
		res("qa service accounts list pods in qa", DocSubjects, ServiceAccount("qa", "builder"), "list", "qa", core, "pods", "", true),
		res("qa service accounts only in qa", DocSubjects, ServiceAccount("qa", "builder"), "list", "default", core, "pods", "", false),
		res("my-sa reads deployments", DocSubjects, ServiceAccount("my-namespace", "my-sa"), "get", "my-namespace", apps, "deployments", "d", true),
		res("same-named SA of another namespace", DocSubjects, ServiceAccount("other", "my-sa"), "get", "my-namespace", apps, "deployments", "d", false),
		res("SA subject namespace defaults to the binding's", DocSubjects, ServiceAccount("my-namespace", "default"), "list", "my-namespace", core, "pods", "", true),
		res("acme:myapp views services", DocSubjects, ServiceAccount("acme", "myapp"), "list", "acme", core, "services", "", true),

		// Default roles and role bindings: system:public-info-viewer for everyone,
		// system:discovery and system:basic-user for authenticated users only.
		path("anonymous reads /healthz", DocDefaultRoles, Anonymous, "get", "/healthz", true),
		path("anonymous reads /version", DocDefaultRoles, Anonymous, "get", "/version", true),
		path("anonymous reads /readyz", DocDefaultRoles, Anonymous, "get", "/readyz", true),
		path("anonymous cannot discover /api", DocDefaultRoles, Anonymous, "get", "/api", false),
		path("anonymous cannot read /metrics", DocDefaultRoles, Anonymous, "get", "/metrics", false),
		res("anonymous cannot list pods", DocDefaultRoles, Anonymous, "list", "default", core, "pods", "", false),
		path("authenticated discovers /api", DocDefaultRoles, jane, "get", "/api", true),
		path("authenticated discovers /apis/apps/v1", DocDefaultRoles, jane, "get", "/apis/apps/v1", true),
		path("authenticated cannot read /metrics", DocDefaultRoles, jane, "get", "/metrics", false),
		res("authenticated creates selfsubjectaccessreviews", DocDefaultRoles, jane, "create", "", "authorization.k8s.io", "selfsubjectaccessreviews", "", true),
		res("authenticated creates selfsubjectrulesreviews", DocDefaultRoles, jane, "create", "", "authorization.k8s.io", "selfsubjectrulesreviews", "", true),
		path("service accounts read the issuer JWKS", DocDefaultRoles, ServiceAccount("team", "app"), "get", "/openid/v1/jwks", true),
		path("anonymous cannot read the issuer JWKS", DocDefaultRoles, Anonymous, "get", "/openid/v1/jwks", false),
		path("system:monitoring reads /metrics", DocDefaultRoles, metrics, "get", "/metrics", true),

		// User-facing roles: cluster-admin, admin, edit, view.
		res("cluster-admin deletes nodes", DocUserFacing, root, "delete", "", core, "nodes", "n1", true),
		path("cluster-admin reads any path", DocUserFacing, root, "get", "/metrics", true),
		res("system:masters creates namespaces", DocUserFacing, masters, "create", "", core, "namespaces", "", true),
		res("system:masters escalates", DocUserFacing, masters, "escalate", "", rbac, "clusterroles", "x", true),
		res("view reads pods", DocUserFacing, victor, "get", "acme", core, "pods", "p", true),
		res("view cannot read secrets", DocUserFacing, victor, "get", "acme", core, "secrets", "s", false),
		res("view cannot list secrets", DocUserFacing, victor, "list", "acme", core, "secrets", "", false),
		res("view only in its namespace", DocUserFacing, victor, "list", "default", core, "pods", "", false),
		res("view cannot update deployments", DocUserFacing, victor, "update", "acme", apps, "deployments", "d", false),
		res("edit reads secrets", DocUserFacing, erin, "get", "acme", core, "secrets", "s", true),
		res("edit creates deployments", DocUserFacing, erin, "create", "acme", apps, "deployments", "", true),
		res("edit execs into pods", DocUserFacing, erin, "create", "acme", core, "pods/exec", "p", true),
		res("edit impersonates service accounts", DocUserFacing, erin, "impersonate", "acme", core, "serviceaccounts", "default", true),
		res("edit cannot create roles", DocUserFacing, erin, "create", "acme", rbac, "roles", "", false),
		res("edit cannot create rolebindings", DocUserFacing, erin, "create", "acme", rbac, "rolebindings", "", false),
		res("edit cannot view roles", DocUserFacing, erin, "list", "acme", rbac, "roles", "", false),
		res("admin creates rolebindings", DocUserFacing, bob, "create", "acme", rbac, "rolebindings", "", true),
		res("admin creates roles", DocUserFacing, bob, "create", "acme", rbac, "roles", "", true),
		res("admin reads its namespace", DocUserFacing, bob, "get", "acme", core, "namespaces", "acme", true),
		res("admin cannot delete its namespace", DocUserFacing, bob, "delete", "acme", core, "namespaces", "acme", false),
		res("admin cannot write resource quota", DocUserFacing, bob, "update", "acme", core, "resourcequotas", "q", false),
		res("admin cannot write endpoints", DocUserFacing, bob, "create", "acme", core, "endpoints", "", false),
		res("admin reads endpoints", DocUserFacing, bob, "get", "acme", core, "endpoints", "e", true),
		res("admin only in its namespace", DocUserFacing, bob, "create", "default", rbac, "rolebindings", "", false),

		// Privilege escalation prevention: "bind" on named ClusterRoles.
		res("role-grantor binds edit", DocEscalation, user1, "bind", "user-1-namespace", rbac, "clusterroles", "edit", true),
		res("role-grantor cannot bind cluster-admin", DocEscalation, user1, "bind", "user-1-namespace", rbac, "clusterroles", "cluster-admin", false),
		res("role-grantor creates rolebindings", DocEscalation, user1, "create", "user-1-namespace", rbac, "rolebindings", "", true),

		// Core component roles and controller roles.
		res("scheduler binds pods", DocComponentRoles, authn.User{Name: authn.KubeSchedulerUser}, "create", "default", core, "pods/binding", "p", true),
		res("scheduler cannot delete nodes", DocComponentRoles, authn.User{Name: authn.KubeSchedulerUser}, "delete", "", core, "nodes", "n1", false),
		res("scheduler updates its lease", DocComponentRoles, authn.User{Name: authn.KubeSchedulerUser}, "update", "kube-system", "coordination.k8s.io", "leases", "kube-scheduler", true),
		res("kube-proxy watches endpointslices", DocComponentRoles, authn.User{Name: authn.KubeProxyUser}, "watch", "", "discovery.k8s.io", "endpointslices", "", true),
		res("controller-manager lists everything", DocComponentRoles, authn.User{Name: authn.KubeControllerManager}, "list", "", "apps", "deployments", "", true),
		res("controller-manager cannot delete pods", DocComponentRoles, authn.User{Name: authn.KubeControllerManager}, "delete", "default", core, "pods", "p", false),
		res("deployment controller updates status", DocComponentRoles, ServiceAccount("kube-system", "deployment-controller"), "update", "team", apps, "deployments/status", "web", true),
		res("deployment controller cannot read secrets", DocComponentRoles, ServiceAccount("kube-system", "deployment-controller"), "get", "team", core, "secrets", "s", false),
		res("kube-dns lists services", DocComponentRoles, ServiceAccount("kube-system", "kube-dns"), "list", "", core, "services", "", true),
		res("system:node is bound to no one in RBAC", DocComponentRoles, nodeN1, "get", "default", core, "secrets", "s", false),
	}
	return cases, docObjects()
}

func meta(ns, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}
}

func rule(verbs, groups, resources []string, names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
}

func l(s ...string) []string { return s }

func roleRef(kind, name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
}

func userSub(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func groupSub(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func saSub(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

func rb(ns, name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: meta(ns, name, nil), RoleRef: ref, Subjects: subjects}
}

func crb(name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: meta("", name, nil), RoleRef: ref, Subjects: subjects}
}

func docObjects() authz.Policy {
	read := l("get", "watch", "list")
	rw := l("get", "list", "watch", "create", "update", "patch", "delete")
	return authz.Policy{
		ClusterRoles: []*rbacv1.ClusterRole{
			{ObjectMeta: meta("", "secret-reader", nil), Rules: []rbacv1.PolicyRule{rule(read, l(""), l("secrets"))}},
			{ObjectMeta: meta("", "scaler", nil), Rules: []rbacv1.PolicyRule{rule(l("get", "update"), l("*"), l("*/scale"))}},
			{
				ObjectMeta: meta("", "monitoring", nil),
				AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
					{MatchLabels: map[string]string{"rbac.example.com/aggregate-to-monitoring": "true"}},
				}},
			},
			{
				ObjectMeta: meta("", "monitoring-endpoints", map[string]string{"rbac.example.com/aggregate-to-monitoring": "true"}),
				Rules:      []rbacv1.PolicyRule{rule(read, l(""), l("services", "endpoints", "pods"))},
			},
			{
				ObjectMeta: meta("", "aggregate-cron-tabs-edit", map[string]string{
					"rbac.authorization.k8s.io/aggregate-to-admin": "true",
					"rbac.authorization.k8s.io/aggregate-to-edit":  "true",
				}),
				Rules: []rbacv1.PolicyRule{rule(rw, l("stable.example.com"), l("crontabs"))},
			},
			{
				ObjectMeta: meta("", "aggregate-cron-tabs-view", map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}),
				Rules:      []rbacv1.PolicyRule{rule(read, l("stable.example.com"), l("crontabs"))},
			},
			{ObjectMeta: meta("", "nodes-reader", nil), Rules: []rbacv1.PolicyRule{rule(read, l(""), l("nodes"))}},
			{ObjectMeta: meta("", "healthz-get-post", nil), Rules: []rbacv1.PolicyRule{
				{Verbs: l("get", "post"), NonResourceURLs: l("/healthz", "/healthz/*")},
			}},
			{ObjectMeta: meta("", "logs-reader", nil), Rules: []rbacv1.PolicyRule{
				{Verbs: l("get"), NonResourceURLs: l("/logs/*")},
			}},
			{ObjectMeta: meta("", "role-grantor", nil), Rules: []rbacv1.PolicyRule{
				rule(l("create"), l("rbac.authorization.k8s.io"), l("rolebindings")),
				rule(l("bind"), l("rbac.authorization.k8s.io"), l("clusterroles"), "admin", "edit", "view"),
			}},
		},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			crb("read-secrets-global", roleRef("ClusterRole", "secret-reader"), groupSub("manager")),
			crb("scaler", roleRef("ClusterRole", "scaler"), userSub("scaler")),
			crb("monitoring", roleRef("ClusterRole", "monitoring"), groupSub("monitoring-team")),
			crb("read-nodes", roleRef("ClusterRole", "nodes-reader"), userSub("nora")),
			crb("healthz", roleRef("ClusterRole", "healthz-get-post"), groupSub("probers")),
			crb("logs-reader", roleRef("ClusterRole", "logs-reader"), userSub("lou")),
			crb("root-cluster-admin-binding", roleRef("ClusterRole", "cluster-admin"), userSub("root")),
		},
		Roles: []*rbacv1.Role{
			{ObjectMeta: meta("default", "pod-reader", nil), Rules: []rbacv1.PolicyRule{rule(read, l(""), l("pods"))}},
			{ObjectMeta: meta("default", "pod-and-pod-logs-reader", nil), Rules: []rbacv1.PolicyRule{rule(l("get", "list"), l(""), l("pods", "pods/log"))}},
			{ObjectMeta: meta("default", "configmap-updater", nil), Rules: []rbacv1.PolicyRule{rule(l("update", "get"), l(""), l("configmaps"), "my-configmap")}},
			{ObjectMeta: meta("default", "pod-subresources", nil), Rules: []rbacv1.PolicyRule{rule(l("get"), l(""), l("pods/*"))}},
			{ObjectMeta: meta("default", "deployments-rw", nil), Rules: []rbacv1.PolicyRule{rule(rw, l("extensions", "apps"), l("deployments"))}},
		},
		RoleBindings: []*rbacv1.RoleBinding{
			rb("default", "read-pods", roleRef("Role", "pod-reader"), userSub("jane")),
			rb("development", "read-secrets", roleRef("ClusterRole", "secret-reader"), userSub("dave")),
			rb("default", "read-pod-logs", roleRef("Role", "pod-and-pod-logs-reader"), userSub("logan")),
			rb("default", "configmap-updater", roleRef("Role", "configmap-updater"), userSub("cora")),
			rb("default", "pod-subresources", roleRef("Role", "pod-subresources"), userSub("sam")),
			rb("default", "deployments-rw", roleRef("Role", "deployments-rw"), userSub("dana")),
			rb("qa", "qa-view", roleRef("ClusterRole", "view"), groupSub("system:serviceaccounts:qa")),
			rb("my-namespace", "my-sa-view", roleRef("ClusterRole", "view"), saSub("my-namespace", "my-sa")),
			rb("my-namespace", "default-view", roleRef("ClusterRole", "view"), saSub("", "default")),
			rb("acme", "bob-admin-binding", roleRef("ClusterRole", "admin"), userSub("bob")),
			rb("acme", "myapp-view-binding", roleRef("ClusterRole", "view"), saSub("acme", "myapp")),
			rb("acme", "erin-edit", roleRef("ClusterRole", "edit"), userSub("erin")),
			rb("acme", "victor-view", roleRef("ClusterRole", "view"), userSub("victor")),
			rb("user-1-namespace", "role-grantor-binding", roleRef("ClusterRole", "role-grantor"), userSub("user-1")),
		},
	}
}
