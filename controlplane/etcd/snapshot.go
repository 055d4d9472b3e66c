package etcd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.etcd.io/etcd/client/v3/snapshot"
	etcdutl "go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// SnapshotSave streams a snapshot of the member behind the first endpoint into path (written to
// path.part, then renamed, so path is complete or absent). Only connecting is bounded by
// CommandTimeout; the transfer itself runs until ctx ends.
func (c *Client) SnapshotSave(ctx context.Context, path string) error {
	ep := c.cfg.Endpoints[0]
	op := "snapshot save"
	if err := c.do(ctx, op, []string{ep}, func(ctx context.Context) error {
		_, err := c.raw.Status(ctx, ep)
		return err
	}); err != nil {
		return err
	}
	if _, err := snapshot.SaveWithVersion(ctx, zap.NewNop(), c.cfg.clientv3(c.tls, []string{ep}), path); err != nil {
		return c.explain(ctx, op, []string{ep}, err)
	}
	return nil
}

// RestoreConfig describes the member a snapshot is restored into, with 'etcdutl snapshot
// restore' flag meanings.
type RestoreConfig struct {
	// SnapshotPath is the snapshot file, from SnapshotSave or a member's member/snap/db.
	SnapshotPath string
	// Name is the restored member's --name; empty means "default".
	Name string
	// DataDir is the new data directory; it must not exist yet.
	DataDir string
	// PeerURLs are the restored member's --initial-advertise-peer-urls; empty means
	// DefaultPeerURL.
	PeerURLs []string
	// InitialCluster is the restored cluster's --initial-cluster; empty means this member alone.
	InitialCluster string
	// InitialClusterToken is the restored cluster's token; empty means DefaultInitialClusterToken.
	InitialClusterToken string
	// SkipHashCheck restores a copied member/snap/db file, which lacks a snapshot's hash.
	SkipHashCheck bool
	// RevisionBump raises the revision by this much, and MarkCompacted marks the old revisions
	// compacted, so watchers such as the apiserver's caches notice the restore and relist.
	RevisionBump  uint64
	MarkCompacted bool
}

// SnapshotRestore makes a new data directory from a snapshot; start a member on it with the same
// --name, --initial-advertise-peer-urls and --initial-cluster, and --initial-cluster-state=new.
func SnapshotRestore(cfg RestoreConfig) error {
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if len(cfg.PeerURLs) == 0 {
		cfg.PeerURLs = []string{DefaultPeerURL}
	}
	if cfg.InitialCluster == "" {
		for _, u := range cfg.PeerURLs {
			if cfg.InitialCluster != "" {
				cfg.InitialCluster += ","
			}
			cfg.InitialCluster += cfg.Name + "=" + u
		}
	}
	if cfg.InitialClusterToken == "" {
		cfg.InitialClusterToken = DefaultInitialClusterToken
	}
	fail := func(err error) error {
		return fmt.Errorf("etcd: snapshot restore %s into %s: %w", cfg.SnapshotPath, cfg.DataDir, err)
	}
	if cfg.DataDir == "" {
		return fail(errors.New("no data directory; pass --data-dir with a path that does not exist yet"))
	}
	if _, err := os.Stat(cfg.SnapshotPath); err != nil {
		return fail(err)
	}
	if _, err := os.Stat(cfg.DataDir); err == nil {
		return fail(errors.New("the data directory exists already; choose a new --data-dir (restoring never overwrites a member's data)"))
	}
	if cfg.RevisionBump > 0 != cfg.MarkCompacted {
		return fail(errors.New("--bump-revision and --mark-compacted go together"))
	}
	for _, u := range cfg.PeerURLs {
		if msg := checkURL(u, false); msg != "" {
			return fail(fmt.Errorf("peer URL %q: %s", u, msg))
		}
	}
	if p := checkInitialCluster(cfg.InitialCluster, cfg.Name, cfg.PeerURLs); len(p) > 0 {
		return fail(errors.New(p[0]))
	}
	err := etcdutl.NewV3(zap.NewNop()).Restore(etcdutl.RestoreConfig{
		SnapshotPath: cfg.SnapshotPath, Name: cfg.Name, OutputDataDir: cfg.DataDir, PeerURLs: cfg.PeerURLs,
		InitialCluster: cfg.InitialCluster, InitialClusterToken: cfg.InitialClusterToken, SkipHashCheck: cfg.SkipHashCheck,
		RevisionBump: cfg.RevisionBump, MarkCompacted: cfg.MarkCompacted,
	})
	if err != nil {
		return fail(err)
	}
	return nil
}
