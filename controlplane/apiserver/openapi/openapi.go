// Package openapi serves the OpenAPI documents kubectl needs for apply (validation and patch
// strategies), edit and explain: /openapi/v2 and /openapi/v3, built from the generated
// definitions of the k8s.io/api types and tagged with the group/version/kind of each served
// kind, as kube-apiserver tags them.
package openapi

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"kforge.dev/kforge/controlplane/apiserver/openapi/generated"
)

// gvkExtension is the extension naming the kinds a definition is served as.
const gvkExtension = "x-kubernetes-group-version-kind"

// modelNamer is implemented by the k8s.io/api types: their OpenAPI definition name.
type modelNamer interface{ OpenAPIModelName() string }

// ModelName is the OpenAPI definition name of obj's type (io.k8s.api.core.v1.Pod).
func ModelName(obj runtime.Object) (string, error) {
	n, ok := obj.(modelNamer)
	if !ok {
		v := reflect.ValueOf(obj)
		if v.Kind() == reflect.Pointer {
			if n2, ok2 := v.Elem().Interface().(modelNamer); ok2 {
				return n2.OpenAPIModelName(), nil
			}
		}
		return "", fmt.Errorf("openapi: %T has no OpenAPI model name", obj)
	}
	return n.OpenAPIModelName(), nil
}

// kindsByModel maps definition names to every group/version/kind the scheme serves them as.
func kindsByModel(scheme *runtime.Scheme) map[string][]schema.GroupVersionKind {
	out := map[string][]schema.GroupVersionKind{}
	for gvk, t := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		obj, ok := reflect.New(t).Interface().(runtime.Object)
		if !ok {
			continue
		}
		name, err := ModelName(obj)
		if err != nil {
			continue
		}
		out[name] = append(out[name], gvk)
	}
	for _, gvks := range out {
		sort.Slice(gvks, func(i, j int) bool { return gvks[i].String() < gvks[j].String() })
	}
	return out
}

func namer(kinds map[string][]schema.GroupVersionKind) func(string) (string, spec.Extensions) {
	return func(name string) (string, spec.Extensions) {
		gvks, ok := kinds[name]
		if !ok {
			return name, nil
		}
		var list []any
		for _, g := range gvks {
			list = append(list, map[string]any{"group": g.Group, "version": g.Version, "kind": g.Kind})
		}
		return name, spec.Extensions{gvkExtension: list}
	}
}

// Definitions are the OpenAPI definitions of the given kinds and everything they refer to,
// keyed by definition name and tagged with their group/version/kind. Server-side apply builds
// its type information from them.
func Definitions(scheme *runtime.Scheme, gvks []schema.GroupVersionKind) (map[string]*spec.Schema, error) {
	sw, err := buildV2(scheme, gvks)
	if err != nil {
		return nil, err
	}
	out := map[string]*spec.Schema{}
	for name, s := range sw.Definitions {
		s := s
		out[name] = &s
	}
	return out, nil
}

func modelNames(scheme *runtime.Scheme, gvks []schema.GroupVersionKind) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, gvk := range gvks {
		for _, k := range []schema.GroupVersionKind{gvk, gvk.GroupVersion().WithKind(gvk.Kind + "List")} {
			obj, err := scheme.New(k)
			if err != nil {
				continue
			}
			name, err := ModelName(obj)
			if err != nil {
				return nil, err
			}
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	// The meta types every API returns.
	for _, extra := range []string{"io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
		"io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"} {
		if !seen[extra] {
			names = append(names, extra)
		}
	}
	sort.Strings(names)
	return names, nil
}

func buildV2(scheme *runtime.Scheme, gvks []schema.GroupVersionKind) (*spec.Swagger, error) {
	names, err := modelNames(scheme, gvks)
	if err != nil {
		return nil, err
	}
	cfg := &common.Config{
		Info:              &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "v1"}},
		GetDefinitions:    generated.GetOpenAPIDefinitions,
		GetDefinitionName: namer(kindsByModel(scheme)),
	}
	sw, err := builder.BuildOpenAPIDefinitionsForResources(cfg, names...)
	if err != nil {
		return nil, fmt.Errorf("openapi v2: %w", err)
	}
	sw.Swagger = "2.0"
	return sw, nil
}

func buildV3(scheme *runtime.Scheme, res []Resource) (*spec3.OpenAPI, error) {
	var gvks []schema.GroupVersionKind
	for _, r := range res {
		gvks = append(gvks, r.GVK)
	}
	names, err := modelNames(scheme, gvks)
	if err != nil {
		return nil, err
	}
	cfg := &common.OpenAPIV3Config{
		Info:              &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "v1"}},
		GetDefinitions:    generated.GetOpenAPIDefinitions,
		GetDefinitionName: namer(kindsByModel(scheme)),
	}
	defs, err := builder3.BuildOpenAPIDefinitionsForResources(cfg, names...)
	if err != nil {
		return nil, fmt.Errorf("openapi v3: %w", err)
	}
	paths, err := v3Paths(scheme, res)
	if err != nil {
		return nil, fmt.Errorf("openapi v3: %w", err)
	}
	return &spec3.OpenAPI{Version: "3.0.0", Info: cfg.Info, Paths: &spec3.Paths{Paths: paths},
		Components: &spec3.Components{Schemas: defs}}, nil
}

// mux adapts http.ServeMux to the path handlers kube-openapi registers on.
type mux struct{ *http.ServeMux }

func (m mux) HandlePrefix(prefix string, h http.Handler) {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	m.ServeMux.Handle(prefix, h)
}

// Register serves /openapi/v2 (all served kinds) and /openapi/v3/<group path> (one document per
// group version) on m.
func Register(m *http.ServeMux, scheme *runtime.Scheme, res []Resource) error {
	var gvks []schema.GroupVersionKind
	byGV := map[schema.GroupVersion][]Resource{}
	for _, r := range res {
		gvks = append(gvks, r.GVK)
		byGV[r.GVK.GroupVersion()] = append(byGV[r.GVK.GroupVersion()], r)
	}
	v2, err := buildV2(scheme, gvks)
	if err != nil {
		return err
	}
	handler.NewOpenAPIService(v2).RegisterOpenAPIVersionedService("/openapi/v2", m)
	v3 := handler3.NewOpenAPIService()
	for gv, kinds := range byGV {
		doc, err := buildV3(scheme, kinds)
		if err != nil {
			return err
		}
		path := "apis/" + gv.String()
		if gv.Group == "" {
			path = "api/" + gv.Version
		}
		v3.UpdateGroupVersion(path, doc)
	}
	return v3.RegisterOpenAPIV3VersionedService("/openapi/v3", mux{m})
}
