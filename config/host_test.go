package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectHost(t *testing.T) {
	h, err := DetectHost()
	if h.Hostname == "" || h.Hostname != strings.ToLower(h.Hostname) {
		t.Errorf("host name %q (%v) is empty or not lower case", h.Hostname, err)
	}
	if err == nil && (h.DefaultIP == nil || !h.DefaultIP.IsGlobalUnicast()) {
		t.Errorf("default IP %v is not a global unicast address", h.DefaultIP)
	}
}

func TestDefaultRouteInterface(t *testing.T) {
	tests := []struct{ name, table, want string }{
		{"default route", "Iface\tDestination\tGateway\tFlags\nlo\t0000007F\t00000000\t0001\neth9\t00000000\t0100000A\t0003\n", "eth9"},
		{"no default route", "Iface\tDestination\tGateway\tFlags\neth0\t0000000A\t00000000\t0001\n", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			route := filepath.Join(t.TempDir(), "route")
			if err := os.WriteFile(route, []byte(tc.table), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := defaultRouteInterface(route); got != tc.want {
				t.Errorf("default route interface %q, want %q", got, tc.want)
			}
		})
	}
	if got := defaultRouteInterface(filepath.Join(t.TempDir(), "absent")); got != "" {
		t.Errorf("absent route table gave %q", got)
	}
}
