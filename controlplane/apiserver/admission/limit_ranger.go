package admission

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
)

// LimitRangerAnnotation records on a pod which requests and limits LimitRanger filled in, so
// users can tell defaults from what they wrote.
const LimitRangerAnnotation = "kubernetes.io/limit-ranger"

// LimitRanger applies a namespace's LimitRanges: it fills in default container requests and
// limits, then refuses pods and PersistentVolumeClaims outside the min/max/ratio bounds. Admins
// use it to keep unbounded or oversized workloads out of shared namespaces.
type LimitRanger struct {
	limitRanges LimitRangeLister
}

// NewLimitRanger builds the plugin; it needs deps.LimitRanges.
func NewLimitRanger(deps Deps) (*LimitRanger, error) {
	if err := requireDep(LimitRangerPluginName, "LimitRanges", deps.LimitRanges != nil); err != nil {
		return nil, err
	}
	return &LimitRanger{limitRanges: deps.LimitRanges}, nil
}

// Name implements Plugin.
func (*LimitRanger) Name() string { return LimitRangerPluginName }

// supports mirrors Kubernetes: pods on create only (their resources are immutable, except
// through resize, which LimitRanger does not check) and PVCs on create and update.
func (l *LimitRanger) supports(a *Attributes) bool {
	if a.Subresource != "" || a.Namespace == "" {
		return false
	}
	switch a.groupResource() {
	case podsResource:
		_, ok := a.Object.(*corev1.Pod)
		return ok && a.Operation == Create
	case pvcResource:
		_, ok := a.Object.(*corev1.PersistentVolumeClaim)
		return ok && (a.Operation == Create || a.Operation == Update)
	}
	return false
}

func (l *LimitRanger) items(ctx context.Context, a *Attributes) ([]*corev1.LimitRange, error) {
	if !l.supports(a) {
		return nil, nil
	}
	if a.OldObject != nil {
		if acc, err := meta.Accessor(a.OldObject); err == nil && acc.GetDeletionTimestamp() != nil {
			return nil, nil
		}
	}
	items, err := l.limitRanges.ListLimitRanges(ctx, a.Namespace)
	if err != nil {
		return nil, forbiddenf(a, "unable to %s %v at this time because there was an error enforcing limit ranges", a.Operation, a.Resource)
	}
	out := make([]*corev1.LimitRange, 0, len(items))
	for _, lr := range items {
		out = append(out, withLimitRangeDefaults(lr))
	}
	return out, nil
}

