package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// machineDirs is the on-disk layout of one machine.
type machineDirs struct {
	base, upper, work, root, containerd, kforgeData, console string
}

func dirsOf(p paths, lab, m string) machineDirs {
	base := p.machine(lab, m)
	return machineDirs{
		base:       base,
		upper:      filepath.Join(base, "upper"),
		work:       filepath.Join(base, "work"),
		root:       filepath.Join(base, "root"),
		containerd: filepath.Join(base, "data", "containerd"),
		kforgeData: filepath.Join(base, "data", "kforge-data"),
		console:    p.consoleLog(lab, m),
	}
}

// identity is what makes one machine itself, written into its overlay's upper dir before its
// first boot: hostname, machine-id, host key, the operator's authorized key and /etc/hosts.
type identity struct {
	hostname   string
	hostKey    *keyPair
	authorized []byte
	hosts      []byte
}

func (d machineDirs) create() error {
	for _, dir := range []string{d.upper, d.work, d.root, d.containerd, d.kforgeData} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("lab: create %s: %w", dir, err)
		}
	}
	return nil
}

func (d machineDirs) writeIdentity(id identity) error {
	machineID := make([]byte, 16)
	if _, err := rand.Read(machineID); err != nil {
		return fmt.Errorf("lab: machine-id: %w", err)
	}
	files := []struct {
		path string
		mode os.FileMode
		data []byte
	}{
		{"etc/hostname", 0o644, []byte(id.hostname + "\n")},
		{"etc/machine-id", 0o444, []byte(hex.EncodeToString(machineID) + "\n")},
		{"etc/hosts", 0o644, id.hosts},
		{"etc/ssh/ssh_host_ed25519_key", 0o600, id.hostKey.private},
		{"etc/ssh/ssh_host_ed25519_key.pub", 0o644, id.hostKey.authorizedLine("root@" + id.hostname)},
		{"root/.ssh/authorized_keys", 0o600, id.authorized},
	}
	// /root and /root/.ssh must stay private or sshd's StrictModes refuses the key.
	for _, dir := range []struct {
		path string
		mode os.FileMode
	}{{"etc", 0o755}, {"etc/ssh", 0o755}, {"root", 0o700}, {"root/.ssh", 0o700}} {
		if err := os.MkdirAll(filepath.Join(d.upper, dir.path), dir.mode); err != nil {
			return fmt.Errorf("lab: write machine identity: %w", err)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(d.upper, f.path), f.data, f.mode); err != nil {
			return fmt.Errorf("lab: write machine identity %s: %w", f.path, err)
		}
	}
	return nil
}

// mountRoot mounts the machine's root: an overlay of its upper dir over the shared image.
func (d machineDirs) mountRoot(image string) error {
	if isMountPoint(d.root) {
		return nil
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", image, d.upper, d.work)
	if err := syscall.Mount("overlay", d.root, "overlay", 0, opts); err != nil {
		return fmt.Errorf("lab: mount overlay root %s: %w; is the overlay module available ('modprobe overlay')?", d.root, err)
	}
	return nil
}

// hostsFile is /etc/hosts for every machine and the bastion: all lab names on the LAN.
func hostsFile(s *State) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	fmt.Fprintf(&b, "%s\tbastion\n", s.BastionAddress)
	for _, m := range s.Machines {
		fmt.Fprintf(&b, "%s\t%s\n", m.Address, m.Name)
	}
	return b.Bytes()
}

