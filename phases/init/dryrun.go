package initphases

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// dryRunState remembers where writes would really have gone while they go to a scratch copy.
type dryRunState struct {
	scratch           string
	realCertDir       string
	realKubeconfigDir string
}

// StartDryRun points the phases at a scratch copy of the certificate directory and of the
// kubeconfig files, so a dry run sees existing files (and reports conflicts with them) exactly
// as a real run would, while nothing under the real directories changes.
func (d *Data) StartDryRun() error {
	scratch, err := os.MkdirTemp("", "kforge-dryrun-")
	if err != nil {
		return fmt.Errorf("dry run: create scratch directory: %w", err)
	}
	st := &dryRunState{scratch: scratch, realCertDir: d.CertDir, realKubeconfigDir: d.KubeconfigDir}
	certCopy := filepath.Join(scratch, "pki")
	kcCopy := filepath.Join(scratch, "kubeconfig")
	if err := copyTree(d.CertDir, certCopy); err != nil {
		os.RemoveAll(scratch)
		return fmt.Errorf("dry run: copy %s: %w", d.CertDir, err)
	}
	if err := os.MkdirAll(kcCopy, 0o700); err != nil {
		os.RemoveAll(scratch)
		return fmt.Errorf("dry run: %w", err)
	}
	for _, f := range kubeconfigFiles() {
		if err := copyFile(filepath.Join(d.KubeconfigDir, f), filepath.Join(kcCopy, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(scratch)
			return fmt.Errorf("dry run: copy %s: %w", f, err)
		}
	}
	d.dryRun = st
	d.CertDir = certCopy
	d.KubeconfigDir = kcCopy
	fmt.Fprintln(d.Out, "[dryrun] Running in dry-run mode: nothing is written to the real directories")
	return nil
}

// FinishDryRun reports every file the run would have created or changed, under its real path,
// then removes the scratch copy. It is safe to call when no dry run was started.
func (d *Data) FinishDryRun() error {
	st := d.dryRun
	if st == nil {
		return nil
	}
	defer os.RemoveAll(st.scratch)
	var lines []string
	report := func(scratchDir, realDir string) error {
		return filepath.WalkDir(scratchDir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(scratchDir, path)
			realPath := filepath.Join(realDir, rel)
			newB, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			oldB, err := os.ReadFile(realPath)
			if err == nil && bytes.Equal(oldB, newB) {
				return nil
			}
			lines = append(lines, fmt.Sprintf("[dryrun] Would write file %q", realPath))
			return nil
		})
	}
	if err := report(filepath.Join(st.scratch, "pki"), st.realCertDir); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	if err := report(filepath.Join(st.scratch, "kubeconfig"), st.realKubeconfigDir); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(d.Out, l)
	}
	if len(lines) == 0 {
		fmt.Fprintln(d.Out, "[dryrun] No file would change")
	}
	d.CertDir, d.KubeconfigDir, d.dryRun = st.realCertDir, st.realKubeconfigDir, nil
	return nil
}

func copyTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, st.Mode().Perm())
}

// DiscardDryRun removes the scratch copy without reporting; for runs that failed. It does
// nothing when no dry run is in progress.
func (d *Data) DiscardDryRun() {
	if st := d.dryRun; st != nil {
		os.RemoveAll(st.scratch)
		d.CertDir, d.KubeconfigDir, d.dryRun = st.realCertDir, st.realKubeconfigDir, nil
	}
}
