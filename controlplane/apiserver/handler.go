package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"kforge.dev/kforge/controlplane/apiserver/registry"
	"kforge.dev/kforge/controlplane/storage"
)

// maxBodyBytes bounds request bodies (kube-apiserver's limit is 3 MiB for objects).
const maxBodyBytes = 3 << 20

// serveResource handles every request on a resource path.
func (a *API) serveResource(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	res, ok := a.lookup(ri.gvr)
	if !ok {
		a.writeError(w, apierrors.NewNotFound(ri.gvr.GroupResource(), ""))
		return
	}
	if !res.def.Namespaced && ri.namespace != "" && ri.gvr.Resource != "namespaces" {
		a.writeError(w, notFoundPath(r.URL.Path))
		return
	}
	if res.def.CreateOnly {
		if r.Method != http.MethodPost || ri.name != "" || ri.subresource != "" {
			a.writeError(w, apierrors.NewMethodNotSupported(res.def.GroupResource(), strings.ToLower(r.Method)))
			return
		}
		if err := a.review(r.Context(), w, r, res, ri); err != nil {
			a.writeError(w, err)
		}
		return
	}
	if isConnect(ri) {
		if err := a.servePodConnect(w, r, ri); err != nil {
			a.writeError(w, err)
		}
		return
	}
	switch ri.subresource {
	case "":
	case "scale":
		if !hasScale(res) || ri.name == "" {
			a.writeError(w, notFoundPath(r.URL.Path))
			return
		}
		if err := a.serveScale(r.Context(), w, r, res, ri); err != nil {
			a.writeError(w, err)
		}
		return
	case "binding", "eviction":
		if res.def.Plural != "pods" || res.def.GVK.Group != "" || ri.name == "" || r.Method != http.MethodPost {
			a.writeError(w, notFoundPath(r.URL.Path))
			return
		}
		var err error
		if ri.subresource == "binding" {
			err = a.bind(r.Context(), w, r, res, ri.namespace, ri.name)
		} else {
			err = a.evict(r.Context(), w, r, res, ri.namespace, ri.name)
		}
		if err != nil {
			a.writeError(w, err)
		}
		return
	case "token":
		if res.def.Plural != "serviceaccounts" || res.def.GVK.Group != "" || ri.name == "" || r.Method != http.MethodPost {
			a.writeError(w, notFoundPath(r.URL.Path))
			return
		}
		if err := a.requestToken(r.Context(), w, r, ri.namespace, ri.name); err != nil {
			a.writeError(w, err)
		}
		return
	case "approval":
		if res.def.Plural != "certificatesigningrequests" || ri.name == "" || r.Method != http.MethodPut {
			a.writeError(w, notFoundPath(r.URL.Path))
			return
		}
		if err := a.approve(r.Context(), w, r, res, ri.name); err != nil {
			a.writeError(w, err)
		}
		return
	case "status":
		if !res.def.HasStatus {
			a.writeError(w, notFoundPath(r.URL.Path))
			return
		}
	default:
		a.writeError(w, apierrors.NewNotFound(res.def.GroupResource(), ri.name+"/"+ri.subresource))
		return
	}
	q := r.URL.Query()
	ctx := r.Context()
	var err error
	switch {
	case r.Method == http.MethodGet && ri.name == "" && (ri.watch || boolParam(q, "watch")):
		err = a.watch(w, r, res, ri)
	case r.Method == http.MethodGet && ri.name == "":
		err = a.list(ctx, w, r, res, ri)
	case r.Method == http.MethodGet:
		err = a.get(ctx, w, r, res, ri)
	case r.Method == http.MethodPost && ri.name == "":
		err = a.create(ctx, w, r, res, ri)
	case r.Method == http.MethodPut && ri.name != "":
		err = a.update(ctx, w, r, res, ri)
	case r.Method == http.MethodPatch && ri.name != "":
		err = a.patch(ctx, w, r, res, ri)
	case r.Method == http.MethodDelete && ri.name != "":
		err = a.delete(ctx, w, r, res, ri)
	case r.Method == http.MethodDelete:
		err = a.deleteCollection(ctx, w, r, res, ri)
	default:
		err = apierrors.NewMethodNotSupported(res.def.GroupResource(), strings.ToLower(r.Method))
	}
	if err != nil {
		a.writeError(w, err)
	}
}

