// Package containerdtoml edits containerd's config.toml as a TOML tree, setting the keys its caller
// owns and keeping every other key as it was.
//
// It exists because containerd 1.6's `imports` drop-ins do not merge the CRI plugin's table key by
// key (an imported CRI section silently resets keys set in the main file), so whoever configures
// containerd — the lab's node image today, kforge's installer later — must edit
// /etc/containerd/config.toml in place and restart containerd.
package containerdtoml
