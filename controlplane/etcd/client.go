package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// ClientConfig says how to reach an etcd cluster, after etcdctl's flags (--endpoints, --cacert,
// --cert, --key, --dial-timeout, --command-timeout).
type ClientConfig struct {
	// Endpoints are the members' client URLs, like https://10.0.0.5:2379. Without a scheme
	// TLS is used when CAFile or CertFile is set, as etcdctl does.
	Endpoints []string
	// CAFile verifies the members' serving certificates (etcd/ca.crt); empty means the
	// system's roots.
	CAFile string
	// CertFile and KeyFile are the client certificate for members with --client-cert-auth
	// (etcd/healthcheck-client.crt, or apiserver-etcd-client.crt for the apiserver).
	CertFile, KeyFile string
	// DialTimeout bounds establishing a connection; zero means 2s.
	DialTimeout time.Duration
	// CommandTimeout bounds each operation of the Client (not of Raw); zero means 5s.
	CommandTimeout time.Duration
}

func (c ClientConfig) commandTimeout() time.Duration {
	if c.CommandTimeout > 0 {
		return c.CommandTimeout
	}
	return 5 * time.Second
}

// tlsConfig loads the files named in c; nil when TLS is not configured.
func (c ClientConfig) tlsConfig() (*tls.Config, error) {
	if c.CAFile == "" && c.CertFile == "" && c.KeyFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd: --cacert: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd: --cacert %s holds no PEM certificate; pass the etcd CA (etcd/ca.crt)", c.CAFile)
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, errors.New("etcd: --cert and --key go together; pass both (etcd/healthcheck-client.crt and etcd/healthcheck-client.key)")
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd: --cert %s / --key %s: %w", c.CertFile, c.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (c ClientConfig) clientv3(tc *tls.Config, endpoints []string) clientv3.Config {
	dial := c.DialTimeout
	if dial == 0 {
		dial = 2 * time.Second
	}
	return clientv3.Config{Endpoints: endpoints, DialTimeout: dial, TLS: tc, Logger: zap.NewNop()}
}

// Client runs kforge's operations on an etcd cluster; every error it returns names the fix.
type Client struct {
	cfg ClientConfig
	tls *tls.Config
	raw *clientv3.Client
}

// NewClient prepares a client for cfg. It reads the certificate files but connects lazily, so an
// unreachable cluster shows up as the first operation's error.
func NewClient(cfg ClientConfig) (*Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcd: no endpoints; pass --endpoints like https://127.0.0.1:2379")
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	raw, err := clientv3.New(cfg.clientv3(tc, cfg.Endpoints))
	if err != nil {
		return nil, fmt.Errorf("etcd: connect %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	return &Client{cfg: cfg, tls: tc, raw: raw}, nil
}

// Close releases the connections.
func (c *Client) Close() error { return c.raw.Close() }

// Raw is the underlying etcd client, for the apiserver's storage and for tests.
func (c *Client) Raw() *clientv3.Client { return c.raw }

// Endpoints are the endpoints the client was made with.
func (c *Client) Endpoints() []string { return slices.Clone(c.cfg.Endpoints) }

func (c *Client) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.commandTimeout())
}

// MemberInfo is one member of the cluster, as 'member list' shows it.
type MemberInfo struct {
	ID         uint64
	Name       string // empty until the member has started
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
}

// Started reports whether the member has started since it was added.
func (m MemberInfo) Started() bool { return m.Name != "" }

func memberInfos(ms []*etcdserverpb.Member) []MemberInfo {
	out := make([]MemberInfo, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberInfo(m))
	}
	return out
}

