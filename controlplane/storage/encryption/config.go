package encryption

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const (
	configAPIVersion = "apiserver.config.k8s.io/v1"
	configKind       = "EncryptionConfiguration"

	providerAESGCM    = "aesgcm"
	providerAESCBC    = "aescbc"
	providerSecretbox = "secretbox"
	providerIdentity  = "identity"
	providerKMS       = "kms"
)

// The on-disk shape of an EncryptionConfiguration. Field names and JSON tags
// follow apiserver.config.k8s.io/v1 so that kube-apiserver files load as-is.
type fileConfig struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Resources  []fileResource `json:"resources"`
}

type fileResource struct {
	Resources []string       `json:"resources"`
	Providers []fileProvider `json:"providers"`
}

type fileProvider struct {
	AESGCM    *fileKeys `json:"aesgcm,omitempty"`
	AESCBC    *fileKeys `json:"aescbc,omitempty"`
	Secretbox *fileKeys `json:"secretbox,omitempty"`
	Identity  *struct{} `json:"identity,omitempty"`
	// KMS is kept raw: it is only detected so that it can be rejected with a
	// helpful message instead of an "unknown field" error.
	KMS json.RawMessage `json:"kms,omitempty"`
}

type fileKeys struct {
	Keys []fileKey `json:"keys"`
}

type fileKey struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// ConfigError reports every problem found in an EncryptionConfiguration at
// once, so an operator can fix the whole file in one edit instead of
// restarting the server once per mistake. Each problem starts with the path
// of the offending field, e.g. "resources[0].providers[1].aescbc.keys[0].secret".
type ConfigError struct {
	// Problems holds one "field.path: what is wrong" message per problem,
	// in file order. Key material is never included.
	Problems []string
}

// Error implements error, joining all problems on one line so that the
// message fits a single log line.
func (e *ConfigError) Error() string {
	return "invalid EncryptionConfiguration (fix the listed fields): " + strings.Join(e.Problems, "; ")
}

// Config is a validated encryption configuration: for each configured
// resource it knows which provider writes new data and which providers may
// read existing data. A nil *Config is valid and means "no encryption at
// rest"; every resource then gets a transformer that stores plaintext.
type Config struct {
	rules  []*rule
	lookup map[schema.GroupResource]*rule
}

// rule is one entry of the top-level resources list.
type rule struct {
	index       int
	resources   []string
	transformer *prefixTransformer
}

// LoadConfig reads and validates the EncryptionConfiguration file at path,
// which is what the --encryption-provider-config flag points to. The error
// names the file so that start-up failures are easy to trace.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading encryption provider config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("encryption provider config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig validates an EncryptionConfiguration given as YAML or JSON and
// builds the transformers it describes. It applies kube-apiserver's
// validation rules (plus a few stricter ones that prevent ambiguous key
// prefixes), so a file accepted here is also accepted by kube-apiserver.
// Validation problems are returned together as a *ConfigError.
func ParseConfig(data []byte) (*Config, error) {
	return parseConfig(data, rand.Reader)
}

