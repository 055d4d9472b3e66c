package admission

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// quotaEvaluator knows how much of which quota resources one kind of object uses; it is the
// kforge counterpart of Kubernetes' quota.Evaluator.
type quotaEvaluator interface {
	resource() schema.GroupResource
	// handles reports whether the request can change this evaluator's usage.
	handles(a *Attributes) bool
	// matchingResources filters quota resource names to those this evaluator tracks.
	matchingResources(names []corev1.ResourceName) []corev1.ResourceName
	// matchesScopes reports whether the object falls under every scope of the quota.
	matchesScopes(q *corev1.ResourceQuota, obj runtime.Object) bool
	// constraints checks the object has what the quota's resources require (pods: requests and
	// limits for cpu/memory).
	constraints(required []corev1.ResourceName, obj runtime.Object) error
	// usage is what the object consumes.
	usage(obj runtime.Object, now time.Time) corev1.ResourceList
}

// quotaMatches is Kubernetes' Matches: the quota tracks something this evaluator measures and
// the object is within the quota's scopes.
func quotaMatches(ev quotaEvaluator, q *corev1.ResourceQuota, obj runtime.Object) bool {
	if len(ev.matchingResources(resourceNames(q.Status.Hard))) == 0 {
		return false
	}
	return ev.matchesScopes(q, obj)
}

// scopeSelectors merges spec.scopes and spec.scopeSelector into one requirement list.
func scopeSelectors(q *corev1.ResourceQuota) []corev1.ScopedResourceSelectorRequirement {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, s := range q.Spec.Scopes {
		out = append(out, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists})
	}
	if q.Spec.ScopeSelector != nil {
		out = append(out, q.Spec.ScopeSelector.MatchExpressions...)
	}
	return out
}

func objectCountName(gr schema.GroupResource) corev1.ResourceName {
	return corev1.ResourceName("count/" + gr.String())
}

func qty(n int64) resource.Quantity { return *resource.NewQuantity(n, resource.DecimalSI) }

// ---- pods ----

type podEvaluator struct{}

var podComputeResources = map[corev1.ResourceName]bool{
	objectCountName(podsResource):           true,
	corev1.ResourcePods:                     true,
	corev1.ResourceCPU:                      true,
	corev1.ResourceMemory:                   true,
	corev1.ResourceEphemeralStorage:         true,
	corev1.ResourceRequestsCPU:              true,
	corev1.ResourceRequestsMemory:           true,
	corev1.ResourceRequestsEphemeralStorage: true,
	corev1.ResourceLimitsCPU:                true,
	corev1.ResourceLimitsMemory:             true,
	corev1.ResourceLimitsEphemeralStorage:   true,
}

// podValidationSet are the resources a pod must state per container when a quota tracks them.
var podValidationSet = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
}

// isExtendedResourceName: a domain-qualified resource outside kubernetes.io, e.g. nvidia.com/gpu.
func isExtendedResourceName(name corev1.ResourceName) bool {
	s := string(name)
	i := strings.Index(s, "/")
	if i <= 0 || strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	domain := s[:i]
	return domain != "kubernetes.io" && !strings.HasSuffix(domain, ".kubernetes.io")
}

func (podEvaluator) resource() schema.GroupResource { return podsResource }

func (podEvaluator) handles(a *Attributes) bool {
	if a.Operation == Create && a.Subresource == "" {
		return true
	}
	return a.Operation == Update && a.Subresource == "resize"
}

func (podEvaluator) matchingResources(names []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, n := range names {
		s := string(n)
		switch {
		case podComputeResources[n],
			strings.HasPrefix(s, corev1.ResourceHugePagesPrefix),
			strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix+corev1.ResourceHugePagesPrefix),
			strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) && isExtendedResourceName(corev1.ResourceName(strings.TrimPrefix(s, corev1.DefaultResourceRequestsPrefix))):
			out = append(out, n)
		}
	}
	return out
}

func (podEvaluator) matchesScopes(q *corev1.ResourceQuota, obj runtime.Object) bool {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return false
	}
	for _, sel := range scopeSelectors(q) {
		if !podMatchesScope(sel, pod) {
			return false
		}
	}
	return true
}

func podMatchesScope(sel corev1.ScopedResourceSelectorRequirement, pod *corev1.Pod) bool {
	switch sel.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
	case corev1.ResourceQuotaScopeNotTerminating:
		return pod.Spec.ActiveDeadlineSeconds == nil || *pod.Spec.ActiveDeadlineSeconds < 0
	case corev1.ResourceQuotaScopeBestEffort:
		return isBestEffort(pod)
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !isBestEffort(pod)
	case corev1.ResourceQuotaScopePriorityClass:
		name := pod.Spec.PriorityClassName
		switch sel.Operator {
		case corev1.ScopeSelectorOpExists:
			return name != ""
		case corev1.ScopeSelectorOpDoesNotExist:
			return false
		case corev1.ScopeSelectorOpIn:
			return slices.Contains(sel.Values, name)
		case corev1.ScopeSelectorOpNotIn:
			return !slices.Contains(sel.Values, name)
		}
		return false
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return usesCrossNamespacePodAffinity(pod)
	}
	return false
}

func isBestEffort(pod *corev1.Pod) bool {
	nonZero := func(l corev1.ResourceList) bool {
		for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := l[n]; ok && !q.IsZero() {
				return true
			}
		}
		return false
	}
	best := true
	visitContainers(&pod.Spec, func(c *corev1.Container) {
		if nonZero(c.Resources.Requests) || nonZero(c.Resources.Limits) {
			best = false
		}
	})
	return best
}

func usesCrossNamespacePodAffinity(pod *corev1.Pod) bool {
	aff := pod.Spec.Affinity
	if aff == nil {
		return false
	}
	cross := func(t corev1.PodAffinityTerm) bool { return len(t.Namespaces) > 0 || t.NamespaceSelector != nil }
	check := func(req []corev1.PodAffinityTerm, pref []corev1.WeightedPodAffinityTerm) bool {
		for _, t := range req {
			if cross(t) {
				return true
			}
		}
		for _, t := range pref {
			if cross(t.PodAffinityTerm) {
				return true
			}
		}
		return false
	}
	if a := aff.PodAffinity; a != nil && check(a.RequiredDuringSchedulingIgnoredDuringExecution, a.PreferredDuringSchedulingIgnoredDuringExecution) {
		return true
	}
	if a := aff.PodAntiAffinity; a != nil && check(a.RequiredDuringSchedulingIgnoredDuringExecution, a.PreferredDuringSchedulingIgnoredDuringExecution) {
		return true
	}
	return false
}

// podComputeUsage maps requests/limits onto quota resource names (cpu == requests.cpu, ...).
func podComputeUsage(requests, limits corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{corev1.ResourcePods: qty(1)}
	if v, ok := requests[corev1.ResourceCPU]; ok {
		out[corev1.ResourceCPU] = v.DeepCopy()
		out[corev1.ResourceRequestsCPU] = v.DeepCopy()
	}
	if v, ok := limits[corev1.ResourceCPU]; ok {
		out[corev1.ResourceLimitsCPU] = v.DeepCopy()
	}
	if v, ok := requests[corev1.ResourceMemory]; ok {
		out[corev1.ResourceMemory] = v.DeepCopy()
		out[corev1.ResourceRequestsMemory] = v.DeepCopy()
	}
	if v, ok := limits[corev1.ResourceMemory]; ok {
		out[corev1.ResourceLimitsMemory] = v.DeepCopy()
	}
	if v, ok := requests[corev1.ResourceEphemeralStorage]; ok {
		out[corev1.ResourceEphemeralStorage] = v.DeepCopy()
		out[corev1.ResourceRequestsEphemeralStorage] = v.DeepCopy()
	}
	if v, ok := limits[corev1.ResourceEphemeralStorage]; ok {
		out[corev1.ResourceLimitsEphemeralStorage] = v.DeepCopy()
	}
	for n, v := range requests {
		if strings.HasPrefix(string(n), corev1.ResourceHugePagesPrefix) {
			out[n] = v.DeepCopy()
			out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(n))] = v.DeepCopy()
		}
		if isExtendedResourceName(n) {
			out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(n))] = v.DeepCopy()
		}
	}
	return out
}

