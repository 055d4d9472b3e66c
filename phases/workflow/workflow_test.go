package workflow

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type rec struct{ ran []string }

func leaf(name string, fail error) Phase[*rec] {
	return Phase[*rec]{Name: name, Short: "do " + name, Flags: []string{"dir"}, Run: func(_ context.Context, r *rec) error {
		r.ran = append(r.ran, name)
		return fail
	}}
}

func testWorkflow(fail error) *Workflow[*rec] {
	return &Workflow[*rec]{Command: "init", Phases: []Phase[*rec]{
		leaf("preflight", nil),
		{Name: "certs", Short: "Certificate generation", Phases: []Phase[*rec]{leaf("ca", nil), leaf("apiserver", fail)}},
		{Name: "kubeconfig", Short: "Kubeconfigs", Phases: []Phase[*rec]{leaf("admin", nil)}},
		{Name: "never", Short: "skipped by RunIf", RunIf: func(*rec) (bool, error) { return false, nil }, Phases: []Phase[*rec]{leaf("x", nil)}},
	}}
}

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name    string
		skip    []string
		fail    error
		wantRan string
		wantErr string
	}{
		{name: "all", wantRan: "preflight,ca,apiserver,admin"},
		{name: "skip group", skip: []string{"certs"}, wantRan: "preflight,admin"},
		{name: "skip leaf", skip: []string{"certs/apiserver"}, wantRan: "preflight,ca,admin"},
		{name: "failure stops run", fail: boom, wantRan: "preflight,ca,apiserver", wantErr: "error execution phase certs/apiserver: boom"},
		{name: "unknown skip", skip: []string{"certz"}, wantErr: `init: unknown phase(s) "certz" in --skip-phases; known phases:`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &rec{}
			err := testWorkflow(tc.fail).Run(context.Background(), r, tc.skip)
			if got := strings.Join(r.ran, ","); got != tc.wantRan {
				t.Errorf("ran %q, want %q", got, tc.wantRan)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
			}
			if tc.fail != nil && !errors.Is(err, tc.fail) {
				t.Errorf("error does not unwrap to the phase's error")
			}
		})
	}
}

func TestListing(t *testing.T) {
	got := testWorkflow(nil).Listing()
	for _, want := range []string{
		`The "init" command executes the following phases:`,
		"preflight     do preflight\n",
		"certs         Certificate generation\n",
		"  /apiserver  do apiserver\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("listing lacks %q:\n%s", want, got)
		}
	}
}

func TestPhaseCommands(t *testing.T) {
	cases := []struct {
		args    []string
		wantRan string
	}{
		{[]string{"certs", "all", "--dir", "x"}, "ca,apiserver"},
		{[]string{"certs", "apiserver"}, "apiserver"},
		{[]string{"preflight"}, "preflight"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := &rec{}
			flags := pflag.NewFlagSet("init", pflag.ContinueOnError)
			dir := flags.String("dir", "", "a dir")
			w := testWorkflow(nil)
			cmd := w.PhaseCommand(flags, func(_ *cobra.Command, _ []string, run func(context.Context, *rec) error) error {
				return run(context.Background(), r)
			})
			cmd.SetArgs(tc.args)
			cmd.SetOut(&bytes.Buffer{})
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.ran, ","); got != tc.wantRan {
				t.Errorf("ran %q, want %q", got, tc.wantRan)
			}
			if len(tc.args) > 2 && *dir != "x" {
				t.Errorf("flag not bound: dir=%q", *dir)
			}
		})
	}
}
