package admission

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNewUnknownPlugin(t *testing.T) {
	_, err := New([]string{"NamespaceLifecycle", "AlwaysPullImagez"}, newFake().deps())
	if err == nil || !strings.Contains(err.Error(), `"AlwaysPullImagez" is unknown`) || !strings.Contains(err.Error(), "ResourceQuota") {
		t.Fatalf("got %v", err)
	}
}

func TestNewOrdersLikeKubeAPIServer(t *testing.T) {
	names := slices.Clone(DefaultPlugins)
	slices.Reverse(names)
	c, err := New(append(names, "Priority"), newFake().deps())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Names(); !slices.Equal(got, DefaultPlugins) {
		t.Fatalf("order %v, want %v", got, DefaultPlugins)
	}
}

func TestNewMissingDeps(t *testing.T) {
	_, err := New(DefaultPlugins, Deps{})
	if err == nil || !strings.Contains(err.Error(), "NamespaceLifecycle requires Deps.Namespaces") || !strings.Contains(err.Error(), "ResourceQuota requires Deps.ResourceQuotas") {
		t.Fatalf("got %v", err)
	}
	if _, err := New([]string{"DefaultTolerationSeconds"}, Deps{}); err != nil {
		t.Fatal(err)
	}
}

type recorder struct {
	name string
	log  *[]string
	fail bool
}

func (r recorder) Name() string { return r.name }
func (r recorder) Admit(context.Context, *Attributes) error {
	*r.log = append(*r.log, "admit:"+r.name)
	return nil
}

type validatorOnly struct {
	name string
	log  *[]string
	fail bool
}

func (v validatorOnly) Name() string { return v.name }

func (v validatorOnly) Validate(context.Context, *Attributes) error {
	*v.log = append(*v.log, "validate:"+v.name)
	if v.fail {
		return errors.New("boom")
	}
	return nil
}

type both struct{ recorder }

func (b both) Validate(context.Context, *Attributes) error {
	*b.log = append(*b.log, "validate:"+b.name)
	return nil
}

func TestChainMutatorsBeforeValidators(t *testing.T) {
	var log []string
	c := NewChain(validatorOnly{"v1", &log, false}, both{recorder{"b", &log, false}}, recorder{"m", &log, false})
	if err := c.Run(context.Background(), &Attributes{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"admit:b", "admit:m", "validate:v1", "validate:b"}
	if !slices.Equal(log, want) {
		t.Fatalf("log %v, want %v", log, want)
	}
	// a plain error from a plugin reaches the client as a 500 status
	c = NewChain(validatorOnly{"v", &log, true})
	wantErr(t, c.Validate(context.Background(), &Attributes{}), 500, "Internal error occurred: boom")
}

func TestDefaultChainPodCreate(t *testing.T) {
	f := newFake()
	f.namespaces["ns"] = newNamespace("ns")
	f.serviceAccounts["ns/default"] = newServiceAccount("ns", "default")
	f.limitRanges["ns"] = []*corev1.LimitRange{limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu", "500m")})}
	f.addQuota(newQuota("q", rl("pods", "1", "requests.cpu", "1")))
	c, err := New(DefaultPlugins, f.deps())
	if err != nil {
		t.Fatal(err)
	}
	pod := newPod("ns", "p")
	if err := c.Run(context.Background(), createPod(pod)); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" || len(pod.Spec.Volumes) != 1 || len(pod.Spec.Tolerations) != 2 ||
		pod.Spec.Priority == nil || pod.Annotations[LimitRangerAnnotation] == "" {
		t.Fatalf("pod not fully admitted: %+v", pod)
	}
	wantUsed(t, f, "q", rl("pods", "1", "requests.cpu", "500m"))
	wantErr(t, c.Run(context.Background(), createPod(newPod("ns", "p2"))), 403,
		`pods "p2" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`)
	wantErr(t, c.Run(context.Background(), createPod(newPod("gone", "p3"))), 404, `namespaces "gone" not found`)
}

func newNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func newServiceAccount(ns, name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}