func boolParam(q url.Values, name string) bool {
	v := q.Get(name)
	return v == "true" || v == "1"
}

func (a *API) get(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	obj, err := res.store.Get(ctx, ri.namespace, ri.name, r.URL.Query().Get("resourceVersion"))
	if err != nil {
		return err
	}
	if wantsTable(r) {
		return a.writeTable(w, r, res, []runtime.Object{obj}, "", "")
	}
	a.writeObject(w, r, http.StatusOK, obj)
	return nil
}

// listOptions reads the list and watch query parameters.
func listOptions(q url.Values) (storage.ListOptions, error) {
	opts := storage.ListOptions{ResourceVersion: q.Get("resourceVersion"), Continue: q.Get("continue"),
		ResourceVersionMatch: metav1.ResourceVersionMatch(q.Get("resourceVersionMatch"))}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil || n < 0 {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q", l))
		}
		opts.Limit = n
	}
	if s := q.Get("labelSelector"); s != "" {
		sel, err := labels.Parse(s)
		if err != nil {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		opts.Predicate.Label = sel
	}
	if s := q.Get("fieldSelector"); s != "" {
		sel, err := fields.ParseSelector(s)
		if err != nil {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		opts.Predicate.Field = sel
	}
	switch opts.ResourceVersionMatch {
	case "", metav1.ResourceVersionMatchExact, metav1.ResourceVersionMatchNotOlderThan:
	default:
		return opts, apierrors.NewBadRequest(fmt.Sprintf("invalid resourceVersionMatch %q: use Exact or NotOlderThan", opts.ResourceVersionMatch))
	}
	if opts.ResourceVersionMatch != "" && opts.ResourceVersion == "" {
		return opts, apierrors.NewBadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
	}
	return opts, nil
}

func (a *API) list(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	opts, err := listOptions(r.URL.Query())
	if err != nil {
		return err
	}
	if fs := opts.Predicate.Field; fs != nil {
		if err := a.checkFieldSelector(res, fs); err != nil {
			return err
		}
	}
	list, err := res.store.List(ctx, ri.namespace, opts)
	if err != nil {
		return err
	}
	if wantsTable(r) {
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		lm, _ := meta.ListAccessor(list)
		return a.writeTable(w, r, res, items, lm.GetResourceVersion(), lm.GetContinue())
	}
	a.writeObject(w, r, http.StatusOK, list)
	return nil
}

// checkFieldSelector refuses selectors on fields the resource does not index, with
// kube-apiserver's message, instead of silently matching nothing.
func (a *API) checkFieldSelector(res *resource, sel fields.Selector) error {
	get := res.def.GetAttrs
	if get == nil {
		get = storage.DefaultAttrs
	}
	_, known, err := get(res.def.New())
	if err != nil {
		return err
	}
	for _, req := range sel.Requirements() {
		if _, ok := known[req.Field]; !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	return nil
}

// readBody reads a JSON (or YAML) request body.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("read request body: %v", err))
	}
	if len(body) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
	}
	if ct := r.Header.Get("Content-Type"); strings.Contains(ct, "yaml") {
		if body, err = yaml.YAMLToJSON(body); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("request body is not valid YAML: %v", err))
		}
	}
	return body, nil
}

// readWrite reads what every write request carries: the dryRun parameter and the body.
func readWrite(r *http.Request) (dryRun bool, body []byte, err error) {
	if dryRun, err = isDryRun(r.URL.Query()); err != nil {
		return false, nil, err
	}
	body, err = readBody(r)
	return dryRun, body, err
}

