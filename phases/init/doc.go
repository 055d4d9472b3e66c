// Package initphases holds the phases of `kforge init`, one file per phase. Phases only
// orchestrate: they turn the init configuration into calls to pki, pki/kubeconfig and later
// packages, and print kubeadm-style progress lines. The package name avoids Go's reserved init.
package initphases
