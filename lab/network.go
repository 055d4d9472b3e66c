package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// netnsDir is where `ip netns` keeps named network namespaces.
const netnsDir = "/run/netns"

// bridgeName is the LAN switch inside the lab's switch namespace.
const bridgeName = "br0"

// ip runs the ip(8) command; its output is part of the error.
func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("lab: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join(netnsDir, name))
	return err == nil
}

func addNetns(ctx context.Context, name string) error {
	if netnsExists(name) {
		return fmt.Errorf("lab: network namespace %s already exists; remove the old lab with 'kforge lab down'", name)
	}
	if err := ip(ctx, "netns", "add", name); err != nil {
		return err
	}
	return ip(ctx, "-n", name, "link", "set", "lo", "up")
}

// createSwitch makes the LAN: a namespace holding one bridge and nothing else, so no lab address
// is ever routed in the host's namespace.
func createSwitch(ctx context.Context, ns string) error {
	if err := addNetns(ctx, ns); err != nil {
		return err
	}
	if err := ip(ctx, "-n", ns, "link", "add", bridgeName, "type", "bridge"); err != nil {
		return err
	}
	return ip(ctx, "-n", ns, "link", "set", bridgeName, "up")
}

// attachNode creates node's namespace and a veth pair: eth0 inside node, swLink on the bridge.
func attachNode(ctx context.Context, switchNS, swLink, nodeNS string) error {
	if err := addNetns(ctx, nodeNS); err != nil {
		return err
	}
	if err := ip(ctx, "-n", switchNS, "link", "add", swLink, "type", "veth", "peer", "name", "eth0", "netns", nodeNS); err != nil {
		return err
	}
	return ip(ctx, "-n", switchNS, "link", "set", swLink, "master", bridgeName, "up")
}

// configureNodeLink gives eth0 its address and brings it up; gw, when valid, becomes the default
// route. It is idempotent, so a machine started again after a kill gets its link back.
func configureNodeLink(ctx context.Context, nodeNS string, addr netip.Prefix, gw netip.Addr) error {
	if err := ip(ctx, "-n", nodeNS, "addr", "replace", addr.String(), "dev", "eth0"); err != nil {
		return err
	}
	if err := ip(ctx, "-n", nodeNS, "link", "set", "eth0", "up"); err != nil {
		return err
	}
	if gw.IsValid() {
		return ip(ctx, "-n", nodeNS, "route", "replace", "default", "via", gw.String(), "dev", "eth0")
	}
	return nil
}

func setLink(ctx context.Context, ns, link string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return ip(ctx, "-n", ns, "link", "set", link, state)
}

// linkUp reports whether link in ns is administratively up.
func linkUp(ctx context.Context, ns, link string) (bool, error) {
	out, err := exec.CommandContext(ctx, "ip", "-n", ns, "-o", "link", "show", link).Output()
	if err != nil {
		return false, fmt.Errorf("lab: ip -n %s link show %s: %w", ns, link, err)
	}
	flags := string(out)
	if i := strings.IndexByte(flags, '<'); i >= 0 {
		if j := strings.IndexByte(flags[i:], '>'); j >= 0 {
			for _, f := range strings.Split(flags[i+1:i+j], ",") {
				if f == "UP" {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// labNetns lists the network namespaces named after a lab.
func labNetns(lab string) ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: list %s: %w", netnsDir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), netnsPrefix(lab)) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func deleteNetns(ctx context.Context, name string) error {
	if !netnsExists(name) {
		return nil
	}
	if err := ip(ctx, "netns", "delete", name); err != nil {
		return err
	}
	_ = os.RemoveAll(filepath.Join("/etc/netns", name))
	return nil
}
