package containerdtoml

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml"
)

// CRIPlugin is the table name of containerd's CRI plugin in a version 2 config.
const CRIPlugin = "io.containerd.grpc.v1.cri"

// Setting is one key to set: Path is the table path and key, e.g.
// {"plugins", CRIPlugin, "sandbox_image"}; Value is a string, bool, int64 or []string.
type Setting struct {
	Path  []string
	Value any
}

// Set applies settings to the config document doc (which may be empty) and returns the new
// document. Keys not named in settings are kept. A document without a version gets version = 2; a
// document of another version is refused, because plugin table names differ between versions.
func Set(doc []byte, settings []Setting) ([]byte, error) {
	tree, err := toml.LoadBytes(doc)
	if err != nil {
		return nil, fmt.Errorf("containerd config: parse: %w; fix the TOML syntax or move the file away", err)
	}
	switch v := tree.Get("version"); v {
	case nil:
		tree.Set("version", int64(2))
	case int64(2):
	default:
		return nil, fmt.Errorf("containerd config: version %v is not supported; convert it with 'containerd config migrate' to version 2", v)
	}
	for _, s := range settings {
		if len(s.Path) == 0 {
			return nil, fmt.Errorf("containerd config: empty key path")
		}
		// A scalar where a table is needed would make SetPath panic; refuse it instead.
		for i := 1; i < len(s.Path); i++ {
			cur := tree.GetPath(s.Path[:i])
			if cur == nil {
				break
			}
			if _, ok := cur.(*toml.Tree); !ok {
				return nil, fmt.Errorf("containerd config: %s is a value, not a table; remove it so %s can be set",
					strings.Join(s.Path[:i], "."), strings.Join(s.Path, "."))
			}
		}
		v := s.Value
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		if ss, ok := v.([]string); ok {
			arr := make([]any, len(ss))
			for i := range ss {
				arr[i] = ss[i]
			}
			v = arr
		}
		tree.SetPath(s.Path, v)
	}
	out, err := tree.ToTomlString()
	if err != nil {
		return nil, fmt.Errorf("containerd config: render: %w", err)
	}
	return []byte(out), nil
}

// Get returns the value at path in doc, or nil when it is not set.
func Get(doc []byte, path []string) (any, error) {
	tree, err := toml.LoadBytes(doc)
	if err != nil {
		return nil, fmt.Errorf("containerd config: parse: %w", err)
	}
	return tree.GetPath(path), nil
}
