package apiserver

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

type corev1Namespace = corev1.Namespace

func fieldErrorRVRequired() field.ErrorList {
	return field.ErrorList{field.Invalid(field.NewPath("metadata", "resourceVersion"), "", "must be specified for an update")}
}

func fieldErrorNegativeReplicas(n int32) field.ErrorList {
	return field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), n, "must be greater than or equal to 0")}
}

func fieldErrorBindingTarget(kind string) field.ErrorList {
	return field.ErrorList{field.NotSupported(field.NewPath("target", "kind"), kind, []string{"Node"})}
}

func fieldErrorBindingNode() field.ErrorList {
	return field.ErrorList{field.Required(field.NewPath("target", "name"), "the node to bind to")}
}

func fieldErrorApprovedAndDenied() field.ErrorList {
	return field.ErrorList{field.Invalid(field.NewPath("status", "conditions"), "Approved,Denied", "Approved and Denied conditions are mutually exclusive")}
}
