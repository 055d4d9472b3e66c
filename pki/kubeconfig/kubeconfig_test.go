package kubeconfig

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"kforge.dev/kforge/pki"
)

func setup(t *testing.T) (pki.Params, string) {
	t.Helper()
	p := pki.Params{CertificatesDir: t.TempDir(), NodeName: "cp1", AdvertiseAddress: net.ParseIP("10.0.0.5"),
		Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }}
	if _, err := pki.EnsureCert(p, pki.DefaultCertList(p)[0]); err != nil {
		t.Fatal(err)
	}
	return p, t.TempDir()
}

func TestFilesMatchKubeadm(t *testing.T) {
	p, dir := setup(t)
	specs := DefaultSpecs("cp1", "https://lb.example.com:6443", "https://10.0.0.5:6443")
	want := []struct {
		file, user string
		groups     []string
		server     string
	}{
		{"admin.conf", "kubernetes-admin", []string{"kubeadm:cluster-admins"}, "https://lb.example.com:6443"},
		{"super-admin.conf", "kubernetes-super-admin", []string{"system:masters"}, "https://lb.example.com:6443"},
		{"kubelet.conf", "system:node:cp1", []string{"system:nodes"}, "https://lb.example.com:6443"},
		{"controller-manager.conf", "system:kube-controller-manager", nil, "https://10.0.0.5:6443"},
		{"scheduler.conf", "system:kube-scheduler", nil, "https://10.0.0.5:6443"},
	}
	if len(specs) != len(want) {
		t.Fatalf("%d specs", len(specs))
	}
	ca, _ := pki.LoadCert(p.CertificatesDir, "ca")
	for i, w := range want {
		t.Run(w.file, func(t *testing.T) {
			if out, err := Ensure(dir, specs[i], p, "kubernetes"); err != nil || out != pki.Created {
				t.Fatalf("Ensure = %v, %v", out, err)
			}
			path := filepath.Join(dir, w.file)
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", st.Mode().Perm())
			}
			cfg, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CurrentContext != w.user+"@kubernetes" {
				t.Errorf("context %q", cfg.CurrentContext)
			}
			if s := cfg.Clusters["kubernetes"].Server; s != w.server {
				t.Errorf("server %q want %q", s, w.server)
			}
			c, err := pki.KubeconfigClientCert(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject.CommonName != w.user || !slices.Equal(c.Subject.Organization, w.groups) {
				t.Errorf("subject %q %v", c.Subject.CommonName, c.Subject.Organization)
			}
			pool := x509.NewCertPool()
			pool.AddCert(ca)
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: c.NotBefore.Add(time.Hour)}); err != nil {
				t.Errorf("client cert does not verify: %v", err)
			}
			before, _ := os.ReadFile(path)
			if out, err := Ensure(dir, specs[i], p, "kubernetes"); err != nil || out != pki.Kept {
				t.Errorf("second Ensure = %v, %v", out, err)
			}
			after, _ := os.ReadFile(path)
			if string(before) != string(after) {
				t.Error("second Ensure changed the file")
			}
		})
	}
}

func TestWrongCAOrServerIsAnError(t *testing.T) {
	p, dir := setup(t)
	spec := DefaultSpecs("cp1", "https://lb:6443", "https://10.0.0.5:6443")[0]
	if _, err := Ensure(dir, spec, p, "kubernetes"); err != nil {
		t.Fatal(err)
	}
	other, _ := setup(t)
	if _, err := Ensure(dir, spec, other, "kubernetes"); err == nil || !strings.Contains(err.Error(), "wrong CA") || !strings.Contains(err.Error(), "admin.conf") {
		t.Errorf("wrong CA: %v", err)
	}
	spec.ServerURL = "https://elsewhere:6443"
	if _, err := Ensure(dir, spec, p, "kubernetes"); err == nil || !strings.Contains(err.Error(), "https://elsewhere:6443") {
		t.Errorf("wrong server: %v", err)
	}
}

func TestRenew(t *testing.T) {
	p, dir := setup(t)
	spec := DefaultSpecs("cp1", "https://lb:6443", "https://10.0.0.5:6443")[0]
	Ensure(dir, spec, p, "kubernetes")
	path := filepath.Join(dir, "admin.conf")
	old, _ := pki.KubeconfigClientCert(path)
	if err := Renew(dir, "admin.conf", p); err != nil {
		t.Fatal(err)
	}
	c, err := pki.KubeconfigClientCert(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Cmp(old.SerialNumber) == 0 || c.Subject.CommonName != "kubernetes-admin" || !slices.Equal(c.Subject.Organization, old.Subject.Organization) {
		t.Errorf("renewed cert %v %v", c.Subject, c.SerialNumber)
	}
	if _, err := Ensure(dir, spec, p, "kubernetes"); err != nil {
		t.Errorf("renewed file no longer passes Ensure: %v", err)
	}
}
