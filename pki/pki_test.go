package pki

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
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

// sample is the cluster of examples/init.yaml: node cp1 at 10.0.0.5 behind lb.example.com.
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

// Key generation dominates the run time, so the two sample trees are made once and copied.
var trees = map[string]string{}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range trees {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// tree returns a private copy of the sample tree called name (distinct names, distinct CAs).
func tree(t *testing.T, name string) string {
	t.Helper()
	src, ok := trees[name]
	if !ok {
		var err error
		if src, err = os.MkdirTemp("", "pki-"+name+"-"); err != nil {
			t.Fatal(err)
		}
		trees[name] = src
		ensureAll(t, sample(src))
	}
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, st.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// kubeadmTable is kubeadm's certificate list (the "PKI certificates and requirements" page and
// the certs phase of current kubeadm): file, signing CA file, subject, usages and exact SANs
// for the sample cluster.
var kubeadmTable = []struct {
	name, file, ca, cn string
	org                []string
	isCA               bool
	eku                []x509.ExtKeyUsage
	dns, ips           []string
}{
	{name: "ca", file: "ca", ca: "ca", cn: "kubernetes", isCA: true},
	{name: "apiserver", file: "apiserver", ca: "ca", cn: "kube-apiserver", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		dns: []string{"cp1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "lb.example.com", "api.example.com"},
		ips: []string{"10.96.0.1", "10.0.0.5", "10.0.0.100"}},
	{name: "apiserver-kubelet-client", file: "apiserver-kubelet-client", ca: "ca", cn: "kube-apiserver-kubelet-client",
		org: []string{"kubeadm:cluster-admins"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{name: "front-proxy-ca", file: "front-proxy-ca", ca: "front-proxy-ca", cn: "front-proxy-ca", isCA: true},
	{name: "front-proxy-client", file: "front-proxy-client", ca: "front-proxy-ca", cn: "front-proxy-client", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{name: "etcd-ca", file: "etcd/ca", ca: "etcd/ca", cn: "etcd-ca", isCA: true},
	{name: "etcd-server", file: "etcd/server", ca: "etcd/ca", cn: "cp1", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		dns: []string{"cp1", "localhost"}, ips: []string{"10.0.0.5", "127.0.0.1", "::1"}},
	{name: "etcd-peer", file: "etcd/peer", ca: "etcd/ca", cn: "cp1", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		dns: []string{"cp1", "localhost"}, ips: []string{"10.0.0.5", "127.0.0.1", "::1"}},
	{name: "etcd-healthcheck-client", file: "etcd/healthcheck-client", ca: "etcd/ca", cn: "kube-etcd-healthcheck-client", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{name: "apiserver-etcd-client", file: "apiserver-etcd-client", ca: "etcd/ca", cn: "kube-apiserver-etcd-client", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
}

func pemType(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s holds no PEM", path)
	}
	return blk.Type
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestTreeMatchesKubeadm(t *testing.T) {
	dir := tree(t, "a")
	var names []string
	for _, s := range DefaultCertList(sample(dir)) {
		names = append(names, s.Name)
	}
	var want []string
	for _, row := range kubeadmTable {
		want = append(want, row.name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("DefaultCertList names\n got %v\nwant %v", names, want)
	}
	for _, row := range kubeadmTable {
		t.Run(row.name, func(t *testing.T) {
			c, k, err := LoadCertAndKey(dir, row.file)
			if err != nil {
				t.Fatal(err)
			}
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
			if c.IsCA != row.isCA || !c.BasicConstraintsValid {
				t.Errorf("IsCA=%v (constraints valid %v), want %v", c.IsCA, c.BasicConstraintsValid, row.isCA)
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
			if !sameSet(c.DNSNames, row.dns) || !sameSet(ips, row.ips) || len(c.EmailAddresses)+len(c.URIs) != 0 {
				t.Errorf("SANs DNS=%v IP=%v, want DNS=%v IP=%v", c.DNSNames, ips, row.dns, row.ips)
			}
			// The CA starts five minutes back; leaves start with their CA, as kubeadm's do.
			wantValid := DefaultCertValidity
			if row.isCA {
				wantValid = DefaultCAValidity
			}
			if start := fixedNow.Add(-5 * time.Minute); !c.NotBefore.Equal(start) || !c.NotAfter.Equal(fixedNow.Add(wantValid)) {
				t.Errorf("valid %v..%v, want %v..%v", c.NotBefore, c.NotAfter, start, fixedNow.Add(wantValid))
			}
			if rk, ok := k.(*rsa.PrivateKey); !ok || rk.N.BitLen() != 2048 {
				t.Errorf("key is %T, want RSA-2048", k)
			}
			if c.SignatureAlgorithm != x509.SHA256WithRSA {
				t.Errorf("signature %v", c.SignatureAlgorithm)
			}
			if got := pemType(t, KeyPath(dir, row.file)); got != "RSA PRIVATE KEY" {
				t.Errorf("key PEM type %q", got)
			}
			if m := mode(t, KeyPath(dir, row.file)); m != 0o600 {
				t.Errorf("key mode %v, want 0600", m)
			}
			if m := mode(t, CertPath(dir, row.file)); m != 0o644 {
				t.Errorf("cert mode %v, want 0644", m)
			}
		})
	}
	t.Run("sa", func(t *testing.T) {
		k, err := LoadKey(dir, "sa")
		if err != nil {
			t.Fatal(err)
		}
		if rk, ok := k.(*rsa.PrivateKey); !ok || rk.N.BitLen() != 2048 {
			t.Errorf("sa.key is %T, want RSA-2048", k)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "sa.pub"))
		pub, err := parsePublicKeyPEM(b)
		if err != nil || !samePublicKey(pub, k.Public()) {
			t.Errorf("sa.pub does not hold sa.key's public key: %v", err)
		}
		for f, want := range map[string]string{"sa.key": "RSA PRIVATE KEY", "sa.pub": "PUBLIC KEY"} {
			if got := pemType(t, filepath.Join(dir, f)); got != want {
				t.Errorf("%s PEM type %q, want %q", f, got, want)
			}
			if m := mode(t, filepath.Join(dir, f)); m != 0o600 {
				t.Errorf("%s mode %v, want 0600 (kubeadm writes both with its key writer)", f, m)
			}
		}
	})
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
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
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
		t.Fatalf("files before %d after %d, want 22", len(before), len(after))
	}
	for f, h := range before {
		if after[f] != h {
			t.Errorf("%s changed", f)
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWrongFilesAreErrorsNeverOverwritten(t *testing.T) {
	tests := []struct {
		name   string
		cert   string
		setup  func(t *testing.T, dir string, p *Params)
		want   error
		substr []string
	}{
		{name: "signed by another CA", cert: APIServerName, want: ErrForeignCA,
			substr: []string{"apiserver.crt was not signed by", "ca.crt", "remove it and", "apiserver.key", "put back the CA that signed it"},
			setup: func(t *testing.T, dir string, p *Params) {
				other := tree(t, "b")
				for _, ext := range []string{".crt", ".key"} {
					copyFile(t, filepath.Join(other, "apiserver"+ext), filepath.Join(dir, "apiserver"+ext))
				}
			}},
		{name: "missing SAN", cert: APIServerName, want: ErrCertMismatch,
			substr: []string{"apiserver.crt", "new.example.com", "10.0.0.200", "kforge certs renew apiserver"},
			setup: func(t *testing.T, dir string, p *Params) {
				p.APIServerCertSANs = append(p.APIServerCertSANs, "new.example.com", "10.0.0.200")
			}},
		{name: "missing etcd peer SAN", cert: EtcdPeerName, want: ErrCertMismatch,
			substr: []string{"etcd/peer.crt", "etcd1.example.com"},
			setup: func(t *testing.T, dir string, p *Params) {
				p.EtcdPeerCertSANs = []string{"etcd1.example.com"}
			}},
		{name: "key of another certificate", cert: APIServerName,
			substr: []string{"apiserver.key does not hold the private key of", "apiserver.crt"},
			setup: func(t *testing.T, dir string, p *Params) {
				copyFile(t, filepath.Join(dir, "front-proxy-client.key"), filepath.Join(dir, "apiserver.key"))
			}},
		{name: "key missing", cert: APIServerName,
			substr: []string{"apiserver.key is missing while", "apiserver.crt exists"},
			setup: func(t *testing.T, dir string, p *Params) {
				os.Remove(filepath.Join(dir, "apiserver.key"))
			}},
		{name: "expired", cert: FrontProxyClientName, want: ErrExpired,
			substr: []string{"front-proxy-client.crt", "expired at 2027-11-25T12:00:00Z", "kforge certs renew front-proxy-client"},
			setup: func(t *testing.T, dir string, p *Params) {
				p.Now = func() time.Time { return fixedNow.Add(2 * 365 * 24 * time.Hour) }
			}},
		{name: "a leaf where a CA belongs", cert: FrontProxyCAName, want: ErrCertMismatch,
			substr: []string{"front-proxy-ca.crt", "not a CA certificate"},
			setup: func(t *testing.T, dir string, p *Params) {
				for _, ext := range []string{".crt", ".key"} {
					copyFile(t, filepath.Join(dir, "front-proxy-client"+ext), filepath.Join(dir, "front-proxy-ca"+ext))
				}
			}},
		{name: "CA key without certificate", cert: EtcdCAName,
			substr: []string{"etcd/ca.key exists without", "etcd/ca.crt"},
			setup: func(t *testing.T, dir string, p *Params) {
				os.Remove(filepath.Join(dir, "etcd/ca.crt"))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, "a")
			p := sample(dir)
			tc.setup(t, dir, &p)
			before := hashTree(t, dir)
			spec, ok := findSpec(p, tc.cert)
			if !ok {
				t.Fatalf("no spec %s", tc.cert)
			}
			_, err := EnsureCert(p, spec)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
			for _, s := range tc.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q:\n%v", s, err)
				}
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error does not give the full path under %s:\n%v", dir, err)
			}
			after := hashTree(t, dir)
			if len(after) != len(before) {
				t.Errorf("file count changed %d -> %d", len(before), len(after))
			}
			for f, h := range before {
				if after[f] != h {
					t.Errorf("%s was overwritten", f)
				}
			}
		})
	}
}

func TestLeafNeedsItsCA(t *testing.T) {
	p := sample(t.TempDir())
	spec, _ := findSpec(p, APIServerName)
	_, err := EnsureCert(p, spec)
	if err == nil || !strings.Contains(err.Error(), "run 'kforge init phase certs ca' first") {
		t.Errorf("leaf without CA: %v", err)
	}
}

func TestExternalCA(t *testing.T) {
	t.Run("CA certificate and valid leaves only", func(t *testing.T) {
		dir := tree(t, "a")
		p := sample(dir)
		os.Remove(KeyPath(dir, "ca"))
		before := hashTree(t, dir)
		for _, s := range DefaultCertList(p) {
			if out, err := EnsureCert(p, s); err != nil || out != Kept {
				t.Errorf("EnsureCert(%s) with external CA = %v, %v", s.Name, out, err)
			}
		}
		for f, h := range hashTree(t, dir) {
			if before[f] != h {
				t.Errorf("%s changed", f)
			}
		}
		if !IsExternalCA(dir, "ca") || IsExternalCA(dir, "front-proxy-ca") {
			t.Error("IsExternalCA wrong")
		}
	})
	t.Run("missing leaf", func(t *testing.T) {
		dir := tree(t, "a")
		p := sample(dir)
		os.Remove(KeyPath(dir, "ca"))
		os.Remove(CertPath(dir, "apiserver"))
		os.Remove(KeyPath(dir, "apiserver"))
		spec, _ := findSpec(p, APIServerName)
		_, err := EnsureCert(p, spec)
		if !errors.Is(err, ErrExternalCAMissingCert) || !strings.Contains(err.Error(), CertPath(dir, "apiserver")) {
			t.Errorf("missing leaf under external CA: %v", err)
		}
		if _, err := os.Stat(CertPath(dir, "apiserver")); err == nil {
			t.Error("a leaf was issued without the CA key")
		}
	})
	t.Run("only the CA certificate", func(t *testing.T) {
		src := tree(t, "a")
		dir := t.TempDir()
		copyFile(t, CertPath(src, "ca"), CertPath(dir, "ca"))
		p := sample(dir)
		list := DefaultCertList(p)
		if out, err := EnsureCert(p, list[0]); err != nil || out != Kept {
			t.Fatalf("external CA itself: %v, %v", out, err)
		}
		_, err := EnsureCert(p, list[1])
		if !errors.Is(err, ErrExternalCAMissingCert) || !strings.Contains(err.Error(), "apiserver.crt and ") {
			t.Errorf("missing leaf: %v", err)
		}
		if _, err := os.Stat(KeyPath(dir, "ca")); err == nil {
			t.Error("kforge made a CA key although the CA is external")
		}
	})
}

func TestExternalEtcdLeavesOutEtcdCerts(t *testing.T) {
	p := sample(t.TempDir())
	p.ExternalEtcd = true
	var names []string
	for _, s := range DefaultCertList(p) {
		names = append(names, s.Name)
	}
	want := []string{"ca", "apiserver", "apiserver-kubelet-client", "front-proxy-ca", "front-proxy-client"}
	if !slices.Equal(names, want) {
		t.Errorf("external etcd list %v, want %v", names, want)
	}
	if got := strings.Join(RenewableNames(p), " "); strings.Contains(got, "etcd") {
		t.Errorf("renewable with external etcd: %s", got)
	}
}

func TestAlgorithmsAndValidity(t *testing.T) {
	tests := []struct {
		alg     string
		leafKU  x509.KeyUsage
		sig     x509.SignatureAlgorithm
		keyPEM  string
		checkKy func(any) bool
	}{
		{ECDSAP256, x509.KeyUsageDigitalSignature, x509.ECDSAWithSHA256, "EC PRIVATE KEY",
			func(k any) bool { e, ok := k.(*ecdsa.PrivateKey); return ok && e.Curve.Params().BitSize == 256 }},
		{ECDSAP384, x509.KeyUsageDigitalSignature, x509.ECDSAWithSHA384, "EC PRIVATE KEY",
			func(k any) bool { e, ok := k.(*ecdsa.PrivateKey); return ok && e.Curve.Params().BitSize == 384 }},
		{RSA3072, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, x509.SHA256WithRSA, "RSA PRIVATE KEY",
			func(k any) bool { r, ok := k.(*rsa.PrivateKey); return ok && r.N.BitLen() == 3072 }},
	}
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			dir := t.TempDir()
			p := sample(dir)
			p.EncryptionAlgorithm = tc.alg
			p.CertValidity = 48 * time.Hour
			p.CAValidity = 2 * 365 * 24 * time.Hour
			list := DefaultCertList(p)
			for _, s := range list[:2] { // ca, apiserver
				if _, err := EnsureCert(p, s); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := EnsureServiceAccountKeys(p); err != nil {
				t.Fatal(err)
			}
			ca, _, err := LoadCertAndKey(dir, "ca")
			if err != nil {
				t.Fatal(err)
			}
			c, k, err := LoadCertAndKey(dir, "apiserver")
			if err != nil {
				t.Fatal(err)
			}
			if c.KeyUsage != tc.leafKU || ca.KeyUsage != tc.leafKU|x509.KeyUsageCertSign {
				t.Errorf("KeyUsage leaf %b CA %b", c.KeyUsage, ca.KeyUsage)
			}
			if !tc.checkKy(k) || c.SignatureAlgorithm != tc.sig {
				t.Errorf("key %T, signature %v", k, c.SignatureAlgorithm)
			}
			sa, err := LoadKey(dir, "sa")
			if err != nil || !tc.checkKy(sa) {
				t.Errorf("sa.key %T %v", sa, err)
			}
			for _, f := range []string{"apiserver.key", "ca.key", "sa.key"} {
				if got := pemType(t, filepath.Join(dir, f)); got != tc.keyPEM {
					t.Errorf("%s PEM type %q, want %q", f, got, tc.keyPEM)
				}
			}
			if !c.NotAfter.Equal(fixedNow.Add(48*time.Hour)) || !ca.NotAfter.Equal(fixedNow.Add(2*365*24*time.Hour)) {
				t.Errorf("NotAfter leaf %v CA %v", c.NotAfter, ca.NotAfter)
			}
		})
	}
	t.Run("leaf never outlives its CA", func(t *testing.T) {
		dir := t.TempDir()
		p := sample(dir)
		p.CAValidity = 30 * 24 * time.Hour
		list := DefaultCertList(p)
		for _, s := range list[:2] {
			if _, err := EnsureCert(p, s); err != nil {
				t.Fatal(err)
			}
		}
		ca, _ := LoadCert(dir, "ca")
		c, _ := LoadCert(dir, "apiserver")
		if !c.NotAfter.Equal(ca.NotAfter) {
			t.Errorf("leaf NotAfter %v, CA %v", c.NotAfter, ca.NotAfter)
		}
	})
	t.Run("unknown algorithm", func(t *testing.T) {
		p := Params{CertificatesDir: t.TempDir(), EncryptionAlgorithm: "DSA-1024"}
		_, err := EnsureCert(p, DefaultCertList(p)[0])
		if err == nil || !strings.Contains(err.Error(), "RSA-2048") || !strings.Contains(err.Error(), "ECDSA-P384") {
			t.Errorf("unknown algorithm error: %v", err)
		}
	})
}

func TestAPIServerSANs(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Params)
		dns, ips []string
		err      string
	}{
		{name: "IP endpoint with port", edit: func(p *Params) { p.ControlPlaneEndpoint = "10.0.0.200:6443"; p.APIServerCertSANs = nil },
			dns: []string{"cp1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			ips: []string{"10.96.0.1", "10.0.0.5", "10.0.0.200"}},
		{name: "IPv6 endpoint in brackets", edit: func(p *Params) { p.ControlPlaneEndpoint = "[fd00::10]:6443"; p.APIServerCertSANs = nil },
			dns: []string{"cp1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			ips: []string{"10.96.0.1", "10.0.0.5", "fd00::10"}},
		{name: "bare IPv6 endpoint, other domain, dual-stack services", edit: func(p *Params) {
			p.ControlPlaneEndpoint = "fd00::10"
			p.DNSDomain = "corp.internal"
			p.ServiceSubnet = "10.100.0.0/16,fd00:96::/112"
			p.APIServerCertSANs = []string{"*.api.example.com", " 10.0.0.5 "}
		},
			dns: []string{"cp1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.corp.internal", "*.api.example.com"},
			ips: []string{"10.100.0.1", "10.0.0.5", "fd00::10"}},
		{name: "no endpoint, defaults", edit: func(p *Params) {
			p.ControlPlaneEndpoint, p.ServiceSubnet, p.DNSDomain, p.APIServerCertSANs = "", "", "", nil
		},
			dns: []string{"cp1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			ips: []string{"10.96.0.1", "10.0.0.5"}},
		{name: "invalid extra SAN", edit: func(p *Params) { p.APIServerCertSANs = []string{"not a name"} },
			err: `apiServer.certSANs: "not a name" is neither an IP address nor a DNS name`},
		{name: "no advertise address", edit: func(p *Params) { p.AdvertiseAddress = nil }, err: "--apiserver-advertise-address"},
		{name: "no node name", edit: func(p *Params) { p.NodeName = "" }, err: "--node-name"},
		{name: "bad service subnet", edit: func(p *Params) { p.ServiceSubnet = "10.96.0.0/33" }, err: "networking.serviceSubnet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := sample("")
			tc.edit(&p)
			dns, ips, err := apiServerSANs(p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ip := range ips {
				got = append(got, ip.String())
			}
			if !slices.Equal(dns, tc.dns) || !slices.Equal(got, tc.ips) {
				t.Errorf("SANs\n got %v %v\nwant %v %v", dns, got, tc.dns, tc.ips)
			}
		})
	}
}

func TestCACertHashAndCertificateKey(t *testing.T) {
	dir := tree(t, "a")
	ca, err := LoadCert(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	if got, want := CACertHash(ca), "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("hash %s want %s", got, want)
	}
	k1, err := NewCertificateKey()
	if err != nil || len(k1) != 64 {
		t.Errorf("certificate key %q %v", k1, err)
	}
	if _, err := hex.DecodeString(k1); err != nil {
		t.Error(err)
	}
	if k2, _ := NewCertificateKey(); k2 == k1 {
		t.Error("two certificate keys are equal")
	}
}

func TestRenewCert(t *testing.T) {
	dir := tree(t, "a")
	p := sample(dir)
	caBefore, _ := os.ReadFile(CertPath(dir, "ca"))
	ca, _ := LoadCert(dir, "ca")
	old, oldKey, _ := LoadCertAndKey(dir, "apiserver")
	later := fixedNow.Add(30 * 24 * time.Hour)
	p.Now = func() time.Time { return later }
	// The configuration dropped one extra SAN and added another: renewal keeps the old one
	// (a client may rely on it) and adds the new one.
	p.APIServerCertSANs = []string{"10.0.0.100", "new.example.com"}
	if err := RenewCert(p, APIServerName); err != nil {
		t.Fatal(err)
	}
	c, k, err := LoadCertAndKey(dir, "apiserver")
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Cmp(old.SerialNumber) == 0 || samePublicKey(k.Public(), oldKey.Public()) {
		t.Error("not re-issued with a new key")
	}
	if !c.NotAfter.Equal(later.Add(DefaultCertValidity)) || !c.NotBefore.Equal(ca.NotBefore) {
		t.Errorf("validity %v..%v", c.NotBefore, c.NotAfter)
	}
	if !sameSet(c.DNSNames, append(slices.Clone(old.DNSNames), "new.example.com")) || len(c.IPAddresses) != len(old.IPAddresses) ||
		c.KeyUsage != old.KeyUsage || !slices.Equal(c.ExtKeyUsage, old.ExtKeyUsage) || c.Subject.String() != old.Subject.String() {
		t.Errorf("shape changed: %v %v %v", c.Subject, c.DNSNames, c.IPAddresses)
	}
	caAfter, _ := os.ReadFile(CertPath(dir, "ca"))
	if string(caAfter) != string(caBefore) {
		t.Error("renew changed the CA")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: later}); err != nil {
		t.Errorf("renewed certificate does not verify against the unchanged CA: %v", err)
	}
	if out, err := EnsureCert(p, DefaultCertList(p)[1]); err != nil || out != Kept {
		t.Errorf("renewed certificate fails EnsureCert: %v %v", out, err)
	}

	for _, tc := range []struct {
		name, cert string
		setup      func()
		want       error
		text       string
	}{
		{name: "a CA", cert: "ca", text: "CAs are not renewed"},
		{name: "a kubeconfig", cert: "admin.conf", text: `unknown certificate "admin.conf"`},
		{name: "missing", cert: FrontProxyClientName, setup: func() { os.Remove(CertPath(dir, "front-proxy-client")) },
			text: "kforge init phase certs front-proxy-client"},
		{name: "external CA", cert: EtcdServerName, setup: func() { os.Remove(KeyPath(dir, "etcd/ca")) }, want: ErrExternalCA,
			text: "etcd/server.crt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			err := RenewCert(p, tc.cert)
			if err == nil || !strings.Contains(err.Error(), tc.text) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("RenewCert(%s) = %v", tc.cert, err)
			}
		})
	}
}

func TestRenewableNames(t *testing.T) {
	got := strings.Join(RenewableNames(Params{}), " ")
	want := "admin.conf apiserver apiserver-etcd-client apiserver-kubelet-client controller-manager.conf etcd-healthcheck-client etcd-peer etcd-server front-proxy-client scheduler.conf super-admin.conf"
	if got != want {
		t.Errorf("RenewableNames\n got %s\nwant %s", got, want)
	}
}

func TestResidualTime(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "<invalid>"}, {30 * time.Second, "30s"}, {5 * time.Minute, "5m"}, {3 * time.Hour, "3h"},
		{365*24*time.Hour - time.Minute, "364d"}, {10*365*24*time.Hour - time.Hour, "9y"},
	} {
		if got := ResidualTime(tc.d); got != tc.want {
			t.Errorf("ResidualTime(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestServiceAccountKeys(t *testing.T) {
	t.Run("missing sa.pub is derived", func(t *testing.T) {
		dir := tree(t, "a")
		want, _ := os.ReadFile(filepath.Join(dir, "sa.pub"))
		os.Remove(filepath.Join(dir, "sa.pub"))
		if _, err := EnsureServiceAccountKeys(sample(dir)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "sa.pub")); string(got) != string(want) {
			t.Error("derived sa.pub differs")
		}
	})
	t.Run("sa.pub of another key", func(t *testing.T) {
		dir := tree(t, "a")
		copyFile(t, filepath.Join(tree(t, "b"), "sa.pub"), filepath.Join(dir, "sa.pub"))
		_, err := EnsureServiceAccountKeys(sample(dir))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s does not hold the public key of", filepath.Join(dir, "sa.pub"))) {
			t.Errorf("mismatched sa.pub: %v", err)
		}
	})
	t.Run("sa.pub without sa.key", func(t *testing.T) {
		dir := tree(t, "a")
		os.Remove(filepath.Join(dir, "sa.key"))
		_, err := EnsureServiceAccountKeys(sample(dir))
		if err == nil || !strings.Contains(err.Error(), "sa.key") {
			t.Errorf("lone sa.pub: %v", err)
		}
	})
}
