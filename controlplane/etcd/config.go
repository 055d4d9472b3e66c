package etcd

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config holds an etcd member's settings. Field names follow etcd's flags (--name, --data-dir,
// --listen-client-urls, ...), which `kforge etcd` takes verbatim, so kubeadm-style static pods
// and systemd units work with kforge in place of etcd.
type Config struct {
	// Name is this member's name (--name); it must appear in InitialCluster.
	Name string
	// DataDir holds the member's WAL and database (--data-dir).
	DataDir string

	// ListenClientURLs are the addresses served to clients (--listen-client-urls); hosts must be
	// IP addresses or localhost.
	ListenClientURLs []string
	// AdvertiseClientURLs are the client URLs announced to the cluster (--advertise-client-urls).
	AdvertiseClientURLs []string
	// ListenPeerURLs are the addresses served to other members (--listen-peer-urls).
	ListenPeerURLs []string
	// InitialAdvertisePeerURLs are the peer URLs announced to the cluster
	// (--initial-advertise-peer-urls); they must match this member's InitialCluster entry.
	InitialAdvertisePeerURLs []string
	// ListenMetricsURLs serve /metrics and /health without client TLS (--listen-metrics-urls),
	// which is what kubeadm's liveness probes use.
	ListenMetricsURLs []string

	// InitialCluster is "name=peerURL,..." for bootstrapping (--initial-cluster); empty means
	// this member alone.
	InitialCluster string
	// InitialClusterState is "new" (bootstrap) or "existing" (join a running cluster, after
	// 'kforge etcd member add') (--initial-cluster-state).
	InitialClusterState string
	// InitialClusterToken keeps separately bootstrapped clusters apart (--initial-cluster-token).
	InitialClusterToken string

	// CertFile and KeyFile are the client-facing serving certificate (--cert-file, --key-file;
	// kubeadm's etcd/server.crt and etcd/server.key).
	CertFile, KeyFile string
	// TrustedCAFile verifies client certificates (--trusted-ca-file; etcd/ca.crt).
	TrustedCAFile string
	// ClientCertAuth requires clients to present a certificate signed by TrustedCAFile
	// (--client-cert-auth).
	ClientCertAuth bool
	// PeerCertFile and PeerKeyFile serve and authenticate member-to-member traffic
	// (--peer-cert-file, --peer-key-file; etcd/peer.crt and etcd/peer.key).
	PeerCertFile, PeerKeyFile string
	// PeerTrustedCAFile verifies other members' certificates (--peer-trusted-ca-file).
	PeerTrustedCAFile string
	// PeerClientCertAuth requires peers to present a certificate (--peer-client-cert-auth).
	PeerClientCertAuth bool

	// SnapshotCount is the number of committed transactions that trigger a snapshot to disk
	// (--snapshot-count); zero means etcd's default.
	SnapshotCount uint64
	// AutoCompactionMode is "periodic" or "revision" (--auto-compaction-mode).
	AutoCompactionMode string
	// AutoCompactionRetention is a duration ("1h", or hours as a number) in periodic mode and a
	// revision count in revision mode; "0" or empty disables it (--auto-compaction-retention).
	AutoCompactionRetention string
	// QuotaBackendBytes raises a NOSPACE alarm beyond this database size; zero means etcd's
	// default of 2 GiB (--quota-backend-bytes).
	QuotaBackendBytes int64

	// LogLevel is etcd's log level: debug, info, warn, error, panic or fatal (--log-level).
	LogLevel string
	// LogOutput receives the member's JSON log lines; nil means standard error.
	LogOutput io.Writer
}

// Default values etcd itself uses when a flag is not given.
const (
	DefaultClientURL           = "http://localhost:2379"
	DefaultPeerURL             = "http://localhost:2380"
	DefaultInitialClusterToken = "etcd-cluster"
)

// DefaultConfig is the member etcd starts with no flags: one member named "default" on
// localhost, plain HTTP, data in ./default.etcd.
func DefaultConfig() Config {
	return Config{
		Name:                     "default",
		DataDir:                  "default.etcd",
		ListenClientURLs:         []string{DefaultClientURL},
		AdvertiseClientURLs:      []string{DefaultClientURL},
		ListenPeerURLs:           []string{DefaultPeerURL},
		InitialAdvertisePeerURLs: []string{DefaultPeerURL},
		InitialCluster:           "default=" + DefaultPeerURL,
		InitialClusterState:      "new",
		InitialClusterToken:      DefaultInitialClusterToken,
		SnapshotCount:            10000,
		AutoCompactionMode:       "periodic",
		AutoCompactionRetention:  "0",
		LogLevel:                 "info",
	}
}

// ConfigError lists every problem found in a Config, each naming the flag and the fix, so a user
// corrects them in one go. Its exit code is 3, as for kforge's other configuration errors.
type ConfigError struct {
	Problems []string
}

// Error lists the problems, one a line when there are several.
func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "etcd: invalid configuration: " + e.Problems[0]
	}
	return fmt.Sprintf("etcd: invalid configuration (%d problems):\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// ExitCode is 3: scripts can tell a bad configuration from a failed run.
func (e *ConfigError) ExitCode() int { return 3 }

// Validate checks the settings as etcd would at start-up, and more strictly where etcd's own
// message would leave the user guessing. The error is a *ConfigError.
func (c Config) Validate() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }

	if c.Name == "" {
		add("--name is empty; give this member a name, usually the node's hostname")
	}
	if c.DataDir == "" {
		add("--data-dir is empty; kubeadm's is /var/lib/etcd")
	}
	checkURLs := func(flag string, urls []string, required, bind bool) {
		if required && len(urls) == 0 {
			add("%s is empty; give at least one URL like https://10.0.0.5:2379", flag)
		}
		for _, s := range urls {
			if msg := checkURL(s, bind); msg != "" {
				add("%s %q: %s", flag, s, msg)
			}
		}
	}
	checkURLs("--listen-client-urls", c.ListenClientURLs, true, true)
	checkURLs("--advertise-client-urls", c.AdvertiseClientURLs, true, false)
	checkURLs("--listen-peer-urls", c.ListenPeerURLs, true, true)
	checkURLs("--initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, true, false)
	checkURLs("--listen-metrics-urls", c.ListenMetricsURLs, false, true)
	for _, s := range append(slices.Clone(c.AdvertiseClientURLs), c.InitialAdvertisePeerURLs...) {
		if u, err := url.Parse(s); err == nil {
			if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
				add("advertised URL %q uses an unspecified address; advertise one that clients and peers can reach, e.g. the node's IP", s)
			}
		}
	}

	switch c.InitialClusterState {
	case "new", "existing":
	default:
		add("--initial-cluster-state %q: use new (bootstrap a cluster) or existing (join one after 'kforge etcd member add')", c.InitialClusterState)
	}
	if c.InitialCluster != "" && c.Name != "" && !hasWAL(c.DataDir) {
		p = append(p, checkInitialCluster(c.InitialCluster, c.Name, c.InitialAdvertisePeerURLs)...)
	}

	tlsPair := func(urlFlag string, urls []string, certFlag, cert, keyFlag, key, kubeadm string) {
		if (cert == "") != (key == "") {
			add("%s and %s go together; give both (kubeadm's are %s.crt and %s.key)", certFlag, keyFlag, kubeadm, kubeadm)
		} else if cert == "" && usesTLS(urls) {
			add("%s has https URLs but no %s/%s; give the serving certificate (kubeadm's are %s.crt and %s.key) or use http://", urlFlag, certFlag, keyFlag, kubeadm, kubeadm)
		}
	}
	tlsPair("--listen-client-urls", c.ListenClientURLs, "--cert-file", c.CertFile, "--key-file", c.KeyFile, "etcd/server")
	tlsPair("--listen-peer-urls", c.ListenPeerURLs, "--peer-cert-file", c.PeerCertFile, "--peer-key-file", c.PeerKeyFile, "etcd/peer")
	if c.ClientCertAuth && c.TrustedCAFile == "" {
		add("--client-cert-auth needs --trusted-ca-file, the CA that signs client certificates (etcd/ca.crt)")
	}
	if c.PeerClientCertAuth && c.PeerTrustedCAFile == "" {
		add("--peer-client-cert-auth needs --peer-trusted-ca-file, the CA that signs peer certificates (etcd/ca.crt)")
	}
	for _, f := range []struct{ flag, path string }{
		{"--cert-file", c.CertFile}, {"--key-file", c.KeyFile}, {"--trusted-ca-file", c.TrustedCAFile},
		{"--peer-cert-file", c.PeerCertFile}, {"--peer-key-file", c.PeerKeyFile}, {"--peer-trusted-ca-file", c.PeerTrustedCAFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			add("%s: %v; create the etcd certificates with 'kforge init phase certs all' or fix the path", f.flag, err)
		}
	}

	switch c.AutoCompactionMode {
	case "periodic", "":
		if r := c.AutoCompactionRetention; r != "" {
			if h, err := strconv.Atoi(r); err != nil || h < 0 {
				if d, err := time.ParseDuration(r); err != nil || d < 0 {
					add("--auto-compaction-retention %q: in periodic mode give a duration like 1h or 30m, or hours as a whole number (0 disables)", r)
				}
			}
		}
	case "revision":
		if h, err := strconv.Atoi(c.AutoCompactionRetention); c.AutoCompactionRetention != "" && (err != nil || h < 0) {
			add("--auto-compaction-retention %q: in revision mode give the number of revisions to keep, like 10000", c.AutoCompactionRetention)
		}
	default:
		add("--auto-compaction-mode %q: use periodic or revision", c.AutoCompactionMode)
	}
	if c.QuotaBackendBytes < 0 {
		add("--quota-backend-bytes %d: give a size in bytes (0 means etcd's 2 GiB default; etcd suggests at most 8 GiB)", c.QuotaBackendBytes)
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error", "panic", "fatal":
	default:
		add("--log-level %q: use debug, info, warn, error, panic or fatal", c.LogLevel)
	}
	if len(p) > 0 {
		return &ConfigError{Problems: p}
	}
	return nil
}