func memberInfo(m *etcdserverpb.Member) MemberInfo {
	return MemberInfo{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
}

// MemberList lists the cluster's members.
func (c *Client) MemberList(ctx context.Context) ([]MemberInfo, error) {
	var resp *clientv3.MemberListResponse
	err := c.do(ctx, "member list", c.cfg.Endpoints, func(ctx context.Context) (err error) {
		resp, err = c.raw.MemberList(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return memberInfos(resp.Members), nil
}

// AddedMember is the result of a member add: the new member, not started yet, and the cluster.
type AddedMember struct {
	// Member is the new member; it has no name until it starts.
	Member MemberInfo
	// Members is every member after the add, the new one included.
	Members []MemberInfo
}

// InitialCluster is the --initial-cluster value the new member, named name, must start with
// (together with --initial-cluster-state=existing). Other members added but not started yet
// are listed under their hexadecimal ID, which etcd accepts: it matches members by peer URL.
func (a AddedMember) InitialCluster(name string) string {
	var parts []string
	for _, m := range a.Members {
		n := m.Name
		switch {
		case m.ID == a.Member.ID:
			n = name
		case n == "":
			n = fmt.Sprintf("%x", m.ID)
		}
		for _, u := range m.PeerURLs {
			parts = append(parts, n+"="+u)
		}
	}
	return strings.Join(parts, ",")
}

// MemberAdd adds a voting member that will listen on peerURLs. Prefer MemberAddAsLearner:
// a voting member that does not start yet counts against the quorum.
func (c *Client) MemberAdd(ctx context.Context, peerURLs []string) (AddedMember, error) {
	return c.memberAdd(ctx, peerURLs, false)
}

// MemberAddAsLearner adds a non-voting member that will listen on peerURLs; once it has
// caught up, MemberPromote makes it vote. This is how kubeadm-style joins grow a cluster safely.
func (c *Client) MemberAddAsLearner(ctx context.Context, peerURLs []string) (AddedMember, error) {
	return c.memberAdd(ctx, peerURLs, true)
}

func (c *Client) memberAdd(ctx context.Context, peerURLs []string, learner bool) (AddedMember, error) {
	op := "member add"
	if learner {
		op = "member add --learner"
	}
	if len(peerURLs) == 0 {
		return AddedMember{}, fmt.Errorf("etcd: %s: no peer URLs; pass the new member's --initial-advertise-peer-urls", op)
	}
	for _, u := range peerURLs {
		if msg := checkURL(u, false); msg != "" {
			return AddedMember{}, fmt.Errorf("etcd: %s: peer URL %q: %s", op, u, msg)
		}
	}
	var resp *clientv3.MemberAddResponse
	err := c.do(ctx, op, c.cfg.Endpoints, func(ctx context.Context) (err error) {
		if learner {
			resp, err = c.raw.MemberAddAsLearner(ctx, peerURLs)
		} else {
			resp, err = c.raw.MemberAdd(ctx, peerURLs)
		}
		return err
	})
	if err != nil {
		return AddedMember{}, err
	}
	return AddedMember{Member: memberInfo(resp.Member), Members: memberInfos(resp.Members)}, nil
}

// MemberPromote makes a learner that has caught up a voting member. A learner still catching up
// gives an error matching ErrTransient.
func (c *Client) MemberPromote(ctx context.Context, id uint64) error {
	return c.do(ctx, fmt.Sprintf("member promote %x", id), c.cfg.Endpoints, func(ctx context.Context) error {
		_, err := c.raw.MemberPromote(ctx, id)
		return err
	})
}

// MemberRemove removes a member by ID. Soon after members (re)connected etcd refuses with an
// error matching ErrTransient.
func (c *Client) MemberRemove(ctx context.Context, id uint64) error {
	return c.do(ctx, fmt.Sprintf("member remove %x", id), c.cfg.Endpoints, func(ctx context.Context) error {
		_, err := c.raw.MemberRemove(ctx, id)
		return err
	})
}

// RetryTransient calls fn until it returns an error that is not ErrTransient, or ctx ends; it
// waits interval (1s if zero) between calls. Joins and resets wrap membership changes in it.
func RetryTransient(ctx context.Context, interval time.Duration, fn func(context.Context) error) error {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		err := fn(ctx)
		if err == nil || !errors.Is(err, ErrTransient) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// EndpointHealth is the health of one endpoint, as 'etcdctl endpoint health' reports it.
type EndpointHealth struct {
	Endpoint string
	Healthy  bool
	// Took is how long the check took.
	Took time.Duration
	// Err says why the endpoint is unhealthy (an *Error naming the fix); Error is its text.
	Err   error
	Error string
}

// Health checks every endpoint on its own, concurrently, as etcdctl does: a linearizable read
// (which needs a quorum and a leader) and no active alarm. Results follow the endpoints' order.
func (c *Client) Health(ctx context.Context) []EndpointHealth {
	out := make([]EndpointHealth, len(c.cfg.Endpoints))
	var wg sync.WaitGroup
	for i, ep := range c.cfg.Endpoints {
		wg.Go(func() { out[i] = c.endpointHealth(ctx, ep) })
	}
	wg.Wait()
	return out
}

func (c *Client) endpointHealth(ctx context.Context, ep string) EndpointHealth {
	h := EndpointHealth{Endpoint: ep}
	start := time.Now()
	raw, err := clientv3.New(c.cfg.clientv3(c.tls, []string{ep}))
	if err == nil {
		defer raw.Close()
		err = c.do(ctx, "health", []string{ep}, func(ctx context.Context) error {
			return checkHealth(ctx, raw, ep)
		})
	} else {
		err = c.explain(ctx, "health", []string{ep}, err)
	}
	h.Took = time.Since(start)
	if err != nil {
		h.Err, h.Error = err, err.Error()
	} else {
		h.Healthy = true
	}
	return h
}

func checkHealth(ctx context.Context, raw *clientv3.Client, ep string) error {
	// Permission denied still proves a quorum answered, as etcdctl counts it.
	if _, err := raw.Get(ctx, "health"); err != nil && !errors.Is(err, rpctypes.ErrPermissionDenied) {
		return err
	}
	alarms, err := raw.AlarmList(ctx)
	if err != nil {
		return err
	}
	if len(alarms.Alarms) > 0 {
		var names []string
		for _, a := range alarms.Alarms {
			names = append(names, fmt.Sprintf("%s on member %x", a.Alarm, a.MemberID))
		}
		return &Error{Op: "health", Endpoint: ep, Err: fmt.Errorf("active alarm: %s", strings.Join(names, ", ")),
			Fix: "NOSPACE: compact, defragment and disarm ('etcdctl alarm disarm'); CORRUPT: restore the member from a snapshot"}
	}
	return nil
}

// Unhealthy returns an error listing the unhealthy endpoints of hs, or nil if all are healthy.
func Unhealthy(hs []EndpointHealth) error {
	var errs []error
	for _, h := range hs {
		if !h.Healthy {
			errs = append(errs, h.Err)
		}
	}
	return errors.Join(errs...)
}
