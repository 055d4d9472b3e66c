// Package apiservertest runs kforge's apiserver in the test process, on embedded etcd and a
// loopback TLS port, and hands out client configurations for it.
package apiservertest

import (
	"context"
	"encoding/pem"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/storage/storagetest"
)

// Server is a running apiserver.
type Server struct {
	API    *apiserver.API
	Etcd   *storagetest.Etcd
	URL    string
	Config *rest.Config
	CAPEM  []byte
}

// Start starts an apiserver for t; it stops when the test ends.
func Start(t testing.TB, opts apiserver.APIOptions) *Server {
	t.Helper()
	e := storagetest.StartEtcd(t)
	api, err := apiserver.NewAPI(e.Client, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	if err := api.Run(ctx); err != nil {
		t.Fatalf("start watch caches: %v", err)
	}
	if err := api.Bootstrap(rctx); err != nil {
		t.Fatal(err)
	}
	_ = rctx
	srv := httptest.NewUnstartedServer(api.Handler())
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	if err := api.RunEndpointReconciler(ctx, e.Client, net.IPv4(127, 0, 0, 1), port, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}, QPS: -1} // no client-side rate limit: tests and benchmarks measure the server
	return &Server{API: api, Etcd: e, URL: srv.URL, Config: cfg, CAPEM: caPEM}
}

// Clientset is a typed client for the server.
func (s *Server) Clientset(t testing.TB) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Kubeconfig writes a kubeconfig for the server into dir and returns its path, for kubectl.
func (s *Server) Kubeconfig(t testing.TB, dir string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kforge"] = &clientcmdapi.Cluster{Server: s.URL, CertificateAuthorityData: s.CAPEM}
	// Authentication arrives with the security layer; a token keeps kubectl from prompting.
	cfg.AuthInfos["tester"] = &clientcmdapi.AuthInfo{Token: "kforge-test"}
	cfg.Contexts["kforge"] = &clientcmdapi.Context{Cluster: "kforge", AuthInfo: "tester", Namespace: "default"}
	cfg.CurrentContext = "kforge"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o600)
	return path
}
