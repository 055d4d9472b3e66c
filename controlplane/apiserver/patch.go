package apiserver

import (
	"fmt"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// Patch media types other than server-side apply.
const (
	jsonPatchType      = "application/json-patch+json"
	mergePatchType     = "application/merge-patch+json"
	strategicPatchType = "application/strategic-merge-patch+json"
	applyPatchType     = "application/apply-patch+yaml"
)

func isPatchType(ct string) bool {
	return ct == jsonPatchType || ct == mergePatchType || ct == strategicPatchType
}

func unsupportedPatchType(ct string, gr schema.GroupResource, name string) error {
	return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", gr, name,
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s, %s (got %q)",
			jsonPatchType, mergePatchType, strategicPatchType, applyPatchType, ct), 0, false)
}

// applyPatch applies a JSON, merge or strategic merge patch to orig; schema is an empty object
// of orig's type, whose struct tags carry the strategic merge keys. Errors are API errors
// naming the resource.
func applyPatch(ct string, orig, patch []byte, schema runtime.Object, gr schema.GroupResource, name string) ([]byte, error) {
	switch ct {
	case jsonPatchType:
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid JSON patch: %v", err))
		}
		out, err := p.Apply(orig)
		if err != nil {
			return nil, apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "patch", gr, name, err.Error(), 0, false)
		}
		return out, nil
	case mergePatchType:
		out, err := jsonpatch.MergePatch(orig, patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid merge patch: %v", err))
		}
		return out, nil
	case strategicPatchType:
		out, err := strategicpatch.StrategicMergePatch(orig, patch, schema)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid strategic merge patch: %v", err))
		}
		return out, nil
	}
	return nil, unsupportedPatchType(ct, gr, name)
}
