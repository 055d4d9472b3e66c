package lab

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// cgroupBase is the cgroup directory, below the lab command's own cgroup in each hierarchy,
// holding every lab machine: <hierarchy>/<own path>/kforge-lab/<lab>/<machine>.
const cgroupBase = "kforge-lab"

// cgroupFSRoot is where the host mounts its cgroup hierarchies.
const cgroupFSRoot = "/sys/fs/cgroup"

// cgroupHierarchy is one mounted cgroup hierarchy and this process's cgroup in it.
type cgroupHierarchy struct {
	mount string // e.g. /sys/fs/cgroup/memory
	self  string // e.g. /process_api/abc
	// cpuset hierarchies need cpus and mems copied into every new cgroup before use.
	cpuset bool
}

// parseProcCgroup maps the lines of /proc/self/cgroup ("ID:controllers:path") to hierarchies
// mounted under fsRoot: v1 hierarchies at fsRoot/<controllers> (name=systemd at fsRoot/systemd),
// the v2 hierarchy at fsRoot/unified on a hybrid host or fsRoot itself on a v2-only host.
func parseProcCgroup(data []byte, fsRoot string, exists func(string) bool) []cgroupHierarchy {
	var out []cgroupHierarchy
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrl, path := parts[1], parts[2]
		var mount string
		switch {
		case ctrl == "":
			mount = filepath.Join(fsRoot, "unified")
			if !exists(mount) {
				mount = fsRoot
			}
		case strings.HasPrefix(ctrl, "name="):
			mount = filepath.Join(fsRoot, strings.TrimPrefix(ctrl, "name="))
		default:
			mount = filepath.Join(fsRoot, ctrl)
		}
		if !exists(filepath.Join(mount, "cgroup.procs")) {
			continue
		}
		cpuset := false
		for _, c := range strings.Split(ctrl, ",") {
			cpuset = cpuset || c == "cpuset"
		}
		out = append(out, cgroupHierarchy{mount: mount, self: path, cpuset: cpuset})
	}
	return out
}

func cgroupHierarchies() []cgroupHierarchy {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	return parseProcCgroup(data, cgroupFSRoot, func(p string) bool { _, err := os.Stat(p); return err == nil })
}

// machineCgroupDirs creates the machine's cgroup in every hierarchy and returns their paths.
// Each machine gets its own subtree everywhere and nspawn gives it a cgroup namespace rooted
// there, so cgroups made inside a machine (runc's, a kubelet's kubepods) stay under it and vanish
// with it. Without this, nspawn started outside systemd would put every machine's systemd in the
// same /payload cgroup, where they would manage each other's services.
func machineCgroupDirs(lab, machine string) ([]string, error) {
	var dirs []string
	for _, h := range cgroupHierarchies() {
		parent := filepath.Join(h.mount, h.self)
		dir := filepath.Join(parent, cgroupBase, lab, machine)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("lab: create cgroup %s: %w", dir, err)
		}
		if h.cpuset {
			if err := inheritCpuset(parent, dir); err != nil {
				return nil, err
			}
		}
		dirs = append(dirs, dir)
	}
	return dirs, nil
}

// inheritCpuset copies cpuset.cpus and cpuset.mems down from parent to every level up to dir;
// a v1 cpuset cgroup without them refuses processes.
func inheritCpuset(parent, dir string) error {
	rel, err := filepath.Rel(parent, dir)
	if err != nil {
		return fmt.Errorf("lab: cpuset %s: %w", dir, err)
	}
	cur := parent
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			have, _ := os.ReadFile(filepath.Join(next, f))
			if strings.TrimSpace(string(have)) != "" {
				continue
			}
			val, err := os.ReadFile(filepath.Join(cur, f))
			if err != nil {
				return fmt.Errorf("lab: cpuset: read %s: %w", filepath.Join(cur, f), err)
			}
			if err := os.WriteFile(filepath.Join(next, f), val, 0o644); err != nil {
				return fmt.Errorf("lab: cpuset: write %s: %w", filepath.Join(next, f), err)
			}
		}
		cur = next
	}
	return nil
}

// findLabCgroups finds the cgroup directories .../kforge-lab/<lab> in every hierarchy, wherever
// the command that made them was placed; it looks a few levels deep only.
func findLabCgroups(lab string) []string {
	var found []string
	for _, h := range cgroupHierarchies() {
		_ = filepath.WalkDir(h.mount, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(h.mount, path)
			depth := strings.Count(rel, string(filepath.Separator))
			if d.Name() == cgroupBase {
				if _, err := os.Stat(filepath.Join(path, lab)); err == nil {
					found = append(found, filepath.Join(path, lab))
				}
				return filepath.SkipDir
			}
			if depth >= 4 {
				return filepath.SkipDir
			}
			return nil
		})
	}
	return found
}

// cgroupPIDs returns the processes in dir and all its descendants.
func cgroupPIDs(dir string) []int {
	var pids []int
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// removeCgroupTree removes dir and its empty descendants, deepest first, then the lab's and the
// kforge-lab directory above it when they are empty.
func removeCgroupTree(dir string) error {
	var dirs []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	var firstErr error
	for _, d := range dirs {
		if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// removeEmptyParents removes dir's parents up to and including the kforge-lab directory, as long
// as they are empty.
func removeEmptyParents(dir string) {
	for p := filepath.Dir(dir); strings.Contains(p, "/"+cgroupBase); p = filepath.Dir(p) {
		if syscall.Rmdir(p) != nil {
			return
		}
		if filepath.Base(p) == cgroupBase {
			return
		}
	}
}