// parseConfig is ParseConfig with an explicit randomness source, which tests
// replace to obtain deterministic ciphertexts.
func parseConfig(data []byte, random io.Reader) (*Config, error) {
	jsonData, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("parsing EncryptionConfiguration as YAML or JSON: %w", err)
	}
	var fc fileConfig
	strictErrs, err := sigsjson.UnmarshalStrict(jsonData, &fc)
	if err != nil {
		return nil, fmt.Errorf("decoding EncryptionConfiguration: %w", err)
	}
	var problems []string
	for _, e := range strictErrs {
		problems = append(problems, e.Error()+" (check the spelling and indentation of the field)")
	}
	cfg, more := build(&fc, random)
	problems = append(problems, more...)
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// build validates fc and, when it is valid, returns the Config it describes.
func build(fc *fileConfig, random io.Reader) (*Config, []string) {
	var problems []string
	addf := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	if fc.APIVersion != configAPIVersion {
		addf("apiVersion: must be %q, got %q", configAPIVersion, fc.APIVersion)
	}
	if fc.Kind != configKind {
		addf("kind: must be %q, got %q", configKind, fc.Kind)
	}
	if len(fc.Resources) == 0 {
		addf("resources: at least one entry is required")
		return nil, problems
	}

	cfg := &Config{lookup: map[schema.GroupResource]*rule{}}
	// seenAt remembers where each group/resource was first listed, to reject
	// duplicates and rules masked by an earlier wildcard.
	seenAt := map[schema.GroupResource]string{}
	for i, entry := range fc.Resources {
		base := fmt.Sprintf("resources[%d]", i)
		r := &rule{index: i, resources: entry.Resources}

		// Resource names.
		if len(entry.Resources) == 0 {
			addf("%s.resources: at least one resource is required, e.g. secrets", base)
		}
		parsed := make([]schema.GroupResource, len(entry.Resources))
		valid := make([]bool, len(entry.Resources))
		for j, name := range entry.Resources {
			path := fmt.Sprintf("%s.resources[%d]", base, j)
			if msg := validateResourceName(name); msg != "" {
				addf("%s: %q %s", path, name, msg)
				continue
			}
			parsed[j] = schema.ParseGroupResource(name)
			valid[j] = true
		}
		for j := range parsed {
			if !valid[j] {
				continue
			}
			path := fmt.Sprintf("%s.resources[%d]", base, j)
			for k := 0; k < j; k++ {
				if !valid[k] {
					continue
				}
				if msg := overlap(parsed[k], parsed[j]); msg != "" {
					addf("%s: %q %s %q at %s.resources[%d]; %s", path, entry.Resources[j], msg, entry.Resources[k], base, k,
						"list each resource once and do not combine a wildcard with resources it already covers")
				}
			}
		}
		for j, gr := range parsed {
			if !valid[j] {
				continue
			}
			path := fmt.Sprintf("%s.resources[%d]", base, j)
			if prev, ok := seenAt[gr]; ok {
				if !strings.HasPrefix(prev, base+".") {
					addf("%s: %q is already listed at %s; a resource may appear in only one entry", path, entry.Resources[j], prev)
				}
				continue
			}
			for _, wildcard := range []schema.GroupResource{{Group: gr.Group, Resource: "*"}, {Group: "*", Resource: "*"}} {
				if prev, ok := seenAt[wildcard]; ok && !strings.HasPrefix(prev, base+".") {
					addf("%s: %q is masked by the earlier rule %q at %s; remove it or move it into an entry before that rule",
						path, entry.Resources[j], grString(wildcard), prev)
					break
				}
			}
		}
		for j, gr := range parsed {
			if !valid[j] {
				continue
			}
			if _, ok := seenAt[gr]; !ok {
				seenAt[gr] = fmt.Sprintf("%s.resources[%d]", base, j)
				cfg.lookup[gr] = r
			}
		}

		// Providers.
		if len(entry.Providers) == 0 {
			addf("%s.providers: at least one provider is required, e.g. aesgcm, aescbc, secretbox or identity", base)
		}
		pt := &prefixTransformer{scope: describeScope(i, entry.Resources)}
		keyNames := map[string]map[string]string{} // provider type -> key name -> path
		for j, p := range entry.Providers {
			path := fmt.Sprintf("%s.providers[%d]", base, j)
			var kinds []string
			if p.AESGCM != nil {
				kinds = append(kinds, providerAESGCM)
			}
			if p.AESCBC != nil {
				kinds = append(kinds, providerAESCBC)
			}
			if p.Secretbox != nil {
				kinds = append(kinds, providerSecretbox)
			}
			if p.Identity != nil {
				kinds = append(kinds, providerIdentity)
			}
			if len(p.KMS) > 0 {
				kinds = append(kinds, providerKMS)
			}
			switch {
			case len(kinds) == 0:
				addf("%s: must set exactly one of aesgcm, aescbc, secretbox or identity (write the identity provider as \"identity: {}\")", path)
				continue
			case len(kinds) > 1:
				addf("%s: sets %s; each list element must hold exactly one provider, split them into separate elements", path, strings.Join(kinds, " and "))
				continue
			}
			switch kind := kinds[0]; kind {
			case providerKMS:
				addf("%s.kms: kms providers are not supported by kforge; use aesgcm, aescbc or secretbox", path)
			case providerIdentity:
				pt.entries = append(pt.entries, prefixedCodec{provider: providerIdentity})
			default:
				keys := map[string]*fileKeys{providerAESGCM: p.AESGCM, providerAESCBC: p.AESCBC, providerSecretbox: p.Secretbox}[kind]
				if keyNames[kind] == nil {
					keyNames[kind] = map[string]string{}
				}
				entries, msgs := buildKeys(kind, keys.Keys, path+"."+kind+".keys", keyNames[kind], random)
				problems = append(problems, msgs...)
				pt.entries = append(pt.entries, entries...)
			}
		}
		r.transformer = pt
		cfg.rules = append(cfg.rules, r)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return cfg, nil
}

// buildKeys validates the keys of one aesgcm, aescbc or secretbox provider
// and returns one prefixed codec per key, in file order. seen holds the key
// names already used by providers of the same type in the same entry: a
// repeated name would give two keys the same storage prefix.
func buildKeys(kind string, keys []fileKey, path string, seen map[string]string, random io.Reader) ([]prefixedCodec, []string) {
	var problems []string
	addf := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if len(keys) == 0 {
		addf("%s: at least one key is required", path)
		return nil, problems
	}
	var out []prefixedCodec
	for i, k := range keys {
		kpath := fmt.Sprintf("%s[%d]", path, i)
		nameOK := true
		switch {
		case k.Name == "":
			addf("%s.name: a key name is required; it is stored in front of every value to find the key again", kpath)
			nameOK = false
		case strings.Contains(k.Name, ":"):
			addf("%s.name: %q must not contain ':', which separates the key name from the ciphertext", kpath, k.Name)
			nameOK = false
		default:
			if prev, dup := seen[k.Name]; dup {
				addf("%s.name: %q is already used at %s; %s key names must be unique within an entry", kpath, k.Name, prev, kind)
				nameOK = false
			} else {
				seen[k.Name] = kpath
			}
		}
		if k.Secret == "" {
			addf("%s.secret: a base64 encoded key is required", kpath)
			continue
		}
		secret, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			// Do not echo the secret or the decoder's error, which quotes
			// part of the input.
			addf("%s.secret: must be standard base64 (for example the output of \"head -c 32 /dev/urandom | base64\")", kpath)
			continue
		}
		var c codec
		switch kind {
		case providerAESGCM, providerAESCBC:
			if n := len(secret); n != 16 && n != 24 && n != 32 {
				addf("%s.secret: must be 16, 24 or 32 bytes after base64 decoding, got %d", kpath, n)
				continue
			}
			if kind == providerAESGCM {
				c, err = newGCM(secret, random)
			} else {
				c, err = newCBC(secret, random)
			}
			if err != nil {
				addf("%s.secret: %v", kpath, err)
				continue
			}
		case providerSecretbox:
			if n := len(secret); n != 32 {
				addf("%s.secret: must be 32 bytes after base64 decoding, got %d", kpath, n)
				continue
			}
			c = newSecretbox(secret, random)
		}
		if !nameOK {
			continue
		}
		out = append(out, prefixedCodec{
			prefix:   []byte(encryptedPrefix + kind + ":v1:" + k.Name + ":"),
			provider: kind,
			key:      k.Name,
			codec:    c,
		})
	}
	return out, problems
}

