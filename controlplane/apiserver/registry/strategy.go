package registry

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Strategy holds what is particular to one resource: defaulting, validation and which parts a
// write may change.
type Strategy interface {
	// PrepareForCreate clears what a client may not set on create (usually status) and fills
	// defaults.
	PrepareForCreate(ctx context.Context, obj runtime.Object)
	// Validate checks a new object beyond its metadata.
	Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	// PrepareForUpdate carries over what an update may not change (usually status) from old.
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object)
	// ValidateUpdate checks an update, including immutable fields.
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
	// SpecChanged reports whether an update changed the desired state, which bumps
	// metadata.generation.
	SpecChanged(obj, old runtime.Object) bool
}

// StatusStrategy is the strategy of a status subresource: only status changes are kept.
type StatusStrategy interface {
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object)
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
}

// DefaultStrategy accepts everything and treats any change as a spec change; resources embed
// it and override what they need.
type DefaultStrategy struct{}

func (DefaultStrategy) PrepareForCreate(context.Context, runtime.Object)                 {}
func (DefaultStrategy) Validate(context.Context, runtime.Object) field.ErrorList         { return nil }
func (DefaultStrategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}
func (DefaultStrategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}
func (DefaultStrategy) SpecChanged(runtime.Object, runtime.Object) bool { return false }

// Operation names a write for admission, with Kubernetes' names.
type Operation string

// The operations admission sees.
const (
	OpCreate Operation = "CREATE"
	OpUpdate Operation = "UPDATE"
	OpDelete Operation = "DELETE"
)

// Admission is the admission chain as one write sees it: Mutate runs before the strategy
// defaults and validates the object, Validate after, each with the stored object as old (nil
// on create, and obj is nil on delete). Either may refuse the write with an API status error.
type Admission interface {
	Mutate(ctx context.Context, op Operation, obj, old runtime.Object) error
	Validate(ctx context.Context, op Operation, obj, old runtime.Object) error
}
