package etcd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// FreePorts returns n distinct loopback TCP ports that are free right now, for single-machine and
// test members (etcd cannot listen on port 0 and report the port). They are picked at random
// below the kernel's ephemeral range, so outgoing connections cannot take one before the member
// binds it; another process still can, so callers retry on "address already in use".
func FreePorts(n int) ([]int, error) {
	lo, hi := 20000, 32768
	if elo, _, ok := ephemeralRange(); ok && elo < hi {
		hi = elo
	}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		addr := "127.0.0.1:0" // the ephemeral range is all there is
		if hi-lo >= 100 && tries < 50*n {
			addr = fmt.Sprintf("127.0.0.1:%d", lo+rand.IntN(hi-lo))
		} else if tries >= 60*n {
			return nil, errors.New("etcd: no free loopback port found")
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ephemeralRange reads Linux's range of ports handed out for outgoing connections and port 0.
func ephemeralRange() (lo, hi int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, false
	}
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		return 0, 0, false
	}
	return lo, hi, true
}

// embeddedPortsFile keeps an embedded member's ports in its data directory: a member restarted on
// the same data must advertise the same peer URL.
const embeddedPortsFile = "kforge-embedded-ports"

// StartEmbedded starts a single plain-HTTP member on loopback with its data under dataDir and
// returns once it serves: the apiserver's --etcd-servers=embedded mode, and tests. Ports are
// picked on first start (retrying if another process takes one first) and reused afterwards.
// Only processes on this machine can reach it; it has no TLS.
func StartEmbedded(ctx context.Context, dataDir string) (*Member, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("etcd: embedded member: %w", err)
	}
	portsPath := filepath.Join(dataDir, embeddedPortsFile)
	var lastErr error
	for range 5 {
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
		m := NewMember(embeddedConfig(dataDir, ports[0], ports[1]))
		if err := m.Init(ctx); err != nil {
			return nil, err
		}
		if err := m.Start(ctx); err != nil {
			lastErr = err
			if !strings.Contains(err.Error(), "address already in use") {
				return nil, err
			}
			if fresh {
				continue
			}
			return nil, fmt.Errorf("%w (ports kept in %s; free them, or delete the file to pick new ones)", err, portsPath)
		}
		if err := m.WaitReady(ctx); err != nil {
			m.Stop(context.WithoutCancel(ctx))
			return nil, err
		}
		if fresh {
			if err := os.WriteFile(portsPath, fmt.Appendf(nil, "%d %d\n", ports[0], ports[1]), 0o600); err != nil {
				m.Stop(context.WithoutCancel(ctx))
				return nil, fmt.Errorf("etcd: embedded member: %w", err)
			}
		}
		return m, nil
	}
	return nil, lastErr
}

func embeddedConfig(dataDir string, clientPort, peerPort int) Config {
	cu, pu := fmt.Sprintf("http://127.0.0.1:%d", clientPort), fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	c := DefaultConfig()
	c.Name, c.DataDir = "kforge", filepath.Join(dataDir, "member")
	c.ListenClientURLs, c.AdvertiseClientURLs = []string{cu}, []string{cu}
	c.ListenPeerURLs, c.InitialAdvertisePeerURLs = []string{pu}, []string{pu}
	c.InitialCluster = "kforge=" + pu
	c.LogLevel = "error" // the apiserver's log should not drown in etcd's
	return c
}
