package apiserver

import (
	"mime"
	"net/http"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kforge.dev/kforge/controlplane/apiserver/resources"
)

// verbs every resource supports; subresources support get, patch and update.
var (
	resourceVerbs    = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	subresourceVerbs = metav1.Verbs{"get", "patch", "update"}
)

func apiResource(d resources.Definition) metav1.APIResource {
	return metav1.APIResource{Name: d.Plural, SingularName: d.Singular, Namespaced: d.Namespaced, Kind: d.GVK.Kind,
		Verbs: verbsOf(d), ShortNames: d.ShortNames, Categories: d.Categories}
}

// verbsOf is what discovery lists for a resource: reviews can only be created.
func verbsOf(d resources.Definition) metav1.Verbs {
	if d.CreateOnly {
		return metav1.Verbs{"create"}
	}
	return resourceVerbs
}

// resourceList is /api/v1 or /apis/<group>/<version>.
func (a *API) resourceList(gv groupVersion) *metav1.APIResourceList {
	l := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "APIResourceList"}, GroupVersion: gv.gv.String()}
	for _, r := range gv.resources {
		l.APIResources = append(l.APIResources, apiResource(r.def))
		if r.def.HasStatus {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: r.def.Plural + "/status", Namespaced: r.def.Namespaced,
				Kind: r.def.GVK.Kind, Verbs: subresourceVerbs})
		}
		if hasScale(r) {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: r.def.Plural + "/scale", Namespaced: r.def.Namespaced,
				Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: subresourceVerbs})
		}
		for _, sub := range extraSubresources(r) {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: r.def.Plural + "/" + sub.name, Namespaced: r.def.Namespaced,
				Group: sub.gvk.Group, Version: sub.gvk.Version, Kind: sub.gvk.Kind, Verbs: sub.verbs})
		}
	}
	return l
}

func (a *API) groupList() *metav1.APIGroupList {
	gl := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "APIGroupList"}}
	for _, g := range a.groups {
		if g.gv.Group == "" {
			continue
		}
		gvd := metav1.GroupVersionForDiscovery{GroupVersion: g.gv.String(), Version: g.gv.Version}
		gl.Groups = append(gl.Groups, metav1.APIGroup{Name: g.gv.Group, Versions: []metav1.GroupVersionForDiscovery{gvd}, PreferredVersion: gvd})
	}
	sort.SliceStable(gl.Groups, func(i, j int) bool { return groupOrder(gl.Groups[i].Name) < groupOrder(gl.Groups[j].Name) })
	return gl
}

// groupOrder keeps kube-apiserver's discovery order for the groups both serve, which decides
// which group wins short names and `kubectl get all`.
func groupOrder(g string) int {
	for i, name := range []string{"apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch",
		"certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io",
		"admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io"} {
		if g == name {
			return i
		}
	}
	return 100
}

// aggregated is the aggregated discovery document (apidiscovery.k8s.io/v2) for /api or /apis,
// which lets kubectl learn every resource in one request.
func (a *API) aggregated(legacy bool) *apidiscoveryv2.APIGroupDiscoveryList {
	out := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{APIVersion: "apidiscovery.k8s.io/v2", Kind: "APIGroupDiscoveryList"}}
	groups := append([]groupVersion{}, a.groups...)
	sort.SliceStable(groups, func(i, j int) bool { return groupOrder(groups[i].gv.Group) < groupOrder(groups[j].gv.Group) })
	for _, g := range groups {
		if (g.gv.Group == "") != legacy {
			continue
		}
		v := apidiscoveryv2.APIVersionDiscovery{Version: g.gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		for _, r := range g.resources {
			scope := apidiscoveryv2.ScopeCluster
			if r.def.Namespaced {
				scope = apidiscoveryv2.ScopeNamespace
			}
			rd := apidiscoveryv2.APIResourceDiscovery{Resource: r.def.Plural, SingularResource: r.def.Singular, Scope: scope,
				ResponseKind: &metav1.GroupVersionKind{Group: r.def.GVK.Group, Version: r.def.GVK.Version, Kind: r.def.GVK.Kind},
				Verbs:        verbsOf(r.def), ShortNames: r.def.ShortNames, Categories: r.def.Categories}
			if r.def.HasStatus {
				rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: "status",
					ResponseKind: rd.ResponseKind, Verbs: subresourceVerbs})
			}
			if hasScale(r) {
				rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: "scale",
					ResponseKind: &metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, Verbs: subresourceVerbs})
			}
			for _, sub := range extraSubresources(r) {
				rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: sub.name,
					ResponseKind: &metav1.GroupVersionKind{Group: sub.gvk.Group, Version: sub.gvk.Version, Kind: sub.gvk.Kind}, Verbs: sub.verbs})
			}
			v.Resources = append(v.Resources, rd)
		}
		out.Items = append(out.Items, apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g.gv.Group},
			Versions: []apidiscoveryv2.APIVersionDiscovery{v}})
	}
	return out
}

