package etcd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"kforge.dev/kforge/controlplane/component"
)

// ErrNotStarted is returned by Ready and WaitReady before Start.
var ErrNotStarted = errors.New("etcd: member not started")

// Member is an etcd member running inside this process. It is a controlplane component: Init
// validates, Start returns once it listens, Ready says when it serves (it has joined a quorum),
// Stop shuts it down. A Member runs once; make a new one to run again.
type Member struct {
	cfg Config

	mu       sync.Mutex
	srv      *embed.Etcd
	done     chan struct{} // closed once the member has stopped, by Stop or on its own
	err      error         // why it stopped on its own
	stopping bool
	closed   chan struct{} // closed once Stop's embed.Close has returned
	// quiet is set once Stop begins: etcd logs its own orderly shutdown as errors.
	quiet atomic.Bool
}

var (
	_ component.Component = (*Member)(nil)
	_ component.Ready     = (*Member)(nil)
)

// NewMember returns a member for cfg; nothing happens until Init and Start.
func NewMember(cfg Config) *Member {
	for _, urls := range []*[]string{&cfg.ListenClientURLs, &cfg.AdvertiseClientURLs, &cfg.ListenPeerURLs,
		&cfg.InitialAdvertisePeerURLs, &cfg.ListenMetricsURLs} {
		*urls = slices.Clone(*urls) // the caller may reuse its slices
	}
	return &Member{cfg: cfg}
}

// Name is the component's name in logs and errors.
func (m *Member) Name() string { return "etcd" }

// Init validates the configuration and creates the data directory (0700, as etcd wants).
func (m *Member) Init(context.Context) error {
	if err := m.cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(m.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("etcd: create --data-dir: %w", err)
	}
	return nil
}

// Start starts the member and returns once it listens; it does not wait for the cluster (a
// member of a new 3-member cluster serves only once a second one is up). Use Ready or WaitReady.
func (m *Member) Start(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil {
		return fmt.Errorf("etcd: member %s already started", m.cfg.Name)
	}
	if err := m.cfg.Validate(); err != nil {
		return err
	}
	ec, err := m.embedConfig()
	if err != nil {
		return err
	}
	srv, err := embed.StartEtcd(ec)
	if err != nil {
		return fmt.Errorf("etcd: start member %s: %w", m.cfg.Name, m.explainStartError(err))
	}
	m.srv, m.done = srv, make(chan struct{})
	go m.watch(srv, m.done)
	return nil
}

// watch closes done when the member stops, recording why if nobody asked it to.
func (m *Member) watch(srv *embed.Etcd, done chan struct{}) {
	var err error
	select {
	case e, ok := <-srv.Err():
		switch {
		case e != nil:
			err = e
		case ok:
			err = errors.New("a listener stopped serving")
		}
	case <-srv.Server.StopNotify():
		err = errors.New("the server stopped; if it was removed from the cluster ('kforge etcd member remove'), empty --data-dir before it joins again")
	}
	m.mu.Lock()
	if !m.stopping && err != nil {
		m.err = fmt.Errorf("etcd: member %s stopped: %w", m.cfg.Name, err)
	}
	m.mu.Unlock()
	close(done)
}

// Ready returns nil once the member serves clients, and otherwise says what it waits for.
func (m *Member) Ready(context.Context) error {
	m.mu.Lock()
	srv, done := m.srv, m.done
	m.mu.Unlock()
	if srv == nil {
		return ErrNotStarted
	}
	select {
	case <-done:
		return m.stoppedErr()
	default:
	}
	select {
	case <-srv.Server.ReadyNotify():
		return nil
	default:
		return fmt.Errorf("etcd: member %s not ready: %s", m.cfg.Name, m.waitingFor())
	}
}

