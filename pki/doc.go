// Package pki lays down and checks the cluster's certificate tree: the same files, subjects, key
// usages, SANs and validity kubeadm writes under /etc/kubernetes/pki, so kubeadm users and tools
// find what they expect. Certificates are issued with cfssl; existing files are verified, never
// silently replaced.
package pki
