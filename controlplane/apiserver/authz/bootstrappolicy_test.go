package authz_test

import (
	"context"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

func TestBootstrapPolicyShape(t *testing.T) {
	p := authz.BootstrapPolicy()
	checkMeta := func(kind string, m metav1.ObjectMeta) {
		t.Helper()
		if m.Labels[authz.BootstrappingLabel] != authz.BootstrappingValue {
			t.Errorf("%s %s/%s: missing bootstrapping label", kind, m.Namespace, m.Name)
		}
		if m.Annotations[rbacv1.AutoUpdateAnnotationKey] != "true" {
			t.Errorf("%s %s/%s: missing autoupdate annotation", kind, m.Namespace, m.Name)
		}
	}
	clusterRoles := map[string]*rbacv1.ClusterRole{}
	for _, r := range p.ClusterRoles {
		checkMeta("ClusterRole", r.ObjectMeta)
		if clusterRoles[r.Name] != nil {
			t.Errorf("duplicate ClusterRole %s", r.Name)
		}
		clusterRoles[r.Name] = r
		if len(r.Rules) == 0 && r.AggregationRule == nil {
			t.Errorf("ClusterRole %s has no rules", r.Name)
		}
		for _, rule := range r.Rules {
			if len(rule.Verbs) == 0 || (len(rule.Resources) == 0) == (len(rule.NonResourceURLs) == 0) ||
				(len(rule.Resources) > 0 && len(rule.APIGroups) == 0) {
				t.Errorf("ClusterRole %s: invalid rule %v", r.Name, rule)
			}
		}
	}
	roles := map[string]bool{}
	for _, r := range p.Roles {
		checkMeta("Role", r.ObjectMeta)
		roles[r.Namespace+"/"+r.Name] = true
	}
	crbs := map[string]*rbacv1.ClusterRoleBinding{}
	for _, b := range p.ClusterRoleBindings {
		checkMeta("ClusterRoleBinding", b.ObjectMeta)
		if crbs[b.Name] != nil {
			t.Errorf("duplicate ClusterRoleBinding %s", b.Name)
		}
		crbs[b.Name] = b
		if b.RoleRef.Kind != "ClusterRole" || clusterRoles[b.RoleRef.Name] == nil || b.RoleRef.APIGroup != rbacv1.GroupName {
			t.Errorf("ClusterRoleBinding %s: bad roleRef %v", b.Name, b.RoleRef)
		}
	}
	for _, b := range p.RoleBindings {
		checkMeta("RoleBinding", b.ObjectMeta)
		if b.RoleRef.Kind != "Role" || !roles[b.Namespace+"/"+b.RoleRef.Name] {
			t.Errorf("RoleBinding %s/%s: bad roleRef %v", b.Namespace, b.Name, b.RoleRef)
		}
	}

	for _, name := range []string{
		"cluster-admin", "admin", "edit", "view", "system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view",
		"system:discovery", "system:basic-user", "system:public-info-viewer", "system:monitoring", "system:heapster",
		"system:node", "system:node-proxier", "system:node-bootstrapper", "system:kube-scheduler", "system:kube-controller-manager",
		"system:kube-dns", "system:volume-scheduler", "system:auth-delegator", "system:service-account-issuer-discovery",
		"system:certificates.k8s.io:certificatesigningrequests:nodeclient",
		"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
		"system:certificates.k8s.io:kube-apiserver-client-approver",
		"system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
		"system:certificates.k8s.io:kubelet-serving-approver",
		"system:certificates.k8s.io:legacy-unknown-approver",
	} {
		if clusterRoles[name] == nil {
			t.Errorf("missing ClusterRole %s", name)
		}
	}
	for _, c := range []string{
		"deployment-controller", "replicaset-controller", "daemon-set-controller", "statefulset-controller", "job-controller",
		"namespace-controller", "generic-garbage-collector", "node-controller", "endpoint-controller", "endpointslice-controller",
		"service-account-controller", "disruption-controller", "certificate-controller", "clusterrole-aggregation-controller",
		"root-ca-cert-publisher", "resourcequota-controller", "ttl-after-finished-controller",
	} {
		name := authz.ControllerPrefix + c
		if clusterRoles[name] == nil {
			t.Errorf("missing ClusterRole %s", name)
		}
		b := crbs[name]
		if b == nil || len(b.Subjects) != 1 || b.Subjects[0] != (rbacv1.Subject{Kind: "ServiceAccount", Namespace: "kube-system", Name: c}) {
			t.Errorf("ClusterRoleBinding %s: %v", name, b)
		}
	}
	for _, r := range []string{
		"kube-system/system::leader-locking-kube-controller-manager", "kube-system/system::leader-locking-kube-scheduler",
		"kube-system/extension-apiserver-authentication-reader", "kube-system/system:controller:bootstrap-signer",
		"kube-public/system:controller:bootstrap-signer", "kube-system/system:controller:token-cleaner",
	} {
		if !roles[r] {
			t.Errorf("missing Role %s", r)
		}
	}

	wantSubjects := map[string]string{
		"cluster-admin":                           "Group:system:masters",
		"system:discovery":                        "Group:system:authenticated",
		"system:basic-user":                       "Group:system:authenticated",
		"system:public-info-viewer":               "Group:system:authenticated,Group:system:unauthenticated",
		"system:kube-scheduler":                   "User:system:kube-scheduler",
		"system:volume-scheduler":                 "User:system:kube-scheduler",
		"system:kube-controller-manager":          "User:system:kube-controller-manager",
		"system:node-proxier":                     "User:system:kube-proxy",
		"system:kube-dns":                         "ServiceAccount:kube-system/kube-dns",
		"system:service-account-issuer-discovery": "Group:system:serviceaccounts",
		"system:monitoring":                       "Group:system:monitoring",
		"system:node":                             "",
	}
	for name, want := range wantSubjects {
		b := crbs[name]
		if b == nil {
			t.Errorf("missing ClusterRoleBinding %s", name)
			continue
		}
		var got []string
		for _, s := range b.Subjects {
			n := s.Name
			if s.Namespace != "" {
				n = s.Namespace + "/" + n
			}
			got = append(got, s.Kind+":"+n)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("ClusterRoleBinding %s subjects %v, want %s", name, got, want)
		}
	}

	// Objects are fresh on every call.
	p.ClusterRoles[0].Rules[0].Verbs[0] = "mutated"
	if authz.BootstrapPolicy().ClusterRoles[0].Rules[0].Verbs[0] == "mutated" {
		t.Error("BootstrapPolicy shares state between calls")
	}
}

// TestNodeRulesMatchSystemNode keeps the Node authorizer's static rules and the published
// system:node ClusterRole identical.
func TestNodeRulesMatchSystemNode(t *testing.T) {
	for _, r := range authz.BootstrapPolicy().ClusterRoles {
		if r.Name != "system:node" {
			continue
		}
		rules := authz.NodeRules()
		if len(rules) != len(r.Rules) {
			t.Fatalf("system:node has %d rules, NodeRules %d", len(r.Rules), len(rules))
		}
		for _, rule := range rules {
			if !authz.Covers(r.Rules, rule) {
				t.Errorf("rule %v missing from system:node", rule)
			}
		}
		return
	}
	t.Fatal("no system:node role")
}

// TestComponentLeaderElection checks the lease-based leader election of the scheduler and
// controller manager through the kube-system leader-locking Roles.
func TestComponentLeaderElection(t *testing.T) {
	rbac := authz.NewRBAC(newLister(authz.BootstrapPolicy()))
	for _, u := range []authn.User{
		{Name: authn.KubeSchedulerUser},
		{Name: authn.KubeControllerManager},
		{Name: "system:serviceaccount:kube-system:kube-scheduler"},
	} {
		for _, verb := range []string{"get", "create", "update", "watch"} {
			a := authz.Attributes{User: u, Verb: verb, ResourceRequest: true, Namespace: "kube-system",
				APIGroup: "coordination.k8s.io", Resource: "leases", Name: "some-lock"}
			if verb == "create" || verb == "watch" {
				a.Name = ""
			}
			if d, _, _ := rbac.Authorize(context.Background(), a); d != authz.Allow {
				t.Errorf("%s %s leases: %v", u.Name, verb, d)
			}
		}
	}
	a := authz.Attributes{User: authn.User{Name: "system:serviceaccount:kube-system:bootstrap-signer"}, Verb: "update", ResourceRequest: true,
		Namespace: "kube-public", Resource: "configmaps", Name: "cluster-info"}
	if d, _, _ := rbac.Authorize(context.Background(), a); d != authz.Allow {
		t.Errorf("bootstrap-signer cluster-info: %v", d)
	}
	a.Name = "other"
	if d, _, _ := rbac.Authorize(context.Background(), a); d != authz.NoOpinion {
		t.Errorf("bootstrap-signer other configmap: %v", d)
	}
}
