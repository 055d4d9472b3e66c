package openapi

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Resource is a served resource as the OpenAPI paths describe it.
type Resource struct {
	GVK        schema.GroupVersionKind
	Plural     string
	Namespaced bool
}

// v3Paths describes each resource's collection and item paths with the operations, the
// x-kubernetes-group-version-kind tag (kubectl explain finds a resource's schema through it)
// and the fieldValidation parameter (kubectl then validates on the server).
func v3Paths(scheme *runtime.Scheme, res []Resource) (map[string]*spec3.Path, error) {
	paths := map[string]*spec3.Path{}
	param := func(name, in, desc string, required bool) *spec3.Parameter {
		return &spec3.Parameter{ParameterProps: spec3.ParameterProps{Name: name, In: in, Description: desc, Required: required,
			Schema: &spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"string"}}}}}
	}
	fieldValidation := param("fieldValidation", "query", "How the server treats unknown or duplicate fields: Ignore, Warn (default) or Strict.", false)
	dryRun := param("dryRun", "query", "When present (All), the change is not persisted.", false)
	fieldManager := param("fieldManager", "query", "The name of the actor making the change.", false)
	for _, r := range res {
		obj, err := scheme.New(r.GVK)
		if err != nil {
			return nil, err
		}
		model, err := ModelName(obj)
		if err != nil {
			return nil, err
		}
		listModel := model + "List"
		prefix := "/apis/" + r.GVK.Group + "/" + r.GVK.Version
		if r.GVK.Group == "" {
			prefix = "/api/" + r.GVK.Version
		}
		var common []*spec3.Parameter
		if r.Namespaced {
			prefix += "/namespaces/{namespace}"
			common = append(common, param("namespace", "path", "object name and auth scope, such as for teams and projects", true))
		}
		gvk := map[string]any{"group": r.GVK.Group, "version": r.GVK.Version, "kind": r.GVK.Kind}
		op := func(action, id, schemaName string, params ...*spec3.Parameter) *spec3.Operation {
			return &spec3.Operation{
				OperationProps: spec3.OperationProps{OperationId: id, Parameters: params, Responses: &spec3.Responses{
					ResponsesProps: spec3.ResponsesProps{StatusCodeResponses: map[int]*spec3.Response{200: {ResponseProps: spec3.ResponseProps{
						Description: "OK",
						Content: map[string]*spec3.MediaType{"application/json": {MediaTypeProps: spec3.MediaTypeProps{
							Schema: &spec.Schema{SchemaProps: spec.SchemaProps{Ref: spec.MustCreateRef("#/components/schemas/" + schemaName)}}}}},
					}}}}}},
				VendorExtensible: spec.VendorExtensible{Extensions: spec.Extensions{"x-kubernetes-action": action, gvkExtension: gvk}},
			}
		}
		name := param("name", "path", "name of the "+r.GVK.Kind, true)
		kind := r.GVK.Kind
		paths[prefix+"/"+r.Plural] = &spec3.Path{PathProps: spec3.PathProps{
			Parameters: common,
			Get:        op("list", "list"+kind, listModel),
			Post:       op("post", "create"+kind, model, fieldValidation, dryRun, fieldManager),
			Delete:     op("deletecollection", "deletecollection"+kind, "io.k8s.apimachinery.pkg.apis.meta.v1.Status", dryRun),
		}}
		paths[prefix+"/"+r.Plural+"/{name}"] = &spec3.Path{PathProps: spec3.PathProps{
			Parameters: append(append([]*spec3.Parameter{}, common...), name),
			Get:        op("get", "read"+kind, model),
			Put:        op("put", "replace"+kind, model, fieldValidation, dryRun, fieldManager),
			Patch:      op("patch", "patch"+kind, model, fieldValidation, dryRun, fieldManager),
			Delete:     op("delete", "delete"+kind, "io.k8s.apimachinery.pkg.apis.meta.v1.Status", dryRun),
		}}
	}
	return paths, nil
}
