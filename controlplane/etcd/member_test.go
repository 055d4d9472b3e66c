package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kforge.dev/kforge/controlplane/component"
	"kforge.dev/kforge/controlplane/etcd"
)

// A stacked-style member with client and peer mTLS, started by the control-plane Manager:
// keys round-trip, member list and health agree, and a snapshot restores into a new member.
func TestMTLSMemberKeysHealthSnapshot(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	ports := freePorts(t, 5)
	cfg := memberConfig(p, "m1", t.TempDir(), ports[0], ports[1], fmt.Sprintf("m1=https://127.0.0.1:%d", ports[1]), "new")
	cfg.ListenMetricsURLs = []string{fmt.Sprintf("http://127.0.0.1:%d", ports[2])}
	m := etcd.NewMember(cfg)
	mgr := &component.Manager{ReadyTimeout: 20 * time.Second}
	mgr.Add(m)
	ctx := testContext(t, 30*time.Second)
	if err := mgr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgr.Stop(context.Background()) })

	ep := fmt.Sprintf("https://127.0.0.1:%d", ports[0])
	if got := m.ClientURLs(); len(got) != 1 || got[0] != ep {
		t.Errorf("ClientURLs() = %v, want [%s]", got, ep)
	}
	c := newClient(t, p, ep)
	kv := c.Raw()
	if _, err := kv.Put(ctx, "/registry/configmaps/default/kept", "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "/registry/configmaps/default/gone", "v2"); err != nil {
		t.Fatal(err)
	}
	if r, err := kv.Get(ctx, "/registry/configmaps/default/gone"); err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v2" {
		t.Fatalf("get after put: %v %v", r, err)
	}
	if r, err := kv.Delete(ctx, "/registry/configmaps/default/gone"); err != nil || r.Deleted != 1 {
		t.Fatalf("delete: %v %v", r, err)
	}
	if r, err := kv.Get(ctx, "/registry/configmaps/default/gone"); err != nil || len(r.Kvs) != 0 {
		t.Fatalf("get after delete: %v %v", r, err)
	}

	ms, err := c.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Name != "m1" || ms[0].ID != m.ID() || !ms[0].Started() || ms[0].IsLearner || ms[0].ClientURLs[0] != ep {
		t.Errorf("member list = %+v, want m1 (%x) alone", ms, m.ID())
	}
	hs := c.Health(ctx)
	if len(hs) != 1 || !hs[0].Healthy || hs[0].Endpoint != ep || etcd.Unhealthy(hs) != nil {
		t.Errorf("health = %+v", hs)
	}
	// The metrics URL answers kubeadm's liveness probe without client certificates.
	resp, err := http.Get(cfg.ListenMetricsURLs[0] + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"health":"true"`) {
		t.Errorf("/health = %s", body)
	}

	snap := filepath.Join(t.TempDir(), "backup.db")
	if err := c.SnapshotSave(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(snap); err != nil || fi.Size() == 0 {
		t.Fatalf("snapshot file: %v", err)
	}
	before, err := kv.Get(ctx, "/registry/configmaps/default/kept")
	if err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	pu := fmt.Sprintf("https://127.0.0.1:%d", ports[4])
	if err := etcd.SnapshotRestore(etcd.RestoreConfig{SnapshotPath: snap, Name: "r1", DataDir: restored, PeerURLs: []string{pu},
		RevisionBump: 1000, MarkCompacted: true}); err != nil {
		t.Fatal(err)
	}
	if err := etcd.SnapshotRestore(etcd.RestoreConfig{SnapshotPath: snap, Name: "r1", DataDir: restored, PeerURLs: []string{pu}}); err == nil ||
		!strings.Contains(err.Error(), "exists already") {
		t.Errorf("restoring over a data dir: %v", err)
	}
	r := startMember(t, memberConfig(p, "r1", restored, ports[3], ports[4], "r1="+pu, "new"))
	waitReady(t, r)
	got, err := newClient(t, p, r.ClientURLs()[0]).Raw().Get(ctx, "/registry/configmaps/default/kept")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v1" {
		t.Fatalf("restored member: %v %v", got, err)
	}
	if got.Header.Revision < before.Header.Revision+1000 {
		t.Errorf("restored revision %d, want at least %d (bumped)", got.Header.Revision, before.Header.Revision+1000)
	}
	if gone, err := newClient(t, p, r.ClientURLs()[0]).Raw().Get(ctx, "/registry/configmaps/default/gone"); err != nil || len(gone.Kvs) != 0 {
		t.Errorf("deleted key came back: %v %v", gone, err)
	}
}

// Wrong or missing credentials fail fast with an error naming the flag to fix.
func TestClientErrorsNameTheFix(t *testing.T) {
	t.Parallel()
	p, other := newTestPKI(t), newTestPKI(t)
	ports := freePorts(t, 3)
	m := startMember(t, memberConfig(p, "m1", t.TempDir(), ports[0], ports[1], fmt.Sprintf("m1=https://127.0.0.1:%d", ports[1]), "new"))
	waitReady(t, m)
	ep := m.ClientURLs()[0]
	for _, tc := range []struct {
		name string
		cfg  etcd.ClientConfig
		kind error
		want []string
	}{
		{"wrong CA", etcd.ClientConfig{Endpoints: []string{ep}, CAFile: other.path("ca.crt"), CertFile: p.path("healthcheck-client.crt"), KeyFile: p.path("healthcheck-client.key")},
			etcd.ErrUnknownAuthority, []string{"etcd: member list: connect " + ep + ": ", "certificate signed by unknown authority", "did not sign the member's certificate; pass --cacert of the etcd CA (etcd/ca.crt)"}},
		{"no CA", etcd.ClientConfig{Endpoints: []string{ep}, CertFile: p.path("healthcheck-client.crt"), KeyFile: p.path("healthcheck-client.key")},
			etcd.ErrUnknownAuthority, []string{"certificate signed by unknown authority; pass --cacert of the etcd CA (etcd/ca.crt)"}},
		{"no client certificate", etcd.ClientConfig{Endpoints: []string{ep}, CAFile: p.path("ca.crt")},
			etcd.ErrClientCert, []string{"certificate required", "pass --cert and --key signed by the etcd CA"}},
		{"client certificate of another CA", etcd.ClientConfig{Endpoints: []string{ep}, CAFile: p.path("ca.crt"), CertFile: other.path("healthcheck-client.crt"), KeyFile: other.path("healthcheck-client.key")},
			etcd.ErrClientCert, []string{"the member refused --cert " + other.path("healthcheck-client.crt")}},
		{"nothing listening", etcd.ClientConfig{Endpoints: []string{fmt.Sprintf("https://127.0.0.1:%d", ports[2])}, CAFile: p.path("ca.crt")},
			etcd.ErrUnreachable, []string{"connection refused", "nothing listens there"}},
		{"plain http to a TLS member", etcd.ClientConfig{Endpoints: []string{strings.Replace(ep, "https", "http", 1)}},
			etcd.ErrUnreachable, []string{"the member serves TLS; use https:// in --endpoints"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := etcd.NewClient(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			_, err = c.MemberList(context.Background())
			if err == nil {
				t.Fatal("member list succeeded")
			}
			t.Log(err)
			if !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n lacks %q", err, w)
				}
			}
			// Certificate problems fail at once, not after --command-timeout (5s).
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s to fail", d)
			}
			hs := c.Health(context.Background())
			if len(hs) != 1 || hs[0].Healthy || !errors.Is(hs[0].Err, tc.kind) || !strings.HasPrefix(hs[0].Error, "etcd: health: connect") {
				t.Errorf("health = %+v", hs)
			}
		})
	}
	t.Run("files", func(t *testing.T) {
		for _, tc := range []struct {
			cfg  etcd.ClientConfig
			want string
		}{
			{etcd.ClientConfig{}, "no endpoints; pass --endpoints"},
			{etcd.ClientConfig{Endpoints: []string{ep}, CAFile: p.path("missing.crt")}, "--cacert: open"},
			{etcd.ClientConfig{Endpoints: []string{ep}, CAFile: p.path("ca.key")}, "holds no PEM certificate"},
			{etcd.ClientConfig{Endpoints: []string{ep}, CertFile: p.path("healthcheck-client.crt")}, "--cert and --key go together"},
		} {
			if _, err := etcd.NewClient(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewClient(%+v) = %v, want %q", tc.cfg, err, tc.want)
			}
		}
	})
}

// The apiserver's --etcd-servers=embedded member keeps its data and ports across restarts.
func TestStartEmbeddedKeepsDataAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 30*time.Second)
	dir := t.TempDir()
	var urls []string
	for i := range 2 {
		m, err := etcd.StartEmbedded(ctx, dir)
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		if i == 1 && m.ClientURLs()[0] != urls[0] {
			t.Errorf("client URL changed across restarts: %v then %v", urls, m.ClientURLs())
		}
		urls = m.ClientURLs()
		if err := m.Ready(ctx); err != nil {
			t.Errorf("Ready after StartEmbedded: %v", err)
		}
		c, err := etcd.NewClient(etcd.ClientConfig{Endpoints: urls})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			_, err = c.Raw().Put(ctx, "kept", "yes")
		} else {
			r, gerr := c.Raw().Get(ctx, "kept")
			if err = gerr; err == nil && (len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "yes") {
				t.Errorf("key lost across restart")
			}
		}
		c.Close()
		if serr := m.Stop(ctx); serr != nil {
			t.Error(serr)
		}
		if err := m.Stop(ctx); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestMemberLifecycleErrors(t *testing.T) {
	t.Parallel()
	m := etcd.NewMember(etcd.DefaultConfig())
	if err := m.Ready(context.Background()); !errors.Is(err, etcd.ErrNotStarted) {
		t.Errorf("Ready before Start = %v", err)
	}
	if err := m.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start = %v", err)
	}
	if m.ID() != 0 || m.Done() != nil {
		t.Error("ID or Done set before Start")
	}
}

// A member of a cluster that never reaches a quorum says what it waits for, and stops promptly
// (etcd's embed.Close alone would wait forever).
func TestMemberWithoutQuorumStops(t *testing.T) {
	t.Parallel()
	ports := freePorts(t, 2)
	c := etcd.DefaultConfig()
	cu, pu := fmt.Sprintf("http://127.0.0.1:%d", ports[0]), fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	c.Name, c.DataDir, c.LogLevel = "a", t.TempDir(), "fatal"
	c.ListenClientURLs, c.AdvertiseClientURLs, c.ListenPeerURLs, c.InitialAdvertisePeerURLs = []string{cu}, []string{cu}, []string{pu}, []string{pu}
	c.InitialCluster = "a=" + pu + ",b=http://127.0.0.1:1"
	m := etcd.NewMember(c)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := m.WaitReady(ctx); err == nil || !strings.Contains(err.Error(), "waiting for a quorum of --initial-cluster") {
		t.Errorf("WaitReady = %v", err)
	}
	if err := m.Ready(ctx); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("Ready = %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if m.Err() != nil {
		t.Errorf("Err after Stop = %v", m.Err())
	}
}
