package apiserver_test

import (
	"context"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
)

func TestServiceIPsAndNodePorts(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{ServiceClusterIPRange: "10.96.0.0/24", NodePortBase: 30000, NodePortSize: 3})
	cs := s.Clientset(t)
	ctx := context.Background()
	k, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || k.Spec.ClusterIP != "10.96.0.1" || k.Spec.Ports[0].Port != 443 {
		t.Fatalf("kubernetes Service: %v %+v", err, k.Spec)
	}
	svc := func(name, ip string, typ corev1.ServiceType, nodePort int32) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.ServiceSpec{ClusterIP: ip, Type: typ,
			Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80, NodePort: nodePort, TargetPort: intstr.FromInt32(8080)}}}}
	}
	a, err := cs.CoreV1().Services("default").Create(ctx, svc("a", "", "", 0), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP(a.Spec.ClusterIP)
	_, cidr, _ := net.ParseCIDR("10.96.0.0/24")
	if ip == nil || !cidr.Contains(ip) || a.Spec.ClusterIP == "10.96.0.1" || len(a.Spec.ClusterIPs) != 1 || a.Spec.IPFamilies[0] != corev1.IPv4Protocol {
		t.Errorf("allocated %q %v", a.Spec.ClusterIP, a.Spec.IPFamilies)
	}
	_, err = cs.CoreV1().Services("default").Create(ctx, svc("b", a.Spec.ClusterIP, "", 0), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "provided IP is already allocated") {
		t.Errorf("duplicate cluster IP: %v", err)
	}
	_, err = cs.CoreV1().Services("default").Create(ctx, svc("c", "10.1.2.3", "", 0), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "not in the valid range") {
		t.Errorf("cluster IP outside the range: %v", err)
	}
	// The IP is immutable, and kept when an update leaves it out.
	a.Spec.ClusterIP, a.Spec.ClusterIPs = "", nil
	a.Labels = map[string]string{"x": "y"}
	a, err = cs.CoreV1().Services("default").Update(ctx, a, metav1.UpdateOptions{})
	if err != nil || a.Spec.ClusterIP != ip.String() {
		t.Fatalf("update without clusterIP: %v %s", err, a.Spec.ClusterIP)
	}
	// Deleting frees the IP for a new Service.
	if err := cs.CoreV1().Services("default").Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services("default").Create(ctx, svc("d", ip.String(), "", 0), metav1.CreateOptions{}); err != nil {
		t.Errorf("reuse of a freed IP: %v", err)
	}
	// NodePorts come from the range; asking for a taken one is refused; the range runs out.
	np, err := cs.CoreV1().Services("default").Create(ctx, svc("np1", "", corev1.ServiceTypeNodePort, 0), metav1.CreateOptions{})
	if err != nil || np.Spec.Ports[0].NodePort < 30000 || np.Spec.Ports[0].NodePort > 30002 {
		t.Fatalf("nodePort: %v %+v", err, np.Spec.Ports)
	}
	_, err = cs.CoreV1().Services("default").Create(ctx, svc("np2", "", corev1.ServiceTypeNodePort, np.Spec.Ports[0].NodePort), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "provided port is already allocated") {
		t.Errorf("taken nodePort: %v", err)
	}
	_, err = cs.CoreV1().Services("default").Create(ctx, svc("np3", "", corev1.ServiceTypeNodePort, 40000), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "30000-30002") {
		t.Errorf("nodePort outside the range: %v", err)
	}
	// Back to ClusterIP frees the node port.
	np.Spec.Type = corev1.ServiceTypeClusterIP
	np, err = cs.CoreV1().Services("default").Update(ctx, np, metav1.UpdateOptions{})
	if err != nil || np.Spec.Ports[0].NodePort != 0 {
		t.Fatalf("NodePort to ClusterIP: %v %+v", err, np.Spec.Ports)
	}
	for _, name := range []string{"n1", "n2", "n3"} {
		if _, err := cs.CoreV1().Services("default").Create(ctx, svc(name, "", corev1.ServiceTypeNodePort, 0), metav1.CreateOptions{}); err != nil {
			t.Errorf("nodePort %s after the range was freed: %v", name, err)
		}
	}
}

func endpointIPs(t *testing.T, cs *kubernetes.Clientset) []string {
	t.Helper()
	ep, err := cs.CoreV1().Endpoints("default").Get(context.Background(), "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			ips = append(ips, a.IP)
		}
	}
	sort.Strings(ips)
	return ips
}

func TestKubernetesEndpointsFollowLiveAPIServers(t *testing.T) {
	s := apiservertest.Start(t, apiserver.APIOptions{})
	cs := s.Clientset(t)
	if got := endpointIPs(t, cs); strings.Join(got, ",") != "127.0.0.1" {
		t.Fatalf("one apiserver: %v", got)
	}
	slice, err := cs.DiscoveryV1().EndpointSlices("default").Get(context.Background(), "kubernetes", metav1.GetOptions{})
	if err != nil || len(slice.Endpoints) != 1 || slice.Labels["kubernetes.io/service-name"] != "kubernetes" {
		t.Errorf("EndpointSlice: %v %+v", err, slice)
	}
	// Two more apiservers on the same etcd, each with its own connection.
	start := func(ip string) (context.CancelFunc, *clientv3.Client) {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Etcd.Endpoint}, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		api, err := apiserver.NewAPI(c, apiserver.APIOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if err := api.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if err := api.RunEndpointReconciler(ctx, c, net.ParseIP(ip), 6443, time.Second); err != nil {
			t.Fatal(err)
		}
		return cancel, c
	}
	stop2, _ := start("127.0.0.2")
	defer stop2()
	stop3, c3 := start("127.0.0.3")
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got := strings.Join(endpointIPs(t, cs), ",")
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("kubernetes endpoints %s, want %s", got, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("127.0.0.1,127.0.0.2,127.0.0.3")
	// A crashed apiserver (its etcd connection gone, nothing revoked) drops out when its lease
	// expires.
	c3.Close()
	stop3()
	waitFor("127.0.0.1,127.0.0.2")
	// One that stops cleanly leaves at once.
	stop2()
	waitFor("127.0.0.1")
}
