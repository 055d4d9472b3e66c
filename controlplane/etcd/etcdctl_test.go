package etcd_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The real etcdctl (Debian's etcd-client) works against kforge's member with kubeadm's flags.
func TestEtcdctlAgrees(t *testing.T) {
	t.Parallel()
	etcdctl, err := exec.LookPath("etcdctl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("etcdctl is missing; CI installs it (apt-get install etcd-client)")
		}
		t.Skip("etcdctl not installed (apt-get install etcd-client); skipping the check against the real etcdctl")
	}
	p := newTestPKI(t)
	ports := freePorts(t, 2)
	m := startMember(t, memberConfig(p, "m1", t.TempDir(), ports[0], ports[1], fmt.Sprintf("m1=https://127.0.0.1:%d", ports[1]), "new"))
	waitReady(t, m)
	ep := m.ClientURLs()[0]
	ctx := testContext(t, 20*time.Second)
	if _, err := newClient(t, p, ep).Raw().Put(ctx, "/registry/pods/default/web", "pod"); err != nil {
		t.Fatal(err)
	}
	args := []string{"--endpoints", ep, "--cacert", p.path("ca.crt"), "--cert", p.path("healthcheck-client.crt"), "--key", p.path("healthcheck-client.key")}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"endpoint", "health"}, ep + " is healthy: successfully committed proposal"},
		{[]string{"get", "/registry/pods/default/web"}, "/registry/pods/default/web\npod\n"},
		{[]string{"member", "list"}, fmt.Sprintf("%x, started, m1, https://127.0.0.1:%d, %s", m.ID(), ports[1], ep)},
	} {
		cmd := exec.CommandContext(ctx, etcdctl, append(args, tc.args...)...)
		cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("etcdctl %s: %v\n%s\nwant %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
}
