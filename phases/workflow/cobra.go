package workflow

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Executor builds a command's data from its flags and arguments, calls run with it and then
// does whatever must follow (cleanup, dry-run reporting). The command layer supplies it, so
// this package never reads flags itself.
type Executor[D any] func(cmd *cobra.Command, args []string, run func(context.Context, D) error) error

// PhaseCommand returns the `phase` command of the workflow: one subcommand per phase, and an
// `all` subcommand on every group. Each offers the flags its phases name, taken from flags.
func (w *Workflow[D]) PhaseCommand(flags *pflag.FlagSet, exec Executor[D]) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "phase",
		Short: fmt.Sprintf("Use this command to invoke single phase of the %s workflow", w.Command),
		Args:  cobra.NoArgs,
	}
	for i := range w.Phases {
		cmd.AddCommand(w.phaseCommand(&w.Phases[i], w.Phases[i].Name, flags, exec))
	}
	return cmd
}

func (w *Workflow[D]) phaseCommand(p *Phase[D], path string, flags *pflag.FlagSet, exec Executor[D]) *cobra.Command {
	long := p.Long
	if long == "" {
		long = p.Short
	}
	cmd := &cobra.Command{
		Use:     p.Name,
		Short:   p.Short,
		Long:    long,
		Example: p.Example,
		Args:    cobra.NoArgs,
	}
	run := func(c *cobra.Command, args []string) error {
		return exec(c, args, func(ctx context.Context, d D) error { return w.RunPhase(ctx, d, path) })
	}
	if len(p.Phases) == 0 {
		cmd.RunE = run
		addFlags(cmd, flags, p.Flags)
		return cmd
	}
	all := &cobra.Command{
		Use:   "all",
		Short: fmt.Sprintf("Run all %s phases", p.Name),
		Args:  cobra.NoArgs,
		RunE:  run,
	}
	addFlags(all, flags, unionFlags(p))
	cmd.AddCommand(all)
	for i := range p.Phases {
		cmd.AddCommand(w.phaseCommand(&p.Phases[i], path+"/"+p.Phases[i].Name, flags, exec))
	}
	return cmd
}

func unionFlags[D any](p *Phase[D]) []string {
	set := map[string]bool{}
	var visit func(*Phase[D])
	visit = func(q *Phase[D]) {
		for _, f := range q.Flags {
			set[f] = true
		}
		for i := range q.Phases {
			visit(&q.Phases[i])
		}
	}
	visit(p)
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func addFlags(cmd *cobra.Command, from *pflag.FlagSet, names []string) {
	for _, n := range names {
		f := from.Lookup(n)
		if f == nil {
			// A phase naming a flag nobody defined is a programming error; fail loudly in tests.
			panic(fmt.Sprintf("workflow: phase command %q names undefined flag %q", cmd.Name(), n))
		}
		cmd.Flags().AddFlag(f)
	}
}
