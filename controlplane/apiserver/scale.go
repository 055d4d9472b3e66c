package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"kforge.dev/kforge/controlplane/apiserver/registry"
)

// The scale subresource (autoscaling/v1 Scale) of deployments, replicasets and statefulsets:
// what `kubectl scale` and autoscalers read and write.

// scaleFields reads spec.replicas, status.replicas and the selector of a workload.
func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	v := reflect.ValueOf(obj).Elem()
	spec, status := v.FieldByName("Spec"), v.FieldByName("Status")
	if !spec.IsValid() || !status.IsValid() {
		return nil, fmt.Errorf("%T has no spec and status", obj)
	}
	m, _ := meta.Accessor(obj)
	s := &autoscalingv1.Scale{TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()}}
	if r, ok := spec.FieldByName("Replicas").Interface().(*int32); ok && r != nil {
		s.Spec.Replicas = *r
	}
	if r, ok := status.FieldByName("Replicas").Interface().(int32); ok {
		s.Status.Replicas = r
	}
	if sel, ok := spec.FieldByName("Selector").Interface().(*metav1.LabelSelector); ok && sel != nil {
		ls, err := metav1.LabelSelectorAsSelector(sel)
		if err == nil {
			s.Status.Selector = ls.String()
		}
	}
	return s, nil
}

func setReplicas(obj runtime.Object, n int32) {
	f := reflect.ValueOf(obj).Elem().FieldByName("Spec").FieldByName("Replicas")
	f.Set(reflect.ValueOf(&n))
}

func hasScale(res *resource) bool {
	switch res.def.Plural {
	case "deployments", "replicasets", "statefulsets":
		return res.def.GVK.Group == "apps"
	}
	return false
}

func (a *API) serveScale(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	switch r.Method {
	case http.MethodGet:
		obj, err := res.store.Get(ctx, ri.namespace, ri.name, r.URL.Query().Get("resourceVersion"))
		if err != nil {
			return err
		}
		s, err := scaleOf(obj)
		if err != nil {
			return err
		}
		a.writeObject(w, r, http.StatusOK, s)
		return nil
	case http.MethodPut, http.MethodPatch:
	default:
		return apierrors.NewMethodNotSupported(res.def.GroupResource(), strings.ToLower(r.Method))
	}
	dryRun, body, err := readWrite(r)
	if err != nil {
		return err
	}
	ct := strings.TrimSpace(strings.SplitN(r.Header.Get("Content-Type"), ";", 2)[0])
	out, _, err := res.store.Update(ctx, ri.namespace, ri.name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		if current == nil {
			return nil, apierrors.NewNotFound(res.def.GroupResource(), ri.name)
		}
		cur, err := scaleOf(current)
		if err != nil {
			return nil, err
		}
		want := &autoscalingv1.Scale{}
		if r.Method == http.MethodPut {
			if err := json.Unmarshal(body, want); err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid Scale: %v", err))
			}
			if want.ResourceVersion != "" && want.ResourceVersion != cur.ResourceVersion {
				return nil, apierrors.NewConflict(res.def.GroupResource(), ri.name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
			}
		} else {
			orig, _ := json.Marshal(cur)
			patched, err := applyPatch(ct, orig, body, &autoscalingv1.Scale{}, res.def.GroupResource(), ri.name)
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(patched, want); err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("patched Scale is invalid: %v", err))
			}
		}
		if want.Spec.Replicas < 0 {
			return nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), ri.name,
				fieldErrorNegativeReplicas(want.Spec.Replicas))
		}
		obj := current.DeepCopyObject()
		m, _ := meta.Accessor(obj)
		m.SetResourceVersion("")
		setReplicas(obj, want.Spec.Replicas)
		return res.trackUpdate(r, "", current, obj), nil
	}, registry.UpdateOptions{DryRun: dryRun})
	if err != nil {
		return err
	}
	s, err := scaleOf(out)
	if err != nil {
		return err
	}
	a.writeObject(w, r, http.StatusOK, s)
	return nil
}
