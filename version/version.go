// Package version holds the build identity stamped into the binary by the linker, so that
// `kforge version` and every component can say exactly which source they were built from.
package version

import (
	"fmt"
	"runtime"
)

// These are set with -ldflags "-X kforge.dev/kforge/version.gitVersion=..." by the Makefile;
// they are the one sanctioned package-level state because the linker can only write variables.
var (
	gitVersion = "v0.0.0-dev"
	gitCommit  = "unknown"
	buildDate  = "1970-01-01T00:00:00Z"
)

// Info is the build identity, shaped like Kubernetes' version.Info so tools reading JSON feel at home.
type Info struct {
	GitVersion string `json:"gitVersion"`
	GitCommit  string `json:"gitCommit"`
	BuildDate  string `json:"buildDate"`
	GoVersion  string `json:"goVersion"`
	Compiler   string `json:"compiler"`
	Platform   string `json:"platform"`
}

// Get returns the identity of the running binary.
func Get() Info {
	return Info{
		GitVersion: gitVersion,
		GitCommit:  gitCommit,
		BuildDate:  buildDate,
		GoVersion:  runtime.Version(),
		Compiler:   runtime.Compiler,
		Platform:   fmt.Sprintf("%s/%s", runtime.GOOS, runtime.GOARCH),
	}
}
