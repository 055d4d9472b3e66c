// Package lab runs a multi-machine Linux lab on one box: fresh Debian machines booted with
// systemd-nspawn, each with its own overlay root over one shared node image, its own network
// namespace and address on a private LAN (a bridge in a namespace of its own), and a bastion
// namespace from which the operator reaches them over SSH with recorded host keys.
//
// It exists so kforge's installer and end-to-end tests can build, break and heal highly available
// clusters on a single machine with no VMs: `kforge lab up` is the fixture that `kforge cluster
// apply` and test/e2e run against. Every process, mount and namespace the lab makes is recorded in
// its state directory as it is made, so Down can remove all of it, even after the lab command
// itself crashed. The facts this package relies on are in shared/notes/lab-facts.md.
package lab
