package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// DefaultStateDir is where images and labs live when --state-dir is not given.
const DefaultStateDir = "/var/lib/kforge-lab"

// ErrNoLab is returned when the named lab has no state in the state directory.
var ErrNoLab = errors.New("lab not found")

// State is the record of one lab, written to state.json as each piece is made so Down can undo it.
type State struct {
	Name   string `json:"name"`
	Subnet string `json:"subnet"`
	// ImageRoot is the read-only node image every machine's overlay sits on.
	ImageRoot string `json:"imageRoot"`
	// SwitchNetns holds the LAN bridge; BastionNetns is the operator's namespace on the LAN.
	SwitchNetns    string         `json:"switchNetns"`
	BastionNetns   string         `json:"bastionNetns"`
	BastionAddress string         `json:"bastionAddress"`
	SSHUser        string         `json:"sshUser"`
	SSHKey         string         `json:"sshKey"`
	KnownHosts     string         `json:"knownHosts"`
	Inventory      string         `json:"inventory"`
	Machines       []MachineState `json:"machines"`
}

// MachineState is the record of one machine.
type MachineState struct {
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	Address string `json:"address"`
	// Netns is the machine's network namespace; SwitchLink its veth end on the LAN bridge.
	Netns      string `json:"netns"`
	SwitchLink string `json:"switchLink"`
	// NspawnName is the systemd-nspawn machine name (-M), unique on the host.
	NspawnName string `json:"nspawnName"`
	// PID and PIDStart (the process start time in clock ticks) identify the running
	// systemd-nspawn process; PID 0 means stopped.
	PID      int    `json:"pid"`
	PIDStart uint64 `json:"pidStart"`
	// Mounted is the overlay root mount point while it is mounted.
	Mounted string `json:"mounted,omitempty"`
	// Cgroups are the machine's cgroup directories, one per hierarchy.
	Cgroups []string `json:"cgroups,omitempty"`
}

// paths is the layout of a state directory.
type paths struct{ root string }

func (p paths) images() string            { return filepath.Join(p.root, "images") }
func (p paths) labs() string              { return filepath.Join(p.root, "labs") }
func (p paths) lab(name string) string    { return filepath.Join(p.labs(), name) }
func (p paths) stateFile(n string) string { return filepath.Join(p.lab(n), "state.json") }
func (p paths) sshDir(n string) string    { return filepath.Join(p.lab(n), "ssh") }
func (p paths) machine(lab, m string) string {
	return filepath.Join(p.lab(lab), "machines", m)
}
func (p paths) consoleLog(lab, m string) string {
	return filepath.Join(p.machine(lab, m), "console.log")
}

// netnsPrefix is the start of every network namespace name of a lab; dots cannot appear in lab
// or machine names, so one lab's prefix never matches another lab's namespaces.
func netnsPrefix(lab string) string { return "kforge." + lab + "." }

// recorder writes State to disk after every change; machines boot in parallel, so it locks.
type recorder struct {
	mu    sync.Mutex
	path  string
	state *State
}

// update applies fn to the state and writes it out atomically.
func (r *recorder) update(fn func(*State)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fn != nil {
		fn(r.state)
	}
	return writeState(r.path, r.state)
}

func (r *recorder) machine(name string, fn func(*MachineState)) error {
	return r.update(func(s *State) {
		for i := range s.Machines {
			if s.Machines[i].Name == name {
				fn(&s.Machines[i])
			}
		}
	})
}

func writeState(path string, s *State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("lab: encode state: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("lab: write state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("lab: write state: %w", err)
	}
	return nil
}

func readState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoLab
	}
	if err != nil {
		return nil, fmt.Errorf("lab: read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("lab: state file %s is damaged (%v); remove the lab with 'kforge lab down --name %s'", path, err, filepath.Base(filepath.Dir(path)))
	}
	return &s, nil
}

// listLabs returns the names of the labs that have a directory in the state dir.
func listLabs(p paths) ([]string, error) {
	entries, err := os.ReadDir(p.labs())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: list labs: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && ValidateLabName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func (s *State) machineByName(name string) (*MachineState, error) {
	for i := range s.Machines {
		if s.Machines[i].Name == name {
			return &s.Machines[i], nil
		}
	}
	var names []string
	for _, m := range s.Machines {
		names = append(names, m.Name)
	}
	return nil, fmt.Errorf("lab: lab %q has no machine %q; its machines are %v", s.Name, name, names)
}
