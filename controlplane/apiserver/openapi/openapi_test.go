package openapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestDocuments(t *testing.T) {
	kinds := []schema.GroupVersionKind{{Version: "v1", Kind: "Pod"}, {Group: "apps", Version: "v1", Kind: "Deployment"}}
	defs, err := Definitions(scheme.Scheme, kinds)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := defs["io.k8s.api.apps.v1.Deployment"]
	if !ok {
		t.Fatalf("no Deployment definition among %d", len(defs))
	}
	gvk, _ := d.Extensions[gvkExtension].([]any)
	if len(gvk) != 1 || gvk[0].(map[string]any)["kind"] != "Deployment" {
		t.Errorf("Deployment's %s: %v", gvkExtension, d.Extensions[gvkExtension])
	}
	if _, ok := defs["io.k8s.api.core.v1.PodSpec"]; !ok {
		t.Error("referenced definitions are missing")
	}
	m := http.NewServeMux()
	if err := Register(m, scheme.Scheme, []Resource{{GVK: kinds[0], Plural: "pods", Namespaced: true}, {GVK: kinds[1], Plural: "deployments", Namespaced: true}}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/openapi/v2", "/openapi/v3", "/openapi/v3/apis/apps/v1", "/openapi/v3/api/v1"} {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Deployment") && path != "/openapi/v3/api/v1" && path != "/openapi/v3" {
			t.Errorf("%s: %d %.200s", path, rec.Code, rec.Body.String())
		}
	}
}
