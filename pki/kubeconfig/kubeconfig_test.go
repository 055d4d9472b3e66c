package kubeconfig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cfssl/helpers"
	"k8s.io/client-go/tools/clientcmd"

	"kforge.dev/kforge/pki"
)

var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// setup makes a cluster CA and returns the parameters and an empty kubeconfig directory.
func setup(t *testing.T) (pki.Params, string) {
	t.Helper()
	p := pki.Params{CertificatesDir: t.TempDir(), NodeName: "cp1", AdvertiseAddress: net.ParseIP("10.0.0.5"),
		Now: func() time.Time { return fixedNow }}
	if _, err := pki.EnsureCert(p, pki.DefaultCertList(p)[0]); err != nil {
		t.Fatal(err)
	}
	return p, t.TempDir()
}

const (
	lbURL    = "https://lb.example.com:6443"
	localURL = "https://10.0.0.5:6443"
)

func TestFilesMatchKubeadm(t *testing.T) {
	p, dir := setup(t)
	specs := DefaultSpecs("cp1", lbURL, localURL)
	want := []struct {
		file, user string
		groups     []string
		server     string
	}{
		{"admin.conf", "kubernetes-admin", []string{"kubeadm:cluster-admins"}, lbURL},
		{"super-admin.conf", "kubernetes-super-admin", []string{"system:masters"}, lbURL},
		{"kubelet.conf", "system:node:cp1", []string{"system:nodes"}, lbURL},
		{"controller-manager.conf", "system:kube-controller-manager", nil, localURL},
		{"scheduler.conf", "system:kube-scheduler", nil, localURL},
	}
	if len(specs) != len(want) {
		t.Fatalf("%d specs, want %d", len(specs), len(want))
	}
	caPEM, _ := os.ReadFile(pki.CertPath(p.CertificatesDir, "ca"))
	ca, _ := pki.LoadCert(p.CertificatesDir, "ca")
	for i, w := range want {
		t.Run(w.file, func(t *testing.T) {
			if specs[i].FileName != w.file {
				t.Fatalf("spec %d is %s", i, specs[i].FileName)
			}
			if out, err := Ensure(dir, specs[i], p, "kubernetes"); err != nil || out != pki.Created {
				t.Fatalf("Ensure = %v, %v", out, err)
			}
			path := filepath.Join(dir, w.file)
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
			cfg, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx := w.user + "@kubernetes"
			if cfg.CurrentContext != ctx || cfg.Contexts[ctx] == nil || cfg.Contexts[ctx].Cluster != "kubernetes" || cfg.Contexts[ctx].AuthInfo != w.user {
				t.Errorf("context %q: %+v", cfg.CurrentContext, cfg.Contexts)
			}
			cl := cfg.Clusters["kubernetes"]
			if len(cfg.Clusters) != 1 || cl == nil || cl.Server != w.server {
				t.Fatalf("clusters %+v, want server %s", cfg.Clusters, w.server)
			}
			if !bytes.Equal(cl.CertificateAuthorityData, caPEM) {
				t.Error("embedded CA is not ca.crt")
			}
			ai := cfg.AuthInfos[w.user]
			if len(cfg.AuthInfos) != 1 || ai == nil {
				t.Fatalf("users %v", cfg.AuthInfos)
			}
			c, err := ClientCert(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject.CommonName != w.user || !slices.Equal(c.Subject.Organization, w.groups) {
				t.Errorf("subject %q %v, want %q %v", c.Subject.CommonName, c.Subject.Organization, w.user, w.groups)
			}
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || c.IsCA {
				t.Errorf("usages %v IsCA %v", c.ExtKeyUsage, c.IsCA)
			}
			key, err := helpers.ParsePrivateKeyPEM(ai.ClientKeyData)
			if err != nil {
				t.Fatal(err)
			}
			if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(c.PublicKey) {
				t.Error("client key does not match the client certificate")
			}
			pool := x509.NewCertPool()
			pool.AddCert(ca)
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: fixedNow}); err != nil {
				t.Errorf("client cert does not verify against ca.crt: %v", err)
			}
			if !c.NotAfter.Equal(fixedNow.Add(pki.DefaultCertValidity)) {
				t.Errorf("NotAfter %v", c.NotAfter)
			}
			before, _ := os.ReadFile(path)
			if out, err := Ensure(dir, specs[i], p, "kubernetes"); err != nil || out != pki.Kept {
				t.Errorf("second Ensure = %v, %v", out, err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("second Ensure changed the file")
			}
		})
	}
}