// decodeObject decodes a body into the resource's type, honouring fieldValidation
// (Strict: unknown fields are an error; Warn, the default: a Warning header; Ignore).
func (a *API) decodeObject(w http.ResponseWriter, r *http.Request, res *resource, body []byte) (runtime.Object, error) {
	want := res.def.GVK
	if isProtobufBody(r) {
		obj := res.def.New()
		got, gvk, err := a.codecs.proto.Decode(body, &want, obj)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("unable to decode the protobuf request body as %s: %v", want.Kind, err))
		}
		if gvk != nil && (gvk.Kind != want.Kind || gvk.GroupVersion() != want.GroupVersion()) {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the object is a %s, the resource %s holds %s", gvk, res.def.Plural, want))
		}
		got.GetObjectKind().SetGroupVersionKind(want)
		return got, nil
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(body, &tm); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the request body is not a JSON object: %v", err))
	}
	if tm.Kind != "" && tm.Kind != want.Kind {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the kind %q of the object does not match the resource %s (kind %q)", tm.Kind, res.def.Plural, want.Kind))
	}
	if tm.APIVersion != "" && tm.APIVersion != want.GroupVersion().String() {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", tm.APIVersion, want.GroupVersion()))
	}
	obj := res.def.New()
	strict, err := sjson.UnmarshalStrict(body, obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("unable to decode the request body as %s: %v", want.Kind, err))
	}
	if len(strict) > 0 {
		var msgs []string
		for _, e := range strict {
			msgs = append(msgs, e.Error())
		}
		switch r.URL.Query().Get("fieldValidation") {
		case "Strict":
			return nil, apierrors.NewBadRequest("strict decoding error: " + strings.Join(msgs, ", "))
		case "Ignore":
		default:
			for _, m := range msgs {
				w.Header().Add("Warning", fmt.Sprintf("299 - %q", m))
			}
		}
	}
	obj.GetObjectKind().SetGroupVersionKind(want)
	return obj, nil
}

func (a *API) create(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	if ri.subresource != "" {
		return apierrors.NewMethodNotSupported(res.def.GroupResource(), "create")
	}
	dryRun, body, err := readWrite(r)
	if err != nil {
		return err
	}
	obj, err := a.decodeObject(w, r, res, body)
	if err != nil {
		return err
	}
	if res.def.Namespaced {
		ns := ri.namespace
		if m, _ := meta.Accessor(obj); ns == "" && m != nil {
			ns = m.GetNamespace()
		}
		if ns == "" {
			return apierrors.NewBadRequest("a namespace is required: create namespaced objects under /namespaces/<namespace>/")
		}
		if err := a.namespaceExists(ctx, ns); err != nil {
			return err
		}
	}
	obj = res.trackUpdate(r, "", nil, obj)
	out, err := res.store.Create(ctx, ri.namespace, obj, registry.CreateOptions{DryRun: dryRun, Admission: a.admission(r, res, ri, dryRun)})
	if err != nil {
		return err
	}
	a.writeObject(w, r, http.StatusCreated, out)
	return nil
}

func (a *API) update(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	dryRun, body, err := readWrite(r)
	if err != nil {
		return err
	}
	obj, err := a.decodeObject(w, r, res, body)
	if err != nil {
		return err
	}
	if m, _ := meta.Accessor(obj); m != nil && m.GetResourceVersion() == "" && ri.subresource == "" {
		// Without a resourceVersion an update would overwrite whatever is stored.
		return apierrors.NewInvalid(res.def.GVK.GroupKind(), ri.name, fieldErrorRVRequired())
	}
	out, created, err := res.store.Update(ctx, ri.namespace, ri.name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		return res.trackUpdate(r, ri.subresource, current, obj.DeepCopyObject()), nil
	}, registry.UpdateOptions{DryRun: dryRun, Subresource: ri.subresource, Admission: a.admission(r, res, ri, dryRun)})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	a.writeObject(w, r, code, out)
	return nil
}

