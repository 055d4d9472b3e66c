package apiserver

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	clientv3 "go.etcd.io/etcd/client/v3"

	"kforge.dev/kforge/controlplane/apiserver/registry"
)

// The `kubernetes` Service in `default` and its Endpoints and EndpointSlice list every live
// apiserver. Each apiserver keeps a key under masterLeasesPrefix alive with an etcd lease; when
// it dies the key expires and the next reconcile by any apiserver drops its address.
const (
	masterLeasesPrefix = "/registry/masterleases/"
	kubernetesService  = "kubernetes"
)

func (a *API) resourceFor(gvr schema.GroupVersionResource) *resource {
	r, _ := a.lookup(gvr)
	return r
}

// bootstrapKubernetesService creates the `kubernetes` Service on the first address of the
// service range, as kube-apiserver does.
func (a *API) bootstrapKubernetesService(ctx context.Context, securePort int) error {
	if a.services == nil {
		return nil
	}
	svcs := a.resourceFor(corev1.SchemeGroupVersion.WithResource("services"))
	if _, err := svcs.store.Get(ctx, metav1.NamespaceDefault, kubernetesService, ""); err == nil {
		return nil // another apiserver, or an earlier start, made it
	}
	ip := firstIP(a.services.ips.CIDR())
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: kubernetesService, Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{ClusterIP: ip.String(), Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone,
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(int32(securePort))}}},
	}
	_, err := svcs.store.Create(ctx, metav1.NamespaceDefault, svc, registry.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the kubernetes Service: %w", err)
	}
	return nil
}

func firstIP(n *net.IPNet) net.IP {
	ip := make(net.IP, len(n.IP))
	copy(ip, n.IP)
	ip[len(ip)-1]++
	return ip
}

// RunEndpointReconciler advertises this apiserver at ip:port in the kubernetes Service until
// ctx ends, re-checking every interval; the Service itself is created first.
func (a *API) RunEndpointReconciler(ctx context.Context, client *clientv3.Client, ip net.IP, port int, interval time.Duration) error {
	if err := a.bootstrapKubernetesService(ctx, port); err != nil {
		return err
	}
	ttl := int64(3 * interval / time.Second)
	if ttl < 5 {
		ttl = 5
	}
	lease, err := client.Grant(ctx, ttl)
	if err != nil {
		return fmt.Errorf("endpoint reconciler: grant lease: %w", err)
	}
	key := masterLeasesPrefix + ip.String()
	if _, err := client.Put(ctx, key, fmt.Sprintf("%s:%d", ip, port), clientv3.WithLease(lease.ID)); err != nil {
		return fmt.Errorf("endpoint reconciler: %w", err)
	}
	ka, err := client.KeepAlive(ctx, lease.ID)
	if err != nil {
		return fmt.Errorf("endpoint reconciler: keep lease alive: %w", err)
	}
	go func() {
		for range ka {
		}
	}()
	if err := a.reconcileEndpoints(ctx, client, port); err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				// Leave at once rather than when the lease expires.
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				client.Revoke(sctx, lease.ID)
				a.reconcileEndpoints(sctx, client, port)
				cancel()
				return
			case <-t.C:
				a.reconcileEndpoints(ctx, client, port)
			}
		}
	}()
	return nil
}

// reconcileEndpoints writes the live apiservers into the kubernetes Endpoints and EndpointSlice.
func (a *API) reconcileEndpoints(ctx context.Context, client *clientv3.Client, port int) error {
	resp, err := client.Get(ctx, masterLeasesPrefix, clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("endpoint reconciler: list apiservers: %w", err)
	}
	var ips []string
	for _, kv := range resp.Kvs {
		ips = append(ips, strings.TrimPrefix(string(kv.Key), masterLeasesPrefix))
	}
	sort.Strings(ips)
	eps := a.resourceFor(corev1.SchemeGroupVersion.WithResource("endpoints"))
	_, _, err = eps.store.Update(ctx, metav1.NamespaceDefault, kubernetesService, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		e := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: kubernetesService, Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}}}
		if cur != nil {
			e.ObjectMeta = cur.(*corev1.Endpoints).ObjectMeta
		}
		if len(ips) > 0 {
			sub := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Name: "https", Port: int32(port), Protocol: corev1.ProtocolTCP}}}
			for _, ip := range ips {
				sub.Addresses = append(sub.Addresses, corev1.EndpointAddress{IP: ip})
			}
			e.Subsets = []corev1.EndpointSubset{sub}
		}
		return e, nil
	}, registry.UpdateOptions{AllowCreate: true})
	if err != nil {
		return fmt.Errorf("endpoint reconciler: endpoints: %w", err)
	}
	slices := a.resourceFor(discoveryv1.SchemeGroupVersion.WithResource("endpointslices"))
	_, _, err = slices.store.Update(ctx, metav1.NamespaceDefault, kubernetesService, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		ready := true
		name, proto, p := "https", corev1.ProtocolTCP, int32(port)
		s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: kubernetesService, Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{discoveryv1.LabelServiceName: kubernetesService, discoveryv1.LabelManagedBy: "kforge-apiserver"}},
			AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &p}}}
		if cur != nil {
			s.ObjectMeta = cur.(*discoveryv1.EndpointSlice).ObjectMeta
		}
		for _, ip := range ips {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
		}
		return s, nil
	}, registry.UpdateOptions{AllowCreate: true})
	if err != nil {
		return fmt.Errorf("endpoint reconciler: endpointslice: %w", err)
	}
	return nil
}
