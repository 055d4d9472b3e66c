package lab

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDetectMirror(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			name: "deb822 with security and a foreign repo",
			files: map[string]string{
				"etc/apt/sources.list.d/google.list": "deb https://packages.example.com/apt cloud-sdk-bookworm main\n",
				"etc/apt/sources.list.d/debian.sources": `Types: deb
# a comment
URIs: http://mirror.example.org/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
URIs: http://mirror.example.org/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`,
			},
			want: "http://mirror.example.org/debian",
		},
		{
			name: "one-line with options",
			files: map[string]string{
				"etc/apt/sources.list": "# deb http://old.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main non-free\n",
			},
			want: "http://one.example/debian",
		},
		{
			name: "disabled stanza is skipped",
			files: map[string]string{
				"etc/apt/sources.list.d/a.sources": "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n\nTypes: deb\nURIs: http://on.example/debian\nSuites: bookworm\nComponents: main\n",
			},
			want: "http://on.example/debian",
		},
		{name: "none", files: map[string]string{"etc/apt/sources.list": "deb http://x.example/debian trixie main\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for p, data := range tc.files {
				full := filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := DetectMirror(root, "bookworm")
			if tc.want == "" {
				if err == nil {
					t.Fatalf("found %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("DetectMirror = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
