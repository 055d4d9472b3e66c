package lab

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestRenderInventoryGolden(t *testing.T) {
	specs, err := ParseMachines("cp1,cp2,cp3,w1,w2,lb1")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := Allocate(netip.MustParsePrefix(DefaultSubnet), len(specs))
	if err != nil {
		t.Fatal(err)
	}
	st := newState(paths{"/var/lib/kforge-lab"}, UpConfig{Ref: Ref{Name: "demo"}, Machines: specs}, addrs, "/img")
	got := RenderInventory(st)
	golden := filepath.Join("testdata", "cluster.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run 'go test ./lab -run Golden -update' to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("inventory differs from %s:\n%s", golden, got)
	}
}

func TestNewStateNamesEverythingAfterTheLab(t *testing.T) {
	specs, _ := ParseMachines("cp1,w1")
	addrs, _ := Allocate(netip.MustParsePrefix("172.31.251.0/24"), 2)
	st := newState(paths{"/s"}, UpConfig{Ref: Ref{Name: "e2e"}, Machines: specs}, addrs, "/img")
	names := []string{st.SwitchNetns, st.BastionNetns}
	for _, m := range st.Machines {
		names = append(names, m.Netns, m.NspawnName)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "kforge.e2e.") {
			t.Errorf("%q does not start with the lab's prefix", n)
		}
	}
	if strings.HasPrefix(netnsPrefix("e2e-x")+"cp1", netnsPrefix("e2e")) {
		t.Error("lab e2e's prefix matches lab e2e-x's namespaces")
	}
	if st.SSHKey != "/s/labs/e2e/ssh/id_ed25519" || st.KnownHosts != "/s/labs/e2e/ssh/known_hosts" {
		t.Errorf("ssh paths %s %s", st.SSHKey, st.KnownHosts)
	}
	if got := string(hostsFile(st)); !strings.Contains(got, "172.31.251.10\tcp1\n") || !strings.Contains(got, "172.31.251.1\tbastion\n") {
		t.Errorf("hosts file:\n%s", got)
	}
}

func TestStateRoundTripAndResolveName(t *testing.T) {
	dir := t.TempDir()
	p := paths{dir}
	if _, err := resolveName(p, ""); err == nil || !strings.Contains(err.Error(), "lab up") {
		t.Errorf("no labs: err = %v", err)
	}
	for _, n := range []string{"a", "b"} {
		if err := os.MkdirAll(p.lab(n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := resolveName(p, ""); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("two labs: err = %v", err)
	}
	if n, err := resolveName(p, "b"); err != nil || n != "b" {
		t.Errorf("explicit name: %q, %v", n, err)
	}
	rec := &recorder{path: p.stateFile("a"), state: &State{Name: "a", Machines: []MachineState{{Name: "cp1"}}}}
	if err := rec.machine("cp1", func(m *MachineState) { m.PID, m.PIDStart = 42, 7 }); err != nil {
		t.Fatal(err)
	}
	st, err := Open(Ref{StateDir: dir, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := st.machineByName("cp1"); m.PID != 42 || m.PIDStart != 7 {
		t.Errorf("recorded machine = %+v", m)
	}
	if _, err := st.machineByName("w9"); err == nil || !strings.Contains(err.Error(), "cp1") {
		t.Errorf("unknown machine: err = %v", err)
	}
	if _, err := Open(Ref{StateDir: dir, Name: "b"}); err == nil {
		t.Error("lab without state opened")
	}
}

func TestProcStartTimeIdentifiesThisProcess(t *testing.T) {
	start, err := procStartTime(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if !sameProcess(os.Getpid(), start) || sameProcess(os.Getpid(), start+1) || sameProcess(0, 0) {
		t.Error("sameProcess does not tell processes apart")
	}
}

func TestRemotePath(t *testing.T) {
	st := &State{SSHUser: "root", Machines: []MachineState{{Name: "cp1", Address: "172.31.250.10"}}}
	tests := []struct {
		in, want string
		remote   bool
		err      bool
	}{
		{"cp1:/etc/hosts", "root@172.31.250.10:/etc/hosts", true, false},
		{"cp1:", "root@172.31.250.10:.", true, false},
		{"./local/file", "./local/file", false, false},
		{"/tmp/a:b", "/tmp/a:b", false, false},
		{"w9:/x", "", false, true},
	}
	for _, tc := range tests {
		got, remote, err := remotePath(st, tc.in)
		if (err != nil) != tc.err || got != tc.want || remote != tc.remote {
			t.Errorf("remotePath(%q) = %q, %v, %v", tc.in, got, remote, err)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/var/lib/my\040lab/root`); got != "/var/lib/my lab/root" {
		t.Errorf("got %q", got)
	}
}

func TestParseProcCgroup(t *testing.T) {
	hybrid := []byte(`9:name=systemd:/
8:pids:/
4:memory:/process_api/abc
3:cpuset:/
2:cpu,cpuacct:/
0::/
`)
	mounted := map[string]bool{
		"/sys/fs/cgroup/systemd/cgroup.procs": true, "/sys/fs/cgroup/pids/cgroup.procs": true,
		"/sys/fs/cgroup/memory/cgroup.procs": true, "/sys/fs/cgroup/cpuset/cgroup.procs": true,
		"/sys/fs/cgroup/cpu,cpuacct/cgroup.procs": true, "/sys/fs/cgroup/unified": true,
		"/sys/fs/cgroup/unified/cgroup.procs": true,
	}
	got := parseProcCgroup(hybrid, "/sys/fs/cgroup", func(p string) bool { return mounted[p] })
	want := []cgroupHierarchy{
		{mount: "/sys/fs/cgroup/systemd", self: "/"},
		{mount: "/sys/fs/cgroup/pids", self: "/"},
		{mount: "/sys/fs/cgroup/memory", self: "/process_api/abc"},
		{mount: "/sys/fs/cgroup/cpuset", self: "/", cpuset: true},
		{mount: "/sys/fs/cgroup/cpu,cpuacct", self: "/"},
		{mount: "/sys/fs/cgroup/unified", self: "/"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("hierarchy %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	v2 := parseProcCgroup([]byte("0::/user.slice\n"), "/sys/fs/cgroup", func(p string) bool { return p == "/sys/fs/cgroup/cgroup.procs" })
	if len(v2) != 1 || v2[0].mount != "/sys/fs/cgroup" || v2[0].self != "/user.slice" {
		t.Errorf("v2-only host: %+v", v2)
	}
}
