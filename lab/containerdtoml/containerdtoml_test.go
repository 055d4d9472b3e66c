package containerdtoml

import (
	"strings"
	"testing"
)

func TestSetKeepsForeignKeys(t *testing.T) {
	doc := []byte(`version = 2
root = "/var/lib/containerd"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    enable_selinux = false
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
`)
	out, err := Set(doc, []Setting{
		{Path: []string{"plugins", CRIPlugin, "restrict_oom_score_adj"}, Value: true},
		{Path: []string{"plugins", CRIPlugin, "sandbox_image"}, Value: "registry.kforge.dev/lab/pause:1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path []string
		want any
	}{
		{[]string{"version"}, int64(2)},
		{[]string{"root"}, "/var/lib/containerd"},
		{[]string{"plugins", CRIPlugin, "enable_selinux"}, false},
		{[]string{"plugins", CRIPlugin, "containerd", "snapshotter"}, "overlayfs"},
		{[]string{"plugins", CRIPlugin, "restrict_oom_score_adj"}, true},
		{[]string{"plugins", CRIPlugin, "sandbox_image"}, "registry.kforge.dev/lab/pause:1"},
	} {
		got, err := Get(out, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s = %#v, want %#v\n%s", strings.Join(tc.path, "."), got, tc.want, out)
		}
	}
	if !strings.Contains(string(out), `"io.containerd.grpc.v1.cri"`) {
		t.Errorf("plugin table name not quoted:\n%s", out)
	}
}

func TestSetEmptyDocumentGetsVersion2(t *testing.T) {
	out, err := Set(nil, []Setting{{Path: []string{"plugins", CRIPlugin, "restrict_oom_score_adj"}, Value: true}})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := Get(out, []string{"version"}); v != int64(2) {
		t.Fatalf("version = %#v, want 2\n%s", v, out)
	}
}

func TestSetRefusesVersion1AndScalarTables(t *testing.T) {
	if _, err := Set([]byte("version = 1\n"), nil); err == nil {
		t.Error("version 1 accepted")
	}
	_, err := Set([]byte("version = 2\nplugins = 3\n"), []Setting{{Path: []string{"plugins", CRIPlugin, "x"}, Value: true}})
	if err == nil || !strings.Contains(err.Error(), "not a table") {
		t.Errorf("err = %v, want a 'not a table' error", err)
	}
	if _, err := Set([]byte("version = [\n"), nil); err == nil {
		t.Error("broken TOML accepted")
	}
}
