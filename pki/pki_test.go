package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// sample is the cluster of examples/init.yaml.
func sample(dir string) Params {
	return Params{
		CertificatesDir:      dir,
		NodeName:             "cp1",
		AdvertiseAddress:     net.ParseIP("10.0.0.5"),
		ControlPlaneEndpoint: "lb.example.com:6443",
		ServiceSubnet:        "10.96.0.0/12",
		DNSDomain:            "cluster.local",
		APIServerCertSANs:    []string{"10.0.0.100", "api.example.com"},
		Now:                  func() time.Time { return fixedNow },
	}
}

func ensureAll(t *testing.T, p Params) {
	t.Helper()
	for _, s := range DefaultCertList(p) {
		if _, err := EnsureCert(p, s); err != nil {
			t.Fatalf("EnsureCert(%s): %v", s.Name, err)
		}
	}
	if _, err := EnsureServiceAccountKeys(p); err != nil {
		t.Fatal(err)
	}
}

// kubeadmTable is kubeadm's documented certificate list ("PKI certificates and requirements" and
// the certs phase): file, signing CA file, subject, usages and SANs for the sample cluster.
var kubeadmTable = []struct {
	file, ca, cn string
	org          []string
	isCA         bool
	eku          []x509.ExtKeyUsage
	dns          []string
	ips          []string
}{
	{file: "ca", ca: "ca", cn: "kubernetes", isCA: true},
	{file: "apiserver", ca: "ca", cn: "kube-apiserver", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		dns: []string{"cp1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "lb.example.com", "api.example.com"},
		ips: []string{"10.96.0.1", "10.0.0.5", "10.0.0.100"}},
	{file: "apiserver-kubelet-client", ca: "ca", cn: "kube-apiserver-kubelet-client", org: []string{"kubeadm:cluster-admins"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{file: "front-proxy-ca", ca: "front-proxy-ca", cn: "front-proxy-ca", isCA: true},
	{file: "front-proxy-client", ca: "front-proxy-ca", cn: "front-proxy-client", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{file: "etcd/ca", ca: "etcd/ca", cn: "etcd-ca", isCA: true},
	{file: "etcd/server", ca: "etcd/ca", cn: "cp1", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		dns: []string{"cp1", "localhost"}, ips: []string{"10.0.0.5", "127.0.0.1", "::1"}},
	{file: "etcd/peer", ca: "etcd/ca", cn: "cp1", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		dns: []string{"cp1", "localhost"}, ips: []string{"10.0.0.5", "127.0.0.1", "::1"}},
	{file: "etcd/healthcheck-client", ca: "etcd/ca", cn: "kube-etcd-healthcheck-client", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{file: "apiserver-etcd-client", ca: "etcd/ca", cn: "kube-apiserver-etcd-client", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
}

func TestTreeMatchesKubeadm(t *testing.T) {
	dir := t.TempDir()
	p := sample(dir)
	ensureAll(t, p)
	if got, want := len(DefaultCertList(p)), len(kubeadmTable); got != want {
		t.Fatalf("%d certificates, kubeadm has %d", got, want)
	}
	for _, row := range kubeadmTable {
		t.Run(row.file, func(t *testing.T) {
			c, k, err := LoadCertAndKey(dir, row.file)
			if err != nil {
				t.Fatal(err)
			}
			_ = k
			ca, err := LoadCert(dir, row.ca)
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AddCert(ca)
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: fixedNow}); err != nil {
				t.Errorf("does not verify against %s: %v", row.ca, err)
			}
			if c.Subject.CommonName != row.cn || !slices.Equal(c.Subject.Organization, row.org) {
				t.Errorf("subject CN=%q O=%v, want CN=%q O=%v", c.Subject.CommonName, c.Subject.Organization, row.cn, row.org)
			}
			if c.IsCA != row.isCA || !c.BasicConstraintsValid && row.isCA {
				t.Errorf("IsCA=%v, want %v", c.IsCA, row.isCA)
			}
			wantKU := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
			if row.isCA {
				wantKU |= x509.KeyUsageCertSign
			}
			if c.KeyUsage != wantKU {
				t.Errorf("KeyUsage %b, want %b", c.KeyUsage, wantKU)
			}
			if !slices.Equal(c.ExtKeyUsage, row.eku) {
				t.Errorf("ExtKeyUsage %v, want %v", c.ExtKeyUsage, row.eku)
			}
			var ips []string
			for _, ip := range c.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !sameSet(c.DNSNames, row.dns) || !sameSet(ips, row.ips) {
				t.Errorf("SANs DNS=%v IP=%v, want DNS=%v IP=%v", c.DNSNames, ips, row.dns, row.ips)
			}
			wantValid := DefaultCertValidity
			if row.isCA {
				wantValid = DefaultCAValidity
			}
			if !c.NotBefore.Equal(fixedNow.Add(-5*time.Minute)) || !c.NotAfter.Equal(fixedNow.Add(wantValid)) {
				t.Errorf("valid %v..%v, want %v..%v", c.NotBefore, c.NotAfter, fixedNow.Add(-5*time.Minute), fixedNow.Add(wantValid))
			}
			st, err := os.Stat(KeyPath(dir, row.file))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("key mode %v, want 0600", st.Mode().Perm())
			}
		})
	}
	st, err := os.Stat(filepath.Join(dir, "sa.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("sa.key mode %v, want 0600 (%v)", st.Mode().Perm(), err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:])
		return nil
	})
	return out
}

func TestEnsureIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	p := sample(dir)
	ensureAll(t, p)
	before := hashTree(t, dir)
	for _, s := range DefaultCertList(p) {
		out, err := EnsureCert(p, s)
		if err != nil || out != Kept {
			t.Errorf("second EnsureCert(%s) = %v, %v; want Kept", s.Name, out, err)
		}
	}
	if out, err := EnsureServiceAccountKeys(p); err != nil || out != Kept {
		t.Errorf("second EnsureServiceAccountKeys = %v, %v", out, err)
	}
	after := hashTree(t, dir)
	if len(before) != 10*2+2 || len(after) != len(before) {
		t.Fatalf("files before %d after %d", len(before), len(after))
	}
	for f, h := range before {
		if after[f] != h {
			t.Errorf("%s changed", f)
		}
	}
}

func TestForeignAndMismatchedCertsAreErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, p Params)
		want  error
		text  string
	}{
		{name: "signed by another CA", want: ErrForeignCA, text: "apiserver.crt",
			setup: func(t *testing.T, p Params) {
				other := t.TempDir()
				op := sample(other)
				ensureAll(t, op)
				for _, ext := range []string{".crt", ".key"} {
					b, _ := os.ReadFile(filepath.Join(other, "apiserver"+ext))
					os.WriteFile(filepath.Join(p.CertificatesDir, "apiserver"+ext), b, 0o600)
				}
			}},
		{name: "missing SAN", want: ErrCertMismatch, text: "new.example.com",
			setup: func(t *testing.T, p Params) {}},
		{name: "key of another cert", text: "does not match",
			setup: func(t *testing.T, p Params) {
				b, _ := os.ReadFile(filepath.Join(p.CertificatesDir, "front-proxy-client.key"))
				os.WriteFile(filepath.Join(p.CertificatesDir, "apiserver.key"), b, 0o600)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := sample(dir)
			ensureAll(t, p)
			tc.setup(t, p)
			before := hashTree(t, dir)
			if tc.name == "missing SAN" {
				p.APIServerCertSANs = append(p.APIServerCertSANs, "new.example.com")
			}
			spec, _ := findSpec(p, APIServerName)
			_, err := EnsureCert(p, spec)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), filepath.Join(dir, "apiserver")) {
				t.Errorf("error %q lacks %q or the file name", err, tc.text)
			}
			after := hashTree(t, dir)
			for f, h := range before {
				if after[f] != h {
					t.Errorf("%s was overwritten", f)
				}
			}
		})
	}
}