// WaitReady blocks until the member serves clients, stops, or ctx ends.
func (m *Member) WaitReady(ctx context.Context) error {
	m.mu.Lock()
	srv, done := m.srv, m.done
	m.mu.Unlock()
	if srv == nil {
		return ErrNotStarted
	}
	select {
	case <-srv.Server.ReadyNotify():
		return nil
	case <-done:
		return m.stoppedErr()
	case <-ctx.Done():
		return fmt.Errorf("etcd: member %s not ready: %s: %w", m.cfg.Name, m.waitingFor(), ctx.Err())
	}
}

func (m *Member) stoppedErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	return fmt.Errorf("etcd: member %s stopped", m.cfg.Name)
}

// waitingFor explains an unready member by how it was bootstrapped.
func (m *Member) waitingFor() string {
	c := m.cfg
	switch {
	case c.InitialClusterState == "existing":
		return fmt.Sprintf("joining a running cluster: the members must have added it ('kforge etcd member add %s --peer-urls %s') and reach it on %s",
			c.Name, strings.Join(c.InitialAdvertisePeerURLs, ","), strings.Join(c.InitialAdvertisePeerURLs, ","))
	case strings.Count(c.InitialCluster, "=") > 1:
		return fmt.Sprintf("waiting for a quorum of --initial-cluster %s to start and reach each other", c.InitialCluster)
	default:
		return "waiting to elect itself leader"
	}
}

// Done is closed once the member has stopped, whether by Stop or on its own (then Err says
// why); it is nil before Start.
func (m *Member) Done() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done == nil {
		return nil
	}
	return m.done
}

// Err says why the member stopped on its own; nil while it runs or after Stop.
func (m *Member) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Stop shuts the member down and waits for it, or for ctx; calling it again, or before Start,
// is harmless.
func (m *Member) Stop(ctx context.Context) error {
	m.mu.Lock()
	srv := m.srv
	if srv != nil && !m.stopping {
		m.stopping = true
		m.quiet.Store(true)
		m.closed = make(chan struct{})
		go func(closed chan struct{}) {
			// embed.Close waits for the client servers, which start only once the member is
			// ready or stopping: stop a member still waiting for its cluster first.
			select {
			case <-srv.Server.ReadyNotify():
			default:
				srv.Server.Stop()
			}
			srv.Close()
			close(closed)
		}(m.closed)
	}
	closed := m.closed
	m.mu.Unlock()
	if srv == nil {
		return nil
	}
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("etcd: stop member %s: %w", m.cfg.Name, ctx.Err())
	}
}

// ID is the member's cluster ID (as 'member list' shows it in hex); zero before Start.
func (m *Member) ID() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv == nil {
		return 0
	}
	return uint64(m.srv.Server.MemberID())
}

// ClientURLs are the URLs clients reach this member on: its --advertise-client-urls.
func (m *Member) ClientURLs() []string { return slices.Clone(m.cfg.AdvertiseClientURLs) }

// PeerURLs are the URLs other members reach this member on: its --initial-advertise-peer-urls.
func (m *Member) PeerURLs() []string { return slices.Clone(m.cfg.InitialAdvertisePeerURLs) }

func (m *Member) explainStartError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "address already in use"):
		return fmt.Errorf("%w; another etcd (or kforge etcd) already listens there: stop it or choose other --listen-client-urls/--listen-peer-urls", err)
	case strings.Contains(msg, "member count is unequal"), strings.Contains(msg, "unmatched member while checking PeerURLs"):
		return fmt.Errorf("%w; with --initial-cluster-state=existing, --initial-cluster must list every member of the running cluster plus this one, as 'kforge etcd member add' prints it", err)
	case strings.Contains(msg, "cannot fetch cluster info from peer urls"), strings.Contains(msg, "could not retrieve cluster information"):
		return fmt.Errorf("%w; with --initial-cluster-state=existing the other members in --initial-cluster must be running and reachable", err)
	case strings.Contains(msg, "permission denied"):
		return fmt.Errorf("%w; --data-dir must be writable by this user", err)
	}
	return err
}

