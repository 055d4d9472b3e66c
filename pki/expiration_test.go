package pki_test

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kforge.dev/kforge/pki"
	"kforge.dev/kforge/pki/kubeconfig"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestCheckExpirationTable builds a tree and the kubeconfig files, makes the front-proxy CA
// external and removes super-admin.conf, and compares `certs check-expiration`'s output, a
// month later, with kubeadm's layout in testdata.
func TestCheckExpirationTable(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	certDir, kcDir := t.TempDir(), t.TempDir()
	p := pki.Params{
		CertificatesDir: certDir, NodeName: "cp1", AdvertiseAddress: net.ParseIP("10.0.0.5"),
		ControlPlaneEndpoint: "lb.example.com:6443", Now: func() time.Time { return now },
	}
	for _, s := range pki.DefaultCertList(p) {
		if _, err := pki.EnsureCert(p, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range kubeconfig.DefaultSpecs("cp1", "https://lb.example.com:6443", "https://10.0.0.5:6443") {
		if _, err := kubeconfig.Ensure(kcDir, s, p, "kubernetes"); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(certDir, "front-proxy-ca.key"))
	os.Remove(filepath.Join(kcDir, "super-admin.conf"))

	certs, cas, err := pki.CheckExpiration(certDir, kcDir, p)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := pki.WriteExpirationTable(&b, certs, cas, now.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "check-expiration.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v; run go test ./pki -run TestCheckExpirationTable -update", err)
	}
	if b.String() != string(want) {
		t.Errorf("check-expiration output differs from %s:\n got:\n%s\nwant:\n%s", golden, b.String(), want)
	}
	for _, c := range certs {
		if c.Name == "kubelet.conf" {
			t.Error("kubelet.conf is listed; kubeadm leaves it to the kubelet's rotation")
		}
	}
}
