package storage

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
)

// reflectAppend appends obj (a pointer to an item type) to the items slice value, which holds
// either values (PodList.Items []Pod) or pointers.
func reflectAppend(items reflect.Value, obj runtime.Object) reflect.Value {
	v := reflect.ValueOf(obj)
	if items.Type().Elem().Kind() != reflect.Pointer {
		v = v.Elem()
	}
	return reflect.Append(items, v)
}
