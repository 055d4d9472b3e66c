package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"kforge.dev/kforge/lab/containerdtoml"
)

// DefaultSuite is the Debian release lab machines run.
const DefaultSuite = "bookworm"

// ImageConfig configures BuildImage.
type ImageConfig struct {
	// StateDir holds images under images/<recipe hash>/.
	StateDir string
	// Mirror is the Debian mirror URL; empty means the host's apt configuration.
	Mirror string
	// Force rebuilds the image even when one with the same recipe exists.
	Force bool
	// Out receives progress lines.
	Out io.Writer
}

// Image is a built node image.
type Image struct {
	Hash string
	// Root is the image's root filesystem, used read-only as every machine's overlay lower dir.
	Root string
	// Built is true when this call built the image, false when it was already cached.
	Built    bool
	Duration time.Duration
}

// ResolveRecipe returns the recipe BuildImage would build for cfg.
func ResolveRecipe(cfg ImageConfig) (Recipe, error) {
	mirror := cfg.Mirror
	if mirror == "" {
		m, err := DetectMirror("/", DefaultSuite)
		if err != nil {
			return Recipe{}, err
		}
		mirror = m
	}
	return DefaultRecipe(mirror, DefaultSuite, runtime.GOARCH)
}

// BuildImage builds the node image for the current recipe unless it is already cached.
func BuildImage(ctx context.Context, cfg ImageConfig) (*Image, error) {
	start := time.Now()
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	if err := requireRoot(); err != nil {
		return nil, err
	}
	recipe, err := ResolveRecipe(cfg)
	if err != nil {
		return nil, err
	}
	hash, err := recipe.Hash()
	if err != nil {
		return nil, err
	}
	imagesDir := paths{cfg.StateDir}.images()
	if err := os.MkdirAll(imagesDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: create image dir: %w", err)
	}
	unlock, err := lockFile(filepath.Join(imagesDir, ".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	final := filepath.Join(imagesDir, hash)
	img := &Image{Hash: hash, Root: filepath.Join(final, "rootfs")}
	if _, err := os.Stat(filepath.Join(img.Root, "etc/os-release")); err == nil && !cfg.Force {
		fmt.Fprintf(out, "[image] node image %s is up to date (%s)\n", hash[:12], img.Root)
		img.Duration = time.Since(start)
		return img, nil
	}
	if err := requireTool("debootstrap", "debootstrap"); err != nil {
		return nil, err
	}
	if err := requireTool("chroot", "coreutils"); err != nil {
		return nil, err
	}
	if busy, _ := imageInUse(cfg.StateDir, img.Root); busy != "" {
		return nil, fmt.Errorf("lab: image %s is in use by lab %q; run 'kforge lab down --name %s' before rebuilding it", hash[:12], busy, busy)
	}
	work := final + ".building"
	if err := os.RemoveAll(work); err != nil {
		return nil, fmt.Errorf("lab: remove stale image build %s: %w", work, err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("lab: create image build dir: %w", err)
	}
	logPath := filepath.Join(work, "build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("lab: create image build log: %w", err)
	}
	defer logFile.Close()
	b := &imageBuilder{recipe: recipe, root: filepath.Join(work, "rootfs"), log: logFile, logPath: logPath, out: out}
	if err := b.build(ctx); err != nil {
		return nil, err
	}
	if err := writeJSONFile(filepath.Join(work, "recipe.json"), recipe); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(final); err != nil {
		return nil, fmt.Errorf("lab: replace old image: %w", err)
	}
	if err := os.Rename(work, final); err != nil {
		return nil, fmt.Errorf("lab: install image: %w", err)
	}
	img.Built = true
	img.Duration = time.Since(start)
	fmt.Fprintf(out, "[image] built node image %s in %s (%s)\n", hash[:12], img.Duration.Round(time.Second), img.Root)
	return img, nil
}

// imageInUse returns the name of a lab whose state names root as its image.
func imageInUse(stateDir, root string) (string, error) {
	p := paths{stateDir}
	names, err := listLabs(p)
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if s, err := readState(p.stateFile(n)); err == nil && s.ImageRoot == root {
			return n, nil
		}
	}
	return "", nil
}

type imageBuilder struct {
	recipe  Recipe
	root    string
	log     io.Writer
	logPath string
	out     io.Writer
}

func (b *imageBuilder) build(ctx context.Context) error {
	r := b.recipe
	fmt.Fprintf(b.out, "[image] debootstrap %s from %s (a few minutes)\n", r.Suite, r.Mirror)
	if err := b.run(ctx, nil, "debootstrap", "--variant=minbase", "--arch="+r.Arch,
		"--include="+strings.Join(r.BasePackages, ","), r.Suite, b.root, r.Mirror); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "[image] apt-get install %s\n", strings.Join(r.ExtraPackages, " "))
	// Services must not start inside the chroot; policy-rc.d tells invoke-rc.d so.
	policy := filepath.Join(b.root, "usr/sbin/policy-rc.d")
	if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		return fmt.Errorf("lab: image: %w", err)
	}
	if err := copyFile("/etc/resolv.conf", filepath.Join(b.root, "etc/resolv.conf")); err != nil {
		return fmt.Errorf("lab: image: copy resolv.conf for apt: %w", err)
	}
	aptEnv := []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if err := b.run(ctx, aptEnv, "chroot", b.root, "apt-get", "update"); err != nil {
		return err
	}
	args := append([]string{b.root, "apt-get", "install", "-y", "--no-install-recommends"}, r.ExtraPackages...)
	if err := b.run(ctx, aptEnv, "chroot", args...); err != nil {
		return err
	}
	if err := b.run(ctx, aptEnv, "chroot", b.root, "apt-get", "clean"); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "[image] configuring containerd, cgroups, sshd and the pause image\n")
	return b.configure()
}

