// Package apiservertest runs kforge's apiserver in the test process, on embedded etcd and a
// loopback TLS port, with a cluster PKI of its own, and hands out client configurations for
// any user it is asked for.
package apiservertest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
	"kforge.dev/kforge/controlplane/apiserver/audit"
	"kforge.dev/kforge/controlplane/storage/storagetest"
	"kforge.dev/kforge/pki"
)

// Issuer is the service-account token issuer of test servers, kubeadm's default.
const Issuer = "https://kubernetes.default.svc.cluster.local"

// Server is a running apiserver.
type Server struct {
	API  *apiserver.API
	Etcd *storagetest.Etcd
	URL  string
	// Config is a client of a superuser (group system:masters), like kubeadm's super-admin.conf.
	Config *rest.Config
	CAPEM  []byte
	// PKIDir holds the cluster's certificates and keys, kubeadm's layout.
	PKIDir string

	params pki.Params
}

// Options adjust a test server.
type Options struct {
	API apiserver.APIOptions
	// Security, when set, changes the security configuration before it is built.
	Security func(*apiserver.SecurityConfig)
	// Etcd, when set, is the etcd to serve from (a restart of an earlier server); PKIDir
	// then names that server's PKI so its clients and tokens stay valid.
	Etcd   *storagetest.Etcd
	PKIDir string
	// Audit, when set, receives the audit log of every request.
	Audit *audit.Logger
}

// Start starts an apiserver for t; it stops when the test ends.
//
// Its security is a kubeadm cluster's (x509 client certificates, bootstrap tokens,
// service-account tokens, Node,RBAC, the default admission chain) except that the
// ServiceAccount admission plugin is off: without a controller-manager nothing creates the
// default ServiceAccount of new namespaces, and most tests create pods without one. Tests of
// that plugin turn it on with StartWith.
func Start(t testing.TB, opts apiserver.APIOptions) *Server {
	return StartWith(t, Options{API: opts, Security: func(c *apiserver.SecurityConfig) {
		c.AdmissionPlugins = apiserver.AdmissionPlugins(nil, []string{"ServiceAccount"})
	}})
}

