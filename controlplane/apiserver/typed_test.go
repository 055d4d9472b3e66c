package apiserver_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
	"kforge.dev/kforge/controlplane/apiserver/resources"
)

// typedClient is what every generated client-go typed client offers for a resource.
type typedClient[T any, L any] interface {
	Create(ctx context.Context, obj *T, opts metav1.CreateOptions) (*T, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*T, error)
	Update(ctx context.Context, obj *T, opts metav1.UpdateOptions) (*T, error)
	List(ctx context.Context, opts metav1.ListOptions) (*L, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// typedCRUD creates, reads, updates (then updates stale: 409), lists by label and deletes obj
// through its typed client.
func typedCRUD[T any, L any, PT interface {
	*T
	metav1.Object
}](t *testing.T, c typedClient[T, L], obj PT) {
	t.Helper()
	ctx := context.Background()
	created, err := c.Create(ctx, (*T)(obj), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	cm := PT(created)
	if cm.GetUID() == "" || cm.GetResourceVersion() == "" {
		t.Errorf("create returned no uid/resourceVersion")
	}
	got, err := c.Get(ctx, cm.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	gm := PT(got)
	gm.SetLabels(map[string]string{"typed": "yes"})
	upd, err := c.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || PT(upd).GetLabels()["typed"] != "yes" {
		t.Fatalf("update: %v", err)
	}
	if _, err := c.Update(ctx, got, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("stale update: %v, want 409", err)
	}
	if _, err := c.List(ctx, metav1.ListOptions{LabelSelector: "typed=yes"}); err != nil {
		t.Fatalf("list: %v", err)
	}
	if err := c.Delete(ctx, cm.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.Get(ctx, cm.GetName(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete: %v", err)
	}
}

func TestTypedCRUDOnEveryResource(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	cs := s.Clientset(t)
	ns := "default"
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
	podSpec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "t"}}, Spec: podSpec}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "t"}}
	ref := rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"}
	cases := map[string]func(t *testing.T){
		"namespaces": func(t *testing.T) { typedCRUD(t, cs.CoreV1().Namespaces(), &corev1.Namespace{ObjectMeta: om("typed")}) },
		"nodes":      func(t *testing.T) { typedCRUD(t, cs.CoreV1().Nodes(), &corev1.Node{ObjectMeta: om("n1")}) },
		"pods": func(t *testing.T) {
			typedCRUD(t, cs.CoreV1().Pods(ns), &corev1.Pod{ObjectMeta: om("p"), Spec: podSpec})
		},
		"services": func(t *testing.T) {
			typedCRUD(t, cs.CoreV1().Services(ns), &corev1.Service{ObjectMeta: om("s"), Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
		},
		"endpoints":  func(t *testing.T) { typedCRUD(t, cs.CoreV1().Endpoints(ns), &corev1.Endpoints{ObjectMeta: om("e")}) },
		"configmaps": func(t *testing.T) { typedCRUD(t, cs.CoreV1().ConfigMaps(ns), &corev1.ConfigMap{ObjectMeta: om("c")}) },
		"secrets":    func(t *testing.T) { typedCRUD(t, cs.CoreV1().Secrets(ns), &corev1.Secret{ObjectMeta: om("s")}) },
		"serviceaccounts": func(t *testing.T) {
			typedCRUD(t, cs.CoreV1().ServiceAccounts(ns), &corev1.ServiceAccount{ObjectMeta: om("sa")})
		},
		"events": func(t *testing.T) {
			typedCRUD(t, cs.CoreV1().Events(ns), &corev1.Event{ObjectMeta: om("ev"), InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p"}})
		},
		"limitranges": func(t *testing.T) { typedCRUD(t, cs.CoreV1().LimitRanges(ns), &corev1.LimitRange{ObjectMeta: om("l")}) },
		"resourcequotas": func(t *testing.T) {
			typedCRUD(t, cs.CoreV1().ResourceQuotas(ns), &corev1.ResourceQuota{ObjectMeta: om("q")})
		},
		"deployments": func(t *testing.T) {
			typedCRUD(t, cs.AppsV1().Deployments(ns), &appsv1.Deployment{ObjectMeta: om("d"), Spec: appsv1.DeploymentSpec{Selector: sel, Template: tmpl}})
		},
		"replicasets": func(t *testing.T) {
			typedCRUD(t, cs.AppsV1().ReplicaSets(ns), &appsv1.ReplicaSet{ObjectMeta: om("r"), Spec: appsv1.ReplicaSetSpec{Selector: sel, Template: tmpl}})
		},
		"daemonsets": func(t *testing.T) {
			typedCRUD(t, cs.AppsV1().DaemonSets(ns), &appsv1.DaemonSet{ObjectMeta: om("ds"), Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tmpl}})
		},
		"statefulsets": func(t *testing.T) {
			typedCRUD(t, cs.AppsV1().StatefulSets(ns), &appsv1.StatefulSet{ObjectMeta: om("ss"), Spec: appsv1.StatefulSetSpec{Selector: sel, Template: tmpl}})
		},
		"jobs": func(t *testing.T) {
			typedCRUD(t, cs.BatchV1().Jobs(ns), &batchv1.Job{ObjectMeta: om("j"), Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: podSpec}}})
		},
		"endpointslices": func(t *testing.T) {
			typedCRUD(t, cs.DiscoveryV1().EndpointSlices(ns), &discoveryv1.EndpointSlice{ObjectMeta: om("es"), AddressType: discoveryv1.AddressTypeIPv4})
		},
		"leases": func(t *testing.T) {
			typedCRUD(t, cs.CoordinationV1().Leases(ns), &coordinationv1.Lease{ObjectMeta: om("le")})
		},
		"certificatesigningrequests": func(t *testing.T) {
			typedCRUD(t, cs.CertificatesV1().CertificateSigningRequests(), &certificatesv1.CertificateSigningRequest{ObjectMeta: om("csr"),
				Spec: certificatesv1.CertificateSigningRequestSpec{Request: testCSR, SignerName: "kubernetes.io/kube-apiserver-client",
					Usages: []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}}})
		},
		"poddisruptionbudgets": func(t *testing.T) {
			typedCRUD(t, cs.PolicyV1().PodDisruptionBudgets(ns), &policyv1.PodDisruptionBudget{ObjectMeta: om("pdb"), Spec: policyv1.PodDisruptionBudgetSpec{Selector: sel}})
		},
		"roles": func(t *testing.T) { typedCRUD(t, cs.RbacV1().Roles(ns), &rbacv1.Role{ObjectMeta: om("r")}) },
		"rolebindings": func(t *testing.T) {
			typedCRUD(t, cs.RbacV1().RoleBindings(ns), &rbacv1.RoleBinding{ObjectMeta: om("rb"), RoleRef: ref})
		},
		"clusterroles": func(t *testing.T) {
			typedCRUD(t, cs.RbacV1().ClusterRoles(), &rbacv1.ClusterRole{ObjectMeta: om("cr")})
		},
		"clusterrolebindings": func(t *testing.T) {
			typedCRUD(t, cs.RbacV1().ClusterRoleBindings(), &rbacv1.ClusterRoleBinding{ObjectMeta: om("crb"), RoleRef: ref})
		},
		"priorityclasses": func(t *testing.T) {
			typedCRUD(t, cs.SchedulingV1().PriorityClasses(), &schedulingv1.PriorityClass{ObjectMeta: om("pc"), Value: 1000})
		},
	}
	stored := 0
	for _, d := range resources.All() {
		if d.CreateOnly {
			continue // reviews: security_test.go
		}
		stored++
		run, ok := cases[d.Plural]
		if !ok {
			t.Errorf("no typed CRUD case for served resource %s", d.Plural)
			continue
		}
		t.Run(d.Plural, run)
	}
	if len(cases) != stored {
		t.Errorf("%d typed cases for %d stored resources", len(cases), stored)
	}
}
