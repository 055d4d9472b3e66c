package etcd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kforge.dev/kforge/controlplane/etcd"
)

// testPKI is a throwaway etcd PKI laid out with kubeadm's file names under Dir/etcd/. It is made
// here with crypto/x509 so these tests do not depend on kforge's pki package.
type testPKI struct{ Dir string }

func (p testPKI) path(name string) string { return filepath.Join(p.Dir, "etcd", name) }

// newTestPKI issues etcd/ca, etcd/server and etcd/peer (server and client use, for 127.0.0.1 and
// localhost) and etcd/healthcheck-client (client use), as kubeadm's stacked etcd has them.
func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	p := testPKI{Dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(p.Dir, "etcd"), 0o700); err != nil {
		t.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	writePEM(t, p.path("ca.crt"), "CERTIFICATE", caDER)
	writeKey(t, p.path("ca.key"), caKey)

	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for i, c := range []struct {
		name, cn string
		usages   []x509.ExtKeyUsage
	}{
		{"server", "etcd-server", both},
		{"peer", "etcd-peer", both},
		{"healthcheck-client", "kube-etcd-healthcheck-client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: c.cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: c.usages,
		}
		if c.name != "healthcheck-client" {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, p.path(c.name+".crt"), "CERTIFICATE", der)
		writeKey(t, p.path(c.name+".key"), key)
	}
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t *testing.T, path string, key *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "PRIVATE KEY", der)
}

// memberConfig is a stacked-etcd member as kubeadm configures it: client and peer mTLS on
// 127.0.0.1 with the test PKI.
func memberConfig(p testPKI, name, dataDir string, clientPort, peerPort int, cluster, state string) etcd.Config {
	c := etcd.DefaultConfig()
	cu, pu := fmt.Sprintf("https://127.0.0.1:%d", clientPort), fmt.Sprintf("https://127.0.0.1:%d", peerPort)
	c.Name, c.DataDir = name, dataDir
	c.ListenClientURLs, c.AdvertiseClientURLs = []string{cu}, []string{cu}
	c.ListenPeerURLs, c.InitialAdvertisePeerURLs = []string{pu}, []string{pu}
	c.InitialCluster, c.InitialClusterState = cluster, state
	c.CertFile, c.KeyFile, c.TrustedCAFile, c.ClientCertAuth = p.path("server.crt"), p.path("server.key"), p.path("ca.crt"), true
	c.PeerCertFile, c.PeerKeyFile, c.PeerTrustedCAFile, c.PeerClientCertAuth = p.path("peer.crt"), p.path("peer.key"), p.path("ca.crt"), true
	c.LogLevel = "fatal" // etcd logs peers going away during shutdown as errors
	return c
}

// startMember initialises and starts c, and stops it when the test ends.
func startMember(t *testing.T, c etcd.Config) *etcd.Member {
	t.Helper()
	m := etcd.NewMember(c)
	ctx := context.Background()
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopMember(t, m) })
	return m
}

func stopMember(t *testing.T, m *etcd.Member) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.Stop(ctx); err != nil {
		t.Error(err)
	}
}

func waitReady(t *testing.T, ms ...*etcd.Member) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, m := range ms {
		if err := m.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// newClient connects to endpoints with the healthcheck-client certificate, as probes do.
func newClient(t *testing.T, p testPKI, endpoints ...string) *etcd.Client {
	t.Helper()
	c, err := etcd.NewClient(etcd.ClientConfig{Endpoints: endpoints, CAFile: p.path("ca.crt"),
		CertFile: p.path("healthcheck-client.crt"), KeyFile: p.path("healthcheck-client.key")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports, err := etcd.FreePorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
