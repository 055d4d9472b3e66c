package lab

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMachines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []MachineSpec
		wantErr string
	}{
		{
			name: "roles from names",
			in:   "cp1,cp2,cp3,w1,w2,lb1",
			want: []MachineSpec{
				{"cp1", RoleControlPlane}, {"cp2", RoleControlPlane}, {"cp3", RoleControlPlane},
				{"w1", RoleWorker}, {"w2", RoleWorker}, {"lb1", RoleLoadBalancer},
			},
		},
		{name: "etcd and explicit role", in: "etcd1, db1=worker", want: []MachineSpec{{"etcd1", RoleEtcd}, {"db1", RoleWorker}}},
		{name: "dash after prefix", in: "cp-a", want: []MachineSpec{{"cp-a", RoleControlPlane}}},
		{name: "unknown prefix", in: "db1", wantErr: "cannot tell the role"},
		{name: "word starting with w is not a worker", in: "web", wantErr: "cannot tell the role"},
		{name: "duplicate", in: "cp1,cp1", wantErr: "listed twice"},
		{name: "too long for an interface name", in: "cp1234567890abcd", wantErr: "at most 15"},
		{name: "upper case", in: "CP1", wantErr: "invalid machine name"},
		{name: "dots are separators", in: "cp.1", wantErr: "invalid machine name"},
		{name: "reserved", in: "bastion=worker", wantErr: "reserved"},
		{name: "unknown role", in: "x1=boss", wantErr: "unknown role"},
		{name: "empty", in: " , ", wantErr: "no machines"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMachines(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMachinesFromCounts(t *testing.T) {
	got, err := MachinesFromCounts(3, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Name+"="+string(m.Role))
	}
	want := "cp1=control-plane cp2=control-plane cp3=control-plane w1=worker w2=worker lb1=load-balancer"
	if strings.Join(names, " ") != want {
		t.Fatalf("got %s, want %s", strings.Join(names, " "), want)
	}
	if _, err := MachinesFromCounts(0, 0, false); err == nil {
		t.Error("no machines accepted")
	}
	if _, err := MachinesFromCounts(-1, 1, false); err == nil {
		t.Error("negative count accepted")
	}
}

func TestValidateLabName(t *testing.T) {
	for _, ok := range []string{"demo", "e2e", "a-b-1"} {
		if err := ValidateLabName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Demo", "a.b", "1lab", "a/b", strings.Repeat("a", 21)} {
		if err := ValidateLabName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSelectMachines(t *testing.T) {
	tests := []struct {
		name               string
		list               string
		cps, workers       int
		lb, counts         bool
		wantNames, wantErr string
	}{
		{name: "list", list: "cp1,w1", wantNames: "cp1,w1"},
		{name: "counts", cps: 3, workers: 2, lb: true, counts: true, wantNames: "cp1,cp2,cp3,w1,w2,lb1"},
		{name: "lb only", lb: true, counts: true, wantNames: "lb1"},
		{name: "both", list: "cp1", cps: 1, counts: true, wantErr: "not both"},
		{name: "neither", wantErr: "no machines given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SelectMachines(tc.list, tc.cps, tc.workers, tc.lb, tc.counts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			var names []string
			for _, m := range got {
				names = append(names, m.Name)
			}
			if err != nil || strings.Join(names, ",") != tc.wantNames {
				t.Fatalf("got %v, %v; want %s", names, err, tc.wantNames)
			}
		})
	}
}