// wantsAggregated reports whether the client accepts aggregated discovery v2 (kubectl 1.30+
// asks for it first and falls back to the plain documents otherwise).
func wantsAggregated(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		_, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && params["g"] == "apidiscovery.k8s.io" && params["v"] == "v2" && params["as"] == "APIGroupDiscoveryList" {
			return true
		}
	}
	return false
}

// serveDiscovery answers /api, /apis, /api/v1 and /apis/<group>[/<version>].
func (a *API) serveDiscovery(w http.ResponseWriter, r *http.Request) bool {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/api":
		if wantsAggregated(r) {
			a.writeAggregated(w, a.aggregated(true))
			return true
		}
		a.writeObject(w, r, http.StatusOK, &metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host}}})
		return true
	case p == "/apis":
		if wantsAggregated(r) {
			a.writeAggregated(w, a.aggregated(false))
			return true
		}
		a.writeObject(w, r, http.StatusOK, a.groupList())
		return true
	}
	for _, g := range a.groups {
		if g.gv.Group == "" && p == "/api/v1" || g.gv.Group != "" && p == "/apis/"+g.gv.String() {
			a.writeObject(w, r, http.StatusOK, a.resourceList(g))
			return true
		}
		if g.gv.Group != "" && p == "/apis/"+g.gv.Group {
			gvd := metav1.GroupVersionForDiscovery{GroupVersion: g.gv.String(), Version: g.gv.Version}
			a.writeObject(w, r, http.StatusOK, &metav1.APIGroup{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "APIGroup"},
				Name: g.gv.Group, Versions: []metav1.GroupVersionForDiscovery{gvd}, PreferredVersion: gvd})
			return true
		}
	}
	return false
}

func (a *API) writeAggregated(w http.ResponseWriter, l *apidiscoveryv2.APIGroupDiscoveryList) {
	w.Header().Set("Content-Type", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	b, _ := jsonMarshal(l)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// subresource is a subresource that acts on its parent (binding, eviction, approval).
type subresource struct {
	name  string
	gvk   metav1.GroupVersionKind
	verbs metav1.Verbs
}

func extraSubresources(r *resource) []subresource {
	switch {
	case r.def.Plural == "pods" && r.def.GVK.Group == "":
		return []subresource{
			{name: "binding", gvk: metav1.GroupVersionKind{Version: "v1", Kind: "Binding"}, verbs: metav1.Verbs{"create"}},
			{name: "eviction", gvk: metav1.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, verbs: metav1.Verbs{"create"}},
			{name: "log", gvk: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, verbs: metav1.Verbs{"get"}},
			{name: "exec", gvk: metav1.GroupVersionKind{Version: "v1", Kind: "PodExecOptions"}, verbs: metav1.Verbs{"create", "get"}},
			{name: "attach", gvk: metav1.GroupVersionKind{Version: "v1", Kind: "PodAttachOptions"}, verbs: metav1.Verbs{"create", "get"}},
			{name: "portforward", gvk: metav1.GroupVersionKind{Version: "v1", Kind: "PodPortForwardOptions"}, verbs: metav1.Verbs{"create", "get"}},
		}
	case r.def.Plural == "serviceaccounts" && r.def.GVK.Group == "":
		return []subresource{{name: "token", gvk: metav1.GroupVersionKind{Group: "authentication.k8s.io", Version: "v1", Kind: "TokenRequest"}, verbs: metav1.Verbs{"create"}}}
	case r.def.Plural == "certificatesigningrequests":
		return []subresource{{name: "approval", gvk: metav1.GroupVersionKind{Group: "certificates.k8s.io", Version: "v1", Kind: "CertificateSigningRequest"}, verbs: metav1.Verbs{"get", "patch", "update"}}}
	}
	return nil
}
