package apiserver

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/fields"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// requestAttributes describes r as authorizers see it, with kube-apiserver's verb and
// namespace rules: GET of a collection is list (or watch), a namespace object is in its own
// namespace, and a list or watch narrowed to one name by metadata.name carries that name.
func requestAttributes(r *http.Request, user authn.User) authz.Attributes {
	attrs := authz.Attributes{User: user, Path: r.URL.Path, Verb: strings.ToLower(r.Method)}
	ri, ok, err := parseResourcePath(r.URL.Path)
	if !ok || err != nil {
		return attrs
	}
	q := r.URL.Query()
	attrs.ResourceRequest = true
	attrs.APIGroup, attrs.APIVersion = ri.gvr.Group, ri.gvr.Version
	attrs.Resource, attrs.Subresource = ri.gvr.Resource, ri.subresource
	attrs.Namespace, attrs.Name = ri.namespace, ri.name
	if ri.gvr.Resource == "namespaces" && ri.gvr.Group == "" && ri.name != "" {
		attrs.Namespace = ri.name
	}
	watching := ri.watch || boolParam(q, "watch")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case watching:
			attrs.Verb = "watch"
		case ri.name == "":
			attrs.Verb = "list"
		default:
			attrs.Verb = "get"
		}
	case http.MethodPost:
		attrs.Verb = "create"
	case http.MethodPut:
		attrs.Verb = "update"
	case http.MethodPatch:
		attrs.Verb = "patch"
	case http.MethodDelete:
		attrs.Verb = "delete"
		if ri.name == "" {
			attrs.Verb = "deletecollection"
		}
	}
	if isConnect(ri) && ri.subresource != "log" {
		// exec, attach and port-forward need create whatever the method: WebSocket clients
		// upgrade with GET, and get on pods/exec must not let a viewer run commands
		// (kube-apiserver checks create since Kubernetes 1.31).
		attrs.Verb = "create"
	}
	if (attrs.Verb == "list" || attrs.Verb == "watch") && attrs.Name == "" {
		if sel, err := fields.ParseSelector(q.Get("fieldSelector")); err == nil {
			if name, found := sel.RequiresExactMatch("metadata.name"); found {
				attrs.Name = name
			}
		}
	}
	return attrs
}
