package etcd_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kforge.dev/kforge/controlplane/etcd"
)

// A stacked-style 3-member cluster on loopback, bootstrapped from a static --initial-cluster:
// writes on one member are read on another; removing a member leaves two; a fresh member joins
// as a learner with --initial-cluster-state=existing and is promoted.
func TestThreeMemberCluster(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	ports := freePorts(t, 8)
	var peers []string
	for i := range 3 {
		peers = append(peers, fmt.Sprintf("m%d=https://127.0.0.1:%d", i+1, ports[2*i+1]))
	}
	cluster := strings.Join(peers, ",")
	var ms []*etcd.Member
	for i := range 3 {
		// Start returns before the cluster has a quorum, so the members can start one by one.
		ms = append(ms, startMember(t, memberConfig(p, fmt.Sprintf("m%d", i+1), t.TempDir(), ports[2*i], ports[2*i+1], cluster, "new")))
	}
	waitReady(t, ms...)
	ctx := testContext(t, 40*time.Second)
	ep := func(m *etcd.Member) string { return m.ClientURLs()[0] }

	c1 := newClient(t, p, ep(ms[0]))
	if _, err := c1.Raw().Put(ctx, "/registry/namespaces/default", "ns"); err != nil {
		t.Fatal(err)
	}
	got, err := newClient(t, p, ep(ms[2])).Raw().Get(ctx, "/registry/namespaces/default")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "ns" {
		t.Fatalf("read on m3: %v %v", got, err)
	}
	all := newClient(t, p, ep(ms[0]), ep(ms[1]), ep(ms[2]))
	if err := etcd.Unhealthy(all.Health(ctx)); err != nil {
		t.Fatal(err)
	}
	list, err := all.MemberList(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("member list: %v %+v", err, list)
	}

	// Remove m3. etcd refuses until members have been connected for 5s; join and reset retry.
	if err := etcd.RetryTransient(ctx, 250*time.Millisecond, func(ctx context.Context) error { return c1.MemberRemove(ctx, ms[2].ID()) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ms[2].Done():
		if err := ms[2].Err(); err == nil || !strings.Contains(err.Error(), "removed from the cluster") {
			t.Errorf("removed member's Err() = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("removed member still running")
	}
	c12 := newClient(t, p, ep(ms[0]), ep(ms[1]))
	if list, err := c12.MemberList(ctx); err != nil || len(list) != 2 {
		t.Fatalf("after remove: %v %+v", err, list)
	}
	if err := c12.MemberRemove(ctx, ms[2].ID()); err == nil || !strings.Contains(err.Error(), "no member has that ID; see 'kforge etcd member list'") {
		t.Errorf("removing it again: %v", err)
	}

	// A fresh m4 joins as a learner and is promoted once it caught up.
	pu := fmt.Sprintf("https://127.0.0.1:%d", ports[7])
	added, err := c12.MemberAddAsLearner(ctx, []string{pu})
	if err != nil {
		t.Fatal(err)
	}
	if !added.Member.IsLearner || added.Member.Started() || len(added.Members) != 3 {
		t.Errorf("added = %+v", added)
	}
	initial := added.InitialCluster("m4")
	for _, want := range []string{peers[0], peers[1], "m4=" + pu} {
		if !strings.Contains(initial, want) {
			t.Errorf("initial cluster %q lacks %q", initial, want)
		}
	}
	if _, err := c12.MemberAddAsLearner(ctx, []string{"https://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "learner already") {
		t.Errorf("second learner: %v", err)
	}
	m4 := startMember(t, memberConfig(p, "m4", t.TempDir(), ports[6], ports[7], initial, "existing"))
	waitReady(t, m4)
	if err := etcd.RetryTransient(ctx, 250*time.Millisecond, func(ctx context.Context) error { return c12.MemberPromote(ctx, added.Member.ID) }); err != nil {
		t.Fatal(err)
	}
	list, err = c12.MemberList(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("after join: %v %+v", err, list)
	}
	for _, m := range list {
		if m.IsLearner || !m.Started() {
			t.Errorf("member %+v is a learner or not started", m)
		}
	}
	got, err = newClient(t, p, ep(m4)).Raw().Get(ctx, "/registry/namespaces/default")
	if err != nil || len(got.Kvs) != 1 {
		t.Fatalf("read on m4: %v %v", got, err)
	}
}

func TestAddedMemberInitialCluster(t *testing.T) {
	a := etcd.AddedMember{
		Member: etcd.MemberInfo{ID: 0xc, PeerURLs: []string{"https://10.0.0.3:2380"}},
		Members: []etcd.MemberInfo{
			{ID: 0xa, Name: "cp1", PeerURLs: []string{"https://10.0.0.1:2380"}},
			{ID: 0xb, PeerURLs: []string{"https://10.0.0.2:2380"}}, // added earlier, not started
			{ID: 0xc, PeerURLs: []string{"https://10.0.0.3:2380"}},
		},
	}
	want := "cp1=https://10.0.0.1:2380,b=https://10.0.0.2:2380,cp3=https://10.0.0.3:2380"
	if got := a.InitialCluster("cp3"); got != want {
		t.Errorf("InitialCluster = %q, want %q", got, want)
	}
}
