package encryption

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzTransformFromStorage feeds arbitrary stored bytes to transformers with
// every provider type, with and without identity, and to the unconfigured
// transformer. Storage content is untrusted (a restored backup, a corrupted
// disk), so decoding must fail cleanly instead of panicking.
func FuzzTransformFromStorage(f *testing.F) {
	all := mustParse(f, header+`resources:
- resources: [secrets]
  providers:
  - aesgcm: {keys: [{name: g, secret: `+key32+`}, {name: g16, secret: `+key16+`}]}
  - aescbc: {keys: [{name: c, secret: `+key24+`}]}
  - secretbox: {keys: [{name: s, secret: `+key32+`}]}
  - identity: {}
- resources: [configmaps]
  providers:
  - aescbc: {keys: [{name: c, secret: `+key16+`}]}
`)
	transformers := []Transformer{
		all.TransformerFor("", "secrets"),
		all.TransformerFor("", "configmaps"),
		all.TransformerFor("", "pods"),
	}
	for _, tr := range transformers[:2] {
		for _, v := range []string{"", "x", strings.Repeat("v", 100)} {
			s, err := tr.TransformToStorage(ctx, []byte(v), []byte(etcdKey))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(s, []byte(etcdKey))
		}
	}
	for _, s := range []string{
		"", "k8s:enc:", "k8s:enc:aesgcm:v1:g:", "k8s:enc:aescbc:v1:c:" + strings.Repeat("\x00", 16),
		"k8s:enc:aescbc:v1:c:" + strings.Repeat("\x10", 32), "k8s:enc:secretbox:v1:s:" + strings.Repeat("\x00", 40),
		"k8s:enc:kms:v2:x:", "k8s:enc:aesgcm:v1:unknown:abc", `{"kind":"Secret"}`, "k8s\x00\x0a\x0b",
	} {
		f.Add([]byte(s), []byte(etcdKey))
	}

	f.Fuzz(func(t *testing.T, data, dataCtx []byte) {
		for _, tr := range transformers {
			out, stale, err := tr.TransformFromStorage(ctx, data, dataCtx)
			if err != nil {
				if out != nil || stale {
					t.Fatalf("error with output: out=%q stale=%v err=%v", out, stale, err)
				}
				continue
			}
			// Whatever decodes must re-encode and decode to the same value.
			s, err := tr.TransformToStorage(ctx, out, dataCtx)
			if err != nil {
				t.Fatal(err)
			}
			again, stale2, err := tr.TransformFromStorage(ctx, s, dataCtx)
			if err != nil || stale2 || !bytes.Equal(again, out) {
				t.Fatalf("re-encoded value: out=%q stale=%v err=%v, want %q", again, stale2, err, out)
			}
		}
	})
}

// FuzzParseConfig feeds arbitrary configuration files to ParseConfig, which
// must return an error or a usable Config, never panic.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"",
		"{}",
		header + "resources: [{resources: [secrets], providers: [{identity: {}}]}]",
		header + "resources: [{resources: [secrets, '*.apps'], providers: [{aesgcm: {keys: [{name: k, secret: " + key32 + "}]}}, {identity: {}}]}, {resources: ['*.*'], providers: [{secretbox: {keys: [{name: s, secret: " + key32 + "}]}}]}]",
		header + "resources: [{resources: [secrets], providers: [{kms: {name: x}}]}]",
		header + "resources: [{resources: [secrets], providers: [{aescbc: {keys: [{name: 'a:b', secret: " + key10 + "}]}}]}]",
		`{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration","resources":[{"resources":["*."],"providers":[{"identity":{}}]}]}`,
		"resources: &a [*a]",
		"- - - [",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			if cfg != nil {
				t.Fatal("non-nil Config with error")
			}
			return
		}
		_ = cfg.Summary()
		for _, gr := range [][2]string{{"", "secrets"}, {"apps", "deployments"}, {"x", "y"}} {
			tr := cfg.TransformerFor(gr[0], gr[1])
			s, err := tr.TransformToStorage(ctx, []byte("v"), []byte(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := tr.TransformFromStorage(ctx, s, []byte(etcdKey))
			if err != nil || string(out) != "v" {
				t.Fatalf("round trip: %q %v", out, err)
			}
		}
	})
}
