// Package etcd runs kforge's etcd member inside the kforge binary (go.etcd.io/etcd/server/v3
// embed) and carries the operations kforge needs on an etcd cluster: membership changes for
// join and reset, health for preflight and probes, and snapshots for backup.
package etcd
