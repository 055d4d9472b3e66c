// Package app builds kforge's cobra command tree, renders errors for people and maps them to exit
// codes. Commands here only parse flags and call packages; Main is what main() and tests both run.
package app

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes, as kubeadm-style tools use them: scripts can tell a bad config from a failed check.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitPreflight = 2
	ExitConfig    = 3
)

// exitCoder is implemented by errors that know which exit code they deserve (config validation
// errors say 3, preflight failures 2); packages implement it without importing this one.
type exitCoder interface{ ExitCode() int }

// Streams are the standard streams a command writes to; tests pass buffers.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Main runs kforge with args (args[0] is the program name) and returns the process exit code.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	s := Streams{In: in, Out: out, ErrOut: errOut}
	root := NewRootCommand(s)
	if len(args) > 0 {
		args = args[1:]
	}
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(errOut, "error: %v\n", err)
	return exitCodeOf(err)
}

func exitCodeOf(err error) int {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitError
}

// NewRootCommand returns the kforge command tree writing to s.
func NewRootCommand(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "kforge",
		Short: "kforge bootstraps Kubernetes-compatible clusters with its own components",
		Long: `kforge is a kubeadm-style cluster bootstrapper that ships its own Kubernetes-compatible
components in this one binary.

Start with 'kforge init phase certs all' to lay down a cluster's PKI, and
'kforge config print init-defaults' to see the configuration it reads.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.CompletionOptions.DisableDefaultCmd = true
	for _, add := range commandBuilders {
		root.AddCommand(add(s))
	}
	return root
}

// commandBuilders lists the top-level commands in the order they appear in help. A command is
// added here only once it works; nothing half-built is shown to users.
var commandBuilders = []func(Streams) *cobra.Command{
	newInitCommand,
	newCertsCommand,
	newConfigCommand,
	newAPIServerCommand,
	newEtcdCommand,
	newLabCommand,
	newVersionCommand,
}
