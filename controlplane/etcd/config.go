package etcd

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config holds an etcd member's settings; field names follow etcd's flags
// (--name, --data-dir, --listen-client-urls, ...), which `kforge etcd` takes verbatim.
type Config struct {
	Name                     string
	DataDir                  string
	ListenClientURLs         []string
	AdvertiseClientURLs      []string
	ListenPeerURLs           []string
	InitialAdvertisePeerURLs []string
	ListenMetricsURLs        []string
	InitialCluster           string
	// InitialClusterState is "new" or "existing" (joining a running cluster).
	InitialClusterState string
	InitialClusterToken string

	// Client TLS: the serving certificate, and client certificates checked against
	// TrustedCAFile when ClientCertAuth is set.
	CertFile, KeyFile, TrustedCAFile string
	ClientCertAuth                   bool
	// Peer TLS, the same for member-to-member traffic.
	PeerCertFile, PeerKeyFile, PeerTrustedCAFile string
	PeerClientCertAuth                           bool

	SnapshotCount           uint64
	AutoCompactionMode      string
	AutoCompactionRetention string
	QuotaBackendBytes       int64

	// ReadyTimeout bounds how long Start waits for the member to serve (default 1 minute).
	ReadyTimeout time.Duration
	// LogLevel is etcd's log level (default "warn"; the member logs to stderr).
	LogLevel string
}

// DefaultConfig is a single member on loopback, as `etcd` with no flags starts.
func DefaultConfig() Config {
	return Config{
		Name: "default", DataDir: "default.etcd",
		ListenClientURLs: []string{"http://127.0.0.1:2379"}, AdvertiseClientURLs: []string{"http://127.0.0.1:2379"},
		ListenPeerURLs: []string{"http://127.0.0.1:2380"}, InitialAdvertisePeerURLs: []string{"http://127.0.0.1:2380"},
		InitialCluster: "default=http://127.0.0.1:2380", InitialClusterState: "new", InitialClusterToken: "etcd-cluster",
		SnapshotCount: 10000, AutoCompactionMode: "periodic", LogLevel: "warn",
	}
}

// Validate checks the settings and says which flag to fix.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("--name is required"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is required"))
	}
	check := func(flag string, urls []string, required bool) {
		if required && len(urls) == 0 {
			errs = append(errs, fmt.Errorf("%s is required", flag))
		}
		for _, u := range urls {
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https" && p.Scheme != "unix" && p.Scheme != "unixs") || p.Host == "" {
				errs = append(errs, fmt.Errorf("%s: %q is not a URL like https://10.0.0.5:2379", flag, u))
			}
		}
	}
	check("--listen-client-urls", c.ListenClientURLs, true)
	check("--advertise-client-urls", c.AdvertiseClientURLs, true)
	check("--listen-peer-urls", c.ListenPeerURLs, true)
	check("--initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, true)
	check("--listen-metrics-urls", c.ListenMetricsURLs, false)
	switch c.InitialClusterState {
	case "new", "existing":
	default:
		errs = append(errs, fmt.Errorf("--initial-cluster-state %q: use new or existing", c.InitialClusterState))
	}
	if c.InitialCluster != "" && !strings.Contains(c.InitialCluster, c.Name+"=") {
		errs = append(errs, fmt.Errorf("--initial-cluster %q does not list this member (--name %s)", c.InitialCluster, c.Name))
	}
	usesTLS := func(urls []string) bool {
		for _, u := range urls {
			if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "unixs://") {
				return true
			}
		}
		return false
	}
	if usesTLS(c.ListenClientURLs) && (c.CertFile == "" || c.KeyFile == "") {
		errs = append(errs, errors.New("https client URLs need --cert-file and --key-file (kforge's are etcd/server.crt and etcd/server.key)"))
	}
	if c.ClientCertAuth && c.TrustedCAFile == "" {
		errs = append(errs, errors.New("--client-cert-auth needs --trusted-ca-file (etcd/ca.crt)"))
	}
	if usesTLS(c.ListenPeerURLs) && (c.PeerCertFile == "" || c.PeerKeyFile == "") {
		errs = append(errs, errors.New("https peer URLs need --peer-cert-file and --peer-key-file (etcd/peer.crt and etcd/peer.key)"))
	}
	if c.PeerClientCertAuth && c.PeerTrustedCAFile == "" {
		errs = append(errs, errors.New("--peer-client-cert-auth needs --peer-trusted-ca-file (etcd/ca.crt)"))
	}
	for _, f := range []struct{ flag, path string }{{"--cert-file", c.CertFile}, {"--key-file", c.KeyFile}, {"--trusted-ca-file", c.TrustedCAFile},
		{"--peer-cert-file", c.PeerCertFile}, {"--peer-key-file", c.PeerKeyFile}, {"--peer-trusted-ca-file", c.PeerTrustedCAFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", f.flag, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("etcd: invalid configuration:\n%w", err)
	}
	return nil
}