// configure writes the recipe's files and settings and removes what must differ per machine.
func (b *imageBuilder) configure() error {
	r := b.recipe
	for _, f := range r.Files {
		dst := filepath.Join(b.root, f.Path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("lab: image: %w", err)
		}
		_ = os.Remove(dst) // resolv.conf may be a symlink
		if err := os.WriteFile(dst, f.Data, f.Mode); err != nil {
			return fmt.Errorf("lab: image: write %s: %w", f.Path, err)
		}
	}
	links := make([]string, 0, len(r.Enable))
	for l := range r.Enable {
		links = append(links, l)
	}
	sort.Strings(links)
	for _, l := range links {
		dst := filepath.Join(b.root, l)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("lab: image: %w", err)
		}
		_ = os.Remove(dst)
		if err := os.Symlink(r.Enable[l], dst); err != nil {
			return fmt.Errorf("lab: image: enable %s: %w", l, err)
		}
	}
	cfgPath := filepath.Join(b.root, containerdConfig)
	doc, err := os.ReadFile(cfgPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab: image: read containerd config: %w", err)
	}
	doc, err = containerdtoml.Set(doc, r.Containerd)
	if err != nil {
		return fmt.Errorf("lab: image: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o755); err != nil {
		return fmt.Errorf("lab: image: %w", err)
	}
	if err := os.WriteFile(cfgPath, doc, 0o644); err != nil {
		return fmt.Errorf("lab: image: write containerd config: %w", err)
	}
	// containerd looks for CNI plugins in /opt/cni/bin; Debian installs them in /usr/lib/cni.
	if err := linkCNIPlugins(b.root); err != nil {
		return err
	}
	// Per-machine identity is written into each machine's overlay before its first boot.
	keys, _ := filepath.Glob(filepath.Join(b.root, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		if err := os.Remove(k); err != nil {
			return fmt.Errorf("lab: image: remove shared host key: %w", err)
		}
	}
	for _, f := range []string{"etc/hostname", "var/lib/dbus/machine-id", "usr/sbin/policy-rc.d"} {
		if err := os.Remove(filepath.Join(b.root, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("lab: image: remove %s: %w", f, err)
		}
	}
	if err := os.WriteFile(filepath.Join(b.root, "etc/machine-id"), nil, 0o444); err != nil {
		return fmt.Errorf("lab: image: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(b.root, "var/lib/apt/lists")); err != nil {
		return fmt.Errorf("lab: image: %w", err)
	}
	return os.MkdirAll(filepath.Join(b.root, "var/lib/apt/lists/partial"), 0o755)
}

func linkCNIPlugins(root string) error {
	plugins, _ := filepath.Glob(filepath.Join(root, "usr/lib/cni/*"))
	if len(plugins) == 0 {
		return fmt.Errorf("lab: image: no CNI plugins in /usr/lib/cni; is containernetworking-plugins in the recipe?")
	}
	dir := filepath.Join(root, "opt/cni/bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lab: image: %w", err)
	}
	for _, p := range plugins {
		name := filepath.Base(p)
		_ = os.Remove(filepath.Join(dir, name))
		if err := os.Symlink("/usr/lib/cni/"+name, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("lab: image: link CNI plugin %s: %w", name, err)
		}
	}
	return nil
}

// run runs a build command with its output in the build log; on failure the error carries the
// log's tail.
func (b *imageBuilder) run(ctx context.Context, env []string, name string, args ...string) error {
	fmt.Fprintf(b.log, "$ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = b.log, b.log
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lab: image: %s failed: %w; last lines of %s:\n%s", name, err, b.logPath, tailFile(b.logPath, 20))
	}
	return nil
}

// lockFile takes an exclusive flock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lab: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
