package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DownConfig configures Down.
type DownConfig struct {
	Ref
	Out io.Writer
}

// downReport counts what Down removed.
type downReport struct {
	Processes, Mounts, Namespaces int
}

// Down stops every machine of a lab and removes its namespaces, mounts, cgroups and state. It works
// from the state record and also scans for anything named after the lab (nspawn processes,
// mounts under the lab's directory, namespaces, cgroups), so it cleans up after a crashed
// `lab up` too. Removing a lab that does not exist is not an error.
func Down(ctx context.Context, cfg DownConfig) error {
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	if err := requireRoot(); err != nil {
		return err
	}
	p := paths{cfg.StateDir}
	name, err := resolveName(p, cfg.Name)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := readState(p.stateFile(name))
	if err != nil && !errors.Is(err, ErrNoLab) {
		// A damaged record must not stop the cleanup: the scans below find everything.
		fmt.Fprintf(out, "[down] %v; cleaning up by scanning\n", err)
		st = nil
	}
	var rep downReport
	var errs []error
	kctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// 1. Processes: recorded nspawn PIDs, every process in the lab's cgroups, and any nspawn
	// process whose machine name carries the lab's prefix (with its child, the machine's init).
	var pids []int
	if st != nil {
		for _, m := range st.Machines {
			if sameProcess(m.PID, m.PIDStart) {
				pids = append(pids, m.PID)
			}
		}
	}
	for _, pid := range nspawnProcesses(netnsPrefix(name)) {
		pids = append(pids, pid)
		pids = append(pids, childPIDs(pid)...)
	}
	rep.Processes = len(uniq(pids))
	if err := killPIDs(kctx, uniq(pids)); err != nil {
		errs = append(errs, err)
	}
	cg := findLabCgroups(name)
	if st != nil {
		for _, m := range st.Machines {
			for _, d := range m.Cgroups {
				cg = append(cg, filepath.Dir(d))
			}
		}
	}
	cg = uniqStrings(cg)
	for _, d := range cg {
		rep.Processes += len(cgroupPIDs(d))
	}
	if err := killCgroups(kctx, cg); err != nil {
		errs = append(errs, err)
	}

	// 2. Mounts under the lab's directory, deepest first, and nspawn's lock and propagation
	// leftovers for each machine root.
	mounts, err := mountPointsUnder(p.lab(name))
	if err != nil {
		errs = append(errs, err)
	}
	for _, mp := range mounts {
		removeNspawnLock(mp)
		if err := unmount(mp); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Mounts++
	}
	props, _ := filepath.Glob("/run/systemd/nspawn/propagate/" + netnsPrefix(name) + "*")
	for _, d := range props {
		_ = os.RemoveAll(d)
	}

	// 3. Network namespaces named after the lab.
	nss, err := labNetns(name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, ns := range nss {
		if err := deleteNetns(ctx, ns); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Namespaces++
	}
	etcNetns, _ := filepath.Glob("/etc/netns/" + netnsPrefix(name) + "*")
	for _, d := range etcNetns {
		_ = os.RemoveAll(d)
	}

	// 4. Cgroups and state, only once nothing is left that could use them.
	for _, d := range cg {
		if err := removeCgroupTree(d); err != nil {
			errs = append(errs, fmt.Errorf("lab: remove cgroup %s: %w", d, err))
			continue
		}
		removeEmptyParents(d) // kforge-lab/ goes once no lab is left
	}
	if len(errs) == 0 {
		if err := os.RemoveAll(p.lab(name)); err != nil {
			errs = append(errs, fmt.Errorf("lab: remove lab dir: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab: down %q left something behind: %w; run 'kforge lab down --name %s' again", name, err, name)
	}
	if st == nil && rep == (downReport{}) {
		fmt.Fprintf(out, "[down] lab %q: nothing to remove\n", name)
		return nil
	}
	fmt.Fprintf(out, "[down] lab %q removed in %s: %d processes killed, %d mounts, %d network namespaces\n",
		name, time.Since(start).Round(10*time.Millisecond), rep.Processes, rep.Mounts, rep.Namespaces)
	return nil
}

// removeNspawnLock removes the lock file systemd-nspawn leaves for a root directory when it is
// killed: /run/systemd/nspawn/locks/inode-<dev>:<ino>.
func removeNspawnLock(root string) {
	var st syscall.Stat_t
	if err := syscall.Stat(root, &st); err != nil {
		return
	}
	_ = os.Remove(fmt.Sprintf("/run/systemd/nspawn/locks/inode-%d:%d", st.Dev, st.Ino))
}

func uniqStrings(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func uniq(xs []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// resolveName returns name, or the only lab in the state dir when name is empty.
func resolveName(p paths, name string) (string, error) {
	if name != "" {
		return name, ValidateLabName(name)
	}
	names, err := listLabs(p)
	if err != nil {
		return "", err
	}
	switch len(names) {
	case 0:
		return "", fmt.Errorf("lab: no lab in %s; create one with 'kforge lab up'", p.root)
	case 1:
		return names[0], nil
	default:
		return "", fmt.Errorf("lab: %d labs in %s (%s); pick one with --name", len(names), p.root, strings.Join(names, ", "))
	}
}