func (a *API) patch(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	dryRun, body, err := readWrite(r)
	if err != nil {
		return err
	}
	ct := r.Header.Get("Content-Type")
	if i := strings.Index(ct, ";"); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	apply := ct == applyPatchType
	if !apply && !isPatchType(ct) {
		return unsupportedPatchType(ct, res.def.GroupResource(), ri.name)
	}
	if apply && res.fields == nil {
		return apierrors.NewInternalError(fmt.Errorf("server-side apply is unavailable: %v", a.fieldsErr))
	}
	if apply && res.def.Namespaced {
		if err := a.namespaceExists(ctx, ri.namespace); err != nil {
			return err
		}
	}
	var warnW http.ResponseWriter = w
	out, created, err := res.store.Update(ctx, ri.namespace, ri.name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		if apply {
			return res.apply(r, ri.subresource, current, ri.namespace, ri.name, body)
		}
		if current == nil {
			return nil, apierrors.NewNotFound(res.def.GroupResource(), ri.name)
		}
		orig, err := json.Marshal(a.typed(current))
		if err != nil {
			return nil, err
		}
		patched, err := applyPatch(ct, orig, body, res.def.New(), res.def.GroupResource(), ri.name)
		if err != nil {
			return nil, err
		}
		obj, err := a.decodeObject(warnW, r, res, patched)
		if err != nil {
			return nil, err
		}
		// A patch applies to what it read; a resourceVersion in the patch is a precondition.
		return res.trackUpdate(r, ri.subresource, current, obj), nil
	}, registry.UpdateOptions{DryRun: dryRun, Subresource: ri.subresource, AllowCreate: apply, Admission: a.admission(r, res, ri, dryRun)})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	a.writeObject(w, r, code, out)
	return nil
}

func (a *API) deleteOptions(r *http.Request) (registry.DeleteOptions, error) {
	var do metav1.DeleteOptions
	body, err := readBody(r)
	if err != nil {
		return registry.DeleteOptions{}, err
	}
	if isProtobufBody(r) && len(body) > 0 {
		if _, _, err := a.codecs.proto.Decode(body, nil, &do); err != nil {
			return registry.DeleteOptions{}, apierrors.NewBadRequest(fmt.Sprintf("invalid DeleteOptions: %v", err))
		}
	} else if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &do); err != nil {
			return registry.DeleteOptions{}, apierrors.NewBadRequest(fmt.Sprintf("invalid DeleteOptions: %v", err))
		}
	}
	q := r.URL.Query()
	if p := q.Get("propagationPolicy"); p != "" {
		pp := metav1.DeletionPropagation(p)
		do.PropagationPolicy = &pp
	}
	if g := q.Get("gracePeriodSeconds"); g != "" {
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return registry.DeleteOptions{}, apierrors.NewBadRequest(fmt.Sprintf("invalid gracePeriodSeconds %q", g))
		}
		do.GracePeriodSeconds = &n
	}
	dryRun, err := isDryRun(q)
	if err != nil {
		return registry.DeleteOptions{}, err
	}
	for _, v := range do.DryRun {
		dryRun = dryRun || v == metav1.DryRunAll
	}
	opts := registry.DeleteOptions{DryRun: dryRun, PropagationPolicy: do.PropagationPolicy, GracePeriodSeconds: do.GracePeriodSeconds}
	if do.OrphanDependents != nil && do.PropagationPolicy == nil {
		pp := metav1.DeletePropagationBackground
		if *do.OrphanDependents {
			pp = metav1.DeletePropagationOrphan
		}
		opts.PropagationPolicy = &pp
	}
	if p := do.Preconditions; p != nil {
		opts.Preconditions = &storage.Preconditions{UID: p.UID, ResourceVersion: p.ResourceVersion}
	}
	return opts, nil
}

