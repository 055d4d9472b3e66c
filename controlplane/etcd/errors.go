package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Kinds of failure callers test with errors.Is, e.g. join retrying ErrTransient or preflight
// reporting ErrUnknownAuthority.
var (
	// ErrUnknownAuthority: the member's serving certificate is not signed by --cacert.
	ErrUnknownAuthority = errors.New("etcd: server certificate not trusted")
	// ErrServerName: the member's serving certificate does not name the endpoint's host.
	ErrServerName = errors.New("etcd: server certificate does not match the endpoint")
	// ErrClientCert: the member refused the client certificate, or wanted one.
	ErrClientCert = errors.New("etcd: client certificate refused")
	// ErrUnreachable: nothing answered at the endpoint in time.
	ErrUnreachable = errors.New("etcd: endpoint unreachable")
	// ErrTransient: the cluster refused a membership change for now (a member connected too
	// recently, a learner not caught up yet); the same call succeeds a few seconds later.
	ErrTransient = errors.New("etcd: cluster not ready for this change yet")
)

var errServesTLS = errors.New("the member serves TLS")

// Error is a failed etcd operation with the likely fix, printed as
// "etcd: <op>: [connect] <endpoint>: <cause>; <fix>".
type Error struct {
	// Op is the operation, like "member list".
	Op string
	// Endpoint is the endpoint the cause was found at, if known.
	Endpoint string
	// Connect is set when the failure is in reaching the endpoint, not in the operation.
	Connect bool
	// Err is the underlying error.
	Err error
	// Fix tells the user what to do.
	Fix string
	// Kind is one of the Err* values of this package, or nil.
	Kind error
}

// Error prints the operation, where it failed, the cause and the fix.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("etcd: " + e.Op)
	switch {
	case e.Connect:
		b.WriteString(": connect " + e.Endpoint)
	case e.Endpoint != "":
		b.WriteString(" on " + e.Endpoint)
	}
	b.WriteString(": " + e.Err.Error())
	if e.Fix != "" {
		b.WriteString("; " + e.Fix)
	}
	return b.String()
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// serverErrors maps etcd's refusals of membership changes to the fix.
var serverErrors = []struct {
	err  error
	kind error
	fix  string
}{
	{rpctypes.ErrUnhealthy, ErrTransient, "every member must have been connected for 5 seconds before a membership change (etcd's strict reconfiguration check); retry shortly"},
	{rpctypes.ErrMemberNotEnoughStarted, ErrTransient, "too few members are started for this change to keep a quorum; start the members added earlier, then retry"},
	{rpctypes.ErrMemberLearnerNotReady, ErrTransient, "the learner has not caught up with the leader yet; retry in a few seconds"},
	{rpctypes.ErrMemberNotFound, nil, "no member has that ID; see 'kforge etcd member list'"},
	{rpctypes.ErrPeerURLExist, nil, "a member with that peer URL exists already; remove it first ('kforge etcd member remove') or choose another --peer-urls"},
	{rpctypes.ErrTooManyLearners, nil, "the cluster has a learner already; promote or remove it first"},
	{rpctypes.ErrMemberNotLearner, nil, "the member votes already; only learners are promoted"},
	{rpctypes.ErrMemberBadURLs, nil, "peer URLs look like https://10.0.0.5:2380"},
	{rpctypes.ErrNoSpace, nil, "the database exceeds --quota-backend-bytes; compact and defragment it, then disarm the NOSPACE alarm"},
	{rpctypes.ErrNoLeader, ErrTransient, "the cluster has no leader: a quorum of members is not running or cannot reach each other"},
}

