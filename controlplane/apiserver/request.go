package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// requestInfo is what a resource URL names.
type requestInfo struct {
	gvr         schema.GroupVersionResource
	namespace   string
	name        string
	subresource string
	watch       bool // legacy /watch/ path prefix
}

// parseResourcePath reads /api/v1/... and /apis/<group>/<version>/... paths. ok is false for
// paths that are not resource paths (discovery and the rest).
func parseResourcePath(p string) (requestInfo, bool, error) {
	var ri requestInfo
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		ri.gvr.Version = parts[1]
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		ri.gvr.Group, ri.gvr.Version = parts[1], parts[2]
		parts = parts[3:]
	default:
		return ri, false, nil
	}
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil {
			return ri, true, apierrors.NewBadRequest(fmt.Sprintf("invalid path segment %q", s))
		}
		parts[i] = u
	}
	if parts[0] == "watch" {
		ri.watch = true
		parts = parts[1:]
		if len(parts) == 0 {
			return ri, true, notFoundPath(p)
		}
	}
	// namespaces/<ns>/<resource>/... unless the resource is namespaces itself.
	if parts[0] == "namespaces" && len(parts) >= 3 {
		ri.namespace = parts[1]
		parts = parts[2:]
	}
	ri.gvr.Resource = parts[0]
	if len(parts) > 1 {
		ri.name = parts[1]
	}
	if len(parts) > 2 {
		ri.subresource = parts[2]
	}
	if len(parts) > 3 {
		return ri, true, notFoundPath(p)
	}
	// /api/v1/namespaces/<name>[/status]: the namespace object itself.
	if ri.gvr.Resource == "namespaces" && ri.namespace == "" && ri.name != "" {
		ri.namespace = ""
	}
	return ri, true, nil
}

// wantsTable reports whether the client asked for server-side table output (kubectl get).
func wantsTable(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if strings.Contains(part, "as=Table") {
			return true
		}
	}
	return false
}

// isDryRun reads dryRun=All; any other value is an error.
func isDryRun(q url.Values) (bool, error) {
	for _, v := range q["dryRun"] {
		if v != "All" {
			return false, apierrors.NewBadRequest(fmt.Sprintf("invalid dryRun value %q: only \"All\" is supported", v))
		}
		return true, nil
	}
	return false, nil
}
