package encryption

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
)

// encryptedPrefix starts every value written by an encrypting provider. It
// is reserved: neither JSON ('{') nor Kubernetes protobuf ("k8s\x00") data
// can start with it, so it reliably tells encrypted from plaintext values.
const encryptedPrefix = "k8s:enc:"

// Transformer converts values between their API form and the bytes kept in
// storage. The storage layer calls it for every write and read of a resource
// so that encryption stays invisible to the rest of the control plane.
//
// dataCtx must be the full etcd key of the value (for example
// "/registry/secrets/default/db-password"), the same bytes kube-apiserver
// uses. The aesgcm provider binds the ciphertext to it as additional
// authenticated data, so a value copied to another key fails to decrypt;
// aescbc and secretbox ignore it, as in kube-apiserver.
type Transformer interface {
	// TransformToStorage returns the bytes to store for data, encrypted with
	// the write (first) provider of the resource.
	TransformToStorage(ctx context.Context, data []byte, dataCtx []byte) ([]byte, error)
	// TransformFromStorage returns the plaintext of stored bytes. stale is
	// true when the value was not read through the write provider and key,
	// meaning it should be rewritten to finish a key rotation or a change of
	// provider.
	TransformFromStorage(ctx context.Context, data []byte, dataCtx []byte) (out []byte, stale bool, err error)
}

// codec is one provider key: it turns plaintext into the payload stored
// after the prefix and back.
type codec interface {
	seal(plaintext, dataCtx []byte) ([]byte, error)
	open(payload, dataCtx []byte) ([]byte, error)
}

// prefixedCodec is one provider key together with the prefix that marks
// values it wrote. The identity provider has an empty prefix and no codec.
type prefixedCodec struct {
	prefix   []byte
	provider string
	key      string
	codec    codec
}

func (p prefixedCodec) describe() string {
	if p.codec == nil {
		return providerIdentity
	}
	return fmt.Sprintf("%s key %q", p.provider, p.key)
}

// prefixTransformer implements one resources entry: entries hold every key
// of every provider in file order, the first one being used for writes.
type prefixTransformer struct {
	scope   string
	entries []prefixedCodec
}

var _ Transformer = (*prefixTransformer)(nil)

// TransformToStorage encrypts with the first key of the first provider, or
// stores plaintext when that provider is identity.
func (t *prefixTransformer) TransformToStorage(_ context.Context, data []byte, dataCtx []byte) ([]byte, error) {
	w := t.entries[0]
	if w.codec == nil {
		return data, nil
	}
	payload, err := w.codec.seal(data, dataCtx)
	if err != nil {
		return nil, fmt.Errorf("encrypting value for %s with %s: %w", t.scope, w.describe(), err)
	}
	out := make([]byte, 0, len(w.prefix)+len(payload))
	out = append(out, w.prefix...)
	return append(out, payload...), nil
}

// TransformFromStorage finds the provider key whose prefix the value carries,
// trying identity for unprefixed values, in configuration order.
func (t *prefixTransformer) TransformFromStorage(_ context.Context, data []byte, dataCtx []byte) ([]byte, bool, error) {
	encrypted := bytes.HasPrefix(data, []byte(encryptedPrefix))
	for i, e := range t.entries {
		if e.codec == nil {
			// identity: matches every value, but must not hand out
			// ciphertext as if it were plaintext; a later provider may
			// still match.
			if encrypted {
				continue
			}
			return data, i != 0, nil
		}
		if !bytes.HasPrefix(data, e.prefix) {
			continue
		}
		out, err := e.codec.open(data[len(e.prefix):], dataCtx)
		if err != nil {
			return nil, false, fmt.Errorf("decrypting value for %s with %s: %w", t.scope, e.describe(), err)
		}
		return out, i != 0, nil
	}
	if !encrypted {
		return nil, false, fmt.Errorf("no matching prefix found for %s: the stored value is not encrypted and no identity provider is configured; add the identity provider (\"identity: {}\") as a later provider to read unencrypted data", t.scope)
	}
	return nil, false, fmt.Errorf("no matching prefix found for %s: the stored value was written with %s, which is not configured; add that key back to the provider list (remove old keys only after all data was rewritten with the new key)", t.scope, describeStored(data))
}

// identityTransformer is used for resources without encryption: it stores
// plaintext and refuses encrypted values, like kube-apiserver's
// encrypt-check identity transformer.
type identityTransformer struct{}

var _ Transformer = identityTransformer{}

// TransformToStorage stores data unchanged.
func (identityTransformer) TransformToStorage(_ context.Context, data []byte, _ []byte) ([]byte, error) {
	return data, nil
}

// TransformFromStorage returns plaintext unchanged and rejects encrypted values.
func (identityTransformer) TransformFromStorage(_ context.Context, data []byte, _ []byte) ([]byte, bool, error) {
	if bytes.HasPrefix(data, []byte(encryptedPrefix)) {
		return nil, false, fmt.Errorf("identity transformer tried to read encrypted data: the value was written with %s but encryption is not configured for this resource; start with the encryption provider config that holds that key", describeStored(data))
	}
	return data, false, nil
}

// describeStored names the provider and key recorded in the prefix of an
// encrypted value for error messages, quoting (and shortening) whatever the
// bytes hold since they come from storage.
func describeStored(data []byte) string {
	rest := data[len(encryptedPrefix):]
	fields := bytes.SplitN(rest, []byte(":"), 4)
	if len(fields) < 4 {
		return "an unrecognized encryption prefix " + quoteShort(data[:min(len(data), len(encryptedPrefix)+64)])
	}
	provider, version, key := fields[0], fields[1], fields[2]
	return fmt.Sprintf("%s %s key %s", plainOrQuoted(provider), plainOrQuoted(version), quoteShort(key))
}

// plainOrQuoted returns short lowercase alphanumeric words (provider names,
// versions) as they are and quotes anything else.
func plainOrQuoted(b []byte) string {
	if len(b) == 0 || len(b) > 16 {
		return quoteShort(b)
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return quoteShort(b)
		}
	}
	return string(b)
}

func quoteShort(b []byte) string {
	const limit = 64
	if len(b) > limit {
		return strconv.Quote(string(b[:limit])) + "..."
	}
	return strconv.Quote(string(b))
}

// errShort is returned when a stored value is too short for its provider's
// framing; it indicates corruption or truncation, not a wrong key.
var errShort = errors.New("stored value is shorter than the provider's nonce and overhead; it is truncated or corrupt")