func (podEvaluator) constraints(required []corev1.ResourceName, obj runtime.Object) error {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	var need []corev1.ResourceName
	for _, r := range podValidationSet {
		if slices.Contains(required, r) {
			need = append(need, r)
		}
	}
	if len(need) == 0 {
		return nil
	}
	missing := map[corev1.ResourceName][]string{}
	check := func(c corev1.Container) {
		have := podComputeUsage(c.Resources.Requests, c.Resources.Limits)
		for _, r := range need {
			if _, ok := have[r]; !ok && !slices.Contains(missing[r], c.Name) {
				missing[r] = append(missing[r], c.Name)
			}
		}
	}
	for _, c := range pod.Spec.Containers {
		check(c)
	}
	for _, c := range pod.Spec.InitContainers {
		check(c)
	}
	if len(missing) == 0 {
		return nil
	}
	var msgs []string
	for _, r := range slices.Sorted(maps.Keys(missing)) {
		names := slices.Sorted(slices.Values(missing[r]))
		msgs = append(msgs, fmt.Sprintf("must specify %s for: %s", r, strings.Join(names, ",")))
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// quotaCountsPod is Kubernetes' QuotaV1Pod: terminal pods, and pods stuck terminating past
// their grace period, use no compute quota (only count/pods).
func quotaCountsPod(pod *corev1.Pod, now time.Time) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		grace := time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		if now.After(pod.DeletionTimestamp.Add(grace)) {
			return false
		}
	}
	return true
}

func (podEvaluator) usage(obj runtime.Object, now time.Time) corev1.ResourceList {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return corev1.ResourceList{}
	}
	out := corev1.ResourceList{objectCountName(podsResource): qty(1)}
	if !quotaCountsPod(pod, now) {
		return out
	}
	requests := podRequests(pod)
	limits := podLimits(pod)
	for n, v := range pod.Spec.Overhead {
		if cur, ok := requests[n]; ok {
			cur.Add(v)
			requests[n] = cur
		} else {
			requests[n] = v.DeepCopy()
		}
		if cur, ok := limits[n]; ok {
			cur.Add(v)
			limits[n] = cur
		}
	}
	addResources(out, podComputeUsage(requests, limits))
	return out
}

// ---- services ----

type serviceEvaluator struct{}

var serviceResources = []corev1.ResourceName{
	objectCountName(servicesResource), corev1.ResourceServices,
	corev1.ResourceServicesLoadBalancers, corev1.ResourceServicesNodePorts,
}

func (serviceEvaluator) resource() schema.GroupResource { return servicesResource }

func (serviceEvaluator) handles(a *Attributes) bool {
	return a.Subresource == "" && (a.Operation == Create || a.Operation == Update)
}

func (serviceEvaluator) matchingResources(names []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, n := range names {
		if slices.Contains(serviceResources, n) {
			out = append(out, n)
		}
	}
	return out
}

func (serviceEvaluator) matchesScopes(q *corev1.ResourceQuota, _ runtime.Object) bool {
	return len(scopeSelectors(q)) == 0
}

func (serviceEvaluator) constraints([]corev1.ResourceName, runtime.Object) error { return nil }

