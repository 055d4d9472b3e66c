package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// typed sets an object's apiVersion and kind from the scheme, as responses carry them.
func (a *API) typed(obj runtime.Object) runtime.Object {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return obj
	}
	if gvks, _, err := a.scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		gvk := gvks[0]
		// meta types are registered in many groups; they are always meta.k8s.io/v1 or v1.
		if gvk.Kind == "Status" || gvk.Kind == "Table" {
			gvk.Group, gvk.Version = "", "v1"
			if gvk.Kind == "Table" {
				gvk.Group = "meta.k8s.io"
			}
		}
		obj.GetObjectKind().SetGroupVersionKind(gvk)
	}
	return obj
}

// writeObject writes obj with status code, as protobuf when the client prefers it, else JSON.
func (a *API) writeObject(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object) {
	if r != nil && wantsProtobuf(r) {
		if b, err := a.encodeProtobuf(obj); err == nil {
			w.Header().Set("Content-Type", mediaProtobuf)
			w.WriteHeader(code)
			w.Write(b)
			return
		}
		// Types without protobuf support fall back to JSON, which clients also accept.
	}
	b, err := json.Marshal(a.typed(obj))
	if err != nil {
		a.writeError(w, apierrors.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// writeError writes err as a metav1.Status with the code the API uses for it.
func (a *API) writeError(w http.ResponseWriter, err error) {
	var st metav1.Status
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		st = se.Status()
	} else {
		st = apierrors.NewInternalError(err).Status()
	}
	st.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	if st.Status == "" {
		st.Status = metav1.StatusFailure
	}
	if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", itoa(int64(st.Details.RetryAfterSeconds)))
	}
	b, _ := json.Marshal(&st)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	w.Write(b)
}

func notFoundPath(path string) error {
	return apierrors.NewNotFound(schema.GroupResource{}, path)
}
