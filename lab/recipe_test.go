package lab

import (
	"testing"

	"kforge.dev/kforge/lab/containerdtoml"
	"kforge.dev/kforge/lab/pauseimage"
)

func TestRecipeHashChangesWithTheRecipe(t *testing.T) {
	base, err := DefaultRecipe("http://deb.example/debian", "bookworm", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	h0, err := base.Hash()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := DefaultRecipe("http://deb.example/debian", "bookworm", "amd64")
	if h, _ := again.Hash(); h != h0 {
		t.Fatalf("same recipe, different hash: %s vs %s", h, h0)
	}
	changes := map[string]func(*Recipe){
		"mirror":   func(r *Recipe) { r.Mirror = "http://other.example/debian" },
		"package":  func(r *Recipe) { r.ExtraPackages = append(r.ExtraPackages, "vim") },
		"file":     func(r *Recipe) { r.Files[0].Data = append([]byte(nil), "#!/bin/sh\n"...) },
		"mode":     func(r *Recipe) { r.Files[0].Mode = 0o700 },
		"setting":  func(r *Recipe) { r.Containerd[0].Value = false },
		"version":  func(r *Recipe) { r.Version++ },
		"unit":     func(r *Recipe) { r.Enable["/etc/x"] = "/y" },
		"base pkg": func(r *Recipe) { r.BasePackages = r.BasePackages[1:] },
	}
	for name, change := range changes {
		r, _ := DefaultRecipe("http://deb.example/debian", "bookworm", "amd64")
		change(&r)
		if h, _ := r.Hash(); h == h0 {
			t.Errorf("changing the %s kept hash %s", name, h0)
		}
	}
}

func TestDefaultRecipeCarriesTheLabFixes(t *testing.T) {
	r, err := DefaultRecipe("http://deb.example/debian", "bookworm", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]any{}
	for _, s := range r.Containerd {
		settings[s.Path[len(s.Path)-1]] = s.Value
		if s.Path[1] != containerdtoml.CRIPlugin {
			t.Errorf("setting %v is not in the CRI plugin table", s.Path)
		}
	}
	if settings["restrict_oom_score_adj"] != true {
		t.Error("restrict_oom_score_adj is not set")
	}
	if settings["sandbox_image"] != pauseimage.Ref {
		t.Errorf("sandbox_image = %v, want %s", settings["sandbox_image"], pauseimage.Ref)
	}
	files := map[string]bool{}
	for _, f := range r.Files {
		files[f.Path] = true
	}
	for _, want := range []string{"/etc/systemd/system/" + cgroupUnit, preloadDir + "/pause.tar", "/etc/systemd/system/containerd.service.d/kforge-lab.conf"} {
		if !files[want] {
			t.Errorf("recipe lacks %s", want)
		}
	}
	if _, err := DefaultRecipe("http://deb.example/debian", "bookworm", "arm64"); err == nil {
		t.Error("arm64 recipe built without a pause binary")
	}
}
