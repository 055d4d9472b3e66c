// Package etcd runs kforge's etcd member inside the kforge binary and carries the operations
// kforge needs on an etcd cluster, so no separate etcd or etcdctl binary has to be shipped.
//
// A Member (go.etcd.io/etcd/server/v3/embed) is a controlplane component: `kforge etcd` and
// in-process test clusters start it through the same Init/Start/Ready/Stop lifecycle. Its Config
// takes etcd's own flag names, so a kubeadm-style stacked etcd (client mTLS with etcd/server.crt
// and etcd/ca.crt, peer mTLS with etcd/peer.crt, --client-cert-auth) runs unchanged.
//
// A Client wraps go.etcd.io/etcd/client/v3 for the operations join, reset and backup need:
// membership changes (add as learner, promote, remove), per-endpoint health and snapshots.
// Its errors name the likely fix (wrong --cacert, missing client certificate, nothing
// listening) instead of gRPC's "context deadline exceeded".
//
// StartEmbedded is the single-machine mode behind the apiserver's --etcd-servers=embedded.
package etcd