func parseURLs(flag string, in []string) ([]url.URL, error) {
	out := make([]url.URL, 0, len(in))
	for _, s := range in {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("etcd: %s %q: %w", flag, s, err)
		}
		out = append(out, *u)
	}
	return out, nil
}

// embedConfig translates the flag-shaped Config into etcd's embed.Config.
func (m *Member) embedConfig() (*embed.Config, error) {
	c := m.cfg
	ec := embed.NewConfig()
	ec.Name, ec.Dir = c.Name, c.DataDir
	for _, u := range []struct {
		flag string
		in   []string
		out  *[]url.URL
	}{
		{"--listen-client-urls", c.ListenClientURLs, &ec.ListenClientUrls},
		{"--advertise-client-urls", c.AdvertiseClientURLs, &ec.AdvertiseClientUrls},
		{"--listen-peer-urls", c.ListenPeerURLs, &ec.ListenPeerUrls},
		{"--initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, &ec.AdvertisePeerUrls},
		{"--listen-metrics-urls", c.ListenMetricsURLs, &ec.ListenMetricsUrls},
	} {
		urls, err := parseURLs(u.flag, u.in)
		if err != nil {
			return nil, err
		}
		*u.out = urls
	}
	ec.InitialCluster = c.InitialCluster
	if ec.InitialCluster == "" {
		ec.InitialCluster = ec.InitialClusterFromName(c.Name)
	}
	ec.ClusterState = c.InitialClusterState
	ec.InitialClusterToken = c.InitialClusterToken
	if ec.InitialClusterToken == "" {
		ec.InitialClusterToken = DefaultInitialClusterToken
	}

	ec.ClientAutoTLS, ec.PeerAutoTLS = false, false
	ec.ClientTLSInfo.CertFile, ec.ClientTLSInfo.KeyFile = c.CertFile, c.KeyFile
	ec.ClientTLSInfo.TrustedCAFile, ec.ClientTLSInfo.ClientCertAuth = c.TrustedCAFile, c.ClientCertAuth
	ec.PeerTLSInfo.CertFile, ec.PeerTLSInfo.KeyFile = c.PeerCertFile, c.PeerKeyFile
	ec.PeerTLSInfo.TrustedCAFile, ec.PeerTLSInfo.ClientCertAuth = c.PeerTrustedCAFile, c.PeerClientCertAuth

	if c.SnapshotCount > 0 {
		ec.SnapshotCount = c.SnapshotCount
	}
	if c.AutoCompactionMode != "" {
		ec.AutoCompactionMode = c.AutoCompactionMode
	}
	ec.AutoCompactionRetention = c.AutoCompactionRetention
	if ec.AutoCompactionRetention == "" {
		ec.AutoCompactionRetention = "0"
	}
	ec.QuotaBackendBytes = c.QuotaBackendBytes

	level := c.LogLevel
	if level == "" {
		level = "info"
	}
	zl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("etcd: --log-level %q: %w", level, err)
	}
	ec.LogLevel = level
	var out io.Writer = os.Stderr
	if c.LogOutput != nil {
		out = c.LogOutput
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	sink := zapcore.Lock(zapcore.AddSync(out))
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), sink, zap.NewAtomicLevelAt(zl))
	lg := zap.New(&shutdownQuietCore{Core: core, quiet: &m.quiet}, zap.ErrorOutput(sink))
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg.With(zap.String("member", c.Name)))
	return ec, nil
}

// shutdownQuietCore drops error entries once the member is stopping: etcd reports its listeners
// closing ("mux: server closed", "use of closed network connection") as errors.
type shutdownQuietCore struct {
	zapcore.Core
	quiet *atomic.Bool
}

func (c *shutdownQuietCore) With(fields []zapcore.Field) zapcore.Core {
	return &shutdownQuietCore{Core: c.Core.With(fields), quiet: c.quiet}
}

func (c *shutdownQuietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.quiet.Load() && e.Level == zapcore.ErrorLevel {
		return ce
	}
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}