func (serviceEvaluator) usage(obj runtime.Object, _ time.Time) corev1.ResourceList {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return corev1.ResourceList{}
	}
	out := corev1.ResourceList{
		objectCountName(servicesResource):    qty(1),
		corev1.ResourceServices:              qty(1),
		corev1.ResourceServicesLoadBalancers: qty(0),
		corev1.ResourceServicesNodePorts:     qty(0),
	}
	ports := int64(len(svc.Spec.Ports))
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		out[corev1.ResourceServicesNodePorts] = qty(ports)
	case corev1.ServiceTypeLoadBalancer:
		if svc.Spec.AllocateLoadBalancerNodePorts != nil && !*svc.Spec.AllocateLoadBalancerNodePorts {
			n := int64(0)
			for _, p := range svc.Spec.Ports {
				if p.NodePort != 0 {
					n++
				}
			}
			out[corev1.ResourceServicesNodePorts] = qty(n)
		} else {
			out[corev1.ResourceServicesNodePorts] = qty(ports)
		}
		out[corev1.ResourceServicesLoadBalancers] = qty(1)
	}
	return out
}

// ---- persistentvolumeclaims ----

type pvcEvaluator struct{}

const storageClassSuffix = ".storageclass.storage.k8s.io/"

func (pvcEvaluator) resource() schema.GroupResource { return pvcResource }

func (pvcEvaluator) handles(a *Attributes) bool {
	return a.Subresource == "" && (a.Operation == Create || a.Operation == Update)
}

func (pvcEvaluator) matchingResources(names []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, n := range names {
		s := string(n)
		switch {
		case n == objectCountName(pvcResource), n == corev1.ResourcePersistentVolumeClaims, n == corev1.ResourceRequestsStorage:
			out = append(out, n)
		case strings.Contains(s, storageClassSuffix) &&
			(strings.HasSuffix(s, storageClassSuffix+string(corev1.ResourceRequestsStorage)) ||
				strings.HasSuffix(s, storageClassSuffix+string(corev1.ResourcePersistentVolumeClaims))):
			out = append(out, n)
		}
	}
	return out
}

func (pvcEvaluator) matchesScopes(q *corev1.ResourceQuota, _ runtime.Object) bool {
	return len(scopeSelectors(q)) == 0
}

func (pvcEvaluator) constraints([]corev1.ResourceName, runtime.Object) error { return nil }

func (pvcEvaluator) usage(obj runtime.Object, _ time.Time) corev1.ResourceList {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return corev1.ResourceList{}
	}
	out := corev1.ResourceList{
		objectCountName(pvcResource):          qty(1),
		corev1.ResourcePersistentVolumeClaims: qty(1),
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	} else if v, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = v
	}
	if class != "" {
		out[corev1.ResourceName(class+storageClassSuffix+string(corev1.ResourcePersistentVolumeClaims))] = qty(1)
	}
	var storage *resource.Quantity
	roundUp := func(q resource.Quantity) *resource.Quantity {
		c := q.DeepCopy()
		c.RoundUp(0)
		return &c
	}
	if v, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		storage = roundUp(v)
	}
	if v, ok := pvc.Status.AllocatedResources[corev1.ResourceStorage]; ok && (storage == nil || v.Cmp(*storage) > 0) {
		storage = roundUp(v)
	}
	if storage != nil {
		out[corev1.ResourceRequestsStorage] = *storage
		if class != "" {
			out[corev1.ResourceName(class+storageClassSuffix+string(corev1.ResourceRequestsStorage))] = storage.DeepCopy()
		}
	}
	return out
}

// ---- everything else: object counts ----

// legacyCountNames are the pre-"count/" quota names of core object counts.
var legacyCountNames = map[schema.GroupResource]corev1.ResourceName{
	{Resource: "configmaps"}:             corev1.ResourceConfigMaps,
	{Resource: "secrets"}:                corev1.ResourceSecrets,
	{Resource: "replicationcontrollers"}: corev1.ResourceReplicationControllers,
	{Resource: "resourcequotas"}:         corev1.ResourceQuotas,
}

type objectCountEvaluator struct {
	gr schema.GroupResource
}

func (e objectCountEvaluator) resource() schema.GroupResource { return e.gr }