func TestExternalCA(t *testing.T) {
	dir := t.TempDir()
	p := sample(dir)
	ensureAll(t, p)
	os.Remove(KeyPath(dir, "ca"))
	for _, s := range DefaultCertList(p) {
		if out, err := EnsureCert(p, s); err != nil || out != Kept {
			t.Errorf("EnsureCert(%s) with external CA = %v, %v", s.Name, out, err)
		}
	}
	os.Remove(CertPath(dir, "apiserver"))
	os.Remove(KeyPath(dir, "apiserver"))
	spec, _ := findSpec(p, APIServerName)
	_, err := EnsureCert(p, spec)
	if !errors.Is(err, ErrExternalCAMissingCert) || !strings.Contains(err.Error(), CertPath(dir, "apiserver")) {
		t.Errorf("missing leaf under external CA: %v", err)
	}
	if !IsExternalCA(dir, "ca") || IsExternalCA(dir, "front-proxy-ca") {
		t.Error("IsExternalCA wrong")
	}
}

func TestExternalEtcdLeavesOutEtcdCerts(t *testing.T) {
	p := sample(t.TempDir())
	p.ExternalEtcd = true
	for _, s := range DefaultCertList(p) {
		if strings.HasPrefix(s.BaseName, "etcd/") || s.Name == APIServerEtcdClientName {
			t.Errorf("%s listed with external etcd", s.Name)
		}
	}
}

