package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// aptSource is one "deb" entry of the host's apt configuration.
type aptSource struct {
	URI        string
	Suites     []string
	Components []string
}

// parseOneLineSources reads the classic sources.list format: "deb [opts] uri suite comp...".
func parseOneLineSources(data []byte) []aptSource {
	var out []aptSource
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "deb" {
			continue
		}
		fields = fields[1:]
		if strings.HasPrefix(fields[0], "[") {
			for len(fields) > 0 && !strings.HasSuffix(fields[0], "]") {
				fields = fields[1:]
			}
			if len(fields) == 0 {
				continue
			}
			fields = fields[1:]
		}
		if len(fields) < 2 {
			continue
		}
		out = append(out, aptSource{URI: fields[0], Suites: []string{fields[1]}, Components: fields[2:]})
	}
	return out
}

// parseDeb822Sources reads the deb822 .sources format: stanzas of "Key: value" separated by blank lines.
func parseDeb822Sources(data []byte) []aptSource {
	var out []aptSource
	flush := func(st map[string]string) {
		if len(st) == 0 || !slices.Contains(strings.Fields(st["types"]), "deb") {
			return
		}
		if e := strings.ToLower(strings.TrimSpace(st["enabled"])); e == "no" || e == "false" {
			return
		}
		for _, uri := range strings.Fields(st["uris"]) {
			out = append(out, aptSource{URI: uri, Suites: strings.Fields(st["suites"]), Components: strings.Fields(st["components"])})
		}
	}
	st := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			flush(st)
			st, last = map[string]string{}, ""
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			st[last] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.ToLower(strings.TrimSpace(k))
		st[last] = strings.TrimSpace(v)
	}
	flush(st)
	return out
}

// pickMirror returns the URI of the first source that carries suite's main component.
func pickMirror(sources []aptSource, suite string) (string, bool) {
	for _, s := range sources {
		if slices.Contains(s.Suites, suite) && slices.Contains(s.Components, "main") {
			return strings.TrimSuffix(s.URI, "/"), true
		}
	}
	return "", false
}

// DetectMirror finds the Debian mirror for suite in the apt configuration under root ("/" on a host).
func DetectMirror(root, suite string) (string, error) {
	var sources []aptSource
	if data, err := os.ReadFile(filepath.Join(root, "etc/apt/sources.list")); err == nil {
		sources = append(sources, parseOneLineSources(data)...)
	}
	dir := filepath.Join(root, "etc/apt/sources.list.d")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(e.Name(), ".list"):
			sources = append(sources, parseOneLineSources(data)...)
		case strings.HasSuffix(e.Name(), ".sources"):
			sources = append(sources, parseDeb822Sources(data)...)
		}
	}
	if m, ok := pickMirror(sources, suite); ok {
		return m, nil
	}
	return "", fmt.Errorf("lab: no apt source for Debian %s main in %s; add one or pass --mirror URL", suite, filepath.Join(root, "etc/apt"))
}
