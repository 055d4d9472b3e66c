// Command hello is the payload of the end-to-end test's plain runc container: it proves the
// container ran by printing its PID (1 in its own PID namespace) and hostname.
package main
