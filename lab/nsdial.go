package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on an OS thread switched into the named network namespace. The thread is never
// unlocked, so the Go runtime discards it when fn returns instead of reusing it in the wrong
// namespace. Sockets fn opens stay bound to the namespace; /proc/sys/net opened there is the
// namespace's.
func inNetns(netns string, fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join(netnsDir, netns))
		if err != nil {
			ch <- fmt.Errorf("lab: open network namespace %s: %w", netns, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- fmt.Errorf("lab: enter network namespace %s: %w", netns, err)
			return
		}
		ch <- fn()
	}()
	return <-ch
}

// dialInNetns opens a TCP connection from inside the named network namespace.
func dialInNetns(ctx context.Context, netns, address string) (net.Conn, error) {
	var conn net.Conn
	err := inNetns(netns, func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", address)
		conn = c
		return err
	})
	return conn, err
}

// disableForwarding makes sure a namespace never routes packets between its links: the bastion
// is the machines' default gateway only so that Kubernetes finds a node address, and must be a
// dead end.
func disableForwarding(netns string) error {
	return inNetns(netns, func() error {
		for _, p := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"} {
			if err := os.WriteFile(p, []byte("0\n"), 0o644); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("lab: disable forwarding in %s: %w", netns, err)
			}
		}
		return nil
	})
}
