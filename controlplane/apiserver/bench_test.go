package apiserver_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
)

// benchClients is how many concurrent clients the benchmarks run, as docs/benchmarks.md states.
const benchClients = 50

// latencies collects per-request durations from concurrent goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration, unit string) {
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	if len(l.d) == 0 {
		return
	}
	p := func(q float64) float64 { return float64(l.d[int(q*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), unit)
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
}

// parallel runs fn b.N times spread over benchClients goroutines.
func parallel(b *testing.B, fn func(i int) error) time.Duration {
	b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var n atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := fn(int(n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	return time.Since(start)
}

func BenchmarkAPIServerCreate(b *testing.B) {
	s := apiservertest.Start(b, apiserver.APIOptions{})
	cs := s.Clientset(b)
	ctx := context.Background()
	var lat latencies
	elapsed := parallel(b, func(i int) error {
		t0 := time.Now()
		_, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d", i)},
			Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
		lat.add(time.Since(t0))
		return err
	})
	lat.report(b, elapsed, "creates/s")
}

func BenchmarkAPIServerGet(b *testing.B) {
	s := apiservertest.Start(b, apiserver.APIOptions{})
	cs := s.Clientset(b)
	benchGets(b, cs, cs)
}

// benchGets creates 1000 ConfigMaps as admin and measures random gets of them by reader.
func benchGets(b *testing.B, admin, reader kubernetes.Interface) {
	ctx := context.Background()
	const objects = 1000
	for i := 0; i < objects; i++ {
		if _, err := admin.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("g%d", i)},
			Data: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var lat latencies
	elapsed := parallel(b, func(int) error {
		t0 := time.Now()
		_, err := reader.CoreV1().ConfigMaps("default").Get(ctx, fmt.Sprintf("g%d", rand.IntN(objects)), metav1.GetOptions{})
		lat.add(time.Since(t0))
		return err
	})
	lat.report(b, elapsed, "gets/s")
}

// BenchmarkEtcdPut is the floor: raw puts from the same number of clients on the same etcd.
func BenchmarkEtcdPut(b *testing.B) {
	s := apiservertest.Start(b, apiserver.APIOptions{})
	ctx := context.Background()
	var lat latencies
	elapsed := parallel(b, func(i int) error {
		t0 := time.Now()
		_, err := s.Etcd.Client.Put(ctx, fmt.Sprintf("/bench/%d", i), `{"kind":"ConfigMap","apiVersion":"v1","data":{"k":"v"}}`)
		lat.add(time.Since(t0))
		return err
	})
	lat.report(b, elapsed, "puts/s")
}

// BenchmarkAPIServerGetRBAC is BenchmarkAPIServerGet for a user RBAC must authorize (admin.conf's
// kubeadm:cluster-admins group, not system:masters), among 500 unrelated RoleBindings: the cost
// of authorization on every request.
func BenchmarkAPIServerGetRBAC(b *testing.B) {
	s := apiservertest.Start(b, apiserver.APIOptions{})
	admin := s.Clientset(b)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		ns := fmt.Sprintf("team%d", i)
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 10; j++ {
			if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rb%d", j)},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("user%d", j)}},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"}}, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:cluster-admins"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "kubeadm:cluster-admins"}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	benchGets(b, admin, apiservertest.ClientsetFor(b, s.UserConfig(b, "kubernetes-admin", "kubeadm:cluster-admins")))
}

// BenchmarkAPIServerCreateSecret creates Secrets stored as plaintext and encrypted at rest, for
// the cost of --encryption-provider-config.
func BenchmarkAPIServerCreateSecret(b *testing.B) {
	for _, c := range []struct{ name, providers string }{
		{"identity", "  - identity: {}\n"},
		{"aescbc", aescbcKey("k1", "0123456789abcdef0123456789abcdef")},
		{"aesgcm", "  - aesgcm:\n      keys:\n      - name: k1\n        secret: " + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) + "\n"},
		{"secretbox", "  - secretbox:\n      keys:\n      - name: k1\n        secret: " + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) + "\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := apiservertest.StartWith(b, apiservertest.Options{API: apiserver.APIOptions{Encryption: encryptionConfig(b, c.providers)}})
			cs := s.Clientset(b)
			ctx := context.Background()
			var lat latencies
			elapsed := parallel(b, func(i int) error {
				t0 := time.Now()
				_, err := cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i)},
					Data: map[string][]byte{"password": []byte("s3cret-s3cret-s3cret")}}, metav1.CreateOptions{})
				lat.add(time.Since(t0))
				return err
			})
			lat.report(b, elapsed, "creates/s")
		})
	}
}
