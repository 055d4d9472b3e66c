package etcd

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Member is an etcd member running inside this process. It is a controlplane component.
type Member struct {
	cfg Config

	mu     sync.Mutex
	server *embed.Etcd
}

// NewMember returns a member for cfg; Init validates it, Start runs it.
func NewMember(cfg Config) *Member { return &Member{cfg: cfg} }

// Name is the component's name.
func (m *Member) Name() string { return "etcd" }

// Init validates the configuration and prepares the data directory.
func (m *Member) Init(context.Context) error {
	if err := m.cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(m.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("etcd: data dir: %w", err)
	}
	return nil
}

func parseURLs(flag string, in []string) ([]url.URL, error) {
	var out []url.URL
	for _, s := range in {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("etcd: %s %q: %w", flag, s, err)
		}
		out = append(out, *u)
	}
	return out, nil
}

func (m *Member) embedConfig() (*embed.Config, error) {
	c := m.cfg
	ec := embed.NewConfig()
	ec.Name, ec.Dir = c.Name, c.DataDir
	var err error
	if ec.ListenClientUrls, err = parseURLs("--listen-client-urls", c.ListenClientURLs); err != nil {
		return nil, err
	}
	if ec.AdvertiseClientUrls, err = parseURLs("--advertise-client-urls", c.AdvertiseClientURLs); err != nil {
		return nil, err
	}
	if ec.ListenPeerUrls, err = parseURLs("--listen-peer-urls", c.ListenPeerURLs); err != nil {
		return nil, err
	}
	if ec.AdvertisePeerUrls, err = parseURLs("--initial-advertise-peer-urls", c.InitialAdvertisePeerURLs); err != nil {
		return nil, err
	}
	if ec.ListenMetricsUrls, err = parseURLs("--listen-metrics-urls", c.ListenMetricsURLs); err != nil {
		return nil, err
	}
	ec.InitialCluster = c.InitialCluster
	if ec.InitialCluster == "" {
		ec.InitialCluster = ec.InitialClusterFromName(c.Name)
	}
	ec.ClusterState = c.InitialClusterState
	if c.InitialClusterToken != "" {
		ec.InitialClusterToken = c.InitialClusterToken
	}
	ec.ClientTLSInfo.CertFile, ec.ClientTLSInfo.KeyFile, ec.ClientTLSInfo.TrustedCAFile = c.CertFile, c.KeyFile, c.TrustedCAFile
	ec.ClientTLSInfo.ClientCertAuth = c.ClientCertAuth
	ec.ClientAutoTLS = false
	ec.PeerTLSInfo.CertFile, ec.PeerTLSInfo.KeyFile, ec.PeerTLSInfo.TrustedCAFile = c.PeerCertFile, c.PeerKeyFile, c.PeerTrustedCAFile
	ec.PeerTLSInfo.ClientCertAuth = c.PeerClientCertAuth
	if c.SnapshotCount > 0 {
		ec.SnapshotCount = c.SnapshotCount
	}
	if c.AutoCompactionMode != "" {
		ec.AutoCompactionMode = c.AutoCompactionMode
	}
	ec.AutoCompactionRetention = c.AutoCompactionRetention
	ec.QuotaBackendBytes = c.QuotaBackendBytes
	level := c.LogLevel
	if level == "" {
		level = "warn"
	}
	zl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("etcd: log level %q: %w", level, err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(zl)
	zc.OutputPaths, zc.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
	lg, err := zc.Build()
	if err != nil {
		return nil, err
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	return ec, nil
}

// Start starts the member and returns once it serves clients.
func (m *Member) Start(ctx context.Context) error {
	ec, err := m.embedConfig()
	if err != nil {
		return err
	}
	srv, err := embed.StartEtcd(ec)
	if err != nil {
		return fmt.Errorf("etcd: start member %s: %w", m.cfg.Name, explainStartError(err))
	}
	timeout := m.cfg.ReadyTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	select {
	case <-srv.Server.ReadyNotify():
	case err := <-srv.Err():
		srv.Close()
		return fmt.Errorf("etcd: member %s: %w", m.cfg.Name, err)
	case <-time.After(timeout):
		srv.Close()
		return fmt.Errorf("etcd: member %s not ready after %s; with --initial-cluster-state=existing the other members must be reachable and have added this one ('kforge etcd member add')", m.cfg.Name, timeout)
	case <-ctx.Done():
		srv.Close()
		return ctx.Err()
	}
	m.mu.Lock()
	m.server = srv
	m.mu.Unlock()
	return nil
}

func explainStartError(err error) error {
	if strings.Contains(err.Error(), "address already in use") {
		return fmt.Errorf("%w; another etcd (or kforge etcd) already listens there: stop it or choose other --listen-*-urls", err)
	}
	return err
}

// Ready reports whether the member serves.
func (m *Member) Ready(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.server == nil {
		return fmt.Errorf("etcd: not started")
	}
	select {
	case <-m.server.Server.ReadyNotify():
		return nil
	default:
		return fmt.Errorf("etcd: not ready")
	}
}

// Stop stops the member; it is safe to call more than once.
func (m *Member) Stop(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.server != nil {
		m.server.Close()
		m.server = nil
	}
	return nil
}

// Done is closed when the member stops on its own (an error); nil before Start.
func (m *Member) Done() <-chan error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.server == nil {
		return nil
	}
	return m.server.Err()
}

// ClientURLs are the URLs the member serves clients on (the real ports when 0 was asked for).
func (m *Member) ClientURLs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.server == nil {
		return nil
	}
	var out []string
	for _, l := range m.server.Clients {
		scheme := "http"
		if m.cfg.CertFile != "" {
			scheme = "https"
		}
		out = append(out, scheme+"://"+l.Addr().String())
	}
	return out
}

