package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// ClientConfig says how to reach an etcd cluster, with etcdctl's flag names in mind
// (--endpoints, --cacert, --cert, --key).
type ClientConfig struct {
	Endpoints   []string
	CAFile      string
	CertFile    string
	KeyFile     string
	DialTimeout time.Duration
}

func (c ClientConfig) clientv3() (clientv3.Config, error) {
	cfg := clientv3.Config{Endpoints: c.Endpoints, DialTimeout: c.DialTimeout, Logger: zap.NewNop()}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if len(c.Endpoints) == 0 {
		return cfg, errors.New("etcd: no endpoints; pass --endpoints https://127.0.0.1:2379")
	}
	if c.CAFile != "" || c.CertFile != "" {
		info := transport.TLSInfo{TrustedCAFile: c.CAFile, CertFile: c.CertFile, KeyFile: c.KeyFile}
		tc, err := info.ClientConfig()
		if err != nil {
			return cfg, fmt.Errorf("etcd: TLS: %w; check --cacert, --cert and --key", err)
		}
		tc.MinVersion = tls.VersionTLS12
		cfg.TLS = tc
	}
	return cfg, nil
}

// Client runs kforge's operations on an etcd cluster.
type Client struct {
	cfg ClientConfig
	c   *clientv3.Client
}

// NewClient connects to the cluster; Close releases it.
func NewClient(cfg ClientConfig) (*Client, error) {
	c3, err := cfg.clientv3()
	if err != nil {
		return nil, err
	}
	c, err := clientv3.New(c3)
	if err != nil {
		return nil, fmt.Errorf("etcd: connect %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	return &Client{cfg: cfg, c: c}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// Raw is the underlying etcd client, for storage.
func (c *Client) Raw() *clientv3.Client { return c.c }

// explain adds the likely fix to connection errors.
func (c *Client) explain(op string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate signed by unknown authority"):
		return fmt.Errorf("etcd: %s on %s: %w; pass --cacert with the etcd CA (etcd/ca.crt)", op, strings.Join(c.cfg.Endpoints, ","), err)
	case strings.Contains(msg, "bad certificate") || strings.Contains(msg, "certificate required"):
		return fmt.Errorf("etcd: %s on %s: %w; the member wants a client certificate it trusts: pass --cert/--key (etcd/healthcheck-client.crt or apiserver-etcd-client.crt)", op, strings.Join(c.cfg.Endpoints, ","), err)
	case errors.Is(err, context.DeadlineExceeded):
		// gRPC hides TLS failures behind retries; a direct handshake tells what is wrong.
		for _, ep := range c.cfg.Endpoints {
			if terr := c.probeTLS(ep); terr != nil {
				return c.explain(op, terr)
			}
		}
		return fmt.Errorf("etcd: %s on %s: no answer in time; is the member running and the endpoint right?", op, strings.Join(c.cfg.Endpoints, ","))
	}
	return fmt.Errorf("etcd: %s on %s: %w", op, strings.Join(c.cfg.Endpoints, ","), err)
}

// probeTLS performs a TLS handshake with ep using the client's TLS settings.
func (c *Client) probeTLS(ep string) error {
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "https" {
		return nil
	}
	cfg, err := c.cfg.clientv3()
	if err != nil || cfg.TLS == nil {
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tc := cfg.TLS.Clone()
	tc.ServerName = u.Hostname()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", u.Host, tc)
	if err != nil {
		return err
	}
	return conn.Close()
}

// MemberInfo is one member of the cluster.
type MemberInfo struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
}

func members(ms []*etcdMember) []MemberInfo {
	var out []MemberInfo
	for _, m := range ms {
		out = append(out, MemberInfo{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner})
	}
	return out
}

// MemberList lists the cluster's members.
func (c *Client) MemberList(ctx context.Context) ([]MemberInfo, error) {
	resp, err := c.c.MemberList(ctx)
	if err != nil {
		return nil, c.explain("member list", err)
	}
	return members(resp.Members), nil
}

// MemberAdd adds a voting member with peerURLs and returns the new member and the
// --initial-cluster value it must start with.
func (c *Client) MemberAdd(ctx context.Context, name string, peerURLs []string, learner bool) (MemberInfo, string, error) {
	var resp *clientv3.MemberAddResponse
	var err error
	if learner {
		resp, err = c.c.MemberAddAsLearner(ctx, peerURLs)
	} else {
		resp, err = c.c.MemberAdd(ctx, peerURLs)
	}
	if err != nil {
		return MemberInfo{}, "", c.explain("member add", err)
	}
	var parts []string
	for _, m := range resp.Members {
		n := m.Name
		if m.ID == resp.Member.ID {
			n = name
		}
		if n == "" {
			continue // added but not started yet
		}
		for _, u := range m.PeerURLs {
			parts = append(parts, n+"="+u)
		}
	}
	info := members([]*etcdMember{resp.Member})[0]
	info.Name = name
	return info, strings.Join(parts, ","), nil
}

// MemberPromote turns a learner that caught up into a voting member.
func (c *Client) MemberPromote(ctx context.Context, id uint64) error {
	if _, err := c.c.MemberPromote(ctx, id); err != nil {
		return c.explain("member promote", err)
	}
	return nil
}

// MemberRemove removes a member by ID.
func (c *Client) MemberRemove(ctx context.Context, id uint64) error {
	if _, err := c.c.MemberRemove(ctx, id); err != nil {
		return c.explain("member remove", err)
	}
	return nil
}

// EndpointHealth is the health of one endpoint, as `etcdctl endpoint health` reports it.
type EndpointHealth struct {
	Endpoint string
	Healthy  bool
	Took     time.Duration
	Error    string
}

// Health checks every endpoint with a linearizable read, as etcdctl does.
func (c *Client) Health(ctx context.Context) []EndpointHealth {
	var out []EndpointHealth
	for _, ep := range c.cfg.Endpoints {
		cfg := c.cfg
		cfg.Endpoints = []string{ep}
		h := EndpointHealth{Endpoint: ep}
		start := time.Now()
		one, err := NewClient(cfg)
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = one.c.Get(cctx, "health")
			cancel()
			one.Close()
		}
		h.Took = time.Since(start)
		if err != nil && !strings.Contains(err.Error(), "permission denied") {
			h.Error = (&Client{cfg: cfg}).explain("health", err).Error()
		} else {
			h.Healthy = true
		}
		out = append(out, h)
	}
	return out
}

// SnapshotSave writes a snapshot of the member behind the first endpoint to path.
func (c *Client) SnapshotSave(ctx context.Context, path string) error {
	cfg, err := c.cfg.clientv3()
	if err != nil {
		return err
	}
	cfg.Endpoints = cfg.Endpoints[:1]
	if _, err := snapshot.NewV3(zap.NewNop()).Save(ctx, cfg, path); err != nil {
		return c.explain("snapshot save", err)
	}
	return nil
}

// RestoreConfig describes the member a snapshot is restored into.
type RestoreConfig struct {
	SnapshotPath        string
	Name                string
	DataDir             string
	PeerURLs            []string
	InitialCluster      string
	InitialClusterToken string
}

// SnapshotRestore makes a new data directory from a snapshot; DataDir must not exist yet.
func SnapshotRestore(cfg RestoreConfig) error {
	if cfg.InitialCluster == "" && len(cfg.PeerURLs) > 0 {
		cfg.InitialCluster = cfg.Name + "=" + cfg.PeerURLs[0]
	}
	if cfg.InitialClusterToken == "" {
		cfg.InitialClusterToken = "etcd-cluster"
	}
	err := snapshot.NewV3(zap.NewNop()).Restore(snapshot.RestoreConfig{SnapshotPath: cfg.SnapshotPath, Name: cfg.Name,
		OutputDataDir: cfg.DataDir, PeerURLs: cfg.PeerURLs, InitialCluster: cfg.InitialCluster, InitialClusterToken: cfg.InitialClusterToken})
	if err != nil {
		return fmt.Errorf("etcd: restore %s into %s: %w", cfg.SnapshotPath, cfg.DataDir, err)
	}
	return nil
}
