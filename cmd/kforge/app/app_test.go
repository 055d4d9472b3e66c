package app

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// run executes kforge in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(append([]string{"kforge"}, args...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("kforge %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

const exampleConfig = "../../../examples/init.yaml"

// requireTool finds a tool the test needs; CI installs them, so only a developer's machine
// may lack one, and then the test says so.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI but not on PATH", name)
		}
		t.Skipf("%s not on PATH; install it to run this test", name)
	}
	return p
}

func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		sums[p] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestVersionJSON(t *testing.T) {
	out := mustRun(t, "version", "-o", "json")
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version -o json is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"gitVersion", "gitCommit", "goVersion", "platform"} {
		if v[k] == "" {
			t.Errorf("version lacks %s: %s", k, out)
		}
	}
	if v["platform"] != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("platform = %q", v["platform"])
	}
}

func TestHelpListsOnlyBuiltCommands(t *testing.T) {
	out := mustRun(t, "--help")
	for _, want := range []string{"init", "certs", "config", "version"} {
		if !strings.Contains(out, "  "+want+" ") {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	for _, absent := range []string{"join", "reset", "upgrade", "token", "cluster", "bundle", "bench", "completion"} {
		if strings.Contains(out, "\n  "+absent+" ") {
			t.Errorf("--help lists %q, which is not built yet:\n%s", absent, out)
		}
	}
	initHelp := mustRun(t, "init", "--help")
	for _, want := range []string{`The "init" command executes the following phases:`, "certs ", "  /apiserver ", "  /etcd-ca ", "kubeconfig ", "  /super-admin "} {
		if !strings.Contains(initHelp, want) {
			t.Errorf("init --help lacks %q:\n%s", want, initHelp)
		}
	}
}

// TestCertsAllVerifyWithOpenSSL is the acceptance check: every leaf verifies against
// its CA with openssl, and a second run changes nothing.
func TestCertsAllVerifyWithOpenSSL(t *testing.T) {
	openssl := requireTool(t, "openssl")
	dir := filepath.Join(t.TempDir(), "p")
	out := mustRun(t, "init", "phase", "certs", "all", "--cert-dir", dir, "--config", exampleConfig)
	for _, want := range []string{`[certs] Using certificateDir folder "` + dir + `"`, `[certs] Generating "ca" certificate authority`,
		`[certs] Generating "apiserver" certificate and key`, `[certs] Generating "sa" key and public key`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	pairs := map[string]string{
		"apiserver": "ca", "apiserver-kubelet-client": "ca", "front-proxy-client": "front-proxy-ca",
		"etcd/server": "etcd/ca", "etcd/peer": "etcd/ca", "etcd/healthcheck-client": "etcd/ca", "apiserver-etcd-client": "etcd/ca",
	}
	for leaf, ca := range pairs {
		cmd := exec.Command(openssl, "verify", "-CAfile", filepath.Join(dir, ca+".crt"), filepath.Join(dir, leaf+".crt"))
		b, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(b), ": OK") {
			t.Errorf("openssl verify %s against %s: %v\n%s", leaf, ca, err, b)
		}
	}
	for _, key := range []string{"ca.key", "apiserver.key", "etcd/peer.key", "sa.key"} {
		st, err := os.Stat(filepath.Join(dir, key))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", key, st.Mode().Perm())
		}
	}

	before := hashTree(t, dir)
	out = mustRun(t, "init", "phase", "certs", "all", "--cert-dir", dir, "--config", exampleConfig)
	if !strings.Contains(out, "[certs] Using existing apiserver certificate and key on disk") {
		t.Errorf("second run did not reuse the apiserver cert:\n%s", out)
	}
	after := hashTree(t, dir)
	if len(before) != len(after) {
		t.Fatalf("file count changed: %d -> %d", len(before), len(after))
	}
	for f, h := range before {
		if after[f] != h {
			t.Errorf("%s changed on the second run", f)
		}
	}
}

func TestCertsForeignCAFailsNamingTheFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	other := filepath.Join(t.TempDir(), "other")
	mustRun(t, "init", "phase", "certs", "all", "--cert-dir", dir, "--config", exampleConfig)
	mustRun(t, "init", "phase", "certs", "all", "--cert-dir", other, "--config", exampleConfig)
	for _, ext := range []string{".crt", ".key"} {
		b, err := os.ReadFile(filepath.Join(other, "apiserver"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "apiserver"+ext), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, errOut, code := run(t, "init", "phase", "certs", "all", "--cert-dir", dir, "--config", exampleConfig)
	if code == 0 {
		t.Fatal("certs all succeeded with a foreign-CA apiserver cert in place")
	}
	for _, want := range []string{"error execution phase certs/apiserver", filepath.Join(dir, "apiserver.crt")} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestKubeconfigsWithRealKubectl(t *testing.T) {
	kubectl := requireTool(t, "kubectl")
	root := t.TempDir()
	certDir := filepath.Join(root, "pki")
	mustRun(t, "init", "phase", "certs", "all", "--cert-dir", certDir, "--config", exampleConfig)
	out := mustRun(t, "init", "phase", "kubeconfig", "all", "--cert-dir", certDir, "--kubeconfig-dir", root, "--config", exampleConfig)
	if !strings.Contains(out, `[kubeconfig] Writing "admin.conf" kubeconfig file`) {
		t.Errorf("unexpected output:\n%s", out)
	}
	cases := []struct{ file, user, server string }{
		{"admin.conf", "kubernetes-admin", "https://lb.example.com:6443"},
		{"super-admin.conf", "kubernetes-super-admin", "https://lb.example.com:6443"},
		{"kubelet.conf", "system:node:cp1", "https://lb.example.com:6443"},
		{"controller-manager.conf", "system:kube-controller-manager", "https://10.0.0.5:6443"},
		{"scheduler.conf", "system:kube-scheduler", "https://10.0.0.5:6443"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			cmd := exec.Command(kubectl, "--kubeconfig", filepath.Join(root, tc.file), "config", "view", "--raw", "-o", "json")
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("kubectl config view: %v", err)
			}
			var kc struct {
				CurrentContext string `json:"current-context"`
				Clusters       []struct {
					Cluster struct {
						Server string `json:"server"`
						CAData string `json:"certificate-authority-data"`
					} `json:"cluster"`
				} `json:"clusters"`
				Users []struct {
					Name string `json:"name"`
					User struct {
						CertData string `json:"client-certificate-data"`
						KeyData  string `json:"client-key-data"`
					} `json:"user"`
				} `json:"users"`
			}
			if err := json.Unmarshal(b, &kc); err != nil {
				t.Fatal(err)
			}
			if kc.CurrentContext != tc.user+"@kubernetes" {
				t.Errorf("current-context %q", kc.CurrentContext)
			}
			if len(kc.Clusters) != 1 || kc.Clusters[0].Cluster.Server != tc.server || kc.Clusters[0].Cluster.CAData == "" {
				t.Errorf("clusters: %+v", kc.Clusters)
			}
			if len(kc.Users) != 1 || kc.Users[0].Name != tc.user || kc.Users[0].User.CertData == "" || kc.Users[0].User.KeyData == "" {
				t.Fatalf("users: %+v", kc.Users)
			}
		})
	}
}

func TestConfigErrorsExitThree(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: kforge.dev/v1beta1\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.244.0.0/33\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "init", "phase", "certs", "all", "--config", bad, "--cert-dir", t.TempDir())
	if code != ExitConfig {
		t.Errorf("exit %d, want %d", code, ExitConfig)
	}
	if !strings.Contains(errOut, `networking.podSubnet "10.244.0.0/33": invalid CIDR`) {
		t.Errorf("stderr lacks the field-named error:\n%s", errOut)
	}
	_, errOut, code = run(t, "init", "--config", exampleConfig, "--pod-network-cidr", "nonsense", "--cert-dir", t.TempDir(), "--kubeconfig-dir", t.TempDir())
	if code != ExitConfig || !strings.Contains(errOut, "networking.podSubnet") {
		t.Errorf("a bad flag value: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	root := t.TempDir()
	certDir := filepath.Join(root, "pki")
	out := mustRun(t, "init", "--dry-run", "--config", exampleConfig, "--cert-dir", certDir, "--kubeconfig-dir", root)
	if !strings.Contains(out, `[dryrun] Would write file "`+filepath.Join(certDir, "apiserver.crt")+`"`) ||
		!strings.Contains(out, `[dryrun] Would write file "`+filepath.Join(root, "admin.conf")+`"`) {
		t.Errorf("dry run did not report the files it would write:\n%s", out)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("dry run wrote %d entries into %s", len(entries), root)
	}
}

func TestInitSkipPhases(t *testing.T) {
	root := t.TempDir()
	certDir := filepath.Join(root, "pki")
	out := mustRun(t, "init", "--config", exampleConfig, "--cert-dir", certDir, "--kubeconfig-dir", root, "--skip-phases", "kubeconfig,certs/sa")
	if strings.Contains(out, "[kubeconfig]") {
		t.Errorf("kubeconfig phase ran although skipped:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(certDir, "sa.key")); err == nil {
		t.Errorf("certs/sa ran although skipped")
	}
	if _, err := os.Stat(filepath.Join(certDir, "apiserver.crt")); err != nil {
		t.Errorf("certs/apiserver did not run: %v", err)
	}
	_, errOut, code := run(t, "init", "--config", exampleConfig, "--cert-dir", certDir, "--kubeconfig-dir", root, "--skip-phases", "certz")
	if code == 0 || !strings.Contains(errOut, `unknown phase(s) "certz"`) {
		t.Errorf("unknown skip phase: exit %d, %s", code, errOut)
	}
}

func TestCheckExpirationAndRenew(t *testing.T) {
	openssl := requireTool(t, "openssl")
	root := t.TempDir()
	certDir := filepath.Join(root, "pki")
	mustRun(t, "init", "--config", exampleConfig, "--cert-dir", certDir, "--kubeconfig-dir", root)
	table := mustRun(t, "certs", "check-expiration", "--config", exampleConfig, "--cert-dir", certDir, "--kubeconfig-dir", root)
	for _, want := range []string{"CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "EXTERNALLY MANAGED", "admin.conf", "apiserver-etcd-client", "364d", "9y"} {
		if !strings.Contains(table, want) {
			t.Errorf("check-expiration lacks %q:\n%s", want, table)
		}
	}
	caBefore, _ := os.ReadFile(filepath.Join(certDir, "ca.crt"))
	serialBefore := serialOf(t, filepath.Join(certDir, "apiserver.crt"))
	out := mustRun(t, "certs", "renew", "all", "--config", exampleConfig, "--cert-dir", certDir, "--kubeconfig-dir", root)
	if !strings.Contains(out, "apiserver renewed") || !strings.Contains(out, "admin.conf renewed") {
		t.Errorf("renew output:\n%s", out)
	}
	if serialOf(t, filepath.Join(certDir, "apiserver.crt")) == serialBefore {
		t.Error("apiserver.crt was not re-issued")
	}
	caAfter, _ := os.ReadFile(filepath.Join(certDir, "ca.crt"))
	if !bytes.Equal(caBefore, caAfter) {
		t.Error("renew changed the CA")
	}
	b, err := exec.Command(openssl, "verify", "-CAfile", filepath.Join(certDir, "ca.crt"), filepath.Join(certDir, "apiserver.crt")).CombinedOutput()
	if err != nil {
		t.Errorf("renewed apiserver.crt does not verify: %v\n%s", err, b)
	}
}

func serialOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.String()
}

func TestCertificateKeyAndCAHash(t *testing.T) {
	k := strings.TrimSpace(mustRun(t, "certs", "certificate-key"))
	if len(k) != 64 {
		t.Errorf("certificate key %q is not 32 bytes of hex", k)
	}
	dir := filepath.Join(t.TempDir(), "p")
	mustRun(t, "init", "phase", "certs", "ca", "--cert-dir", dir, "--config", exampleConfig)
	h := strings.TrimSpace(mustRun(t, "certs", "ca-cert-hash", "--cert-dir", dir))
	if !strings.HasPrefix(h, "sha256:") || len(h) != len("sha256:")+64 {
		t.Errorf("ca-cert-hash printed %q", h)
	}
}

func TestConfigPrintDefaultsReadBack(t *testing.T) {
	for _, kind := range []string{"init-defaults", "join-defaults"} {
		out := mustRun(t, "config", "print", kind)
		f := filepath.Join(t.TempDir(), kind+".yaml")
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "apiVersion: kforge.dev/v1beta1") {
			t.Errorf("%s output lacks apiVersion:\n%s", kind, out)
		}
		if kind == "init-defaults" {
			// The printed defaults must be a valid configuration for init itself.
			mustRun(t, "init", "phase", "certs", "ca", "--config", f, "--cert-dir", filepath.Join(t.TempDir(), "p"))
		}
	}
}
