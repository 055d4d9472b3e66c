// Package workflow runs kubeadm-style phase trees. A command's phases are declared once as data;
// from that one tree the runner executes the whole workflow, honours --skip-phases, generates
// the `<command> phase <name> [<sub>]` subcommands and writes the workflow listing for --help,
// so the three can never disagree.
package workflow