// StartWith starts an apiserver with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	dir := o.PKIDir
	if dir == "" {
		dir = t.TempDir()
	}
	p := pki.Params{CertificatesDir: dir, NodeName: "kforge-test", AdvertiseAddress: net.IPv4(127, 0, 0, 1),
		EncryptionAlgorithm: pki.ECDSAP256}
	for _, spec := range pki.DefaultCertList(p) {
		if _, err := pki.EnsureCert(p, spec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pki.EnsureServiceAccountKeys(p); err != nil {
		t.Fatal(err)
	}
	e := o.Etcd
	if e == nil {
		e = storagetest.StartEtcd(t)
	}
	api, err := apiserver.NewAPI(e.Client, o.API)
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
	if err := api.ReconcileBootstrapPolicy(rctx); err != nil {
		t.Fatal(err)
	}
	go api.RunClusterRoleAggregation(ctx)
	auth := apiserver.DefaultAuthOptions()
	auth.EnableBootstrapTokenAuth = true
	auth.ServiceAccountKeyFiles = []string{filepath.Join(dir, pki.ServiceAccountPubFile)}
	auth.ServiceAccountSigningKeyFile = filepath.Join(dir, pki.ServiceAccountKeyFile)
	auth.ServiceAccountIssuers = []string{Issuer}
	auth.RequestHeaderClientCAFile = pki.CertPath(dir, "front-proxy-ca")
	auth.RequestHeaderAllowedNames = []string{"front-proxy-client"}
	auth.RequestHeaderUsernameHeaders = []string{"X-Remote-User"}
	auth.RequestHeaderGroupHeaders = []string{"X-Remote-Group"}
	auth.RequestHeaderExtraHeaderPrefixes = []string{"X-Remote-Extra-"}
	secCfg, err := auth.Load(pki.CertPath(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Security != nil {
		o.Security(&secCfg)
	}
	if err := api.EnableSecurity(secCfg); err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := apiserver.TLSConfig(pki.CertPath(dir, "apiserver"), pki.KeyPath(dir, "apiserver"), pki.CertPath(dir, "ca"), pki.CertPath(dir, "front-proxy-ca"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Audit != nil {
		api.SetAudit(o.Audit)
	}
	if err := api.SetKubeletClient(apiserver.KubeletClientConfig{CertFile: pki.CertPath(dir, "apiserver-kubelet-client"),
		KeyFile: pki.KeyPath(dir, "apiserver-kubelet-client"), CAFile: pki.CertPath(dir, "ca")}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api.Handler())
	srv.EnableHTTP2 = true
	srv.TLS = tlsCfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	if err := api.RunEndpointReconciler(ctx, e.Client, net.IPv4(127, 0, 0, 1), port, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(pki.CertPath(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{API: api, Etcd: e, URL: srv.URL, CAPEM: caPEM, PKIDir: dir, params: p}
	s.Config = s.UserConfig(t, "kubernetes-super-admin", "system:masters")
	return s
}

// AnonymousConfig is a client without credentials.
func (s *Server) AnonymousConfig() *rest.Config {
	// No client-side rate limit: tests and benchmarks measure the server.
	return &rest.Config{Host: s.URL, TLSClientConfig: rest.TLSClientConfig{CAData: s.CAPEM}, QPS: -1}
}

// TokenConfig is a client that authenticates with a bearer token.
func (s *Server) TokenConfig(token string) *rest.Config {
	c := s.AnonymousConfig()
	c.BearerToken = token
	return c
}

// UserConfig is a client with a certificate for user in groups, signed by the cluster CA.
func (s *Server) UserConfig(t testing.TB, user string, groups ...string) *rest.Config {
	t.Helper()
	return s.CertConfig(t, "ca", user, groups...)
}

// CertConfig is a client with a certificate for user in groups signed by the CA named ca
// ("ca", "front-proxy-ca").
func (s *Server) CertConfig(t testing.TB, ca, user string, groups ...string) *rest.Config {
	t.Helper()
	caCert, caKey, err := pki.LoadCertAndKey(s.PKIDir, ca)
	if err != nil {
		t.Fatal(err)
	}
	spec := pki.CertSpec{Name: "client-" + user, CommonName: user, Organization: groups,
		KeyUsage: pki.LeafKeyUsage(s.params), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	issued, err := pki.IssueLeaf(s.params, spec, caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	c := s.AnonymousConfig()
	c.CertData, c.KeyData = issued.CertPEM, issued.KeyPEM
	return c
}

// ServingCert is a TLS serving certificate for ips signed by the cluster CA, for stand-ins of
// the servers the apiserver calls (kubelets).
func (s *Server) ServingCert(t testing.TB, name string, ips ...net.IP) tls.Certificate {
	t.Helper()
	caCert, caKey, err := pki.LoadCertAndKey(s.PKIDir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	spec := pki.CertSpec{Name: "serving-" + name, CommonName: name, KeyUsage: pki.LeafKeyUsage(s.params),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SANs:        func(pki.Params) ([]string, []net.IP, error) { return []string{name}, ips, nil }}
	issued, err := pki.IssueLeaf(s.params, spec, caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(issued.CertPEM, issued.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// Clientset is a typed client for the server's superuser.
func (s *Server) Clientset(t testing.TB) *kubernetes.Clientset {
	t.Helper()
	return ClientsetFor(t, s.Config)
}

// ClientsetFor is a typed client for cfg.
func ClientsetFor(t testing.TB, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Kubeconfig writes a kubeconfig for the superuser into dir and returns its path, for kubectl.
func (s *Server) Kubeconfig(t testing.TB, dir string) string {
	t.Helper()
	return s.KubeconfigFor(t, dir, "kubeconfig", s.Config)
}

// KubeconfigFor writes a kubeconfig named name into dir with cfg's credentials.
func (s *Server) KubeconfigFor(t testing.TB, dir, name string, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kforge"] = &clientcmdapi.Cluster{Server: s.URL, CertificateAuthorityData: s.CAPEM}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["kforge"] = &clientcmdapi.Context{Cluster: "kforge", AuthInfo: "user", Namespace: "default"}
	kc.CurrentContext = "kforge"
	path := filepath.Join(dir, name)
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o600)
	return path
}
