package lab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"

	"kforge.dev/kforge/lab/containerdtoml"
	"kforge.dev/kforge/lab/pauseimage"
)

// recipeVersion changes whenever the build steps change in a way the Recipe fields do not show.
const recipeVersion = 1

// Recipe is everything a node image is made from; its hash names the image, so an image is
// rebuilt exactly when its recipe changes.
type Recipe struct {
	Version int    `json:"version"`
	Suite   string `json:"suite"`
	Mirror  string `json:"mirror"`
	Arch    string `json:"arch"`
	// BasePackages are installed by debootstrap, ExtraPackages by apt-get in the new root.
	BasePackages  []string `json:"basePackages"`
	ExtraPackages []string `json:"extraPackages"`
	// Files are written into the image after the packages.
	Files []ImageFile `json:"files"`
	// Containerd are the keys set in /etc/containerd/config.toml, other keys being kept.
	Containerd []containerdtoml.Setting `json:"containerd"`
	// Enable are unit symlinks to create: link path -> target.
	Enable map[string]string `json:"enable"`
}

// ImageFile is a file the recipe writes into the image.
type ImageFile struct {
	Path string      `json:"path"`
	Mode fs.FileMode `json:"mode"`
	Data []byte      `json:"data"`
}

// Hash returns the hex SHA-256 of the recipe's canonical JSON encoding.
func (r Recipe) Hash() (string, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("lab: encode image recipe: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Paths inside the node image.
const (
	cgroupUnit       = "kforge-lab-cgroups.service"
	preloadDir       = "/usr/share/kforge-lab/preload"
	libexecDir       = "/usr/local/lib/kforge-lab"
	containerdConfig = "/etc/containerd/config.toml"
)

// cgroupScript works around systemd-nspawn mounting the cgroup v1 controllers read-only, which
// makes runc fail; a plain remount,rw reports "busy" for some controllers, so each controller is
// mounted afresh. It does nothing on a cgroup v2-only host.
const cgroupScript = `#!/bin/sh
# kforge lab: make the cgroup v1 controllers writable for containerd and runc (see lab-facts.md).
[ -e /sys/fs/cgroup/cgroup.controllers ] && exit 0
mount -o remount,rw /sys/fs/cgroup || exit 1
rc=0
for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
	umount -l /sys/fs/cgroup/$c 2>/dev/null
	mkdir -p /sys/fs/cgroup/$c
	mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c || rc=1
done
exit $rc
`

const cgroupUnitText = `[Unit]
Description=kforge lab: writable cgroup controllers for containerd
DefaultDependencies=no
Before=containerd.service
After=sys-fs-cgroup.mount

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=` + libexecDir + `/cgroups-rw

[Install]
WantedBy=multi-user.target
RequiredBy=containerd.service
`

// preloadScript imports the images baked into the node image once per data disk; it runs as
// containerd's ExecStartPost, so containerd is "active" only once the images are there.
const preloadScript = `#!/bin/sh
# kforge lab: import preloaded images (the pause image) into containerd's k8s.io namespace.
set -e
marker=/var/lib/containerd/.kforge-lab-preloaded
[ -e "$marker" ] && exit 0
for f in ` + preloadDir + `/*.tar; do
	[ -e "$f" ] || continue
	ctr -n k8s.io images import "$f"
done
touch "$marker"
`

const containerdDropIn = `[Unit]
Wants=` + cgroupUnit + `
After=` + cgroupUnit + `

[Service]
ExecStartPost=` + libexecDir + `/preload-images
`

const sshdConfig = `# kforge lab: each machine has its own ed25519 host key, written before its first boot.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
`

// DefaultRecipe returns the node image recipe for a Debian suite from mirror, for GOARCH arch.
func DefaultRecipe(mirror, suite, arch string) (Recipe, error) {
	var pause bytes.Buffer
	if err := pauseimage.WriteArchive(&pause, pauseimage.Ref, arch); err != nil {
		return Recipe{}, fmt.Errorf("lab: %w", err)
	}
	return Recipe{
		Version:      recipeVersion,
		Suite:        suite,
		Mirror:       mirror,
		Arch:         arch,
		BasePackages: []string{"systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2"},
		ExtraPackages: []string{
			"iptables", "containerd", "runc", "ca-certificates", "conntrack",
			"containernetworking-plugins", "procps",
		},
		Files: []ImageFile{
			{Path: libexecDir + "/cgroups-rw", Mode: 0o755, Data: []byte(cgroupScript)},
			{Path: "/etc/systemd/system/" + cgroupUnit, Mode: 0o644, Data: []byte(cgroupUnitText)},
			{Path: libexecDir + "/preload-images", Mode: 0o755, Data: []byte(preloadScript)},
			{Path: "/etc/systemd/system/containerd.service.d/kforge-lab.conf", Mode: 0o644, Data: []byte(containerdDropIn)},
			{Path: "/etc/ssh/sshd_config.d/kforge-lab.conf", Mode: 0o644, Data: []byte(sshdConfig)},
			{Path: preloadDir + "/pause.tar", Mode: 0o644, Data: pause.Bytes()},
			{Path: "/etc/resolv.conf", Mode: 0o644, Data: []byte("# kforge lab: machines have no DNS server; names of lab machines are in /etc/hosts\n")},
		},
		Containerd: []containerdtoml.Setting{
			// The sandbox lacks CAP_SYS_RESOURCE: the CRI plugin's oom_score_adj=-998 would kill runc init.
			{Path: []string{"plugins", containerdtoml.CRIPlugin, "restrict_oom_score_adj"}, Value: true},
			// Air-gapped: pod sandboxes use the preloaded pause image, nothing is pulled.
			{Path: []string{"plugins", containerdtoml.CRIPlugin, "sandbox_image"}, Value: pauseimage.Ref},
		},
		Enable: map[string]string{
			"/etc/systemd/system/multi-user.target.wants/" + cgroupUnit:     "/etc/systemd/system/" + cgroupUnit,
			"/etc/systemd/system/containerd.service.requires/" + cgroupUnit: "/etc/systemd/system/" + cgroupUnit,
		},
	}, nil
}
