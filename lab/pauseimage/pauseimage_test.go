package pauseimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestELFIsValidAndRuns(t *testing.T) {
	bin, err := ELF("amd64")
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("not an ELF file: %v", err)
	}
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC || f.Entry != baseAddr+headerSize {
		t.Fatalf("machine %v type %v entry %#x", f.Machine, f.Type, f.Entry)
	}
	if len(bin) > 256 {
		t.Errorf("pause binary is %d bytes, want at most 256", len(bin))
	}
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skip("runs only on linux/amd64")
	}
	path := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("pause exited with %v after SIGTERM, want status 0", err)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("pause did not exit on SIGTERM")
	}
}

func TestELFRefusesOtherArchitectures(t *testing.T) {
	if _, err := ELF("arm64"); err == nil {
		t.Fatal("arm64 accepted")
	}
}

func TestWriteArchiveIsDeterministicDockerArchive(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteArchive(&a, Ref, "amd64"); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(&b, Ref, "amd64"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives differ")
	}
	files := map[string][]byte{}
	tr := tar.NewReader(&a)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		files[h.Name] = data
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 1 || len(manifest[0].RepoTags) != 1 || manifest[0].RepoTags[0] != Ref {
		t.Fatalf("manifest = %+v", manifest)
	}
	if _, ok := files[manifest[0].Config]; !ok {
		t.Errorf("config %s missing", manifest[0].Config)
	}
	layer, ok := files[manifest[0].Layers[0]]
	if !ok {
		t.Fatalf("layer %s missing", manifest[0].Layers[0])
	}
	h, err := tar.NewReader(bytes.NewReader(layer)).Next()
	if err != nil || h.Name != "pause" || h.Mode != 0o755 {
		t.Fatalf("layer entry %+v, %v", h, err)
	}
}