// validateResourceName returns why name cannot be used as an entry of a
// resources list, or "" when it can. The rules follow kube-apiserver.
func validateResourceName(name string) string {
	if name == "" {
		return "is empty; use a resource name such as secrets, deployments.apps, *.apps or *.*"
	}
	if strings.ToLower(name) != name {
		return "must not contain capital letters; resource names are lowercase plurals such as secrets"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '*') {
			return fmt.Sprintf("contains %q; use resource names such as secrets, deployments.apps, *.apps or *.*", r)
		}
	}
	if name == "*" {
		return "is not allowed; use '*.' to encrypt all resources of the core API group or '*.*' to encrypt all resources"
	}
	switch name {
	case "apiserveripinfo", "serviceipallocations", "servicenodeportallocations":
		return "cannot be encrypted because it has no REST API"
	}
	gr := schema.ParseGroupResource(name)
	switch {
	case gr.Resource == "":
		return "has no resource name before the group; write <resource>.<group>, e.g. deployments.apps"
	case gr.Group == "events.k8s.io":
		return "cannot be used: events.k8s.io objects are stored in the core group; use 'events' instead"
	case gr.Group == "extensions":
		return "cannot be used: the extensions API group has been removed"
	case gr.Group == "*" && gr.Resource != "*":
		return "is not allowed: encrypting the same resource across all groups is not supported; name the group, e.g. deployments.apps"
	case strings.Contains(gr.Resource, "*") && gr.Resource != "*":
		return "is not allowed: '*' must be the whole resource name, as in *.apps"
	case strings.Contains(gr.Group, "*") && gr.Group != "*":
		return "is not allowed: '*' must be the whole group name, as in *.*"
	}
	return ""
}

