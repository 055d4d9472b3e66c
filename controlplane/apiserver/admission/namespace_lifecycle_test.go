package admission

import (
	"context"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestNamespaceLifecycle(t *testing.T) {
	f := newFake()
	now := metav1.Now()
	f.namespaces["active"] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "active"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	f.namespaces["dying"] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dying"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	f.namespaces["deleted"] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "deleted", DeletionTimestamp: &now}}
	p, err := NewNamespaceLifecycle(f.deps())
	if err != nil {
		t.Fatal(err)
	}
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	cm := func(ns string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm"}}
	}
	tests := []struct {
		name string
		a    *Attributes
		code int32
		msg  string
	}{
		{"create in active", &Attributes{Operation: Create, Resource: cmGVR, Namespace: "active", Object: cm("active")}, 0, ""},
		{"create in missing", &Attributes{Operation: Create, Resource: cmGVR, Namespace: "x", Object: cm("x")}, 404, `namespaces "x" not found`},
		{"update in missing", &Attributes{Operation: Update, Resource: cmGVR, Namespace: "x", Name: "cm", Object: cm("x")}, 404, `namespaces "x" not found`},
		{"create in terminating", &Attributes{Operation: Create, Resource: podGVR, Namespace: "dying", Object: newPod("dying", "p")}, 403,
			`pods "p" is forbidden: unable to create new content in namespace dying because it is being terminated`},
		{"create in deleted (deletionTimestamp)", &Attributes{Operation: Create, Resource: cmGVR, Namespace: "deleted", Object: cm("deleted")}, 403,
			`configmaps "cm" is forbidden: unable to create new content in namespace deleted because it is being terminated`},
		{"update in terminating allowed", &Attributes{Operation: Update, Resource: cmGVR, Namespace: "dying", Name: "cm", Object: cm("dying")}, 0, ""},
		{"delete in missing allowed", &Attributes{Operation: Delete, Resource: cmGVR, Namespace: "x", Name: "cm"}, 0, ""},
		{"delete kube-system", &Attributes{Operation: Delete, Resource: nsGVR, Name: "kube-system"}, 403, `namespaces "kube-system" is forbidden: this namespace may not be deleted`},
		{"delete default", &Attributes{Operation: Delete, Resource: nsGVR, Name: "default"}, 403, `namespaces "default" is forbidden: this namespace may not be deleted`},
		{"delete kube-public", &Attributes{Operation: Delete, Resource: nsGVR, Name: "kube-public"}, 403, `namespaces "kube-public" is forbidden: this namespace may not be deleted`},
		{"delete other namespace", &Attributes{Operation: Delete, Resource: nsGVR, Name: "active"}, 0, ""},
		{"create namespace", &Attributes{Operation: Create, Resource: nsGVR, Object: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "new"}}}, 0, ""},
		{"cluster-scoped tokenreview", &Attributes{Operation: Create, Resource: schema.GroupVersionResource{Group: "authentication.k8s.io", Version: "v1", Resource: "tokenreviews"}, Object: &authenticationv1.TokenReview{}}, 0, ""},
		{"local SAR in missing ns", &Attributes{Operation: Create, Resource: schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "localsubjectaccessreviews"}, Namespace: "x"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, p.Admit(context.Background(), tt.a), tt.code, tt.msg)
		})
	}

	// the terminating refusal carries the NamespaceTerminating cause clients look for
	err = p.Admit(context.Background(), &Attributes{Operation: Create, Resource: podGVR, Namespace: "dying", Object: newPod("dying", "p")})
	se := err.(*apierrors.StatusError)
	if c := se.ErrStatus.Details.Causes; len(c) != 1 || c[0].Type != corev1.NamespaceTerminatingCause || c[0].Field != "metadata.namespace" {
		t.Fatalf("causes %+v", c)
	}
}
