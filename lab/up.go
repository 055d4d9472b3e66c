package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultBootTimeout bounds how long a machine may take to answer SSH after it is started.
const DefaultBootTimeout = 90 * time.Second

// sshUser is the account the lab authorizes its key for.
const sshUser = "root"

// Ref names a lab in a state directory. An empty Name means the only lab there is.
type Ref struct {
	StateDir string
	Name     string
}

// UpConfig configures Up.
type UpConfig struct {
	Ref
	Machines []MachineSpec
	// Subnet is the LAN; the zero value means DefaultSubnet.
	Subnet netip.Prefix
	// BootTimeout bounds each machine's boot; zero means DefaultBootTimeout.
	BootTimeout time.Duration
	// Mirror is the Debian mirror for an image build; empty means the host's apt configuration.
	Mirror string
	// KeepOnFailure leaves a lab that failed to come up in place for inspection.
	KeepOnFailure bool
	// Out receives progress lines.
	Out io.Writer
}

// Up builds the node image if needed, then creates the lab: LAN, bastion, SSH keys and machines,
// booted in parallel. It returns the lab's state once every machine answers SSH. On failure it
// removes what it made, unless KeepOnFailure is set.
func Up(ctx context.Context, cfg UpConfig) (*State, error) {
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	if cfg.Name == "" {
		cfg.Name = "demo"
	}
	if err := ValidateLabName(cfg.Name); err != nil {
		return nil, err
	}
	if err := requireRoot(); err != nil {
		return nil, err
	}
	for _, t := range [][2]string{{"systemd-nspawn", "systemd-container"}, {"ip", "iproute2"}} {
		if err := requireTool(t[0], t[1]); err != nil {
			return nil, err
		}
	}
	if len(cfg.Machines) == 0 {
		return nil, fmt.Errorf("lab: no machines given; pass --machines cp1,w1 or --control-planes/--workers")
	}
	for _, m := range cfg.Machines {
		if err := validateMachineName(m.Name); err != nil {
			return nil, err
		}
	}
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = netip.MustParsePrefix(DefaultSubnet)
	}
	if cfg.BootTimeout <= 0 {
		cfg.BootTimeout = DefaultBootTimeout
	}
	p := paths{cfg.StateDir}
	if _, err := os.Stat(p.lab(cfg.Name)); err == nil {
		return nil, fmt.Errorf("lab: a lab named %q already exists in %s; remove it with 'kforge lab down --name %s' or pick another --name", cfg.Name, cfg.StateDir, cfg.Name)
	}
	if left, _ := labNetns(cfg.Name); len(left) > 0 {
		return nil, fmt.Errorf("lab: network namespaces of an old lab %q are left (%s); remove them with 'kforge lab down --name %s'", cfg.Name, strings.Join(left, ", "), cfg.Name)
	}
	addrs, err := Allocate(cfg.Subnet, len(cfg.Machines))
	if err != nil {
		return nil, err
	}
	if err := checkSubnetFree(ctx, p, addrs.Subnet); err != nil {
		return nil, err
	}
	img, err := BuildImage(ctx, ImageConfig{StateDir: cfg.StateDir, Mirror: cfg.Mirror, Out: out})
	if err != nil {
		return nil, err
	}

	start := time.Now()
	st := newState(p, cfg, addrs, img.Root)
	if err := os.MkdirAll(p.lab(cfg.Name), 0o755); err != nil {
		return nil, fmt.Errorf("lab: create lab dir: %w", err)
	}
	rec := &recorder{path: p.stateFile(cfg.Name), state: st}
	if err := rec.update(nil); err != nil {
		return nil, err
	}
	fail := func(err error) (*State, error) {
		if cfg.KeepOnFailure {
			return nil, fmt.Errorf("%w\nthe lab is left as it is; remove it with 'kforge lab down --name %s'", err, cfg.Name)
		}
		// Clean up even when ctx was cancelled (Ctrl-C): that is when it matters most.
		if derr := Down(context.WithoutCancel(ctx), DownConfig{Ref: Ref{StateDir: cfg.StateDir, Name: cfg.Name}, Out: io.Discard}); derr != nil {
			return nil, fmt.Errorf("%w\ncleanup also failed: %v; run 'kforge lab down --name %s'", err, derr, cfg.Name)
		}
		return nil, fmt.Errorf("%w\nthe lab was removed; rerun with --keep-on-failure to keep it and its console logs", err)
	}
	fmt.Fprintf(out, "[up] lab %q: %d machine(s) on %s\n", cfg.Name, len(st.Machines), addrs.Subnet)
	ids, err := writeKeys(p, st)
	if err != nil {
		return fail(err)
	}
	if err := createSwitch(ctx, st.SwitchNetns); err != nil {
		return fail(err)
	}
	if err := attachNode(ctx, st.SwitchNetns, "bastion", st.BastionNetns); err != nil {
		return fail(err)
	}
	if err := configureNodeLink(ctx, st.BastionNetns, netip.PrefixFrom(addrs.Bastion, addrs.Subnet.Bits()), netip.Addr{}); err != nil {
		return fail(err)
	}
	for _, ns := range []string{st.SwitchNetns, st.BastionNetns} {
		if err := disableForwarding(ns); err != nil {
			return fail(err)
		}
	}
	// `ip netns exec` shows /etc/netns/<ns>/hosts as /etc/hosts: machine names work from the bastion.
	if err := os.MkdirAll("/etc/netns/"+st.BastionNetns, 0o755); err != nil {
		return fail(fmt.Errorf("lab: %w", err))
	}
	if err := os.WriteFile("/etc/netns/"+st.BastionNetns+"/hosts", hostsFile(st), 0o644); err != nil {
		return fail(fmt.Errorf("lab: %w", err))
	}
	waiter, err := newBootWaiter(st)
	if err != nil {
		return fail(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(st.Machines))
	for i := range st.Machines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = upMachine(ctx, rec, p, st.Machines[i], ids[i], img.Root, waiter, cfg.BootTimeout, out)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(st.Inventory, RenderInventory(st), 0o644); err != nil {
		return fail(fmt.Errorf("lab: write inventory: %w", err))
	}
	fmt.Fprintf(out, "[up] lab %q is up in %s; inventory %s\n", cfg.Name, time.Since(start).Round(100*time.Millisecond), st.Inventory)
	return st, nil
}

