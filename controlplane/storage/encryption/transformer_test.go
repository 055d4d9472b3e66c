package encryption

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"
)

var ctx = context.Background()

const etcdKey = "/registry/secrets/default/db-password"

func mustParse(t testing.TB, data string) *Config {
	t.Helper()
	cfg, err := ParseConfig([]byte(data))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return cfg
}

// oneProvider builds a config encrypting secrets with a single key.
func oneProvider(provider, name, secret string) string {
	return fmt.Sprintf("%sresources: [{resources: [secrets], providers: [{%s: {keys: [{name: %s, secret: %s}]}}]}]", header, provider, name, secret)
}

func TestRoundTripEveryProviderAndKeySize(t *testing.T) {
	cases := []struct {
		provider string
		secret   string
	}{
		{"aesgcm", key16}, {"aesgcm", key24}, {"aesgcm", key32},
		{"aescbc", key16}, {"aescbc", key24}, {"aescbc", key32},
		{"secretbox", key32},
	}
	values := [][]byte{nil, []byte("x"), []byte("0123456789abcdef"), []byte(`{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}`), bytes.Repeat([]byte{0}, 1000)}
	for _, c := range cases {
		raw, _ := base64.StdEncoding.DecodeString(c.secret)
		t.Run(fmt.Sprintf("%s-%d", c.provider, len(raw)), func(t *testing.T) {
			tr := mustParse(t, oneProvider(c.provider, "key1", c.secret)).TransformerFor("", "secrets")
			for _, v := range values {
				stored, err := tr.TransformToStorage(ctx, v, []byte(etcdKey))
				if err != nil {
					t.Fatal(err)
				}
				prefix := "k8s:enc:" + c.provider + ":v1:key1:"
				if !bytes.HasPrefix(stored, []byte(prefix)) {
					t.Fatalf("stored value %q lacks prefix %q", stored, prefix)
				}
				if len(v) > 4 && bytes.Contains(stored, v) {
					t.Fatalf("plaintext visible in stored value")
				}
				out, stale, err := tr.TransformFromStorage(ctx, stored, []byte(etcdKey))
				if err != nil {
					t.Fatal(err)
				}
				if stale {
					t.Error("value written by the write key reported stale")
				}
				if !bytes.Equal(out, v) {
					t.Fatalf("round trip = %q, want %q", out, v)
				}
			}
			// Two writes of the same value differ (random nonce/IV).
			a, _ := tr.TransformToStorage(ctx, []byte("same"), []byte(etcdKey))
			b, _ := tr.TransformToStorage(ctx, []byte("same"), []byte(etcdKey))
			if bytes.Equal(a, b) {
				t.Error("two encryptions of the same value are identical")
			}
		})
	}
}