func (e objectCountEvaluator) handles(a *Attributes) bool {
	return a.Operation == Create && a.Subresource == ""
}

func (e objectCountEvaluator) names() []corev1.ResourceName {
	out := []corev1.ResourceName{objectCountName(e.gr)}
	if alias, ok := legacyCountNames[e.gr]; ok {
		out = append(out, alias)
	}
	return out
}

func (e objectCountEvaluator) matchingResources(names []corev1.ResourceName) []corev1.ResourceName {
	mine := e.names()
	var out []corev1.ResourceName
	for _, n := range names {
		if slices.Contains(mine, n) {
			out = append(out, n)
		}
	}
	return out
}

func (e objectCountEvaluator) matchesScopes(q *corev1.ResourceQuota, _ runtime.Object) bool {
	return len(scopeSelectors(q)) == 0
}

func (e objectCountEvaluator) constraints([]corev1.ResourceName, runtime.Object) error { return nil }

func (e objectCountEvaluator) usage(runtime.Object, time.Time) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, n := range e.names() {
		out[n] = qty(1)
	}
	return out
}

// evaluatorFor returns the evaluator measuring a resource.
func evaluatorFor(gr schema.GroupResource) quotaEvaluator {
	switch gr {
	case podsResource:
		return podEvaluator{}
	case servicesResource:
		return serviceEvaluator{}
	case pvcResource:
		return pvcEvaluator{}
	}
	return objectCountEvaluator{gr: gr}
}

// countedResource maps a quota resource name that is a plain object count ("count/x.y" or a
// legacy name) to the resource whose objects it counts.
func countedResource(name corev1.ResourceName) (schema.GroupResource, bool) {
	for gr, alias := range legacyCountNames {
		if alias == name {
			return gr, true
		}
	}
	s, ok := strings.CutPrefix(string(name), "count/")
	if !ok || s == "" {
		return schema.GroupResource{}, false
	}
	return schema.ParseGroupResource(s), true
}

// ---- ResourceList arithmetic, as in Kubernetes' quota helpers ----

func resourceNames(l corev1.ResourceList) []corev1.ResourceName {
	return slices.Sorted(maps.Keys(l))
}

func maskResources(l corev1.ResourceList, names []corev1.ResourceName) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, n := range names {
		if v, ok := l[n]; ok {
			out[n] = v.DeepCopy()
		}
	}
	return out
}

func addLists(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range a {
		out[k] = v.DeepCopy()
	}
	addResources(out, b)
	return out
}

// subtractNonNegative returns a-b for a's keys, floored at zero.
func subtractNonNegative(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range a {
		d := v.DeepCopy()
		if o, ok := b[k]; ok {
			d.Sub(o)
		}
		if d.Sign() < 0 {
			d = qty(0)
		}
		out[k] = d
	}
	return out
}

func removeZeros(l corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range l {
		if !v.IsZero() {
			out[k] = v
		}
	}
	return out
}

func negativeResources(l corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, k := range resourceNames(l) {
		if v := l[k]; v.Sign() < 0 {
			out = append(out, k)
		}
	}
	return out
}

// exceededResources returns the names in a whose value is above the one in hard.
func exceededResources(a, hard corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, k := range resourceNames(a) {
		if h, ok := hard[k]; ok {
			if v := a[k]; v.Cmp(h) > 0 {
				out = append(out, k)
			}
		}
	}
	return out
}

// prettyPrint renders "a=1,b=2" with sorted names, as quota errors do.
func prettyPrint(l corev1.ResourceList) string {
	var parts []string
	for _, k := range resourceNames(l) {
		v := l[k]
		parts = append(parts, string(k)+"="+v.String())
	}
	return strings.Join(parts, ",")
}

func prettyPrintNames(names []corev1.ResourceName) string {
	s := make([]string, 0, len(names))
	for _, n := range names {
		s = append(s, string(n))
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}
