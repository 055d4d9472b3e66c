// Package apiserver is kforge's Kubernetes API server: the REST surface real kubectl and
// client-go use (discovery, CRUD, patch, list and watch with Kubernetes semantics), served over
// TLS from objects kept in etcd by package storage. Only it touches etcd; every other
// component reads and writes cluster state through it.
package apiserver
