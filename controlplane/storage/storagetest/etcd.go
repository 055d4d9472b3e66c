// Package storagetest starts a throw-away etcd member inside the test process, on loopback
// ports, so storage and apiserver tests run against real etcd without any setup.
package storagetest

import (
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Etcd is a running single-member etcd and a client connected to it.
type Etcd struct {
	Server   *embed.Etcd
	Client   *clientv3.Client
	Endpoint string
}

// StartEtcd starts a member in t's temp dir; it stops when the test ends.
func StartEtcd(t testing.TB) *Etcd {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		e, err := start(t.TempDir())
		if err == nil {
			t.Cleanup(func() {
				e.Client.Close()
				e.Server.Close()
			})
			return e
		}
		lastErr = err // most likely a port taken between choosing and binding it; try others
	}
	t.Fatalf("start embedded etcd: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(dir string) (*Etcd, error) {
	cport, err := freePort()
	if err != nil {
		return nil, err
	}
	pport, err := freePort()
	if err != nil {
		return nil, err
	}
	cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", cport))
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", pport))
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.Name = "test"
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.ListenMetricsUrls = nil
	srv, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-srv.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		srv.Close()
		return nil, fmt.Errorf("etcd not ready after 30s")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{cu.String()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Etcd{Server: srv, Client: cli, Endpoint: cu.String()}, nil
}
