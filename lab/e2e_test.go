//go:build e2e

package lab_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kforge.dev/kforge/lab"
	"kforge.dev/kforge/lab/labtest"
)

// The e2e test drives the real kforge binary (KFORGE_BIN, built by 'make build') as root:
//
//	KFORGE_BIN=$PWD/_output/kforge go test -tags e2e -count=1 -timeout 40m ./lab/...
//
// It uses the state dir KFORGE_LAB_STATE_DIR (default /var/lib/kforge-lab), so a node image built
// before is reused, and labs named e2e* on subnets 172.31.246-249.0/24.

type kforge struct {
	t        *testing.T
	bin      string
	stateDir string
}

func newKforge(t *testing.T) *kforge {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the lab e2e test needs root (network namespaces, mounts, systemd-nspawn); run it with sudo")
	}
	bin := os.Getenv("KFORGE_BIN")
	if bin == "" {
		t.Fatal("KFORGE_BIN is not set; run 'make lab-test' or KFORGE_BIN=$PWD/_output/kforge go test -tags e2e ./lab/")
	}
	stateDir := os.Getenv("KFORGE_LAB_STATE_DIR")
	if stateDir == "" {
		stateDir = lab.DefaultStateDir
	}
	return &kforge{t: t, bin: bin, stateDir: stateDir}
}

// run runs 'kforge lab --state-dir D args...' and returns its stdout, stderr and exit code.
func (k *kforge) run(args ...string) (string, string, int) {
	k.t.Helper()
	full := append([]string{"lab", "--state-dir", k.stateDir}, args...)
	cmd := exec.Command(k.bin, full...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		k.t.Fatalf("kforge %s: %v", strings.Join(full, " "), err)
	}
	return out.String(), errOut.String(), code
}

// must runs a lab command that has to succeed and returns its stdout.
func (k *kforge) must(args ...string) string {
	k.t.Helper()
	out, errOut, code := k.run(args...)
	if code != 0 {
		k.t.Fatalf("kforge lab %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// timed runs must and returns how long it took.
func (k *kforge) timed(args ...string) (string, time.Duration) {
	k.t.Helper()
	t0 := time.Now()
	out := k.must(args...)
	return out, time.Since(t0)
}

// reachable reports whether addr:22 accepts a TCP connection from the lab's bastion.
func (k *kforge) reachable(name, addr string) bool {
	k.t.Helper()
	_, _, code := k.run("--name", name, "exec", "--", "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/"+addr+"/22")
	return code == 0
}

func (k *kforge) state(name string) *lab.State {
	k.t.Helper()
	st, err := lab.Open(lab.Ref{StateDir: k.stateDir, Name: name})
	if err != nil {
		k.t.Fatal(err)
	}
	return st
}

func machine(t *testing.T, st *lab.State, name string) lab.MachineState {
	t.Helper()
	for _, m := range st.Machines {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("lab %s has no machine %s", st.Name, name)
	return lab.MachineState{}
}

// leftovers lists what of lab name is still on the host: namespaces, mounts, live processes
// naming it, and its cgroups. Zombies are not counted: they hold no resources, and PID 1 on
// these machines reaps them a few seconds later.
func leftovers(t *testing.T, name, stateDir string) []string {
	t.Helper()
	var left []string
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "kforge."+name+".") {
			left = append(left, "netns "+strings.Fields(line)[0])
		}
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	labDir := filepath.Join(stateDir, "labs", name) + "/"
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, labDir) || strings.Contains(line, "/run/netns/kforge."+name+".") {
			left = append(left, "mount "+line)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(data, []byte("kforge."+name+".")) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		left = append(left, "process "+filepath.Base(filepath.Dir(p))+": "+strings.ReplaceAll(string(data), "\x00", " "))
	}
	_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasSuffix(path, "/kforge-lab/"+name) {
			left = append(left, "cgroup "+path)
			return filepath.SkipDir
		}
		if strings.Count(path, "/") > 8 {
			return filepath.SkipDir
		}
		return nil
	})
	if _, err := os.Stat(labDir); err == nil {
		left = append(left, "state dir "+labDir)
	}
	return left
}

