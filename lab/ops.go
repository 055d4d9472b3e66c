package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Open reads the state of the lab ref names.
func Open(ref Ref) (*State, error) {
	p := paths{ref.StateDir}
	name, err := resolveName(p, ref.Name)
	if err != nil {
		return nil, err
	}
	st, err := readState(p.stateFile(name))
	if errors.Is(err, ErrNoLab) {
		return nil, fmt.Errorf("lab: no lab named %q in %s; create it with 'kforge lab up --name %s': %w", name, ref.StateDir, name, ErrNoLab)
	}
	return st, err
}

// openMachine is the start of every operation on one machine: root, the lab's state, the machine.
func openMachine(ref Ref, machine string) (*State, *MachineState, error) {
	if err := requireRoot(); err != nil {
		return nil, nil, err
	}
	st, err := Open(ref)
	if err != nil {
		return nil, nil, err
	}
	m, err := st.machineByName(machine)
	if err != nil {
		return nil, nil, err
	}
	return st, m, nil
}

// MachineStatus is what Status reports for one machine.
type MachineStatus struct {
	Name    string
	Role    Role
	Address string
	// Running is true while the machine's systemd-nspawn process lives.
	Running bool
	PID     int
	// Partitioned is true while the machine's link on the LAN switch is down.
	Partitioned bool
}

// Status reports each machine of the lab.
func Status(ctx context.Context, ref Ref) (*State, []MachineStatus, error) {
	st, err := Open(ref)
	if err != nil {
		return nil, nil, err
	}
	var out []MachineStatus
	for _, m := range st.Machines {
		ms := MachineStatus{Name: m.Name, Role: m.Role, Address: m.Address}
		if sameProcess(m.PID, m.PIDStart) {
			ms.Running, ms.PID = true, m.PID
		}
		if up, err := linkUp(ctx, st.SwitchNetns, m.SwitchLink); err == nil {
			ms.Partitioned = !up
		}
		out = append(out, ms)
	}
	return st, out, nil
}

// WriteStatus prints statuses as a table.
func WriteStatus(w io.Writer, st *State, ms []MachineStatus) {
	fmt.Fprintf(w, "lab %s  subnet %s  bastion %s\n", st.Name, st.Subnet, st.BastionAddress)
	fmt.Fprintf(w, "%-10s %-14s %-15s %-8s %-8s %s\n", "MACHINE", "ROLE", "ADDRESS", "STATE", "PID", "LAN")
	for _, m := range ms {
		state, pid, lan := "stopped", "-", "connected"
		if m.Running {
			state, pid = "running", fmt.Sprint(m.PID)
		}
		if m.Partitioned {
			lan = "partitioned"
		}
		fmt.Fprintf(w, "%-10s %-14s %-15s %-8s %-8s %s\n", m.Name, m.Role, m.Address, state, pid, lan)
	}
}

// Kill powers a machine off hard: its systemd-nspawn process and every process of the machine get
// SIGKILL, and its network link goes down as a powered-off NIC would. Its disks are kept.
func Kill(ctx context.Context, ref Ref, machine string) error {
	st, m, err := openMachine(ref, machine)
	if err != nil {
		return err
	}
	kctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var pids []int
	if sameProcess(m.PID, m.PIDStart) {
		pids = append(pids, m.PID)
	}
	if err := killPIDs(kctx, pids); err != nil {
		return err
	}
	if err := killCgroups(kctx, m.Cgroups); err != nil {
		return err
	}
	for _, d := range m.Cgroups {
		if err := removeCgroupTree(d); err != nil {
			return fmt.Errorf("lab: remove cgroup %s of %s: %w", d, m.Name, err)
		}
	}
	_ = os.RemoveAll("/run/systemd/nspawn/propagate/" + m.NspawnName)
	removeNspawnLock(dirsOf(paths{ref.StateDir}, st.Name, m.Name).root)
	if err := setLink(ctx, m.Netns, "eth0", false); err != nil {
		return err
	}
	rec := &recorder{path: paths{ref.StateDir}.stateFile(st.Name), state: st}
	return rec.machine(m.Name, func(ms *MachineState) { ms.PID, ms.PIDStart, ms.Cgroups = 0, 0, nil })
}

// StartConfig configures Start.
type StartConfig struct {
	Ref
	Machine     string
	BootTimeout time.Duration
	Out         io.Writer
}

// Start boots a stopped machine again, with the root and disks it had, and waits until it
// answers SSH.
func Start(ctx context.Context, cfg StartConfig) error {
	st, m, err := openMachine(cfg.Ref, cfg.Machine)
	if err != nil {
		return err
	}
	if sameProcess(m.PID, m.PIDStart) {
		return fmt.Errorf("lab: machine %s is already running (pid %d); stop it with 'kforge lab kill %s' first", m.Name, m.PID, m.Name)
	}
	if cfg.BootTimeout <= 0 {
		cfg.BootTimeout = DefaultBootTimeout
	}
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	p := paths{cfg.StateDir}
	d := dirsOf(p, st.Name, m.Name)
	if err := d.mountRoot(st.ImageRoot); err != nil {
		return err
	}
	rec := &recorder{path: p.stateFile(st.Name), state: st}
	if err := rec.machine(m.Name, func(ms *MachineState) { ms.Mounted = d.root }); err != nil {
		return err
	}
	w, err := newBootWaiter(st)
	if err != nil {
		return err
	}
	return startAndWait(ctx, rec, *m, d, w, cfg.BootTimeout, out, time.Now())
}

