package apiserver

import (
	"context"
	"net/http"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"kforge.dev/kforge/controlplane/apiserver/admission"
	"kforge.dev/kforge/controlplane/apiserver/registry"
)

// admitter is one request's view of the admission chain, in the shape the registry calls it:
// the request's user, resource, subresource and dry-run flag, with the objects the registry
// passes for each write.
type admitter struct {
	chain       *admission.Chain
	res         *resource
	subresource string
	namespace   string
	name        string
	dryRun      bool
	r           *http.Request
}

// admission returns the admission the registry runs for a write of res by r, or nil when the
// API has no admission chain.
func (a *API) admission(r *http.Request, res *resource, ri requestInfo, dryRun bool) registry.Admission {
	if a.security == nil || a.security.Admission == nil {
		return nil
	}
	return &admitter{chain: a.security.Admission, res: res, subresource: ri.subresource, namespace: ri.namespace, name: ri.name, dryRun: dryRun, r: r}
}

func (ad *admitter) attributes(ctx context.Context, op registry.Operation, obj, old runtime.Object) *admission.Attributes {
	at := &admission.Attributes{Operation: admission.Operation(op), Kind: ad.res.def.GVK, Resource: ad.res.def.GroupVersionResource(),
		Subresource: ad.subresource, Namespace: ad.namespace, Name: ad.name, Object: obj, OldObject: old,
		User: userFrom(ctx), DryRun: ad.dryRun}
	for _, o := range []runtime.Object{obj, old} {
		if m, err := meta.Accessor(o); o != nil && err == nil {
			if at.Name == "" {
				at.Name = m.GetName()
			}
			if at.Namespace == "" && ad.res.def.Namespaced {
				at.Namespace = m.GetNamespace()
			}
		}
	}
	return at
}

func (ad *admitter) Mutate(ctx context.Context, op registry.Operation, obj, old runtime.Object) error {
	return ad.chain.Admit(ctx, ad.attributes(ctx, op, obj, old))
}

func (ad *admitter) Validate(ctx context.Context, op registry.Operation, obj, old runtime.Object) error {
	return ad.chain.Validate(ctx, ad.attributes(ctx, op, obj, old))
}

// released tells admission plugins that keep usage (ResourceQuota) that obj is gone.
func (a *API) released(ctx context.Context, adm registry.Admission, obj runtime.Object) {
	ad, ok := adm.(*admitter)
	if !ok || ad.dryRun {
		return
	}
	ad.chain.Release(ctx, ad.attributes(ctx, registry.OpDelete, nil, obj))
}

// admitSubresource runs admission for a create on a subresource the apiserver implements
// itself (pods/binding, pods/eviction): obj is the request body.
func (a *API) admitSubresource(ctx context.Context, r *http.Request, res *resource, sub, namespace, name string, obj runtime.Object) error {
	adm := a.admission(r, res, requestInfo{gvr: res.def.GroupVersionResource(), namespace: namespace, name: name, subresource: sub}, false)
	if adm == nil {
		return nil
	}
	if err := adm.Mutate(ctx, registry.OpCreate, obj, nil); err != nil {
		return err
	}
	return adm.Validate(ctx, registry.OpCreate, obj, nil)
}