func newState(p paths, cfg UpConfig, addrs Addressing, imageRoot string) *State {
	st := &State{
		Name:           cfg.Name,
		Subnet:         addrs.Subnet.String(),
		ImageRoot:      imageRoot,
		SwitchNetns:    netnsPrefix(cfg.Name) + "switch",
		BastionNetns:   netnsPrefix(cfg.Name) + "bastion",
		BastionAddress: addrs.Bastion.String(),
		SSHUser:        sshUser,
		SSHKey:         p.sshDir(cfg.Name) + "/id_ed25519",
		KnownHosts:     p.sshDir(cfg.Name) + "/known_hosts",
		Inventory:      p.lab(cfg.Name) + "/cluster.yaml",
	}
	for i, m := range cfg.Machines {
		st.Machines = append(st.Machines, MachineState{
			Name:       m.Name,
			Role:       m.Role,
			Address:    addrs.Machines[i].String(),
			Netns:      netnsPrefix(cfg.Name) + m.Name,
			SwitchLink: m.Name,
			NspawnName: netnsPrefix(cfg.Name) + m.Name,
		})
	}
	return st
}

// checkSubnetFree refuses a subnet that overlaps a host address or route or another lab's LAN.
func checkSubnetFree(ctx context.Context, p paths, subnet netip.Prefix) error {
	used, err := hostPrefixes(ctx)
	if err != nil {
		return err
	}
	names, err := listLabs(p)
	if err != nil {
		return err
	}
	for _, n := range names {
		s, err := readState(p.stateFile(n))
		if err != nil {
			continue
		}
		if sp, err := netip.ParsePrefix(s.Subnet); err == nil {
			used = append(used, UsedPrefix{Prefix: sp, Owner: fmt.Sprintf("the LAN of lab %q", n)})
		}
	}
	return FindClash(subnet, used)
}

