package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStartTime returns a process's start time (clock ticks since boot, field 22 of
// /proc/PID/stat); together with the PID it identifies a process across PID reuse.
func procStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it start after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	if fields[0] == "Z" {
		return 0, fmt.Errorf("process %d is a zombie", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// sameProcess reports whether pid is still the process that started at start.
func sameProcess(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	got, err := procStartTime(pid)
	return err == nil && got == start
}

func procArgs(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

// nspawnProcesses finds systemd-nspawn processes whose machine name (-M) starts with prefix.
func nspawnProcesses(prefix string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		args := procArgs(pid)
		if len(args) == 0 || filepath.Base(args[0]) != "systemd-nspawn" {
			continue
		}
		for i, a := range args {
			name := ""
			switch {
			case (a == "-M" || a == "--machine") && i+1 < len(args):
				name = args[i+1]
			case strings.HasPrefix(a, "--machine="):
				name = strings.TrimPrefix(a, "--machine=")
			}
			if name != "" && strings.HasPrefix(name, prefix) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// childPIDs returns the direct children of pid.
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// killPIDs sends SIGKILL to each pid and waits until they are gone or ctx ends. Killing a
// machine's init (PID 1 of its PID namespace) ends every process of the machine.
func killPIDs(ctx context.Context, pids []int) error {
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("lab: kill process %d: %w", pid, err)
		}
	}
	for {
		alive := 0
		for _, pid := range pids {
			if _, err := procStartTime(pid); err == nil {
				alive++
			}
		}
		if alive == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: %d processes did not exit after SIGKILL: %w", alive, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// killCgroups kills every process in the cgroup trees dirs until they stay empty.
func killCgroups(ctx context.Context, dirs []string) error {
	for {
		var pids []int
		for _, d := range dirs {
			pids = append(pids, cgroupPIDs(d)...)
		}
		if len(pids) == 0 {
			return nil
		}
		if err := killPIDs(ctx, pids); err != nil {
			return err
		}
	}
}
