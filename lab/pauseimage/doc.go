// Package pauseimage makes the tiny "pause" container image that CRI pod sandboxes run, without a
// registry, a compiler or a network: the binary is a 216-byte static x86-64 ELF program written out
// byte by byte, and the image is a docker-archive tarball that `ctr images import` loads.
//
// It exists so that lab machines (and, later, air-gapped clusters) can start pod sandboxes with
// nothing pulled: containerd's sandbox_image names Ref and the archive is imported at boot.
package pauseimage
