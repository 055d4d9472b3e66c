package authn

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pool *x509.CertPool
}

var serial int64 = 100

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

type certOpts struct {
	cn        string
	orgs      []string
	eku       []x509.ExtKeyUsage
	notBefore time.Time
	notAfter  time.Time
	isCA      bool
}

// issue signs a certificate; the returned key is the certificate's own key (for intermediates).
func (ca *testCA) issue(t testing.TB, o certOpts) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(time.Hour)
	}
	if o.eku == nil && !o.isCA {
		o.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: o.cn, Organization: o.orgs},
		NotBefore:             o.notBefore,
		NotAfter:              o.notAfter,
		ExtKeyUsage:           o.eku,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		IsCA:                  o.isCA,
		BasicConstraintsValid: true,
	}
	if o.isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func tlsRequest(certs ...*x509.Certificate) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://kforge.test/api", nil)
	if len(certs) > 0 {
		r.TLS = &tls.ConnectionState{PeerCertificates: certs}
	}
	return r
}

// fakeObjects is an in-memory ServiceAccountGetter/SecretGetter.
type fakeObjects struct {
	mu      sync.Mutex
	sas     map[string]*corev1.ServiceAccount
	secrets map[string]*corev1.Secret
	pods    map[string]*corev1.Pod
	nodes   map[string]*corev1.Node
}

func newFakeObjects() *fakeObjects {
	return &fakeObjects{
		sas:     map[string]*corev1.ServiceAccount{},
		secrets: map[string]*corev1.Secret{},
		pods:    map[string]*corev1.Pod{},
		nodes:   map[string]*corev1.Node{},
	}
}

func notFound(resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
}

func getObj[T any](f *fakeObjects, m map[string]*T, resource, ns, name string) (*T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := m[ns+"/"+name]
	if !ok {
		return nil, notFound(resource, name)
	}
	return o, nil
}

func (f *fakeObjects) GetServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	return getObj(f, f.sas, "serviceaccounts", ns, name)
}

func (f *fakeObjects) GetSecret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	return getObj(f, f.secrets, "secrets", ns, name)
}

func (f *fakeObjects) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	return getObj(f, f.pods, "pods", ns, name)
}

func (f *fakeObjects) GetNode(_ context.Context, ns, name string) (*corev1.Node, error) {
	return getObj(f, f.nodes, "nodes", ns, name)
}

func (f *fakeObjects) put(obj any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch o := obj.(type) {
	case *corev1.ServiceAccount:
		f.sas[o.Namespace+"/"+o.Name] = o
	case *corev1.Secret:
		f.secrets[o.Namespace+"/"+o.Name] = o
	case *corev1.Pod:
		f.pods[o.Namespace+"/"+o.Name] = o
	case *corev1.Node:
		f.nodes["/"+o.Name] = o
	default:
		panic("unknown object")
	}
}

func (f *fakeObjects) del(kind, ns, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := ns + "/" + name
	switch kind {
	case "sa":
		delete(f.sas, key)
	case "secret":
		delete(f.secrets, key)
	case "pod":
		delete(f.pods, key)
	case "node":
		delete(f.nodes, key)
	}
}
