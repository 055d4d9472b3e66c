// Command cricheck runs one pod sandbox and one container through containerd's CRI API (v1) on
// the machine it runs on, prints what it saw as JSON, and removes both. The lab's end-to-end test
// copies it into a machine to show that CRI pods start there with a CNI network, air-gapped.
package main