// Partition cuts a machine off the LAN by setting its link on the switch down; Heal restores it.
func Partition(ctx context.Context, ref Ref, machine string) error {
	return setSwitchLink(ctx, ref, machine, false)
}

// Heal reconnects a partitioned machine to the LAN.
func Heal(ctx context.Context, ref Ref, machine string) error {
	return setSwitchLink(ctx, ref, machine, true)
}

func setSwitchLink(ctx context.Context, ref Ref, machine string, up bool) error {
	st, m, err := openMachine(ref, machine)
	if err != nil {
		return err
	}
	return setLink(ctx, st.SwitchNetns, m.SwitchLink, up)
}

// IO are the standard streams of a command run for the operator.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// ExitError carries the exit status of a command the lab ran for the operator, so the kforge
// command can exit with the same status.
type ExitError struct {
	What string
	Code int
}

// Error says which command exited with which status.
func (e *ExitError) Error() string { return fmt.Sprintf("%s exited with status %d", e.What, e.Code) }

// ExitCode is the status kforge exits with.
func (e *ExitError) ExitCode() int { return e.Code }

// sshOptions are the ssh/scp options every lab connection uses: no user config, only the lab's
// key, and host keys checked strictly against the recorded known_hosts.
func sshOptions(st *State) []string {
	return []string{
		"-F", "none",
		"-i", st.SSHKey,
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=" + st.KnownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "HostKeyAlgorithms=ssh-ed25519",
		"-o", "ConnectTimeout=10",
		"-o", "LogLevel=ERROR",
	}
}

// SSH runs ssh to a machine from the lab's bastion namespace; with no command it is interactive.
// A remote command's non-zero exit status is returned as an *ExitError.
func SSH(ctx context.Context, ref Ref, machine string, command []string, stdio IO) error {
	st, m, err := openMachine(ref, machine)
	if err != nil {
		return err
	}
	args := sshOptions(st)
	if len(command) > 0 {
		args = append(args, "-o", "BatchMode=yes")
	}
	// "--" before the destination ends ssh's option parsing, so the command's own options
	// (e.g. 'ls -l') reach the machine untouched.
	args = append(args, "--", st.SSHUser+"@"+m.Address)
	args = append(args, command...)
	return runInBastion(ctx, st, "ssh", args, stdio, "ssh "+m.Name)
}

// Copy copies files between the host and a machine with scp from the bastion; either src or dst
// is "machine:path". Directories are copied recursively.
func Copy(ctx context.Context, ref Ref, src, dst string, stdio IO) error {
	if err := requireRoot(); err != nil {
		return err
	}
	st, err := Open(ref)
	if err != nil {
		return err
	}
	rsrc, srcRemote, err := remotePath(st, src)
	if err != nil {
		return err
	}
	rdst, dstRemote, err := remotePath(st, dst)
	if err != nil {
		return err
	}
	if srcRemote == dstRemote {
		return fmt.Errorf("lab: cp needs exactly one side as MACHINE:PATH, e.g. 'kforge lab cp ./file cp1:/root/'")
	}
	args := append(sshOptions(st), "-o", "BatchMode=yes", "-r", "-p", rsrc, rdst)
	return runInBastion(ctx, st, "scp", args, stdio, "scp")
}

// remotePath turns "machine:path" into "user@address:path"; a path that names no machine is local.
func remotePath(st *State, arg string) (string, bool, error) {
	name, path, ok := strings.Cut(arg, ":")
	if !ok || strings.Contains(name, "/") {
		return arg, false, nil
	}
	m, err := st.machineByName(name)
	if err != nil {
		return "", false, err
	}
	if path == "" {
		path = "."
	}
	return st.SSHUser + "@" + m.Address + ":" + path, true, nil
}

// Exec runs a command in the lab's bastion namespace, where every machine is reachable.
func Exec(ctx context.Context, ref Ref, command []string, stdio IO) error {
	if err := requireRoot(); err != nil {
		return err
	}
	if len(command) == 0 {
		return fmt.Errorf("lab: exec needs a command, e.g. 'kforge lab exec -- kubectl get nodes'")
	}
	st, err := Open(ref)
	if err != nil {
		return err
	}
	return runInBastion(ctx, st, command[0], command[1:], stdio, command[0])
}

func runInBastion(ctx context.Context, st *State, name string, args []string, stdio IO, what string) error {
	if _, err := exec.LookPath(name); err != nil {
		if pkg := toolPackage(name); pkg != "" {
			return fmt.Errorf("lab: %s not found; install it with 'apt-get install -y %s'", name, pkg)
		}
		return fmt.Errorf("lab: %s not found on PATH: %w", name, err)
	}
	full := append([]string{"netns", "exec", st.BastionNetns, name}, args...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	cmd.Env = append(os.Environ(), "KFORGE_LAB="+st.Name)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 { // killed by a signal
			code = 1
		}
		return &ExitError{What: what, Code: code}
	}
	if err != nil {
		return fmt.Errorf("lab: run %s in the bastion: %w", name, err)
	}
	return nil
}

func toolPackage(name string) string {
	switch name {
	case "ssh", "scp":
		return "openssh-client"
	default:
		return ""
	}
}
