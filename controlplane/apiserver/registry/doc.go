// Package registry is the generic part of every API resource: it turns create, get, list,
// update, delete and watch requests into storage operations while applying the rules all
// Kubernetes objects share (names and generateName, uid, creationTimestamp, generation,
// resourceVersion conflicts, finalizers and graceful deletion). What differs per resource is
// a Strategy.
package registry