func TestWrongKeyFails(t *testing.T) {
	for _, p := range []string{"aesgcm", "aescbc", "secretbox"} {
		t.Run(p, func(t *testing.T) {
			w := mustParse(t, oneProvider(p, "key1", key32)).TransformerFor("", "secrets")
			r := mustParse(t, oneProvider(p, "key1", testKey(9, 32))).TransformerFor("", "secrets")
			// A one-block value could decrypt to valid padding by chance
			// under aescbc; a longer value makes that vanishingly unlikely.
			stored, err := w.TransformToStorage(ctx, bytes.Repeat([]byte("secret"), 10), []byte(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = r.TransformFromStorage(ctx, stored, []byte(etcdKey))
			if err == nil {
				t.Fatal("decryption with the wrong key succeeded")
			}
			if !strings.Contains(err.Error(), `with `+p+` key "key1"`) {
				t.Errorf("error should name the provider and key: %v", err)
			}
		})
	}
}

func TestAESGCMBindsEtcdKey(t *testing.T) {
	tr := mustParse(t, oneProvider("aesgcm", "k", key32)).TransformerFor("", "secrets")
	stored, _ := tr.TransformToStorage(ctx, []byte("v"), []byte(etcdKey))
	if _, _, err := tr.TransformFromStorage(ctx, stored, []byte("/registry/secrets/default/other")); err == nil {
		t.Fatal("aesgcm value decrypted under a different etcd key")
	}
	// aescbc and secretbox do not authenticate the key (kube-apiserver compatible).
	for _, p := range []string{"aescbc", "secretbox"} {
		tr := mustParse(t, oneProvider(p, "k", key32)).TransformerFor("", "secrets")
		stored, _ := tr.TransformToStorage(ctx, []byte("v"), []byte(etcdKey))
		if _, _, err := tr.TransformFromStorage(ctx, stored, []byte("/other")); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestRotation(t *testing.T) {
	k1, k2 := key32, testKey(7, 32)
	cfgA := mustParse(t, header+`resources: [{resources: [secrets], providers: [{aesgcm: {keys: [{name: key1, secret: `+k1+`}]}}]}]`)
	cfgB := mustParse(t, header+`resources: [{resources: [secrets], providers: [{aesgcm: {keys: [{name: key2, secret: `+k2+`}, {name: key1, secret: `+k1+`}]}}]}]`)
	cfgC := mustParse(t, header+`resources: [{resources: [secrets], providers: [{identity: {}}, {aescbc: {keys: [{name: key2, secret: `+k2+`}]}}]}]`)
	cfgCBC := mustParse(t, header+`resources: [{resources: [secrets], providers: [{aescbc: {keys: [{name: key2, secret: `+k2+`}]}}]}]`)
	plain := []byte(`{"kind":"Secret"}`)
	dc := []byte(etcdKey)

	// A writes with key1.
	a := cfgA.TransformerFor("", "secrets")
	s1, _ := a.TransformToStorage(ctx, plain, dc)

	// B reads key1 data as stale and rewrites with key2.
	b := cfgB.TransformerFor("", "secrets")
	out, stale, err := b.TransformFromStorage(ctx, s1, dc)
	if err != nil || !stale || !bytes.Equal(out, plain) {
		t.Fatalf("B reading key1 data: out=%q stale=%v err=%v, want plaintext, stale", out, stale, err)
	}
	s2, _ := b.TransformToStorage(ctx, out, dc)
	if !bytes.HasPrefix(s2, []byte("k8s:enc:aesgcm:v1:key2:")) {
		t.Fatalf("B rewrote with %q", s2[:24])
	}
	if _, stale, err := b.TransformFromStorage(ctx, s2, dc); err != nil || stale {
		t.Fatalf("B reading its own write: stale=%v err=%v", stale, err)
	}
	// A no longer knows the key of the rewritten value.
	if _, _, err := a.TransformFromStorage(ctx, s2, dc); err == nil || !strings.Contains(err.Error(), `aesgcm v1 key "key2", which is not configured`) {
		t.Fatalf("A reading key2 data: %v", err)
	}

	// C (identity first, aescbc second) decrypts aescbc data as stale and
	// writes plaintext: decryption back to identity.
	s3, _ := cfgCBC.TransformerFor("", "secrets").TransformToStorage(ctx, plain, dc)
	c := cfgC.TransformerFor("", "secrets")
	out, stale, err = c.TransformFromStorage(ctx, s3, dc)
	if err != nil || !stale || !bytes.Equal(out, plain) {
		t.Fatalf("C reading aescbc data: out=%q stale=%v err=%v", out, stale, err)
	}
	s4, _ := c.TransformToStorage(ctx, out, dc)
	if !bytes.Equal(s4, plain) {
		t.Fatalf("C wrote %q, want plaintext", s4)
	}
	if out, stale, err := c.TransformFromStorage(ctx, s4, dc); err != nil || stale || !bytes.Equal(out, plain) {
		t.Fatalf("C reading plaintext: out=%q stale=%v err=%v", out, stale, err)
	}
	// Data C wrote is plaintext, which B cannot read without identity.
	if _, _, err := b.TransformFromStorage(ctx, s4, dc); err == nil || !strings.Contains(err.Error(), "no matching prefix found") || !strings.Contains(err.Error(), "add the identity provider") {
		t.Fatalf("B reading plaintext: %v", err)
	}
}

func TestPlaintextReads(t *testing.T) {
	dc := []byte(etcdKey)
	plain := []byte(`{"kind":"Secret"}`)
	// identity listed after an encrypting provider: readable but stale.
	cfg := mustParse(t, header+`resources: [{resources: [secrets], providers: [{secretbox: {keys: [{name: k, secret: `+key32+`}]}}, {identity: {}}]}]`)
	out, stale, err := cfg.TransformerFor("", "secrets").TransformFromStorage(ctx, plain, dc)
	if err != nil || !stale || !bytes.Equal(out, plain) {
		t.Fatalf("out=%q stale=%v err=%v", out, stale, err)
	}
	// Unconfigured resource: plaintext passes, encrypted data is refused.
	other := cfg.TransformerFor("", "configmaps")
	if out, stale, err := other.TransformFromStorage(ctx, plain, dc); err != nil || stale || !bytes.Equal(out, plain) {
		t.Fatalf("unconfigured: out=%q stale=%v err=%v", out, stale, err)
	}
	enc, _ := cfg.TransformerFor("", "secrets").TransformToStorage(ctx, plain, dc)
	if _, _, err := other.TransformFromStorage(ctx, enc, dc); err == nil || !strings.Contains(err.Error(), `identity transformer tried to read encrypted data: the value was written with secretbox v1 key "k"`) {
		t.Fatalf("unconfigured reading encrypted: %v", err)
	}
	var nilCfg *Config
	if s, err := nilCfg.TransformerFor("", "secrets").TransformToStorage(ctx, plain, dc); err != nil || !bytes.Equal(s, plain) {
		t.Fatalf("nil config write: %q %v", s, err)
	}
}

func TestTransformerForPrecedence(t *testing.T) {
	cfg := mustParse(t, header+`
resources:
- resources: [secrets]
  providers: [{aesgcm: {keys: [{name: exact, secret: `+key32+`}]}}]
- resources: [deployments.apps]
  providers: [{aesgcm: {keys: [{name: deploy, secret: `+key32+`}]}}]
- resources: ['*.apps']
  providers: [{aesgcm: {keys: [{name: apps, secret: `+key32+`}]}}]
- resources: ['*.']
  providers: [{aesgcm: {keys: [{name: core, secret: `+key32+`}]}}]
- resources: ['*.*']
  providers: [{aesgcm: {keys: [{name: all, secret: `+key32+`}]}}]
`)
	for _, c := range []struct{ group, resource, key string }{
		{"", "secrets", "exact"},
		{"", "configmaps", "core"},
		{"apps", "deployments", "deploy"},
		{"apps", "statefulsets", "apps"},
		{"batch", "jobs", "all"},
	} {
		s, err := cfg.TransformerFor(c.group, c.resource).TransformToStorage(ctx, []byte("v"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := "k8s:enc:aesgcm:v1:" + c.key + ":"; !bytes.HasPrefix(s, []byte(want)) {
			t.Errorf("%s.%s written with %q, want prefix %q", c.resource, c.group, s[:len(want)], want)
		}
	}
}

func TestKeyNamePrefixesDoNotCollide(t *testing.T) {
	// "key1" must not match values written with "key10".
	w := mustParse(t, oneProvider("aesgcm", "key10", key32)).TransformerFor("", "secrets")
	r := mustParse(t, header+`resources: [{resources: [secrets], providers: [{aesgcm: {keys: [{name: key1, secret: `+key16+`}, {name: key10, secret: `+key32+`}]}}]}]`).TransformerFor("", "secrets")
	s, _ := w.TransformToStorage(ctx, []byte("v"), nil)
	out, stale, err := r.TransformFromStorage(ctx, s, nil)
	if err != nil || !stale || string(out) != "v" {
		t.Fatalf("out=%q stale=%v err=%v", out, stale, err)
	}
}

// countingReader yields 0, 1, 2, ... so that nonces and IVs are predictable.
type countingReader struct{ next byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

func sequence(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestKnownAnswer builds the exact bytes kube-apiserver stores for a fixed
// key, nonce/IV and etcd key directly with Go's crypto packages and checks
// that this package writes and reads exactly that layout.
func TestKnownAnswer(t *testing.T) {
	key := bytes.Repeat([]byte{0x42}, 32)
	b64 := base64.StdEncoding.EncodeToString(key)
	plain := []byte(`{"kind":"Secret","apiVersion":"v1"}`) // 35 bytes: padded to 48 under CBC
	ad := []byte(etcdKey)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}

	gcm, _ := cipher.NewGCM(block)
	nonce := sequence(12)
	wantGCM := append([]byte("k8s:enc:aesgcm:v1:kat:"), nonce...)
	wantGCM = gcm.Seal(wantGCM, nonce, plain, ad)

	iv := sequence(16)
	padded := append(append([]byte{}, plain...), bytes.Repeat([]byte{13}, 13)...)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	wantCBC := append(append([]byte("k8s:enc:aescbc:v1:kat:"), iv...), ct...)

	var sbKey [32]byte
	copy(sbKey[:], key)
	var sbNonce [24]byte
	copy(sbNonce[:], sequence(24))
	wantSB := append([]byte("k8s:enc:secretbox:v1:kat:"), sbNonce[:]...)
	wantSB = secretbox.Seal(wantSB, plain, &sbNonce, &sbKey)

	for _, c := range []struct {
		provider string
		want     []byte
	}{{"aesgcm", wantGCM}, {"aescbc", wantCBC}, {"secretbox", wantSB}} {
		t.Run(c.provider, func(t *testing.T) {
			cfg, err := parseConfig([]byte(oneProvider(c.provider, "kat", b64)), &countingReader{})
			if err != nil {
				t.Fatal(err)
			}
			tr := cfg.TransformerFor("", "secrets")
			got, err := tr.TransformToStorage(ctx, plain, ad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.want) {
				t.Fatalf("stored bytes\n got %x\nwant %x", got, c.want)
			}
			// And a value built independently decrypts (kube-apiserver -> kforge).
			out, stale, err := mustParse(t, oneProvider(c.provider, "kat", b64)).TransformerFor("", "secrets").TransformFromStorage(ctx, c.want, ad)
			if err != nil || stale || !bytes.Equal(out, plain) {
				t.Fatalf("out=%q stale=%v err=%v", out, stale, err)
			}
		})
	}
	if len(wantCBC) != len("k8s:enc:aescbc:v1:kat:")+16+48 {
		t.Fatalf("unexpected CBC layout length %d", len(wantCBC))
	}
}

func TestCorruptValues(t *testing.T) {
	cfg := mustParse(t, header+`resources: [{resources: [secrets], providers: [
  {aesgcm: {keys: [{name: g, secret: `+key32+`}]}},
  {aescbc: {keys: [{name: c, secret: `+key32+`}]}},
  {secretbox: {keys: [{name: s, secret: `+key32+`}]}}]}]`)
	tr := cfg.TransformerFor("", "secrets")
	for _, v := range []string{
		"k8s:enc:aesgcm:v1:g:",
		"k8s:enc:aesgcm:v1:g:short",
		"k8s:enc:aescbc:v1:c:",
		"k8s:enc:aescbc:v1:c:" + strings.Repeat("x", 16), // IV only
		"k8s:enc:aescbc:v1:c:" + strings.Repeat("x", 33), // not whole blocks
		"k8s:enc:aescbc:v1:c:" + strings.Repeat("x", 48), // bad padding (almost surely)
		"k8s:enc:secretbox:v1:s:" + strings.Repeat("x", 39),
		"k8s:enc:secretbox:v1:s:" + strings.Repeat("x", 80),
		"k8s:enc:",
		"k8s:enc:kms:v2:plugin:data",
		"plain",
		"",
	} {
		if out, _, err := tr.TransformFromStorage(ctx, []byte(v), nil); err == nil {
			t.Errorf("%q decoded to %q without error", v, out)
		}
	}
}
