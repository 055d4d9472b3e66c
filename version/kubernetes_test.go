package version

import (
	"os"
	"regexp"
	"testing"
)

func TestKubernetesAPILevelMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`k8s\.io/api v0\.(\d+)\.\d+`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod does not require k8s.io/api")
	}
	want := "v1." + string(m[1]) + ".0"
	if KubernetesAPILevel != want {
		t.Fatalf("KubernetesAPILevel = %s, but go.mod's k8s.io/api implies %s", KubernetesAPILevel, want)
	}
}