func (a *API) delete(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	if ri.subresource != "" {
		return apierrors.NewMethodNotSupported(res.def.GroupResource(), "delete")
	}
	opts, err := a.deleteOptions(r)
	if err != nil {
		return err
	}
	opts.Admission = a.admission(r, res, ri, opts.DryRun)
	if res == a.namespace {
		return a.deleteNamespace(ctx, w, r, ri.name, opts)
	}
	out, gone, err := res.store.Delete(ctx, ri.namespace, ri.name, opts)
	if err != nil {
		return err
	}
	if gone {
		a.released(ctx, opts.Admission, out)
	}
	code := http.StatusOK
	if !gone {
		code = http.StatusAccepted
	}
	a.writeObject(w, r, code, out)
	return nil
}

// deleteNamespace empties the namespace, then deletes it. kube-apiserver leaves this to the
// namespace controller; until kforge has one, the apiserver does it in the request.
func (a *API) deleteNamespace(ctx context.Context, w http.ResponseWriter, r *http.Request, name string, opts registry.DeleteOptions) error {
	for _, sys := range SystemNamespaces {
		if name == sys {
			return apierrors.NewForbidden(a.namespace.def.GroupResource(), name, fmt.Errorf("this namespace may not be deleted"))
		}
	}
	current, err := a.namespace.store.Get(ctx, "", name, "")
	if err != nil {
		return err
	}
	if opts.Admission != nil {
		if err := opts.Admission.Validate(ctx, registry.OpDelete, nil, current); err != nil {
			return err
		}
		opts.Admission = nil // checked once, before the namespace is emptied
	}
	if !opts.DryRun {
		for _, g := range a.groups {
			for _, res := range g.resources {
				if !res.def.Namespaced || res.store == nil {
					continue
				}
				if err := a.deleteAllIn(ctx, res, name, storage.ListOptions{}); err != nil {
					return err
				}
			}
		}
	}
	out, _, err := a.namespace.store.Update(ctx, "", name, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		ns := cur.(*corev1Namespace)
		ns.Spec.Finalizers = nil
		ns.ResourceVersion = ""
		return ns, nil
	}, registry.UpdateOptions{DryRun: opts.DryRun})
	if err != nil {
		return err
	}
	if opts.DryRun {
		a.writeObject(w, r, http.StatusOK, out)
		return nil
	}
	out, _, err = a.namespace.store.Delete(ctx, "", name, opts)
	if err != nil {
		return err
	}
	a.writeObject(w, r, http.StatusOK, out)
	return nil
}

func (a *API) deleteAllIn(ctx context.Context, res *resource, ns string, lo storage.ListOptions) error {
	list, err := res.store.List(ctx, ns, lo)
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for _, it := range items {
		m, _ := meta.Accessor(it)
		if _, _, err := res.store.Delete(ctx, m.GetNamespace(), m.GetName(), registry.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (a *API) deleteCollection(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	lo, err := listOptions(r.URL.Query())
	if err != nil {
		return err
	}
	opts, err := a.deleteOptions(r)
	if err != nil {
		return err
	}
	list, err := res.store.List(ctx, ri.namespace, lo)
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for _, it := range items {
		m, _ := meta.Accessor(it)
		item := ri
		item.namespace, item.name = m.GetNamespace(), m.GetName()
		opts.Admission = a.admission(r, res, item, opts.DryRun)
		out, gone, err := res.store.Delete(ctx, m.GetNamespace(), m.GetName(), opts)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if err == nil && gone {
			a.released(ctx, opts.Admission, out)
		}
	}
	a.writeObject(w, r, http.StatusOK, list)
	return nil
}

// requestTimeout bounds non-watch requests, as kube-apiserver's --request-timeout does.
const requestTimeout = 60 * time.Second