// Admit implements Mutator: default container and init container requests/limits.
func (l *LimitRanger) Admit(ctx context.Context, a *Attributes) error {
	items, err := l.items(ctx, a)
	if err != nil {
		return err
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	for _, lr := range items {
		defaultPodResources(lr, pod)
	}
	return nil
}

// Validate implements Validator: enforce min, max and maxLimitRequestRatio.
func (l *LimitRanger) Validate(ctx context.Context, a *Attributes) error {
	items, err := l.items(ctx, a)
	if err != nil {
		return err
	}
	for _, lr := range items {
		var errs []error
		switch obj := a.Object.(type) {
		case *corev1.Pod:
			errs = validatePodLimits(lr, obj)
		case *corev1.PersistentVolumeClaim:
			errs = validatePVCLimits(lr, obj)
		}
		if len(errs) > 0 {
			return forbidden(a, aggregate(errs))
		}
	}
	return nil
}

// aggregate renders several errors the way apimachinery's errors.Aggregate does: one error as
// itself, several as "[a, b]" (duplicates dropped).
func aggregate(errs []error) error {
	var msgs []string
	seen := map[string]bool{}
	for _, e := range errs {
		if m := e.Error(); !seen[m] {
			seen[m] = true
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 1 {
		return errors.New(msgs[0])
	}
	return errors.New("[" + strings.Join(msgs, ", ") + "]")
}

// withLimitRangeDefaults applies the API defaulting of LimitRange container items (default
// limit from max, default request from default limit, then from min), which kube-apiserver does
// when the LimitRange is stored; doing it here again is harmless and covers stored objects that
// were not defaulted.
func withLimitRangeDefaults(in *corev1.LimitRange) *corev1.LimitRange {
	lr := in.DeepCopy()
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		if item.Default == nil {
			item.Default = corev1.ResourceList{}
		}
		if item.DefaultRequest == nil {
			item.DefaultRequest = corev1.ResourceList{}
		}
		for k, v := range item.Max {
			if _, ok := item.Default[k]; !ok {
				item.Default[k] = v.DeepCopy()
			}
		}
		for k, v := range item.Default {
			if _, ok := item.DefaultRequest[k]; !ok {
				item.DefaultRequest[k] = v.DeepCopy()
			}
		}
		for k, v := range item.Min {
			if _, ok := item.DefaultRequest[k]; !ok {
				item.DefaultRequest[k] = v.DeepCopy()
			}
		}
	}
	return lr
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	return slices.Sorted(maps.Keys(l))
}

func defaultPodResources(lr *corev1.LimitRange, pod *corev1.Pod) {
	defReq, defLim := corev1.ResourceList{}, corev1.ResourceList{}
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		for k, v := range item.DefaultRequest {
			defReq[k] = v.DeepCopy()
		}
		for k, v := range item.Default {
			defLim[k] = v.DeepCopy()
		}
	}
	var notes []string
	merge := func(c *corev1.Container, what string) {
		var setReq, setLim []string
		if c.Resources.Limits == nil {
			c.Resources.Limits = corev1.ResourceList{}
		}
		if c.Resources.Requests == nil {
			c.Resources.Requests = corev1.ResourceList{}
		}
		for _, k := range sortedNames(defLim) {
			if _, ok := c.Resources.Limits[k]; !ok {
				c.Resources.Limits[k] = defLim[k].DeepCopy()
				setLim = append(setLim, string(k))
			}
		}
		for _, k := range sortedNames(defReq) {
			if _, ok := c.Resources.Requests[k]; !ok {
				c.Resources.Requests[k] = defReq[k].DeepCopy()
				setReq = append(setReq, string(k))
			}
		}
		if len(setReq) > 0 {
			notes = append(notes, fmt.Sprintf("%s request for %s %s", strings.Join(setReq, ", "), what, c.Name))
		}
		if len(setLim) > 0 {
			notes = append(notes, fmt.Sprintf("%s limit for %s %s", strings.Join(setLim, ", "), what, c.Name))
		}
	}
	for i := range pod.Spec.Containers {
		merge(&pod.Spec.Containers[i], "container")
	}
	for i := range pod.Spec.InitContainers {
		merge(&pod.Spec.InitContainers[i], "init container")
	}
	if len(notes) > 0 {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[LimitRangerAnnotation] = "LimitRanger plugin set: " + strings.Join(notes, "; ")
	}
}

// comparable3 returns the three quantities at a common precision (milli-units when that cannot
// overflow), as Kubernetes compares them.
func comparable3(req, lim, enforced resource.Quantity) (int64, int64, int64) {
	r, l, e := req.Value(), lim.Value(), enforced.Value()
	if r <= resource.MaxMilliValue && l <= resource.MaxMilliValue && e <= resource.MaxMilliValue {
		return req.MilliValue(), lim.MilliValue(), enforced.MilliValue()
	}
	return r, l, e
}

func minConstraint(limitType corev1.LimitType, name corev1.ResourceName, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, hasReq := request[name]
	lim, hasLim := limit[name]
	r, l, e := comparable3(req, lim, enforced)
	if !hasReq {
		return fmt.Errorf("minimum %s usage per %s is %s.  No request is specified", name, limitType, enforced.String())
	}
	if r < e {
		return fmt.Errorf("minimum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	if hasLim && l < e {
		return fmt.Errorf("minimum %s usage per %s is %s, but limit is %s", name, limitType, enforced.String(), lim.String())
	}
	return nil
}

func maxRequestConstraint(limitType corev1.LimitType, name corev1.ResourceName, enforced resource.Quantity, request corev1.ResourceList) error {
	req, hasReq := request[name]
	r, _, e := comparable3(req, resource.Quantity{}, enforced)
	if !hasReq {
		return fmt.Errorf("maximum %s usage per %s is %s.  No request is specified", name, limitType, enforced.String())
	}
	if r > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	return nil
}

func maxConstraint(limitType corev1.LimitType, name corev1.ResourceName, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, hasReq := request[name]
	lim, hasLim := limit[name]
	r, l, e := comparable3(req, lim, enforced)
	if !hasLim {
		return fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified", name, limitType, enforced.String())
	}
	if l > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but limit is %s", name, limitType, enforced.String(), lim.String())
	}
	if hasReq && r > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	return nil
}

func ratioConstraint(limitType corev1.LimitType, name corev1.ResourceName, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, hasReq := request[name]
	lim, hasLim := limit[name]
	r, l, _ := comparable3(req, lim, enforced)
	if !hasReq || r == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", name, limitType, enforced.String())
	}
	if !hasLim || l == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0", name, limitType, enforced.String())
	}
	observed := float64(l) / float64(r)
	display := observed
	maxRatio := float64(enforced.Value())
	if enforced.Value() <= resource.MaxMilliValue {
		observed *= 1000
		maxRatio = float64(enforced.MilliValue())
	}
	if observed > maxRatio {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but provided ratio is %f", name, limitType, enforced.String(), display)
	}
	return nil
}

