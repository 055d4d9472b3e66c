package lab

import (
	"fmt"
	"regexp"
	"strings"
)

// Role is what a lab machine is meant to become in a cluster; the inventory carries it.
type Role string

// The roles a lab machine can have.
const (
	RoleControlPlane Role = "control-plane"
	RoleWorker       Role = "worker"
	RoleLoadBalancer Role = "load-balancer"
	RoleEtcd         Role = "etcd"
)

// rolePrefixes maps machine-name prefixes to roles, longest prefixes first.
func rolePrefixes() []struct {
	prefix string
	role   Role
} {
	return []struct {
		prefix string
		role   Role
	}{
		{"etcd", RoleEtcd},
		{"cp", RoleControlPlane},
		{"lb", RoleLoadBalancer},
		{"w", RoleWorker},
	}
}

// MachineSpec names one machine of a lab and its role.
type MachineSpec struct {
	Name string
	Role Role
}

// maxMachineName keeps the machine name usable as a network interface name on the LAN switch.
const maxMachineName = 15

var (
	machineNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	labNameRE     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
)

// ValidateLabName reports whether name can name a lab: lowercase letters, digits and dashes,
// starting with a letter, at most 20 characters (it is part of namespace and machine names).
func ValidateLabName(name string) error {
	if !labNameRE.MatchString(name) {
		return fmt.Errorf("lab: invalid lab name %q; use lowercase letters, digits and '-', starting with a letter, at most 20 characters", name)
	}
	return nil
}

func validateMachineName(name string) error {
	if len(name) > maxMachineName || !machineNameRE.MatchString(name) || strings.HasSuffix(name, "-") {
		return fmt.Errorf("lab: invalid machine name %q; use lowercase letters, digits and '-', starting with a letter, at most %d characters", name, maxMachineName)
	}
	if name == "bastion" {
		return fmt.Errorf("lab: machine name %q is reserved for the operator's namespace; pick another", name)
	}
	return nil
}

// ParseMachines parses a comma-separated machine list such as "cp1,cp2,cp3,w1,w2,lb1". A machine's
// role comes from its name prefix (cp: control-plane, w: worker, lb: load-balancer, etcd: etcd) or
// is given explicitly as "name=role", e.g. "db1=worker".
func ParseMachines(list string) ([]MachineSpec, error) {
	var specs []MachineSpec
	seen := map[string]bool{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, roleText, explicit := strings.Cut(item, "=")
		if err := validateMachineName(name); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("lab: machine %q is listed twice in --machines", name)
		}
		seen[name] = true
		var role Role
		if explicit {
			r, err := parseRole(roleText)
			if err != nil {
				return nil, err
			}
			role = r
		} else {
			role = roleFromName(name)
			if role == "" {
				return nil, fmt.Errorf("lab: cannot tell the role of machine %q from its name; name it cp*, w*, lb* or etcd*, or write %s=worker", name, name)
			}
		}
		specs = append(specs, MachineSpec{Name: name, Role: role})
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("lab: no machines given; pass --machines cp1,w1 or --control-planes/--workers")
	}
	return specs, nil
}

func parseRole(s string) (Role, error) {
	for _, r := range []Role{RoleControlPlane, RoleWorker, RoleLoadBalancer, RoleEtcd} {
		if s == string(r) {
			return r, nil
		}
	}
	return "", fmt.Errorf("lab: unknown role %q; use control-plane, worker, load-balancer or etcd", s)
}

func roleFromName(name string) Role {
	for _, p := range rolePrefixes() {
		rest, ok := strings.CutPrefix(name, p.prefix)
		if ok && (rest == "" || rest[0] >= '0' && rest[0] <= '9' || rest[0] == '-') {
			return p.role
		}
	}
	return ""
}

// MachinesFromCounts returns cp1..cpN, w1..wM and, when lb is set, lb1.
func MachinesFromCounts(controlPlanes, workers int, lb bool) ([]MachineSpec, error) {
	if controlPlanes < 0 || workers < 0 {
		return nil, fmt.Errorf("lab: machine counts must not be negative")
	}
	var specs []MachineSpec
	for i := 1; i <= controlPlanes; i++ {
		specs = append(specs, MachineSpec{Name: fmt.Sprintf("cp%d", i), Role: RoleControlPlane})
	}
	for i := 1; i <= workers; i++ {
		specs = append(specs, MachineSpec{Name: fmt.Sprintf("w%d", i), Role: RoleWorker})
	}
	if lb {
		specs = append(specs, MachineSpec{Name: "lb1", Role: RoleLoadBalancer})
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("lab: no machines given; pass --control-planes N, --workers N or --machines")
	}
	return specs, nil
}

// SelectMachines turns `lab up`'s flags into machines: either a --machines list or counts
// (countsGiven says whether --control-planes, --workers or --lb was set), never both.
func SelectMachines(list string, controlPlanes, workers int, lb, countsGiven bool) ([]MachineSpec, error) {
	switch {
	case list != "" && countsGiven:
		return nil, fmt.Errorf("lab: give either --machines or --control-planes/--workers/--lb, not both")
	case list != "":
		return ParseMachines(list)
	case countsGiven:
		return MachinesFromCounts(controlPlanes, workers, lb)
	default:
		return nil, fmt.Errorf("lab: no machines given; pass --machines cp1,cp2,cp3,w1,w2,lb1 or --control-planes 3 --workers 2 --lb")
	}
}
