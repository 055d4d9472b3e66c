package workflow

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Phase is one step of a workflow. A phase with sub-phases runs its own Run (if any) and then
// each sub-phase in order; its path is the names joined with "/" ("certs/apiserver").
type Phase[D any] struct {
	// Name is the phase's command name, lowercase with dashes.
	Name string
	// Short is the one-line description shown in the workflow listing and in help.
	Short string
	// Long is the help text of the phase's own command; Short is used when empty.
	Long string
	// Example is shown in the phase command's help.
	Example string
	// Phases are the sub-phases, run in order after Run.
	Phases []Phase[D]
	// RunIf, when set, decides at run time whether the phase and its sub-phases run at all.
	RunIf func(D) (bool, error)
	// Run does the phase's work; nil for pure groups.
	Run func(context.Context, D) error
	// Flags names the flags, from the owning command's flag set, that the phase reads; its
	// `phase` subcommand offers exactly these (a group offers the union of its sub-phases').
	Flags []string
}

// Error reports which phase failed; it unwraps to the cause so exit codes survive.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("error execution phase %s: %v", e.Path, e.Err) }

// Unwrap returns the phase's own error.
func (e *Error) Unwrap() error { return e.Err }

// Workflow is a named tree of phases, e.g. the phases of "init".
type Workflow[D any] struct {
	// Command is the name of the command that runs the workflow ("init"), used in messages.
	Command string
	Phases  []Phase[D]
}

// Paths lists every phase path in run order ("certs", "certs/ca", ...).
func (w *Workflow[D]) Paths() []string {
	var out []string
	walk(w.Phases, "", func(path string, _ *Phase[D]) { out = append(out, path) })
	return out
}

func walk[D any](phases []Phase[D], prefix string, fn func(path string, p *Phase[D])) {
	for i := range phases {
		p := &phases[i]
		path := p.Name
		if prefix != "" {
			path = prefix + "/" + p.Name
		}
		fn(path, p)
		walk(p.Phases, path, fn)
	}
}

// ValidateSkip checks that every entry of skip names a phase, so a typo does not silently
// run a phase the user meant to skip.
func (w *Workflow[D]) ValidateSkip(skip []string) error {
	known := map[string]bool{}
	for _, p := range w.Paths() {
		known[p] = true
	}
	var bad []string
	for _, s := range skip {
		if !known[s] {
			bad = append(bad, s)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	paths := w.Paths()
	sort.Strings(paths)
	return fmt.Errorf("%s: unknown phase(s) %s in --skip-phases; known phases: %s",
		w.Command, strings.Join(quoteAll(bad), ", "), strings.Join(paths, ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// Run executes every phase in order, skipping the paths in skip (a skipped group skips its
// sub-phases too). It stops at the first failure and returns an *Error naming the phase.
func (w *Workflow[D]) Run(ctx context.Context, data D, skip []string) error {
	if err := w.ValidateSkip(skip); err != nil {
		return err
	}
	skipSet := map[string]bool{}
	for _, s := range skip {
		skipSet[s] = true
	}
	return runPhases(ctx, w.Phases, "", data, skipSet)
}

// RunPhase runs the phase at path and all of its sub-phases, ignoring skips; it backs the
// generated `phase` subcommands.
func (w *Workflow[D]) RunPhase(ctx context.Context, data D, path string) error {
	p := w.find(path)
	if p == nil {
		return fmt.Errorf("%s: no phase %q", w.Command, path)
	}
	prefix := ""
	if i := strings.LastIndex(path, "/"); i >= 0 {
		prefix = path[:i]
	}
	return runPhases(ctx, []Phase[D]{*p}, prefix, data, nil)
}

func (w *Workflow[D]) find(path string) *Phase[D] {
	var found *Phase[D]
	walk(w.Phases, "", func(p string, ph *Phase[D]) {
		if p == path {
			found = ph
		}
	})
	return found
}

func runPhases[D any](ctx context.Context, phases []Phase[D], prefix string, data D, skip map[string]bool) error {
	for i := range phases {
		p := &phases[i]
		path := p.Name
		if prefix != "" {
			path = prefix + "/" + p.Name
		}
		if skip[path] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return &Error{Path: path, Err: err}
		}
		if p.RunIf != nil {
			ok, err := p.RunIf(data)
			if err != nil {
				return &Error{Path: path, Err: err}
			}
			if !ok {
				continue
			}
		}
		if p.Run != nil {
			if err := p.Run(ctx, data); err != nil {
				return &Error{Path: path, Err: err}
			}
		}
		if err := runPhases(ctx, p.Phases, path, data, skip); err != nil {
			return err
		}
	}
	return nil
}

// Listing renders the workflow for a command's --help, one phase a line, sub-phases as "/name"
// indented under their group, as kubeadm prints it.
func (w *Workflow[D]) Listing() string {
	type row struct{ name, short string }
	var rows []row
	width := 0
	walk(w.Phases, "", func(path string, p *Phase[D]) {
		depth := strings.Count(path, "/")
		name := p.Name
		if depth > 0 {
			name = strings.Repeat("  ", depth) + "/" + p.Name
		}
		rows = append(rows, row{name, p.Short})
		if len(name) > width {
			width = len(name)
		}
	})
	var b strings.Builder
	fmt.Fprintf(&b, "The %q command executes the following phases:\n```\n", w.Command)
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s  %s\n", width, r.name, r.short)
	}
	b.WriteString("```\n")
	return b.String()
}