// checkURL returns what is wrong with an etcd URL, or "". Listening URLs must name an IP address
// (or localhost), as etcd binds to it.
func checkURL(s string, bind bool) string {
	u, err := url.Parse(s)
	if err != nil {
		return "not a URL like https://10.0.0.5:2379"
	}
	switch u.Scheme {
	case "http", "https":
	case "unix", "unixs":
		return ""
	default:
		return "not a URL like https://10.0.0.5:2379 (the scheme must be http or https)"
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return "needs a host and a port, like https://10.0.0.5:2379"
	}
	if u.Path != "" && u.Path != "/" {
		return "must not have a path; write it like https://10.0.0.5:2379"
	}
	if bind && host != "localhost" && net.ParseIP(host) == nil {
		return "etcd listens on IP addresses only; use an IP (or 0.0.0.0 for all) instead of a host name"
	}
	return ""
}

func usesTLS(urls []string) bool {
	for _, u := range urls {
		if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "unixs://") {
			return true
		}
	}
	return false
}

// checkInitialCluster checks "name=url,..." and that this member's entries are exactly its
// advertised peer URLs, which etcd insists on.
func checkInitialCluster(cluster, name string, advertised []string) []string {
	var p []string
	var mine []string
	for entry := range strings.SplitSeq(cluster, ",") {
		n, u, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok || n == "" {
			p = append(p, fmt.Sprintf("--initial-cluster entry %q: write each member as name=https://10.0.0.5:2380", entry))
			continue
		}
		if msg := checkURL(u, false); msg != "" {
			p = append(p, fmt.Sprintf("--initial-cluster entry %q: %s", entry, msg))
			continue
		}
		if n == name {
			mine = append(mine, u)
		}
	}
	if len(p) > 0 {
		return p
	}
	if len(mine) == 0 {
		return []string{fmt.Sprintf("--initial-cluster %q does not list this member; add %s=<one of --initial-advertise-peer-urls>", cluster, name)}
	}
	slices.Sort(mine)
	adv := slices.Sorted(slices.Values(advertised))
	if !slices.Equal(mine, slices.Compact(adv)) {
		return []string{fmt.Sprintf("--initial-cluster lists %s=%s but --initial-advertise-peer-urls is %s; they must be the same URLs",
			name, strings.Join(mine, ","), strings.Join(advertised, ","))}
	}
	return nil
}

// hasWAL reports whether dataDir holds a member already; etcd then ignores --initial-cluster.
func hasWAL(dataDir string) bool {
	if dataDir == "" {
		return false
	}
	entries, err := os.ReadDir(filepath.Join(dataDir, "member", "wal"))
	return err == nil && len(entries) > 0
}