// FreePorts returns n loopback ports free right now, for single-machine and test members.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// embeddedPortsFile remembers an embedded member's ports in its data directory: a member
// restarted on the same data must advertise the same peer URL.
const embeddedPortsFile = "kforge-embedded-ports"

// StartEmbedded starts a single plain-HTTP member on loopback ports with its data in dataDir:
// the `--etcd-servers=embedded` mode of the apiserver. Ports are chosen on first start and
// reused afterwards.
func StartEmbedded(ctx context.Context, dataDir string) (*Member, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("etcd: data dir: %w", err)
	}
	portsPath := filepath.Join(dataDir, embeddedPortsFile)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		var ports []int
		if b, err := os.ReadFile(portsPath); err == nil {
			var c, p int
			if _, err := fmt.Sscanf(string(b), "%d %d", &c, &p); err == nil {
				ports = []int{c, p}
			}
		}
		fresh := ports == nil
		if fresh {
			var err error
			if ports, err = FreePorts(2); err != nil {
				return nil, err
			}
		}
		c := DefaultConfig()
		c.Name, c.DataDir = "kforge", filepath.Join(dataDir, "member")
		cu, pu := fmt.Sprintf("http://127.0.0.1:%d", ports[0]), fmt.Sprintf("http://127.0.0.1:%d", ports[1])
		c.ListenClientURLs, c.AdvertiseClientURLs = []string{cu}, []string{cu}
		c.ListenPeerURLs, c.InitialAdvertisePeerURLs = []string{pu}, []string{pu}
		c.InitialCluster = "kforge=" + pu
		c.LogLevel = "fatal" // single-machine mode: etcd's shutdown noise is not news
		m := NewMember(c)
		if err := m.Init(ctx); err != nil {
			return nil, err
		}
		if err := m.Start(ctx); err != nil {
			lastErr = err
			if fresh && strings.Contains(err.Error(), "address already in use") {
				continue
			}
			return nil, err
		}
		if fresh {
			if err := os.WriteFile(portsPath, []byte(fmt.Sprintf("%d %d\n", ports[0], ports[1])), 0o600); err != nil {
				m.Stop(ctx)
				return nil, fmt.Errorf("etcd: %w", err)
			}
		}
		return m, nil
	}
	return nil, lastErr
}
