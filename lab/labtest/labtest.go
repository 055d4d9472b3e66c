package labtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Programs returns the packages BuildPrograms builds, by binary name.
func Programs() map[string]string {
	return map[string]string{
		"cricheck": "kforge.dev/kforge/lab/labtest/cricheck",
		"hello":    "kforge.dev/kforge/lab/labtest/hello",
	}
}

// BuildPrograms cross-compiles every program of Programs as a static linux/amd64 binary into dir
// and returns their paths by name. It needs the go command, so only tests call it.
func BuildPrograms(dir string) (map[string]string, error) {
	out := map[string]string{}
	for name, pkg := range Programs() {
		path := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", path, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("labtest: build %s: %v: %s", pkg, err, strings.TrimSpace(string(b)))
		}
		out[name] = path
	}
	return out, nil
}
