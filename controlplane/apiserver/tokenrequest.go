package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"kforge.dev/kforge/controlplane/apiserver/authn"
)

// TokenRequest limits, kube-apiserver's: a token lives an hour unless asked otherwise and
// never less than ten minutes.
const (
	defaultTokenExpirationSeconds = 3600
	minTokenExpirationSeconds     = 600
)

var tokenRequestKind = schema.GroupKind{Group: "authentication.k8s.io", Kind: "TokenRequest"}

// requestToken serves serviceaccounts/<name>/token (kubectl create token): a signed, bound
// service-account token for the audiences asked for, valid while the service account (and the
// object it is bound to) exists.
func (a *API) requestToken(ctx context.Context, w http.ResponseWriter, r *http.Request, namespace, name string) error {
	if a.security == nil || a.security.TokenSigner == nil {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts/token"}, name)
	}
	_, body, err := readWrite(r)
	if err != nil {
		return err
	}
	tr := &authenticationv1.TokenRequest{}
	if isProtobufBody(r) {
		_, _, err = a.codecs.proto.Decode(body, nil, tr)
	} else {
		err = json.Unmarshal(body, tr)
	}
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("unable to decode the request body as TokenRequest: %v", err))
	}
	if tr.Name != "" && tr.Name != name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the TokenRequest (%s) does not match the name on the URL (%s)", tr.Name, name))
	}
	saObj, err := a.cachedGet(ctx, corev1.SchemeGroupVersion.WithResource("serviceaccounts"), namespace, name)
	if err != nil {
		return err
	}
	sa := saObj.(*corev1.ServiceAccount)
	sec := a.security
	if tr.Spec.ExpirationSeconds == nil {
		tr.Spec.ExpirationSeconds = ptrTo(int64(defaultTokenExpirationSeconds))
	}
	exp := *tr.Spec.ExpirationSeconds
	if exp < minTokenExpirationSeconds {
		return apierrors.NewInvalid(tokenRequestKind, name, field.ErrorList{field.Invalid(field.NewPath("spec", "expirationSeconds"), exp, "may not specify a duration less than 10 minutes")})
	}
	if exp > 1<<32 {
		return apierrors.NewInvalid(tokenRequestKind, name, field.ErrorList{field.TooLong(field.NewPath("spec", "expirationSeconds"), exp, 1<<32)})
	}
	if max := sec.MaxTokenExpiration; max > 0 && time.Duration(exp)*time.Second > max {
		exp = int64(max / time.Second)
	}
	if len(tr.Spec.Audiences) == 0 {
		tr.Spec.Audiences = slices.Clone(sec.APIAudiences)
	}
	claims := authn.BoundClaims{Audiences: tr.Spec.Audiences, ExpirationSeconds: exp,
		Namespace: namespace, ServiceAccountName: sa.Name, ServiceAccountUID: string(sa.UID)}
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		if err := a.bindToken(ctx, namespace, name, ref, &claims); err != nil {
			return err
		}
	}
	token, err := sec.TokenSigner.IssueBound(claims)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	tr.Namespace, tr.Name = namespace, name
	tr.CreationTimestamp = metav1.Now()
	tr.Spec.ExpirationSeconds = &exp
	tr.Status = authenticationv1.TokenRequestStatus{Token: token,
		ExpirationTimestamp: metav1.NewTime(tr.CreationTimestamp.Add(time.Duration(exp) * time.Second))}
	a.writeObject(w, r, http.StatusCreated, tr)
	return nil
}

// bindToken ties the token to a Pod, Secret or Node of the same namespace, checking it exists
// (and is the same object, when a uid is given).
func (a *API) bindToken(ctx context.Context, namespace, name string, ref *authenticationv1.BoundObjectReference, c *authn.BoundClaims) error {
	refPath := field.NewPath("spec", "boundObjectRef")
	var gvr schema.GroupVersionResource
	switch {
	case ref.Kind == "Pod" && (ref.APIVersion == "v1" || ref.APIVersion == ""):
		gvr = corev1.SchemeGroupVersion.WithResource("pods")
	case ref.Kind == "Secret" && (ref.APIVersion == "v1" || ref.APIVersion == ""):
		gvr = corev1.SchemeGroupVersion.WithResource("secrets")
	case ref.Kind == "Node" && (ref.APIVersion == "v1" || ref.APIVersion == ""):
		gvr = corev1.SchemeGroupVersion.WithResource("nodes")
	default:
		return apierrors.NewInvalid(tokenRequestKind, name, field.ErrorList{field.NotSupported(refPath.Child("kind"), ref.Kind, []string{"Pod", "Secret", "Node"})})
	}
	ns := namespace
	if ref.Kind == "Node" {
		ns = ""
	}
	obj, err := a.cachedGet(ctx, gvr, ns, ref.Name)
	if err != nil {
		return err
	}
	m, _ := obj.(metav1.Object)
	if ref.UID != "" && ref.UID != m.GetUID() {
		return apierrors.NewConflict(gvr.GroupResource(), ref.Name, fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	uid := string(m.GetUID())
	switch o := obj.(type) {
	case *corev1.Pod:
		c.PodName, c.PodUID = o.Name, uid
		if o.Spec.NodeName != "" {
			if n, err := a.cachedGet(ctx, corev1.SchemeGroupVersion.WithResource("nodes"), "", o.Spec.NodeName); err == nil {
				c.NodeName, c.NodeUID = o.Spec.NodeName, string(n.(*corev1.Node).UID)
			}
		}
	case *corev1.Secret:
		c.SecretName, c.SecretUID = o.Name, uid
	case *corev1.Node:
		c.NodeName, c.NodeUID = o.Name, uid
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }
