package registry

import (
	"fmt"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NameValidator checks an object's name; most resources use DNS subdomains, some DNS labels
// or path segments.
type NameValidator func(name string) []string

// ValidateDNSSubdomainName is the rule most resources use for names.
func ValidateDNSSubdomainName(name string) []string { return validation.IsDNS1123Subdomain(name) }

// ValidateDNSLabelName is the rule of namespaces and services.
func ValidateDNSLabelName(name string) []string { return validation.IsDNS1123Label(name) }

// ValidatePathSegmentName is the loosest rule (RBAC objects): anything usable in a URL path.
func ValidatePathSegmentName(name string) []string {
	var errs []string
	if name == "." || name == ".." {
		errs = append(errs, fmt.Sprintf("may not be '%s'", name))
	}
	for _, bad := range []string{"/", "%"} {
		if strings.Contains(name, bad) {
			errs = append(errs, fmt.Sprintf("may not contain '%s'", bad))
		}
	}
	return errs
}

// validateObjectMeta checks the metadata every object shares, on create.
func validateObjectMeta(m metav1.Object, namespaced bool, nameFn NameValidator) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("metadata")
	if m.GetName() == "" && m.GetGenerateName() == "" {
		errs = append(errs, field.Required(p.Child("name"), "name or generateName is required"))
	}
	if n := m.GetName(); n != "" {
		for _, msg := range nameFn(n) {
			errs = append(errs, field.Invalid(p.Child("name"), n, msg))
		}
	}
	if namespaced {
		if m.GetNamespace() == "" {
			errs = append(errs, field.Required(p.Child("namespace"), ""))
		} else {
			for _, msg := range validation.IsDNS1123Label(m.GetNamespace()) {
				errs = append(errs, field.Invalid(p.Child("namespace"), m.GetNamespace(), msg))
			}
		}
	} else if m.GetNamespace() != "" {
		errs = append(errs, field.Forbidden(p.Child("namespace"), "not allowed on this type"))
	}
	errs = append(errs, validateLabels(m.GetLabels(), p.Child("labels"))...)
	errs = append(errs, validateAnnotations(m.GetAnnotations(), p.Child("annotations"))...)
	for i, f := range m.GetFinalizers() {
		if msgs := validation.IsQualifiedName(f); len(msgs) > 0 {
			for _, msg := range msgs {
				errs = append(errs, field.Invalid(p.Child("finalizers").Index(i), f, msg))
			}
		}
	}
	return errs
}

func validateLabels(l map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for k, v := range l {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(p, k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(p.Key(k), v, msg))
		}
	}
	return errs
}

const totalAnnotationSizeLimit = 256 * 1024

func validateAnnotations(a map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for k, v := range a {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, field.Invalid(p, k, msg))
		}
		size += len(k) + len(v)
	}
	if size > totalAnnotationSizeLimit {
		errs = append(errs, field.TooLong(p, "", totalAnnotationSizeLimit))
	}
	return errs
}

// validateObjectMetaUpdate checks what an update may not change.
func validateObjectMetaUpdate(m, old metav1.Object) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("metadata")
	immutable := func(name string, a, b any) {
		if !apiequality.Semantic.DeepEqual(a, b) {
			errs = append(errs, field.Invalid(p.Child(name), a, "field is immutable"))
		}
	}
	immutable("name", m.GetName(), old.GetName())
	immutable("namespace", m.GetNamespace(), old.GetNamespace())
	immutable("uid", m.GetUID(), old.GetUID())
	immutable("creationTimestamp", m.GetCreationTimestamp(), old.GetCreationTimestamp())
	errs = append(errs, validateLabels(m.GetLabels(), p.Child("labels"))...)
	errs = append(errs, validateAnnotations(m.GetAnnotations(), p.Child("annotations"))...)
	if old.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) > 0 {
		for _, f := range m.GetFinalizers() {
			found := false
			for _, o := range old.GetFinalizers() {
				found = found || o == f
			}
			if !found {
				errs = append(errs, field.Forbidden(p.Child("finalizers"), fmt.Sprintf("no new finalizers can be added if the object is being deleted, found new finalizers %q", f)))
			}
		}
	}
	return errs
}