func TestLab(t *testing.T) {
	k := newKforge(t)
	const name = "e2e"
	subnet := "172.31.249.0/24"
	k.run("--name", name, "down") // a previous crashed run
	t.Cleanup(func() {
		if out, errOut, code := k.run("--name", name, "down"); code != 0 {
			t.Errorf("cleanup: lab down: exit %d\n%s%s", code, out, errOut)
		}
	})

	out, d := k.timed("image", "build")
	t.Logf("image build: %s\n%s", d.Round(100*time.Millisecond), out)

	progs, err := labtest.BuildPrograms(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	out, d = k.timed("--name", name, "up", "--machines", "cp1,w1,w2", "--subnet", subnet)
	t.Logf("lab up (3 machines): %s\n%s", d.Round(100*time.Millisecond), out)
	for _, want := range []string{"kind: Cluster", "address: 172.31.249.10", "roles: [worker]", "knownHostsFile: "} {
		if !strings.Contains(out, want) {
			t.Errorf("up's inventory lacks %q", want)
		}
	}
	st := k.state(name)

	t.Run("name in use and subnet clash are refused", func(t *testing.T) {
		_, errOut, code := k.run("--name", name, "up", "--machines", "cp1")
		if code == 0 || !strings.Contains(errOut, "already exists") {
			t.Errorf("second up with the same name: exit %d, %s", code, errOut)
		}
		_, errOut, code = k.run("--name", "e2eclash", "up", "--machines", "cp1", "--subnet", "172.31.249.128/25")
		if code == 0 || !strings.Contains(errOut, `overlaps 172.31.249.0/24 (the LAN of lab "e2e")`) {
			t.Errorf("up on an overlapping subnet: exit %d, %s", code, errOut)
		}
	})

	t.Run("ssh with the recorded host keys", func(t *testing.T) {
		for _, m := range st.Machines {
			got := strings.TrimSpace(k.must("--name", name, "ssh", m.Name, "--", "hostname"))
			if got != m.Name {
				t.Errorf("ssh %s: hostname %q", m.Name, got)
			}
		}
		// The same connection with a known_hosts holding another key must be refused.
		kh, err := os.ReadFile(st.KnownHosts)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
		if len(lines) != len(st.Machines) {
			t.Fatalf("known_hosts has %d lines, want %d", len(lines), len(st.Machines))
		}
		cp1 := machine(t, st, "cp1")
		w1 := machine(t, st, "w1")
		var cp1Key, w1Key string
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case strings.Contains(f[0], cp1.Address):
				cp1Key = f[2]
			case strings.Contains(f[0], w1.Address):
				w1Key = f[2]
			}
		}
		if cp1Key == "" || w1Key == "" || cp1Key == w1Key {
			t.Fatalf("host keys not recorded per machine:\n%s", kh)
		}
		wrong := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(wrong, []byte(cp1.Address+" ssh-ed25519 "+w1Key+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := k.run("--name", name, "exec", "--", "ssh", "-F", "none", "-i", st.SSHKey,
			"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+wrong, "-o", "BatchMode=yes",
			"-o", "HostKeyAlgorithms=ssh-ed25519", "root@"+cp1.Address, "true")
		if code != 255 || !strings.Contains(errOut, "Host key verification failed") {
			t.Errorf("ssh with a wrong recorded key: exit %d, %s", code, errOut)
		}
		// A remote command's exit status is kforge's.
		if _, _, code := k.run("--name", name, "ssh", "w1", "--", "exit", "7"); code != 7 {
			t.Errorf("ssh exit status = %d, want 7", code)
		}
	})

	t.Run("nothing leaves the LAN", func(t *testing.T) {
		// The machines' default route points at the bastion so Kubernetes finds a node address;
		// the bastion has no link but the LAN and does not forward.
		links := k.must("--name", name, "exec", "--", "ip", "-o", "link", "show")
		if n := strings.Count(strings.TrimSpace(links), "\n") + 1; n != 2 {
			t.Errorf("bastion has %d links, want lo and eth0:\n%s", n, links)
		}
		routes := strings.TrimSpace(k.must("--name", name, "exec", "--", "ip", "-4", "route", "show"))
		if routes != subnet+" dev eth0 proto kernel scope link src 172.31.249.1" {
			t.Errorf("bastion routes:\n%s", routes)
		}
		if fwd := strings.TrimSpace(k.must("--name", name, "exec", "--", "cat", "/proc/sys/net/ipv4/ip_forward")); fwd != "0" {
			t.Errorf("bastion ip_forward = %s, want 0", fwd)
		}
		mounts := k.must("--name", name, "ssh", "cp1", "--", "grep", "-E", "' /var/lib/(containerd|kforge-data) '", "/proc/mounts")
		if strings.Count(mounts, "\n") != 2 || strings.Contains(mounts, "overlay") {
			t.Errorf("data disks are not plain binds:\n%s", mounts)
		}
	})

	t.Run("ctr version on every machine", func(t *testing.T) {
		for _, m := range st.Machines {
			out := k.must("--name", name, "ssh", m.Name, "--", "ctr", "version")
			if !strings.Contains(out, "Server:") || !strings.Contains(out, "Version:") {
				t.Errorf("ctr version on %s:\n%s", m.Name, out)
			}
		}
	})

	t.Run("runc container", func(t *testing.T) {
		k.must("--name", name, "cp", progs["hello"], "cp1:/root/hello")
		out := k.must("--name", name, "ssh", "cp1", "--", `set -e
rm -rf /root/bundle && mkdir -p /root/bundle/rootfs && cp /root/hello /root/bundle/rootfs/hello
cd /root/bundle && runc spec
sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"\/hello"/' config.json
runc run e2e-hello`)
		if !strings.Contains(out, "hello from a runc container: pid=1") {
			t.Errorf("runc run output:\n%s", out)
		}
	})

	t.Run("CRI pod sandbox with CNI", func(t *testing.T) {
		conf := filepath.Join(t.TempDir(), "10-lab.conflist")
		cni := `{"cniVersion":"1.0.0","name":"lab","plugins":[{"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":false,` +
			`"ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.1.0/24"}]]}}]}`
		if err := os.WriteFile(conf, []byte(cni), 0o644); err != nil {
			t.Fatal(err)
		}
		k.must("--name", name, "ssh", "w1", "--", "mkdir", "-p", "/etc/cni/net.d")
		k.must("--name", name, "cp", conf, "w1:/etc/cni/net.d/10-lab.conflist")
		k.must("--name", name, "cp", progs["cricheck"], "w1:/root/cricheck")
		var out string
		// containerd's CRI plugin picks up a new CNI config within a moment.
		for i := 0; i < 10; i++ {
			var code int
			var errOut string
			out, errOut, code = k.run("--name", name, "ssh", "w1", "--", "/root/cricheck")
			if code == 0 {
				break
			}
			t.Logf("cricheck attempt %d: exit %d %s %s", i+1, code, out, errOut)
			time.Sleep(time.Second)
		}
		var res struct {
			SandboxState, PodIP, ContainerState string
			SandboxReadyMS                      int64 `json:"sandboxReadyMs"`
			ContainerMS                         int64 `json:"containerRunningMs"`
			Removed                             bool
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("cricheck output %q: %v", out, err)
		}
		ip, err := netip.ParseAddr(res.PodIP)
		if res.SandboxState != "SANDBOX_READY" || err != nil || !netip.MustParsePrefix("10.244.1.0/24").Contains(ip) ||
			res.ContainerState != "CONTAINER_RUNNING" || !res.Removed {
			t.Errorf("cricheck: %+v", res)
		}
		t.Logf("CRI: sandbox ready in %d ms with IP %s, container running at %d ms", res.SandboxReadyMS, res.PodIP, res.ContainerMS)
	})

	t.Run("kill takes a machine off the LAN and start brings it back", func(t *testing.T) {
		w2 := machine(t, st, "w2")
		if !k.reachable(name, w2.Address) {
			t.Fatal("w2 unreachable before kill")
		}
		k.must("--name", name, "kill", "w2")
		if k.reachable(name, w2.Address) {
			t.Error("w2 still answers on the LAN after kill")
		}
		for _, l := range leftovers(t, name, k.stateDir) {
			if strings.HasPrefix(l, "process") && strings.Contains(l, "kforge."+name+".w2") {
				t.Errorf("after kill: %s", l)
			}
		}
		if out := k.must("--name", name, "status"); !strings.Contains(out, "stopped") {
			t.Errorf("status after kill:\n%s", out)
		}
		_, d := k.timed("--name", name, "start", "w2")
		t.Logf("lab start w2: %s", d.Round(100*time.Millisecond))
		if got := strings.TrimSpace(k.must("--name", name, "ssh", "w2", "--", "hostname")); got != "w2" {
			t.Errorf("w2 after start: hostname %q", got)
		}
		k.must("--name", name, "kill", "w2")
	})

	t.Run("partition and heal", func(t *testing.T) {
		w1 := machine(t, st, "w1")
		k.must("--name", name, "partition", "w1")
		if k.reachable(name, w1.Address) {
			t.Error("w1 reachable while partitioned")
		}
		// The machine itself keeps running: only its link is cut.
		if out := k.must("--name", name, "status"); !strings.Contains(out, "partitioned") {
			t.Errorf("status while partitioned:\n%s", out)
		}
		k.must("--name", name, "heal", "w1")
		ok := false
		for i := 0; i < 10 && !ok; i++ {
			ok = k.reachable(name, w1.Address)
		}
		if !ok {
			t.Error("w1 unreachable after heal")
		}
	})

	out, d = k.timed("--name", name, "down")
	t.Logf("lab down: %s\n%s", d.Round(10*time.Millisecond), out)
	if left := leftovers(t, name, k.stateDir); len(left) > 0 {
		t.Errorf("after down, still there:\n%s", strings.Join(left, "\n"))
	}
}

// TestLabUpSixMachines times the topology on a warm image and checks that a machine that
// does not come up in time fails with its console log and leaves nothing behind.
func TestLabUpSixMachines(t *testing.T) {
	k := newKforge(t)
	const name = "e2e6"
	k.run("--name", name, "down")
	t.Cleanup(func() { k.run("--name", name, "down") })
	k.must("image", "build")
	out, d := k.timed("--name", name, "up", "--machines", "cp1,cp2,cp3,w1,w2,lb1", "--subnet", "172.31.248.0/24")
	t.Logf("lab up (6 machines, warm image): %s\n%s", d.Round(100*time.Millisecond), out)
	if out := k.must("--name", name, "status"); strings.Count(out, "running") != 6 {
		t.Errorf("status:\n%s", out)
	}
	out, d = k.timed("--name", name, "down")
	t.Logf("lab down (6 machines): %s\n%s", d.Round(10*time.Millisecond), out)
	if left := leftovers(t, name, k.stateDir); len(left) > 0 {
		t.Errorf("after down, still there:\n%s", strings.Join(left, "\n"))
	}

	const failing = "e2efail"
	_, errOut, code := k.run("--name", failing, "up", "--machines", "cp1", "--subnet", "172.31.247.0/24", "--boot-timeout", "1ms")
	if code == 0 || !strings.Contains(errOut, "did not answer SSH within 1ms") || !strings.Contains(errOut, "console log") {
		t.Errorf("up with a 1ms boot timeout: exit %d\n%s", code, errOut)
	}
	if left := leftovers(t, failing, k.stateDir); len(left) > 0 {
		t.Errorf("after a failed up, still there:\n%s", strings.Join(left, "\n"))
	}
}
