// Package pki lays down and checks a control-plane node's certificate tree: the files,
// subjects, key usages, SANs and validity kubeadm writes under /etc/kubernetes/pki, so kubeadm
// users and tools find what they expect. Certificates are issued with cfssl from a declarative
// list (DefaultCertList) that the init phases, renewal, expiry checks and tests all read.
// Existing files are verified, never silently replaced: a wrong one is an error that names
// the file and the fix. The package takes plain Params, not the config API, so anything that
// needs certificates (phases, join, the etcd and apiserver tests) can use it.
package pki
