package apiserver

import (
	"bytes"
	"mime"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// Media types the apiserver speaks. client-go's typed clients use protobuf; kubectl and
// everything else JSON.
const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// codecs are the serializers for the scheme's types.
type codecs struct {
	proto *protobuf.Serializer    // objects, with the k8s\x00 envelope
	raw   *protobuf.RawSerializer // watch events inside a protobuf stream
}

func newCodecs(scheme *runtime.Scheme) codecs {
	return codecs{proto: protobuf.NewSerializer(scheme, scheme), raw: protobuf.NewRawSerializer(scheme, scheme)}
}

// wantsProtobuf reports whether the client prefers protobuf: it is listed in Accept before any
// JSON type, and no server-side table is asked for (tables are JSON only, as in kube-apiserver).
func wantsProtobuf(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case mt == mediaProtobuf && params["as"] == "":
			return true
		case mt == mediaJSON || mt == "*/*" || mt == "application/*":
			return false
		}
	}
	return false
}

// isProtobufBody reports whether the request body is protobuf.
func isProtobufBody(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == mediaProtobuf
}

// encodeProtobuf encodes obj (with apiVersion/kind set) in the protobuf envelope.
func (a *API) encodeProtobuf(obj runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	if err := a.codecs.proto.Encode(a.typed(obj), &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