func TestECDSAAndValidityOverrides(t *testing.T) {
	dir := t.TempDir()
	p := sample(dir)
	p.EncryptionAlgorithm = ECDSAP256
	p.CertValidity = 48 * time.Hour
	ensureAll(t, p)
	c, err := LoadCert(dir, "apiserver")
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicKeyAlgorithm != x509.ECDSA || c.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("ECDSA cert: alg %v usage %b", c.PublicKeyAlgorithm, c.KeyUsage)
	}
	if !c.NotAfter.Equal(fixedNow.Add(48 * time.Hour)) {
		t.Errorf("NotAfter %v", c.NotAfter)
	}
	p.EncryptionAlgorithm = "DSA-1024"
	if _, err := EnsureCert(Params{CertificatesDir: t.TempDir(), EncryptionAlgorithm: "DSA-1024"}, DefaultCertList(p)[0]); err == nil || !strings.Contains(err.Error(), "RSA-2048") {
		t.Errorf("unknown algorithm error: %v", err)
	}
}

func TestCACertHashAndCertificateKey(t *testing.T) {
	dir := t.TempDir()
	p := sample(dir)
	EnsureCert(p, DefaultCertList(p)[0])
	ca, _ := LoadCert(dir, "ca")
	sum := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	if got, want := CACertHash(ca), "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("hash %s want %s", got, want)
	}
	k, err := NewCertificateKey()
	if err != nil || len(k) != 64 {
		t.Errorf("certificate key %q %v", k, err)
	}
	if _, err := hex.DecodeString(k); err != nil {
		t.Error(err)
	}
}

func TestRenewKeepsShapeAndCA(t *testing.T) {
	dir := t.TempDir()
	p := sample(dir)
	ensureAll(t, p)
	caBefore, _ := os.ReadFile(CertPath(dir, "ca"))
	old, _ := LoadCert(dir, "apiserver")
	later := fixedNow.Add(30 * 24 * time.Hour)
	p.Now = func() time.Time { return later }
	p.APIServerCertSANs = nil // the SANs of the old certificate are kept anyway
	if err := RenewCert(p, "apiserver"); err != nil {
		t.Fatal(err)
	}
	c, _, err := LoadCertAndKey(dir, "apiserver")
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Cmp(old.SerialNumber) == 0 || !c.NotAfter.Equal(later.Add(DefaultCertValidity)) {
		t.Errorf("not re-issued: serial %v NotAfter %v", c.SerialNumber, c.NotAfter)
	}
	if !sameSet(c.DNSNames, old.DNSNames) || len(c.IPAddresses) != len(old.IPAddresses) || c.KeyUsage != old.KeyUsage || !slices.Equal(c.ExtKeyUsage, old.ExtKeyUsage) {
		t.Errorf("shape changed: %v %v", c.DNSNames, c.IPAddresses)
	}
	caAfter, _ := os.ReadFile(CertPath(dir, "ca"))
	if string(caAfter) != string(caBefore) {
		t.Error("CA changed")
	}
	spec, _ := findSpec(sample(dir), APIServerName)
	ca, _ := LoadCert(dir, "ca")
	if err := CheckLeaf(sample(dir), spec, c, ca, "ca.crt", "apiserver.crt"); err != nil {
		t.Errorf("renewed cert fails its check: %v", err)
	}
	if err := RenewCert(p, "ca"); err == nil {
		t.Error("renewing a CA should be refused")
	}
	os.Remove(KeyPath(dir, "etcd/ca"))
	if err := RenewCert(p, "etcd-server"); !errors.Is(err, ErrExternalCAMissingCert) {
		t.Errorf("renew under external CA: %v", err)
	}
}

func TestRenewableNames(t *testing.T) {
	got := strings.Join(RenewableNames(Params{}), " ")
	want := "admin.conf apiserver apiserver-etcd-client apiserver-kubelet-client controller-manager.conf etcd-healthcheck-client etcd-peer etcd-server front-proxy-client scheduler.conf super-admin.conf"
	if got != want {
		t.Errorf("RenewableNames\n got %s\nwant %s", got, want)
	}
}

func TestExpirationTable(t *testing.T) {
	dir := t.TempDir()
	p := sample(dir)
	ensureAll(t, p)
	certs, cas, err := CheckExpiration(dir, t.TempDir(), p)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteExpirationTable(&b, certs, cas, fixedNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"CERTIFICATE", "RESIDUAL TIME", "EXTERNALLY MANAGED",
		"apiserver                           Nov 25, 2027 12:00 UTC   364d            ca                      no",
		"etcd-server                         Nov 25, 2027 12:00 UTC   364d            etcd-ca                 no",
		"!MISSING! admin.conf",
		"ca                      Nov 22, 2036 12:00 UTC   9y              no",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestResidualTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Hour: "<invalid>", 30 * time.Second: "30s", 5 * time.Minute: "5m", 3 * time.Hour: "3h",
		364 * 24 * time.Hour: "364d", 10 * 365 * 24 * time.Hour: "10y",
	} {
		if got := ResidualTime(d); got != want {
			t.Errorf("ResidualTime(%v) = %q, want %q", d, got, want)
		}
	}
}