// overlap reports whether two entries of the same resources list cover the
// same resources ("" when they do not), as kube-apiserver rejects both.
func overlap(a, b schema.GroupResource) string {
	anyAny := schema.GroupResource{Group: "*", Resource: "*"}
	switch {
	case a == b:
		return "duplicates"
	case a == anyAny || b == anyAny:
		return "overlaps"
	case a.Group == b.Group && (a.Resource == "*" || b.Resource == "*"):
		return "overlaps"
	}
	return ""
}

// grString formats a group/resource the way it is written in the file.
func grString(gr schema.GroupResource) string {
	if gr.Group == "" && gr.Resource == "*" {
		return "*."
	}
	return gr.String()
}

func describeScope(index int, resources []string) string {
	return fmt.Sprintf("resources[%d] (%s)", index, strings.Join(resources, ", "))
}

// TransformerFor returns the transformer to use for objects of the given API
// group ("" for the core group) and resource (lowercase plural, e.g.
// "secrets"). The most specific rule wins: "secrets" before "*." before
// "*.*", exactly like kube-apiserver. Resources that no rule covers, and all
// resources of a nil Config, get a plaintext transformer that refuses to
// return encrypted bytes, so a missing key produces an error instead of
// garbage.
func (c *Config) TransformerFor(group, resource string) Transformer {
	if c != nil {
		for _, gr := range []schema.GroupResource{
			{Group: group, Resource: resource},
			{Group: group, Resource: "*"},
			{Group: "*", Resource: "*"},
		} {
			if r, ok := c.lookup[gr]; ok {
				return r.transformer
			}
		}
	}
	return identityTransformer{}
}

// Summary describes, in one line without any key material, which resources
// are encrypted with which provider and key, for the start-up log. It helps
// operators confirm that a rotation step took effect.
func (c *Config) Summary() string {
	if c == nil || len(c.rules) == 0 {
		return "encryption at rest disabled: all resources are stored as plaintext"
	}
	var parts []string
	for _, r := range c.rules {
		entries := r.transformer.entries
		write := entries[0]
		var s string
		if write.codec == nil {
			s = fmt.Sprintf("[%s] stored as plaintext (identity)", strings.Join(r.resources, " "))
		} else {
			s = fmt.Sprintf("[%s] encrypted with %s", strings.Join(r.resources, " "), write.describe())
		}
		if len(entries) > 1 {
			var reads []string
			for _, e := range entries[1:] {
				reads = append(reads, e.describe())
			}
			s += " (also reads " + strings.Join(reads, ", ") + ")"
		}
		parts = append(parts, s)
	}
	s := "encryption at rest: " + strings.Join(parts, "; ")
	if _, all := c.lookup[schema.GroupResource{Group: "*", Resource: "*"}]; !all {
		s += "; all other resources are stored as plaintext"
	}
	return s
}
