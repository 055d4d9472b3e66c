package storage

import (
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// jsonCodec stores objects as JSON with apiVersion and kind, as kube-apiserver's JSON storage
// media type does, so `etcdctl get` shows a readable, self-describing object.
type jsonCodec struct {
	scheme *runtime.Scheme
	*json.Serializer
}

// NewJSONCodec returns the codec for objects of the types registered in scheme.
func NewJSONCodec(scheme *runtime.Scheme) Codec {
	return jsonCodec{scheme: scheme, Serializer: json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{})}
}

// Encode writes obj with its group, version and kind filled in from the scheme.
func (c jsonCodec) Encode(obj runtime.Object, w io.Writer) error {
	gvks, _, err := c.scheme.ObjectKinds(obj)
	if err != nil {
		return err
	}
	kind := obj.GetObjectKind()
	old := kind.GroupVersionKind()
	kind.SetGroupVersionKind(gvks[0])
	defer kind.SetGroupVersionKind(old)
	return c.Serializer.Encode(obj, w)
}
