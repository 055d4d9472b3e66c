package apiserver

import (
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/yaml"

	"kforge.dev/kforge/controlplane/apiserver/openapi"
)

// fieldManagers track metadata.managedFields on every write and merge server-side apply
// patches, using type information from the OpenAPI definitions (apimachinery's managedfields,
// the same machinery kube-apiserver uses).
type fieldManagers struct {
	main, status *managedfields.FieldManager
}

// newFieldManagers builds the field managers of every served resource.
func (a *API) newFieldManagers() error {
	defs, err := openapi.Definitions(a.scheme, a.servedKinds())
	if err != nil {
		return err
	}
	tc, err := managedfields.NewTypeConverter(defs, false)
	if err != nil {
		return fmt.Errorf("server-side apply type information: %w", err)
	}
	for _, r := range a.byGVR {
		if r.def.CreateOnly {
			continue
		}
		gvk := r.def.GVK
		main, err := managedfields.NewDefaultFieldManager(tc, a.scheme, a.scheme, a.scheme, gvk, gvk.GroupVersion(), "", nil)
		if err != nil {
			return fmt.Errorf("%s: %w", r.def.Plural, err)
		}
		r.fields = &fieldManagers{main: main}
		if r.def.HasStatus {
			if r.fields.status, err = managedfields.NewDefaultFieldManager(tc, a.scheme, a.scheme, a.scheme, gvk, gvk.GroupVersion(), "status", nil); err != nil {
				return fmt.Errorf("%s/status: %w", r.def.Plural, err)
			}
		}
	}
	return nil
}

func (f *fieldManagers) forSubresource(sub string) *managedfields.FieldManager {
	if f == nil {
		return nil
	}
	if sub == "status" {
		return f.status
	}
	return f.main
}

// managerName is the field manager of a request: the fieldManager parameter, else the
// client's user agent up to the first '/', as kube-apiserver derives it.
func managerName(r *http.Request) string {
	if m := r.URL.Query().Get("fieldManager"); m != "" {
		return m
	}
	ua := r.Header.Get("User-Agent")
	if i := strings.Index(ua, "/"); i >= 0 {
		ua = ua[:i]
	}
	if ua == "" {
		ua = "unknown"
	}
	return ua
}

// trackUpdate records in obj's managedFields what manager changed relative to live (nil for a
// create). Errors in the recorded fields never fail the write.
func (res *resource) trackUpdate(r *http.Request, sub string, live, obj runtime.Object) runtime.Object {
	fm := res.fields.forSubresource(sub)
	if fm == nil {
		return obj
	}
	if live == nil {
		live = res.def.New()
		live.GetObjectKind().SetGroupVersionKind(res.def.GVK)
	}
	obj.GetObjectKind().SetGroupVersionKind(res.def.GVK)
	return fm.UpdateNoErrors(live, obj, managerName(r))
}

// apply merges a server-side apply patch (YAML or JSON) into live (nil when absent).
func (res *resource) apply(r *http.Request, sub string, live runtime.Object, namespace, name string, body []byte) (runtime.Object, error) {
	q := r.URL.Query()
	manager := q.Get("fieldManager")
	if manager == "" {
		return nil, apierrors.NewBadRequest("fieldManager is required for apply requests")
	}
	force := q.Get("force") == "true"
	patch := &unstructured.Unstructured{Object: map[string]any{}}
	if err := yaml.Unmarshal(body, &patch.Object); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	if patch.GetAPIVersion() != res.def.GVK.GroupVersion().String() || patch.GetKind() != res.def.GVK.Kind {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("apply patch must be a %s %s, got apiVersion %q kind %q",
			res.def.GVK.GroupVersion(), res.def.GVK.Kind, patch.GetAPIVersion(), patch.GetKind()))
	}
	if patch.GetName() != "" && patch.GetName() != name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", patch.GetName(), name))
	}
	if live == nil {
		live = res.def.New()
		m, _ := meta.Accessor(live)
		m.SetName(name)
		m.SetNamespace(namespace)
	}
	live.GetObjectKind().SetGroupVersionKind(res.def.GVK)
	fm := res.fields.forSubresource(sub)
	if fm == nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("no field manager for %s", res.def.Plural))
	}
	return fm.Apply(live, patch, manager, force)
}
