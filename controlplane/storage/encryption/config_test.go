package encryption

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKey returns a base64 key of n bytes filled with b.
func testKey(b byte, n int) string {
	k := make([]byte, n)
	for i := range k {
		k[i] = b
	}
	return base64.StdEncoding.EncodeToString(k)
}

var (
	key16 = testKey(1, 16)
	key24 = testKey(2, 24)
	key32 = testKey(3, 32)
	key10 = testKey(4, 10)
)

const header = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"

func TestParseConfigValid(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"aesgcm yaml", header + `
resources:
- resources: [secrets]
  providers:
  - aesgcm:
      keys:
      - name: key1
        secret: ` + key32 + `
  - identity: {}
`},
		{"all providers and sizes", header + `
resources:
- resources: [secrets, configmaps]
  providers:
  - aesgcm: {keys: [{name: a, secret: ` + key16 + `}, {name: b, secret: ` + key24 + `}, {name: c, secret: ` + key32 + `}]}
  - aescbc: {keys: [{name: a, secret: ` + key16 + `}, {name: b, secret: ` + key24 + `}, {name: c, secret: ` + key32 + `}]}
  - secretbox: {keys: [{name: a, secret: ` + key32 + `}]}
  - identity: {}
- resources: ['*.apps', deployments.example.com]
  providers: [{identity: {}}]
- resources: ['*.']
  providers: [{identity: {}}]
- resources: ['*.*']
  providers: [{secretbox: {keys: [{name: all, secret: ` + key32 + `}]}}]
`},
		{"json", `{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration",
"resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"k","secret":"` + key32 + `"}]}}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseConfig([]byte(tt.data)); err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
		})
	}
}

func TestParseConfigInvalid(t *testing.T) {
	gcm := func(keys string) string {
		return header + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [" + keys + "]}\n"
	}
	tests := []struct {
		name string
		data string
		want []string // substrings that must all appear in the error
	}{
		{"empty file", "", []string{`apiVersion: must be "apiserver.config.k8s.io/v1", got ""`, "resources: at least one entry is required"}},
		{"not yaml", "{[", []string{"parsing EncryptionConfiguration as YAML or JSON"}},
		{"wrong kind", "apiVersion: apiserver.config.k8s.io/v1\nkind: Foo\nresources: [{resources: [secrets], providers: [{identity: {}}]}]",
			[]string{`kind: must be "EncryptionConfiguration", got "Foo"`}},
		{"old apiVersion", "apiVersion: apiserver.config.k8s.io/v1alpha1\nkind: EncryptionConfiguration\nresources: [{resources: [secrets], providers: [{identity: {}}]}]",
			[]string{`apiVersion: must be "apiserver.config.k8s.io/v1"`}},
		{"unknown field", header + "resources: [{resources: [secrets], providers: [{aesgcmm: {}}]}]",
			[]string{`unknown field "resources[0].providers[0].aesgcmm"`, "resources[0].providers[0]: must set exactly one of"}},
		{"duplicate yaml key", header + "resources: []\nresources: []", []string{"parsing EncryptionConfiguration"}},
		{"no resources in entry", header + "resources: [{resources: [], providers: [{identity: {}}]}]",
			[]string{"resources[0].resources: at least one resource is required"}},
		{"no providers", header + "resources: [{resources: [secrets], providers: []}]",
			[]string{"resources[0].providers: at least one provider is required"}},
		{"null identity", header + "resources: [{resources: [secrets], providers: [{identity: }]}]",
			[]string{`resources[0].providers[0]: must set exactly one of aesgcm, aescbc, secretbox or identity (write the identity provider as "identity: {}")`}},
		{"two providers in one element", header + "resources: [{resources: [secrets], providers: [{identity: {}, aescbc: {keys: [{name: k, secret: " + key32 + "}]}}]}]",
			[]string{"resources[0].providers[0]: sets aescbc and identity; each list element must hold exactly one provider"}},
		{"kms", header + "resources: [{resources: [secrets], providers: [{identity: {}}, {kms: {apiVersion: v2, name: x, endpoint: 'unix:///k.sock'}}]}]",
			[]string{"resources[0].providers[1].kms: kms providers are not supported by kforge; use aesgcm, aescbc or secretbox"}},
		{"aescbc short key", header + "resources: [{resources: [secrets], providers: [{identity: {}}, {aescbc: {keys: [{name: k, secret: " + key10 + "}]}}]}]",
			[]string{"resources[0].providers[1].aescbc.keys[0].secret: must be 16, 24 or 32 bytes after base64 decoding, got 10"}},
		{"aesgcm 33 byte key", gcm("{name: k, secret: " + testKey(5, 33) + "}"),
			[]string{"resources[0].providers[0].aesgcm.keys[0].secret: must be 16, 24 or 32 bytes after base64 decoding, got 33"}},
		{"secretbox 16 byte key", header + "resources: [{resources: [secrets], providers: [{secretbox: {keys: [{name: k, secret: " + key16 + "}]}}]}]",
			[]string{"resources[0].providers[0].secretbox.keys[0].secret: must be 32 bytes after base64 decoding, got 16"}},
		{"bad base64", gcm("{name: k, secret: 'not base64!'}"),
			[]string{"resources[0].providers[0].aesgcm.keys[0].secret: must be standard base64"}},
		{"missing secret", gcm("{name: k}"), []string{"resources[0].providers[0].aesgcm.keys[0].secret: a base64 encoded key is required"}},
		{"no keys", gcm(""), []string{"resources[0].providers[0].aesgcm.keys: at least one key is required"}},
		{"empty key name", gcm("{name: '', secret: " + key32 + "}"), []string{"resources[0].providers[0].aesgcm.keys[0].name: a key name is required"}},
		{"colon in key name", gcm("{name: 'a:b', secret: " + key32 + "}"), []string{`resources[0].providers[0].aesgcm.keys[0].name: "a:b" must not contain ':'`}},
		{"duplicate key name", gcm("{name: k, secret: " + key32 + "}, {name: k, secret: " + key16 + "}"),
			[]string{`resources[0].providers[0].aesgcm.keys[1].name: "k" is already used at resources[0].providers[0].aesgcm.keys[0]`}},
		{"duplicate key name across providers of one type", header + "resources: [{resources: [secrets], providers: [{aesgcm: {keys: [{name: k, secret: " + key32 + "}]}}, {aesgcm: {keys: [{name: k, secret: " + key16 + "}]}}]}]",
			[]string{`resources[0].providers[1].aesgcm.keys[0].name: "k" is already used at resources[0].providers[0].aesgcm.keys[0]`}},
		{"capital resource", header + "resources: [{resources: [Secrets], providers: [{identity: {}}]}]",
			[]string{`resources[0].resources[0]: "Secrets" must not contain capital letters`}},
		{"star resource", header + "resources: [{resources: ['*'], providers: [{identity: {}}]}]",
			[]string{`resources[0].resources[0]: "*" is not allowed; use '*.' to encrypt all resources of the core API group`}},
		{"resource across groups", header + "resources: [{resources: ['secrets.*'], providers: [{identity: {}}]}]",
			[]string{`resources[0].resources[0]: "secrets.*" is not allowed: encrypting the same resource across all groups`}},
		{"partial wildcard", header + "resources: [{resources: ['sec*'], providers: [{identity: {}}]}]",
			[]string{`"sec*" is not allowed: '*' must be the whole resource name`}},
		{"events.k8s.io", header + "resources: [{resources: [events.events.k8s.io], providers: [{identity: {}}]}]",
			[]string{"events.k8s.io objects are stored in the core group"}},
		{"extensions", header + "resources: [{resources: [ingresses.extensions], providers: [{identity: {}}]}]",
			[]string{"the extensions API group has been removed"}},
		{"no rest api", header + "resources: [{resources: [serviceipallocations], providers: [{identity: {}}]}]",
			[]string{"cannot be encrypted because it has no REST API"}},
		{"empty resource", header + "resources: [{resources: [''], providers: [{identity: {}}]}]",
			[]string{`resources[0].resources[0]: "" is empty`}},
		{"duplicate in one list", header + "resources: [{resources: [secrets, secrets], providers: [{identity: {}}]}]",
			[]string{`resources[0].resources[1]: "secrets" duplicates "secrets" at resources[0].resources[0]`}},
		{"overlap in one list", header + "resources: [{resources: [secrets, '*.'], providers: [{identity: {}}]}]",
			[]string{`resources[0].resources[1]: "*." overlaps "secrets" at resources[0].resources[0]`}},
		{"resource in two entries", header + "resources: [{resources: [secrets], providers: [{identity: {}}]}, {resources: [configmaps, secrets], providers: [{identity: {}}]}]",
			[]string{`resources[1].resources[1]: "secrets" is already listed at resources[0].resources[0]; a resource may appear in only one entry`}},
		{"masked by group wildcard", header + "resources: [{resources: ['*.apps'], providers: [{identity: {}}]}, {resources: [deployments.apps], providers: [{identity: {}}]}]",
			[]string{`resources[1].resources[0]: "deployments.apps" is masked by the earlier rule "*.apps" at resources[0].resources[0]`}},
		{"masked by core wildcard", header + "resources: [{resources: ['*.'], providers: [{identity: {}}]}, {resources: [secrets], providers: [{identity: {}}]}]",
			[]string{`"secrets" is masked by the earlier rule "*." at resources[0].resources[0]`}},
		{"masked by any", header + "resources: [{resources: ['*.*'], providers: [{identity: {}}]}, {resources: ['*.apps'], providers: [{identity: {}}]}]",
			[]string{`"*.apps" is masked by the earlier rule "*.*"`}},
		{"reports every problem", header + "resources: [{resources: [Secrets], providers: [{aescbc: {keys: [{name: k, secret: " + key10 + "}]}}, {kms: {}}]}]",
			[]string{"resources[0].resources[0]", "resources[0].providers[0].aescbc.keys[0].secret", "resources[0].providers[1].kms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tt.data))
			if err == nil {
				t.Fatalf("ParseConfig succeeded (%s), want error containing %q", cfg.Summary(), tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n  %v\ndoes not contain\n  %s", err, w)
				}
			}
			// Key material must never leak into errors.
			for _, k := range []string{key10, key16, key32} {
				if strings.Contains(err.Error(), k) {
					t.Errorf("error leaks key material: %v", err)
				}
			}
		})
	}
}

func TestConfigErrorType(t *testing.T) {
	_, err := ParseConfig([]byte(header + "resources: [{resources: [secrets], providers: [{kms: {}}]}]"))
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 {
		t.Fatalf("want *ConfigError with one problem, got %#v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "enc.yaml")
	if err := os.WriteFile(path, []byte(header+"resources: [{resources: [secrets], providers: [{secretbox: {keys: [{name: k, secret: "+key32+"}]}}]}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Summary(), `encryption at rest: [secrets] encrypted with secretbox key "k"; all other resources are stored as plaintext`; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}

	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "reading encryption provider config") {
		t.Errorf("missing file: got %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("kind: x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("invalid file: error should name the file, got %v", err)
	}
}

func TestSummary(t *testing.T) {
	var nilCfg *Config
	if got := nilCfg.Summary(); !strings.Contains(got, "disabled") {
		t.Errorf("nil Summary() = %q", got)
	}
	cfg, err := ParseConfig([]byte(header + `
resources:
- resources: [secrets, configmaps]
  providers:
  - aesgcm: {keys: [{name: new, secret: ` + key32 + `}, {name: old, secret: ` + key16 + `}]}
  - identity: {}
- resources: ['*.*']
  providers: [{identity: {}}, {aescbc: {keys: [{name: k, secret: ` + key32 + `}]}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := `encryption at rest: [secrets configmaps] encrypted with aesgcm key "new" (also reads aesgcm key "old", identity); [*.*] stored as plaintext (identity) (also reads aescbc key "k")`
	if got := cfg.Summary(); got != want {
		t.Errorf("Summary() =\n  %s\nwant\n  %s", got, want)
	}
	if strings.Contains(cfg.Summary(), key32) {
		t.Error("Summary leaks key material")
	}
}
