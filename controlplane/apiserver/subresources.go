package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kforge.dev/kforge/controlplane/apiserver/registry"
	"kforge.dev/kforge/controlplane/storage"
)

// Subresources that act on another object: pod binding (the scheduler's write), pod eviction
// (honouring PodDisruptionBudgets) and CSR approval.

func statusSuccess(code int32) *metav1.Status {
	return &metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusSuccess, Code: code}
}

// bind assigns a pod to a node, once: a pod already on a node is a 409, as in kube-apiserver.
func (a *API) bind(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, namespace, podName string) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var b corev1.Binding
	if isProtobufBody(r) {
		if _, _, err := a.codecs.proto.Decode(body, nil, &b); err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid Binding: %v", err))
		}
	} else if err := json.Unmarshal(body, &b); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid Binding: %v", err))
	}
	if podName == "" {
		podName = b.Name
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, podName, fieldErrorBindingTarget(b.Target.Kind))
	}
	if b.Target.Name == "" {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, podName, fieldErrorBindingNode())
	}
	if err := a.admitSubresource(ctx, r, res, "binding", namespace, podName, &b); err != nil {
		return err
	}
	_, _, err = res.store.Update(ctx, namespace, podName, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		if cur == nil {
			return nil, apierrors.NewNotFound(res.def.GroupResource(), podName)
		}
		pod := cur.(*corev1.Pod)
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(res.def.GroupResource(), podName, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", podName))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(res.def.GroupResource(), podName, fmt.Errorf("pod %s is already assigned to node %q", podName, pod.Spec.NodeName))
		}
		if b.UID != "" && b.UID != pod.UID {
			return nil, apierrors.NewConflict(res.def.GroupResource(), podName, fmt.Errorf("binding UID %s does not match pod UID %s", b.UID, pod.UID))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		setPodCondition(pod, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()})
		pod.ResourceVersion = ""
		return pod, nil
	}, registry.UpdateOptions{Subresource: "binding"})
	if err != nil {
		return err
	}
	a.writeObject(w, r, http.StatusCreated, statusSuccess(http.StatusCreated))
	return nil
}

func setPodCondition(pod *corev1.Pod, c corev1.PodCondition) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == c.Type {
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}

// evict deletes a pod unless a PodDisruptionBudget covering it allows no disruption (429).
func (a *API) evict(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, namespace, podName string) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var ev policyv1.Eviction
	if len(body) > 0 {
		if isProtobufBody(r) {
			_, _, err = a.codecs.proto.Decode(body, nil, &ev)
		} else {
			err = json.Unmarshal(body, &ev)
		}
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid Eviction: %v", err))
		}
	}
	if err := a.admitSubresource(ctx, r, res, "eviction", namespace, podName, &ev); err != nil {
		return err
	}
	obj, err := res.store.Get(ctx, namespace, podName, "")
	if err != nil {
		return err
	}
	pod := obj.(*corev1.Pod)
	// Pods that are done, or not running yet, may always go (kube-apiserver's rule).
	if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.Status.Phase != corev1.PodPending {
		if err := a.takeDisruption(ctx, pod); err != nil {
			return err
		}
	}
	opts := registry.DeleteOptions{}
	if do := ev.DeleteOptions; do != nil {
		opts.GracePeriodSeconds = do.GracePeriodSeconds
		if do.Preconditions != nil {
			opts.Preconditions = &storage.Preconditions{UID: do.Preconditions.UID, ResourceVersion: do.Preconditions.ResourceVersion}
		}
	}
	if _, _, err := res.store.Delete(ctx, namespace, podName, opts); err != nil {
		return err
	}
	a.writeObject(w, r, http.StatusCreated, statusSuccess(http.StatusCreated))
	return nil
}

// takeDisruption spends one allowed disruption of every PodDisruptionBudget selecting pod.
func (a *API) takeDisruption(ctx context.Context, pod *corev1.Pod) error {
	pdbs := a.resourceFor(policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets"))
	list, err := pdbs.store.List(ctx, pod.Namespace, storage.ListOptions{})
	if err != nil {
		return err
	}
	for _, pdb := range list.(*policyv1.PodDisruptionBudgetList).Items {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		_, _, err = pdbs.store.Update(ctx, pdb.Namespace, pdb.Name, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
			p := cur.(*policyv1.PodDisruptionBudget)
			if p.Status.ObservedGeneration < p.Generation || p.Status.DisruptionsAllowed < 1 {
				err := apierrors.NewTooManyRequests(fmt.Sprintf("Cannot evict pod as it would violate the pod's disruption budget. The disruption budget %s needs %d healthy pods and has %d currently",
					p.Name, p.Status.DesiredHealthy, p.Status.CurrentHealthy), 0)
				err.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: policyv1.DisruptionBudgetCause, Message: "The disruption budget " + p.Name + " is not allowing disruptions"}}
				return nil, err
			}
			p.Status.DisruptionsAllowed--
			if p.Status.DisruptedPods == nil {
				p.Status.DisruptedPods = map[string]metav1.Time{}
			}
			p.Status.DisruptedPods[pod.Name] = metav1.Now()
			p.ResourceVersion = ""
			return p, nil
		}, registry.UpdateOptions{Subresource: "status"})
		if err != nil {
			return err
		}
	}
	return nil
}

// approve updates a CSR's Approved/Denied conditions and nothing else (the approval
// subresource `kubectl certificate approve|deny` writes).
func (a *API) approve(ctx context.Context, w http.ResponseWriter, r *http.Request, res *resource, name string) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := a.decodeObject(w, r, res, body)
	if err != nil {
		return err
	}
	want := obj.(*certificatesv1.CertificateSigningRequest)
	out, _, err := res.store.Update(ctx, "", name, func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		if cur == nil {
			return nil, apierrors.NewNotFound(res.def.GroupResource(), name)
		}
		csr := cur.(*certificatesv1.CertificateSigningRequest)
		if want.ResourceVersion != "" && want.ResourceVersion != csr.ResourceVersion {
			return nil, apierrors.NewConflict(res.def.GroupResource(), name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		approved, denied := false, false
		for _, c := range want.Status.Conditions {
			approved = approved || c.Type == certificatesv1.CertificateApproved
			denied = denied || c.Type == certificatesv1.CertificateDenied
		}
		if approved && denied {
			return nil, apierrors.NewInvalid(res.def.GVK.GroupKind(), name, fieldErrorApprovedAndDenied())
		}
		csr.Status.Conditions = want.Status.Conditions
		for i := range csr.Status.Conditions {
			if csr.Status.Conditions[i].LastUpdateTime.IsZero() {
				csr.Status.Conditions[i].LastUpdateTime = metav1.Now()
			}
			if csr.Status.Conditions[i].LastTransitionTime.IsZero() {
				csr.Status.Conditions[i].LastTransitionTime = metav1.Now()
			}
		}
		csr.ResourceVersion = ""
		return csr, nil
	}, registry.UpdateOptions{Subresource: "status"})
	if err != nil {
		return err
	}
	a.writeObject(w, r, http.StatusOK, out)
	return nil
}