func checkBounds(item corev1.LimitRangeItem, request, limit corev1.ResourceList) []error {
	var errs []error
	for _, k := range sortedNames(item.Min) {
		if err := minConstraint(item.Type, k, item.Min[k], request, limit); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedNames(item.Max) {
		if err := maxConstraint(item.Type, k, item.Max[k], request, limit); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedNames(item.MaxLimitRequestRatio) {
		if err := ratioConstraint(item.Type, k, item.MaxLimitRequestRatio[k], request, limit); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func validatePodLimits(lr *corev1.LimitRange, pod *corev1.Pod) []error {
	var errs []error
	for _, item := range lr.Spec.Limits {
		switch item.Type {
		case corev1.LimitTypeContainer:
			for _, c := range pod.Spec.Containers {
				errs = append(errs, checkBounds(item, c.Resources.Requests, c.Resources.Limits)...)
			}
			for _, c := range pod.Spec.InitContainers {
				errs = append(errs, checkBounds(item, c.Resources.Requests, c.Resources.Limits)...)
			}
		case corev1.LimitTypePod:
			errs = append(errs, checkBounds(item, podRequests(pod), podLimits(pod))...)
		}
	}
	return errs
}

func validatePVCLimits(lr *corev1.LimitRange, pvc *corev1.PersistentVolumeClaim) []error {
	var errs []error
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypePersistentVolumeClaim {
			continue
		}
		for _, k := range sortedNames(item.Min) {
			if err := minConstraint(item.Type, k, item.Min[k], pvc.Spec.Resources.Requests, corev1.ResourceList{}); err != nil {
				errs = append(errs, err)
			}
		}
		for _, k := range sortedNames(item.Max) {
			if err := maxRequestConstraint(item.Type, k, item.Max[k], pvc.Spec.Resources.Requests); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// addResources adds b into a.
func addResources(a, b corev1.ResourceList) {
	for k, v := range b {
		if cur, ok := a[k]; ok {
			cur.Add(v)
			a[k] = cur
		} else {
			a[k] = v.DeepCopy()
		}
	}
}

// maxResources raises every entry of a to at least b's.
func maxResources(a, b corev1.ResourceList) {
	for k, v := range b {
		if cur, ok := a[k]; !ok || v.Cmp(cur) > 0 {
			a[k] = v.DeepCopy()
		}
	}
}

// podResourceSum is Kubernetes' effective pod request/limit: the sum over app containers and
// restartable (sidecar) init containers, at least the largest regular init container plus the
// sidecars started before it (pod overhead is not included).
func podResourceSum(pod *corev1.Pod, pick func(corev1.ResourceRequirements) corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	for _, c := range pod.Spec.Containers {
		addResources(total, pick(c.Resources))
	}
	sidecars := corev1.ResourceList{}
	initMax := corev1.ResourceList{}
	for _, c := range pod.Spec.InitContainers {
		r := pick(c.Resources)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addResources(total, r)
			addResources(sidecars, r)
			maxResources(initMax, sidecars)
			continue
		}
		tmp := corev1.ResourceList{}
		addResources(tmp, r)
		addResources(tmp, sidecars)
		maxResources(initMax, tmp)
	}
	maxResources(total, initMax)
	return total
}

func podRequests(pod *corev1.Pod) corev1.ResourceList {
	return podResourceSum(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests })
}

func podLimits(pod *corev1.Pod) corev1.ResourceList {
	return podResourceSum(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Limits })
}