func TestExistingFileThatDoesNotMatchIsAnError(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, s *Spec, p *pki.Params)
		want []string
	}{
		{name: "wrong CA", want: []string{"exists already but has got the wrong CA cert", "admin.conf"},
			edit: func(t *testing.T, s *Spec, p *pki.Params) { *p, _ = setup(t) }},
		{name: "wrong server", want: []string{"admin.conf", "points at " + lbURL, "not https://elsewhere:6443"},
			edit: func(t *testing.T, s *Spec, p *pki.Params) { s.ServerURL = "https://elsewhere:6443" }},
		{name: "wrong user", want: []string{"admin.conf", `for user "kubernetes-admin", not "someone-else"`},
			edit: func(t *testing.T, s *Spec, p *pki.Params) { s.ClientName = "someone-else" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, dir := setup(t)
			spec := DefaultSpecs("cp1", lbURL, localURL)[0]
			if _, err := Ensure(dir, spec, p, "kubernetes"); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(filepath.Join(dir, "admin.conf"))
			tc.edit(t, &spec, &p)
			_, err := Ensure(dir, spec, p, "kubernetes")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if after, _ := os.ReadFile(filepath.Join(dir, "admin.conf")); !bytes.Equal(before, after) {
				t.Error("the file was overwritten")
			}
		})
	}
}

func TestCABundleDuringRotationIsAccepted(t *testing.T) {
	p, dir := setup(t)
	spec := DefaultSpecs("cp1", lbURL, localURL)[3]
	if _, err := Ensure(dir, spec, p, "kubernetes"); err != nil {
		t.Fatal(err)
	}
	// ca.crt becomes a bundle of the current CA and a new one; the file still trusts the CA.
	other, _ := setup(t)
	cur, _ := os.ReadFile(pki.CertPath(p.CertificatesDir, "ca"))
	next, _ := os.ReadFile(pki.CertPath(other.CertificatesDir, "ca"))
	if err := os.WriteFile(pki.CertPath(p.CertificatesDir, "ca"), append(next, cur...), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := Ensure(dir, spec, p, "kubernetes"); err != nil || out != pki.Kept {
		t.Errorf("Ensure with a CA bundle = %v, %v", out, err)
	}
}

func TestExternalCA(t *testing.T) {
	p, dir := setup(t)
	specs := DefaultSpecs("cp1", lbURL, localURL)
	if _, err := Ensure(dir, specs[0], p, ""); err != nil {
		t.Fatal(err)
	}
	os.Remove(pki.KeyPath(p.CertificatesDir, "ca"))
	if out, err := Ensure(dir, specs[0], p, ""); err != nil || out != pki.Kept {
		t.Errorf("existing file under external CA: %v, %v", out, err)
	}
	_, err := Ensure(dir, specs[4], p, "")
	if !errors.Is(err, pki.ErrExternalCAMissingCert) || !strings.Contains(err.Error(), filepath.Join(dir, "scheduler.conf")) {
		t.Errorf("missing file under external CA: %v", err)
	}
	if err := Renew(dir, "admin.conf", p); !errors.Is(err, pki.ErrExternalCA) {
		t.Errorf("renew under external CA: %v", err)
	}
}

func TestECDSAClientKeys(t *testing.T) {
	p, dir := setup(t)
	p.EncryptionAlgorithm = pki.ECDSAP256
	spec := DefaultSpecs("cp1", lbURL, localURL)[0]
	if _, err := Ensure(dir, spec, p, "kubernetes"); err != nil {
		t.Fatal(err)
	}
	cfg, _ := clientcmd.LoadFromFile(filepath.Join(dir, spec.FileName))
	key, err := helpers.ParsePrivateKeyPEM(cfg.AuthInfos[spec.ClientName].ClientKeyData)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := key.(*ecdsa.PrivateKey); !ok {
		t.Errorf("client key is %T with encryptionAlgorithm ECDSA-P256", key)
	}
}

func TestRenew(t *testing.T) {
	p, dir := setup(t)
	spec := DefaultSpecs("cp1", lbURL, localURL)[0]
	if _, err := Ensure(dir, spec, p, "kubernetes"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "admin.conf")
	old, _ := ClientCert(path)
	caBefore, _ := os.ReadFile(pki.CertPath(p.CertificatesDir, "ca"))
	later := fixedNow.Add(200 * 24 * time.Hour)
	p.Now = func() time.Time { return later }
	if err := Renew(dir, "admin.conf", p); err != nil {
		t.Fatal(err)
	}
	c, err := ClientCert(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Cmp(old.SerialNumber) == 0 || c.Subject.String() != old.Subject.String() || !c.NotAfter.Equal(later.Add(pki.DefaultCertValidity)) {
		t.Errorf("renewed cert %v serial %v until %v", c.Subject, c.SerialNumber, c.NotAfter)
	}
	if caAfter, _ := os.ReadFile(pki.CertPath(p.CertificatesDir, "ca")); !bytes.Equal(caBefore, caAfter) {
		t.Error("renew changed the CA")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after renew", st.Mode().Perm())
	}
	if out, err := Ensure(dir, spec, p, "kubernetes"); err != nil || out != pki.Kept {
		t.Errorf("renewed file no longer passes Ensure: %v %v", out, err)
	}
	if err := Renew(dir, "scheduler.conf", p); err == nil || !strings.Contains(err.Error(), "kforge init phase kubeconfig") {
		t.Errorf("renew of a missing file: %v", err)
	}
	other, _ := setup(t)
	if err := Renew(dir, "admin.conf", other); err == nil || !strings.Contains(err.Error(), "written for another CA") {
		t.Errorf("renew against another CA: %v", err)
	}
}
