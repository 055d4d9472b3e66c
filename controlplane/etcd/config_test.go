package etcd_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kforge.dev/kforge/controlplane/etcd"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	stacked := func(c *etcd.Config) {
		*c = memberConfig(p, "cp1", t.TempDir(), 2379, 2380, "cp1=https://127.0.0.1:2380", "new")
	}
	tests := []struct {
		name   string
		mutate func(*etcd.Config)
		want   string // empty: valid
	}{
		{"defaults", func(*etcd.Config) {}, ""},
		{"kubeadm stacked", stacked, ""},
		{"no initial cluster means alone", func(c *etcd.Config) { c.InitialCluster = "" }, ""},
		{"revision compaction", func(c *etcd.Config) { c.AutoCompactionMode, c.AutoCompactionRetention = "revision", "1000" }, ""},
		{"periodic compaction in hours", func(c *etcd.Config) { c.AutoCompactionRetention = "8" }, ""},
		{"unix socket", func(c *etcd.Config) { c.ListenClientURLs = []string{"unix://etcd.sock:0"} }, ""},
		{"no name", func(c *etcd.Config) { c.Name = "" }, "--name is empty"},
		{"no data dir", func(c *etcd.Config) { c.DataDir = "" }, "--data-dir is empty; kubeadm's is /var/lib/etcd"},
		{"no client URLs", func(c *etcd.Config) { c.ListenClientURLs = nil }, "--listen-client-urls is empty"},
		{"URL without scheme", func(c *etcd.Config) { c.ListenClientURLs = []string{"127.0.0.1:2379"} }, `--listen-client-urls "127.0.0.1:2379": not a URL like https://10.0.0.5:2379`},
		{"URL without port", func(c *etcd.Config) { c.AdvertiseClientURLs = []string{"https://10.0.0.5"} }, `--advertise-client-urls "https://10.0.0.5": needs a host and a port`},
		{"listen on a host name", func(c *etcd.Config) { c.ListenPeerURLs = []string{"http://node1:2380"} }, "etcd listens on IP addresses only"},
		{"advertise 0.0.0.0", func(c *etcd.Config) { c.AdvertiseClientURLs = []string{"http://0.0.0.0:2379"} }, "uses an unspecified address"},
		{"bad metrics URL", func(c *etcd.Config) { c.ListenMetricsURLs = []string{"tcp://127.0.0.1:2381"} }, `--listen-metrics-urls "tcp://127.0.0.1:2381"`},
		{"bad state", func(c *etcd.Config) { c.InitialClusterState = "old" }, `--initial-cluster-state "old": use new (bootstrap a cluster) or existing`},
		{"cluster lacks member", func(c *etcd.Config) { c.InitialCluster = "other=http://localhost:2380" }, "does not list this member; add default="},
		{"cluster entry malformed", func(c *etcd.Config) { c.InitialCluster = "default=http://localhost:2380,cp2" }, `--initial-cluster entry "cp2"`},
		{"cluster disagrees with advertised", func(c *etcd.Config) { c.InitialCluster = "default=http://127.0.0.1:2390" },
			"--initial-cluster lists default=http://127.0.0.1:2390 but --initial-advertise-peer-urls is http://localhost:2380"},
		{"https without cert", func(c *etcd.Config) { c.ListenClientURLs = []string{"https://127.0.0.1:2379"} }, "--listen-client-urls has https URLs but no --cert-file/--key-file"},
		{"peer https without cert", func(c *etcd.Config) { stacked(c); c.PeerCertFile, c.PeerKeyFile = "", "" }, "kubeadm's are etcd/peer.crt and etcd/peer.key"},
		{"cert without key", func(c *etcd.Config) { stacked(c); c.KeyFile = "" }, "--cert-file and --key-file go together"},
		{"client cert auth without CA", func(c *etcd.Config) { c.ClientCertAuth = true }, "--client-cert-auth needs --trusted-ca-file"},
		{"peer cert auth without CA", func(c *etcd.Config) { c.PeerClientCertAuth = true }, "--peer-client-cert-auth needs --peer-trusted-ca-file"},
		{"missing cert file", func(c *etcd.Config) { stacked(c); c.CertFile = "/nonexistent/server.crt" }, "--cert-file: stat /nonexistent/server.crt: no such file or directory; create the etcd certificates"},
		{"bad compaction mode", func(c *etcd.Config) { c.AutoCompactionMode = "hourly" }, `--auto-compaction-mode "hourly": use periodic or revision`},
		{"bad periodic retention", func(c *etcd.Config) { c.AutoCompactionRetention = "a day" }, "in periodic mode give a duration like 1h"},
		{"bad revision retention", func(c *etcd.Config) { c.AutoCompactionMode, c.AutoCompactionRetention = "revision", "1h" }, "in revision mode give the number of revisions"},
		{"negative quota", func(c *etcd.Config) { c.QuotaBackendBytes = -1 }, "--quota-backend-bytes -1"},
		{"bad log level", func(c *etcd.Config) { c.LogLevel = "loud" }, `--log-level "loud"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := etcd.DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v\nwant it to contain %q", err, tc.want)
			}
			var ce *etcd.ConfigError
			if !errors.As(err, &ce) || ce.ExitCode() != 3 {
				t.Errorf("error %T is not a *ConfigError with exit code 3", err)
			}
		})
	}

	t.Run("every problem at once", func(t *testing.T) {
		c := etcd.DefaultConfig()
		c.Name, c.InitialClusterState = "", "old"
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "etcd: invalid configuration (2 problems):") {
			t.Errorf("Validate() = %v", err)
		}
	})
	t.Run("restart ignores initial cluster", func(t *testing.T) {
		c := etcd.DefaultConfig()
		c.DataDir = t.TempDir()
		if err := os.MkdirAll(filepath.Join(c.DataDir, "member", "wal"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.DataDir, "member", "wal", "0.wal"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		c.InitialCluster = "someone-else=http://10.0.0.9:2380"
		if err := c.Validate(); err != nil {
			t.Errorf("Validate() on an existing member = %v", err)
		}
	})
}

func TestSnapshotRestoreChecksItsInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap.db")
	if err := os.WriteFile(snap, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  etcd.RestoreConfig
		want string
	}{
		{etcd.RestoreConfig{SnapshotPath: snap}, "no data directory; pass --data-dir"},
		{etcd.RestoreConfig{SnapshotPath: filepath.Join(dir, "missing.db"), DataDir: filepath.Join(dir, "new")}, "missing.db: no such file"},
		{etcd.RestoreConfig{SnapshotPath: snap, DataDir: dir}, "the data directory exists already"},
		{etcd.RestoreConfig{SnapshotPath: snap, DataDir: filepath.Join(dir, "new"), RevisionBump: 10}, "--bump-revision and --mark-compacted go together"},
		{etcd.RestoreConfig{SnapshotPath: snap, DataDir: filepath.Join(dir, "new"), Name: "a", InitialCluster: "b=http://127.0.0.1:2380"}, "does not list this member"},
	} {
		if err := etcd.SnapshotRestore(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SnapshotRestore(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
