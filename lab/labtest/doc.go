// Package labtest holds what the lab's end-to-end test puts inside lab machines: main packages
// that are cross-compiled statically and copied in with `kforge lab cp` (cricheck drives
// containerd's CRI; hello is the payload of a plain runc container), and helpers to build them.
// Only tests import it.
package labtest
