// Package storage keeps Kubernetes objects in etcd the way kube-apiserver does: one key per
// object under /registry/<resource>/<namespace>/<name>, JSON values, and the etcd modification
// revision as the object's resourceVersion. Store talks to etcd directly; Cacher puts a watch
// cache in front of it so that any number of lists and watches cost one etcd watch.
package storage
