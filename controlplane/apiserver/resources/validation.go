package resources

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation here covers what clients most often get wrong, with kube-apiserver's field paths
// and messages; it grows resource by resource. This file holds pods, services, config maps,
// secrets and priority classes; validation_core.go, validation_workloads.go and
// validation_cluster.go the other resources.

func validateContainers(cs []corev1.Container, p *field.Path, required bool) field.ErrorList {
	var errs field.ErrorList
	if required && len(cs) == 0 {
		errs = append(errs, field.Required(p, ""))
	}
	seen := map[string]bool{}
	for i, c := range cs {
		cp := p.Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(cp.Child("name"), ""))
		} else {
			for _, msg := range validation.IsDNS1123Label(c.Name) {
				errs = append(errs, field.Invalid(cp.Child("name"), c.Name, msg))
			}
			if seen[c.Name] {
				errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
			}
			seen[c.Name] = true
		}
		if c.Image == "" {
			errs = append(errs, field.Required(cp.Child("image"), ""))
		}
		for j, port := range c.Ports {
			if port.ContainerPort < 1 || port.ContainerPort > 65535 {
				errs = append(errs, field.Invalid(cp.Child("ports").Index(j).Child("containerPort"), port.ContainerPort, validation.InclusiveRangeError(1, 65535)))
			}
		}
	}
	return errs
}

func validatePodSpec(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	errs := validateContainers(s.Containers, p.Child("containers"), true)
	errs = append(errs, validateContainers(s.InitContainers, p.Child("initContainers"), false)...)
	switch s.RestartPolicy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), s.RestartPolicy, []string{"Always", "OnFailure", "Never"}))
	}
	return errs
}

func validatePod(obj runtime.Object) field.ErrorList {
	return validatePodSpec(&obj.(*corev1.Pod).Spec, field.NewPath("spec"))
}

// validatePodUpdate: a pod's spec is immutable except images, activeDeadlineSeconds and
// tolerations additions, as in kube-apiserver.
func validatePodUpdate(obj, old runtime.Object) field.ErrorList {
	n, o := obj.(*corev1.Pod).Spec.DeepCopy(), old.(*corev1.Pod).Spec.DeepCopy()
	for i := range n.Containers {
		if i < len(o.Containers) {
			n.Containers[i].Image = o.Containers[i].Image
		}
	}
	for i := range n.InitContainers {
		if i < len(o.InitContainers) {
			n.InitContainers[i].Image = o.InitContainers[i].Image
		}
	}
	n.ActiveDeadlineSeconds = o.ActiveDeadlineSeconds
	n.Tolerations = o.Tolerations
	if o.NodeName == "" {
		n.NodeName = "" // binding sets it
	}
	if !apiequality.Semantic.DeepEqual(n, o) {
		return field.ErrorList{field.Forbidden(field.NewPath("spec"), "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")}
	}
	return nil
}

func validateService(obj runtime.Object) field.ErrorList {
	s := obj.(*corev1.Service)
	var errs field.ErrorList
	p := field.NewPath("spec")
	if len(s.Spec.Ports) == 0 && s.Spec.ClusterIP != corev1.ClusterIPNone && s.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(p.Child("ports"), ""))
	}
	names := map[string]bool{}
	for i, port := range s.Spec.Ports {
		pp := p.Child("ports").Index(i)
		if port.Port < 1 || port.Port > 65535 {
			errs = append(errs, field.Invalid(pp.Child("port"), port.Port, validation.InclusiveRangeError(1, 65535)))
		}
		if len(s.Spec.Ports) > 1 && port.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		}
		if port.Name != "" && names[port.Name] {
			errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
		}
		names[port.Name] = true
	}
	switch s.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), s.Spec.Type, []string{"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}))
	}
	return errs
}

func validateKeys[V any](m map[string]V, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for k := range m {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(p, k, msg))
		}
	}
	return errs
}

func validateConfigMap(obj runtime.Object) field.ErrorList {
	cm := obj.(*corev1.ConfigMap)
	errs := validateKeys(cm.Data, field.NewPath("data"))
	errs = append(errs, validateKeys(cm.BinaryData, field.NewPath("binaryData"))...)
	for k := range cm.Data {
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data"), k, "duplicate of key present in binaryData"))
		}
	}
	return errs
}

func validateSecret(obj runtime.Object) field.ErrorList {
	s := obj.(*corev1.Secret)
	return append(validateKeys(s.Data, field.NewPath("data")), validateKeys(s.StringData, field.NewPath("stringData"))...)
}

// PriorityClass values above this are reserved for the system-* classes.
const highestUserPriority = 1000000000

func validatePriorityClass(obj runtime.Object) field.ErrorList {
	pc := obj.(*schedulingv1.PriorityClass)
	var errs field.ErrorList
	if pc.Value > highestUserPriority && !strings.HasPrefix(pc.Name, "system-") {
		errs = append(errs, field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %d", highestUserPriority)))
	}
	if p := pc.PreemptionPolicy; p != nil && *p != corev1.PreemptLowerPriority && *p != corev1.PreemptNever {
		errs = append(errs, field.NotSupported(field.NewPath("preemptionPolicy"), *p, []string{string(corev1.PreemptLowerPriority), string(corev1.PreemptNever)}))
	}
	return errs
}

func validatePriorityClassUpdate(obj, old runtime.Object) field.ErrorList {
	pc, prev := obj.(*schedulingv1.PriorityClass), old.(*schedulingv1.PriorityClass)
	errs := validatePriorityClass(obj)
	if pc.Value != prev.Value {
		errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
	}
	if !apiequality.Semantic.DeepEqual(pc.PreemptionPolicy, prev.PreemptionPolicy) {
		errs = append(errs, field.Invalid(field.NewPath("preemptionPolicy"), pc.PreemptionPolicy, "field is immutable"))
	}
	return errs
}