// writeKeys makes the operator key and one host key per machine, and records the host keys in
// known_hosts, so the first SSH connection already verifies the machine.
func writeKeys(p paths, st *State) ([]identity, error) {
	client, err := newKeyPair("kforge-lab-" + st.Name)
	if err != nil {
		return nil, err
	}
	if err := client.writeKeyFiles(st.SSHKey, "kforge-lab-"+st.Name); err != nil {
		return nil, err
	}
	hosts := hostsFile(st)
	var known strings.Builder
	ids := make([]identity, len(st.Machines))
	for i, m := range st.Machines {
		hk, err := newKeyPair("root@" + m.Name)
		if err != nil {
			return nil, err
		}
		ids[i] = identity{hostname: m.Name, hostKey: hk, authorized: client.authorizedLine("kforge-lab-" + st.Name), hosts: hosts}
		known.WriteString(knownHostsLine(m.Name, m.Address, hk.public) + "\n")
	}
	if err := os.WriteFile(st.KnownHosts, []byte(known.String()), 0o644); err != nil {
		return nil, fmt.Errorf("lab: write known_hosts: %w", err)
	}
	return ids, nil
}

// upMachine prepares, boots and waits for one machine.
func upMachine(ctx context.Context, rec *recorder, p paths, m MachineState, id identity, image string, w *bootWaiter, timeout time.Duration, out io.Writer) error {
	t0 := time.Now()
	d := dirsOf(p, rec.state.Name, m.Name)
	if err := d.create(); err != nil {
		return err
	}
	if err := d.writeIdentity(id); err != nil {
		return err
	}
	if err := d.mountRoot(image); err != nil {
		return err
	}
	if err := rec.machine(m.Name, func(ms *MachineState) { ms.Mounted = d.root }); err != nil {
		return err
	}
	if err := attachNode(ctx, rec.state.SwitchNetns, m.SwitchLink, m.Netns); err != nil {
		return err
	}
	return startAndWait(ctx, rec, m, d, w, timeout, out, t0)
}

// startAndWait configures the machine's link, boots it and waits until it answers SSH.
func startAndWait(ctx context.Context, rec *recorder, m MachineState, d machineDirs, w *bootWaiter, timeout time.Duration, out io.Writer, t0 time.Time) error {
	pfx, err := addrPrefix(m.Address, rec.state.Subnet)
	if err != nil {
		return err
	}
	gw, _ := netip.ParseAddr(rec.state.BastionAddress)
	// The default route points at the bastion, which has no other link: Kubernetes components find
	// a node address by its default route, and nothing leaves the LAN.
	if err := configureNodeLink(ctx, m.Netns, pfx, gw); err != nil {
		return err
	}
	if err := bootMachine(ctx, rec, m, d, rec.state.Name); err != nil {
		return err
	}
	rec.mu.Lock()
	ms, _ := rec.state.machineByName(m.Name)
	m = *ms
	rec.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	state, err := w.wait(wctx, m)
	if errors.Is(err, errMachineDied) {
		return fmt.Errorf("lab: machine %s stopped while booting; last lines of its console log %s:\n%s", m.Name, d.console, tailFile(d.console, 25))
	}
	if err != nil {
		return fmt.Errorf("lab: machine %s did not answer SSH within %s (%v); last lines of its console log %s:\n%s", m.Name, timeout, err, d.console, tailFile(d.console, 25))
	}
	note := ""
	if state == "degraded" {
		note = " (systemd reports degraded: see 'kforge lab ssh " + m.Name + " -- systemctl --failed')"
	}
	fmt.Fprintf(out, "[up] %-8s %-15s %-13s ready in %s%s\n", m.Name, m.Address, m.Role, time.Since(t0).Round(100*time.Millisecond), note)
	return nil
}