// explain turns an error from an operation on endpoints into an *Error naming the fix. Errors
// that hide the cause (gRPC waits for a connection until the deadline) are probed with a direct
// TLS handshake to each endpoint.
func (c *Client) explain(ctx context.Context, op string, endpoints []string, err error) error {
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	ep := strings.Join(endpoints, ",")
	for _, se := range serverErrors {
		if errors.Is(err, se.err) {
			return &Error{Op: op, Endpoint: ep, Err: err, Fix: se.fix, Kind: se.kind}
		}
	}
	if kind, fix := c.classifyConn(err); kind != nil {
		return &Error{Op: op, Endpoint: ep, Connect: true, Err: err, Fix: fix, Kind: kind}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("etcd: %s on %s: %w", op, ep, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Unavailable") || strings.Contains(err.Error(), "connection error") {
		for _, e := range endpoints {
			if perr := c.probe(e); perr != nil {
				kind, fix := c.classifyConn(perr)
				if kind == nil {
					kind, fix = ErrUnreachable, "is the member running and the endpoint right?"
				}
				return &Error{Op: op, Endpoint: e, Connect: true, Err: perr, Fix: fix, Kind: kind}
			}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return &Error{Op: op, Endpoint: ep, Err: err, Kind: ErrUnreachable,
				Fix: fmt.Sprintf("no answer within %s although the endpoints accept connections; is a quorum of members running? (raise --command-timeout for slow operations)", c.cfg.commandTimeout())}
		}
	}
	return fmt.Errorf("etcd: %s on %s: %w", op, ep, err)
}

// do runs one operation on endpoints within CommandTimeout. gRPC waits for a connection until the
// deadline however wrong the certificates are, so an operation still running after a moment
// probes the endpoints: when every one fails for good (untrusted certificate, nothing
// listening), it ends at once with that explanation.
func (c *Client) do(ctx context.Context, op string, endpoints []string, fn func(context.Context) error) error {
	octx, cancel := c.opContext(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- fn(octx) }()
	timer := time.NewTimer(300 * time.Millisecond)
	defer timer.Stop()
	select {
	case err := <-errc:
		if err != nil {
			return c.explain(ctx, op, endpoints, err)
		}
		return nil
	case <-timer.C:
	}
	probed := make(chan error, 1)
	go func() { probed <- c.probeAll(op, endpoints) }()
	select {
	case err := <-errc:
		if err != nil {
			return c.explain(ctx, op, endpoints, err)
		}
		return nil
	case perr := <-probed:
		if perr != nil {
			cancel()
			<-errc
			return perr
		}
	}
	if err := <-errc; err != nil {
		return c.explain(ctx, op, endpoints, err)
	}
	return nil
}

// probeAll returns an *Error when every endpoint fails a direct connection in a way that will
// not mend itself within the operation, and nil otherwise.
func (c *Client) probeAll(op string, endpoints []string) error {
	errs := make([]*Error, len(endpoints))
	var wg sync.WaitGroup
	for i, ep := range endpoints {
		wg.Go(func() {
			perr := c.probe(ep)
			if perr == nil {
				return
			}
			if kind, fix := c.classifyConn(perr); kind != nil {
				errs[i] = &Error{Op: op, Endpoint: ep, Connect: true, Err: perr, Fix: fix, Kind: kind}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e == nil {
			return nil
		}
	}
	return errs[0]
}

// classifyConn recognises TLS and network failures by their text (gRPC flattens them into
// strings) and returns their kind and fix, or nil.
func (c *Client) classifyConn(err error) (kind error, fix string) {
	msg := err.Error()
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	cfg := c.cfg
	switch {
	case has("certificate signed by unknown authority"):
		if cfg.CAFile == "" {
			return ErrUnknownAuthority, "pass --cacert of the etcd CA (etcd/ca.crt)"
		}
		return ErrUnknownAuthority, fmt.Sprintf("--cacert %s did not sign the member's certificate; pass --cacert of the etcd CA (etcd/ca.crt)", cfg.CAFile)
	case has("certificate is valid for", "certificate is not valid for any names", "doesn't contain any IP SANs"):
		return ErrServerName, "the member's serving certificate (etcd/server.crt) does not name this host; use an address from its SANs in --endpoints, or reissue it with this one"
	case has("certificate has expired or is not yet valid"):
		return ErrUnknownAuthority, "the member's serving certificate expired (or the clocks disagree); renew etcd/server.crt ('kforge certs renew etcd-server') and restart the member"
	case has("tls: certificate required", "tls: bad certificate", "tls: unknown certificate authority", "tls: expired certificate", "tls: unsupported certificate"):
		if cfg.CertFile == "" {
			return ErrClientCert, "the member requires a client certificate; pass --cert and --key signed by the etcd CA (etcd/healthcheck-client.crt, or apiserver-etcd-client.crt)"
		}
		return ErrClientCert, fmt.Sprintf("the member refused --cert %s; pass a valid client certificate signed by the etcd CA (etcd/healthcheck-client.crt, or apiserver-etcd-client.crt)", cfg.CertFile)
	case has("first record does not look like a TLS handshake"):
		return ErrUnreachable, "the endpoint speaks plain HTTP; use http:// in --endpoints (or give the member --cert-file and --key-file)"
	case has(errServesTLS.Error()):
		return ErrUnreachable, "use https:// in --endpoints, with --cacert, --cert and --key"
	case has("connection refused"):
		return ErrUnreachable, "nothing listens there; is the member running and the endpoint right?"
	case has("no such host", "no route to host", "network is unreachable", "i/o timeout"):
		return ErrUnreachable, "the address cannot be reached from here; check --endpoints and the network"
	}
	return nil, ""
}

// probe connects to ep as the client would and returns what goes wrong, if anything.
func (c *Client) probe(ep string) error {
	const timeout = 2 * time.Second
	host, secure := ep, c.tls != nil
	if u, err := url.Parse(ep); err == nil && u.Host != "" {
		host = u.Host
		switch u.Scheme {
		case "https", "unixs":
			secure = true
		case "http", "unix":
			secure = false
		}
		if u.Scheme == "unix" || u.Scheme == "unixs" {
			return nil
		}
	}
	conn, err := net.DialTimeout("tcp", host, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !secure {
		// A TLS member never answers plain gRPC; tell it by a handshake.
		tconn := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
		tconn.SetDeadline(time.Now().Add(timeout))
		if tconn.Handshake() == nil {
			return errServesTLS
		}
		return nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.tls != nil {
		tc = c.tls.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName, _, _ = net.SplitHostPort(host)
	}
	tconn := tls.Client(conn, tc)
	tconn.SetDeadline(time.Now().Add(timeout))
	if err := tconn.Handshake(); err != nil {
		return err
	}
	// With TLS 1.3 the server judges the client certificate after the handshake: its alert
	// arrives on the first read. A member that is content sends nothing until we speak.
	tconn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := tconn.Read(make([]byte, 1)); err != nil {
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return nil
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		return err
	}
	return nil
}