// nspawnCommand is the command that boots a machine. It runs under sh only to move itself into
// the machine's own cgroups before exec'ing systemd-nspawn, so the PID stays the same; nspawn then
// gives the machine a cgroup namespace rooted there.
func nspawnCommand(m *MachineState, d machineDirs, cgroupDirs []string) *exec.Cmd {
	script := ""
	for range cgroupDirs {
		script += `echo $$ > "$1/cgroup.procs" && shift && `
	}
	script += `exec "$@"`
	args := []string{"-c", script, "sh"}
	args = append(args, cgroupDirs...)
	args = append(args, "systemd-nspawn",
		"-D", d.root,
		"-M", m.NspawnName,
		"--hostname="+m.Name,
		"--boot",
		// The host runs no systemd: nspawn cannot register the machine or make a scope unit.
		"--register=no", "--keep-unit",
		"--capability=all",
		"--console=read-only",
		"--resolv-conf=off", "--timezone=off", "--link-journal=no",
		"--network-namespace-path="+filepath.Join(netnsDir, m.Netns),
		// Plain directories, so containerd's overlayfs snapshots are not stacked on the root overlay.
		"--bind="+d.containerd+":/var/lib/containerd",
		"--bind="+d.kforgeData+":/var/lib/kforge-data",
	)
	cmd := exec.Command("sh", args...)
	// nspawn's seccomp filter blocks the keyring syscalls runc needs.
	cmd.Env = append(os.Environ(), "SYSTEMD_SECCOMP=0", "SYSTEMD_NSPAWN_API_VFS_WRITABLE=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// bootMachine starts the machine's systemd-nspawn in the background, its console going to the
// console log, and records its PID.
func bootMachine(ctx context.Context, rec *recorder, m MachineState, d machineDirs, lab string) error {
	cgDirs, err := machineCgroupDirs(lab, m.Name)
	if err != nil {
		return err
	}
	if err := rec.machine(m.Name, func(ms *MachineState) { ms.Cgroups = cgDirs }); err != nil {
		return err
	}
	logf, err := os.OpenFile(d.console, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("lab: open console log: %w", err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n=== kforge lab: booting %s at %s ===\n", m.Name, time.Now().UTC().Format(time.RFC3339))
	cmd := nspawnCommand(&m, d, cgDirs)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("lab: start systemd-nspawn for %s: %w", m.Name, err)
	}
	pid := cmd.Process.Pid
	start, err := procStartTime(pid)
	if err != nil {
		return fmt.Errorf("lab: systemd-nspawn for %s exited at once; console log %s:\n%s", m.Name, d.console, tailFile(d.console, 20))
	}
	// The machine outlives this command: nothing waits for it here, Down and Kill end it by PID.
	_ = cmd.Process.Release()
	return rec.machine(m.Name, func(ms *MachineState) { ms.PID, ms.PIDStart = pid, start })
}

// bootWaiter checks that a booted machine answers SSH with its recorded host key and that
// systemd finished starting it.
type bootWaiter struct {
	bastionNetns string
	signer       ssh.Signer
	hostKeys     ssh.HostKeyCallback
	user         string
}

func newBootWaiter(s *State) (*bootWaiter, error) {
	signer, err := loadSigner(s.SSHKey)
	if err != nil {
		return nil, err
	}
	cb, err := knownhosts.New(s.KnownHosts)
	if err != nil {
		return nil, fmt.Errorf("lab: read known_hosts %s: %w", s.KnownHosts, err)
	}
	return &bootWaiter{bastionNetns: s.BastionNetns, signer: signer, hostKeys: cb, user: s.SSHUser}, nil
}

// errMachineDied tells wait that polling is pointless.
var errMachineDied = errors.New("machine stopped")

// wait polls until the machine is up, its nspawn process dies, or ctx ends. It returns
// systemd's final state ("running" or "degraded").
func (w *bootWaiter) wait(ctx context.Context, m MachineState) (string, error) {
	var lastErr error
	for {
		if !sameProcess(m.PID, m.PIDStart) {
			return "", errMachineDied
		}
		state, err := w.probe(ctx, m)
		if err == nil {
			return state, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w (last attempt: %v)", ctx.Err(), lastErr)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// probe opens one SSH session to m from the bastion and waits for systemd to finish booting.
func (w *bootWaiter) probe(ctx context.Context, m MachineState) (string, error) {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addr := net.JoinHostPort(m.Address, "22")
	conn, err := dialInNetns(pctx, w.bastionNetns, addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// The handshake may hang on a half-started sshd; bound it by the overall context.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User:              w.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(w.signer)},
		HostKeyCallback:   w.hostKeys,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           5 * time.Second,
	})
	if err != nil {
		var keyErr *knownhosts.KeyError
		if errors.As(err, &keyErr) {
			return "", fmt.Errorf("lab: %s presented a host key that is not the recorded one: %w", m.Name, err)
		}
		return "", err
	}
	client := ssh.NewClient(cc, chans, reqs)
	defer client.Close()
	_ = conn.SetDeadline(time.Time{})
	sess, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	var out bytes.Buffer
	sess.Stdout = &out
	sess.Stderr = io.Discard
	_ = sess.Run("systemctl is-system-running --wait")
	state := strings.TrimSpace(out.String())
	switch state {
	case "running", "degraded":
		return state, nil
	default:
		return "", fmt.Errorf("systemd state %q", state)
	}
}

// addrPrefix is a machine's address with the LAN's prefix length.
func addrPrefix(addr string, subnet string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("lab: bad address %q in state: %w", addr, err)
	}
	p, err := netip.ParsePrefix(subnet)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("lab: bad subnet %q in state: %w", subnet, err)
	}
	return netip.PrefixFrom(a, p.Bits()), nil
}
