package resources

import (
	"context"
	"reflect"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"kforge.dev/kforge/controlplane/apiserver/registry"
)

// specStatus is the strategy of resources with spec and status: clients write the spec through
// the resource and the status through /status, and only spec changes bump generation.
type specStatus struct {
	registry.DefaultStrategy
	// generation: metadata.generation counts spec changes (workloads, pods), as in kube-apiserver.
	generation     bool
	validate       func(obj runtime.Object) field.ErrorList
	validateUpdate func(obj, old runtime.Object) field.ErrorList
	defaults       func(obj runtime.Object)
}

func (s specStatus) PrepareForCreate(_ context.Context, obj runtime.Object) {
	setField(obj, "Status", reflect.Value{})
	if s.defaults != nil {
		s.defaults(obj)
	}
}

func (s specStatus) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	if s.validate == nil {
		return nil
	}
	return s.validate(obj)
}

func (s specStatus) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	setField(obj, "Status", fieldOf(old, "Status"))
	if s.defaults != nil {
		s.defaults(obj)
	}
}

func (s specStatus) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	var errs field.ErrorList
	if s.validate != nil {
		errs = append(errs, s.validate(obj)...)
	}
	if s.validateUpdate != nil {
		errs = append(errs, s.validateUpdate(obj, old)...)
	}
	return errs
}

// TracksGeneration reports whether metadata.generation is kept for this resource.
func (s specStatus) TracksGeneration() bool { return s.generation }

func (s specStatus) SpecChanged(obj, old runtime.Object) bool {
	if !s.generation {
		return false
	}
	a, b := fieldOf(obj, "Spec"), fieldOf(old, "Spec")
	if !a.IsValid() || !b.IsValid() {
		return false
	}
	return !apiequality.Semantic.DeepEqual(a.Interface(), b.Interface())
}

// plain is the strategy of resources without status (configmaps, secrets, RBAC, ...): every
// change is accepted as written.
type plain struct {
	registry.DefaultStrategy
	validate       func(obj runtime.Object) field.ErrorList
	validateUpdate func(obj, old runtime.Object) field.ErrorList
	defaults       func(obj runtime.Object)
}

func (s plain) PrepareForCreate(_ context.Context, obj runtime.Object) {
	if s.defaults != nil {
		s.defaults(obj)
	}
}

func (s plain) PrepareForUpdate(_ context.Context, obj, _ runtime.Object) {
	if s.defaults != nil {
		s.defaults(obj)
	}
}

func (s plain) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	if s.validate == nil {
		return nil
	}
	return s.validate(obj)
}

func (s plain) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	if s.validateUpdate != nil {
		return s.validateUpdate(obj, old)
	}
	return s.Validate(ctx, obj)
}

// statusOnly is the strategy of /status: everything but status and metadata comes from the
// stored object.
type statusOnly struct{}

func (statusOnly) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(obj).Elem()
	for i := 0; i < nv.NumField(); i++ {
		switch nv.Type().Field(i).Name {
		case "Status", "ObjectMeta", "TypeMeta":
			continue
		}
		nv.Field(i).Set(ov.Field(i))
	}
}

func (statusOnly) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

func fieldOf(obj runtime.Object, name string) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName(name)
}

// setField sets obj.<name> to val, or to its zero value when val is invalid.
func setField(obj runtime.Object, name string, val reflect.Value) {
	f := fieldOf(obj, name)
	if !f.IsValid() || !f.CanSet() {
		return
	}
	if !val.IsValid() {
		f.Set(reflect.Zero(f.Type()))
		return
	}
	f.Set(val)
}

// StatusStrategy is the strategy of every /status subresource.
func StatusStrategy() registry.StatusStrategy { return statusOnly{} }
