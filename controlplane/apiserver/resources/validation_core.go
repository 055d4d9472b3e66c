package resources

import (
	"fmt"
	"net"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation of the core/v1 resources besides pods, services, configmaps and secrets
// (validation.go): namespaces, nodes, endpoints, events, limit ranges and resource quotas.
// These objects steer the scheduler, kube-proxy and the admission plugins, so a bad one is
// refused with kube-apiserver's field paths and messages rather than silently ignored later.
// ServiceAccounts need nothing here: kube-apiserver checks only their metadata, which the
// registry does (names are DNS subdomains).

// standardFinalizers are the finalizer names that need no domain prefix.
var standardFinalizers = map[string]bool{string(corev1.FinalizerKubernetes): true, metav1.FinalizerOrphanDependents: true, metav1.FinalizerDeleteDependents: true}

// validateNamespace checks spec.finalizers; the name itself (a DNS-1123 label) is checked by
// the registry through the Namespace NameValidator.
func validateNamespace(obj runtime.Object) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	p := field.NewPath("spec", "finalizers")
	var errs field.ErrorList
	for _, f := range ns.Spec.Finalizers {
		errs = append(errs, apivalidation.ValidateFinalizerName(string(f), p)...)
		if !strings.Contains(string(f), "/") && !standardFinalizers[string(f)] {
			errs = append(errs, field.Invalid(p, string(f), "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return errs
}

// supportedPortProtocols is sorted, as kube-apiserver lists it in NotSupported errors.
var supportedPortProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}

func validateProtocol(proto *corev1.Protocol, p *field.Path) field.ErrorList {
	switch {
	case proto == nil || *proto == "":
		return field.ErrorList{field.Required(p, "")}
	case *proto != corev1.ProtocolTCP && *proto != corev1.ProtocolUDP && *proto != corev1.ProtocolSCTP:
		return field.ErrorList{field.NotSupported(p, *proto, supportedPortProtocols)}
	}
	return nil
}

func validateDNSLabel(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

func validateQualifiedName(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

func validateEndpoints(obj runtime.Object) field.ErrorList {
	e := obj.(*corev1.Endpoints)
	var errs field.ErrorList
	for i := range e.Subsets {
		ss := &e.Subsets[i]
		sp := field.NewPath("subsets").Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(sp, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(&ss.Addresses[j], sp.Child("addresses").Index(j))...)
		}
		for j := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(&ss.NotReadyAddresses[j], sp.Child("notReadyAddresses").Index(j))...)
		}
		for j := range ss.Ports {
			port, pp := &ss.Ports[j], sp.Child("ports").Index(j)
			if port.Name == "" && len(ss.Ports) > 1 {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			} else if port.Name != "" {
				errs = append(errs, validateDNSLabel(port.Name, pp.Child("name"))...)
			}
			for _, msg := range validation.IsValidPortNum(int(port.Port)) {
				errs = append(errs, field.Invalid(pp.Child("port"), port.Port, msg))
			}
			errs = append(errs, validateProtocol(&port.Protocol, pp.Child("protocol"))...)
			if port.AppProtocol != nil {
				errs = append(errs, validateQualifiedName(*port.AppProtocol, pp.Child("appProtocol"))...)
			}
		}
	}
	return errs
}

// validateEndpointAddress checks an address's IP, hostname and node name. kube-apiserver also
// refuses loopback and link-local IPs here; kforge does not, because its own endpoint
// reconciler advertises the apiserver on loopback in single-host setups.
func validateEndpointAddress(a *corev1.EndpointAddress, p *field.Path) field.ErrorList {
	errs := validation.IsValidIPForLegacyField(p.Child("ip"), a.IP, true, nil)
	if a.Hostname != "" {
		errs = append(errs, validateDNSLabel(a.Hostname, p.Child("hostname"))...)
	}
	if a.NodeName != nil {
		for _, msg := range validation.IsDNS1123Subdomain(*a.NodeName) {
			errs = append(errs, field.Invalid(p.Child("nodeName"), *a.NodeName, msg))
		}
	}
	return errs
}

// validateEvent checks that a namespaced event lives with the object it is about, with
// kube-apiserver's rules: events about cluster-scoped objects go to "default" (or, for
// events.k8s.io-style events that carry eventTime, also "kube-system").
func validateEvent(obj runtime.Object) field.ErrorList {
	e := obj.(*corev1.Event)
	p := field.NewPath("involvedObject", "namespace")
	const msg = "does not match event.namespace"
	involved := e.InvolvedObject.Namespace
	switch {
	case e.EventTime.IsZero() && involved == "" && e.Namespace != metav1.NamespaceNone && e.Namespace != metav1.NamespaceDefault,
		e.EventTime.IsZero() && involved != "" && e.Namespace != involved,
		!e.EventTime.IsZero() && involved == "" && e.Namespace != metav1.NamespaceDefault && e.Namespace != metav1.NamespaceSystem:
		return field.ErrorList{field.Invalid(p, involved, msg)}
	}
	return nil
}

// Resource names the apiserver knows without a domain prefix.
var (
	standardResources = setOf(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
		corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
		corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
		corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims, corev1.ResourceStorage,
		corev1.ResourceRequestsStorage, corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers)
	standardQuotaResources = setOf(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage, corev1.ResourceRequestsEphemeralStorage,
		corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
		corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
		corev1.ResourceSecrets, corev1.ResourcePersistentVolumeClaims, corev1.ResourceConfigMaps,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers)
	standardContainerResources = setOf(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage)
	// integerQuotaResources count objects: their quota is a whole number.
	integerQuotaResources = setOf(corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
		corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers)
)

func setOf[T ~string](vs ...T) map[T]bool {
	m := make(map[T]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func isQuotaHugePages(name corev1.ResourceName) bool {
	return isHugePages(name) || strings.HasPrefix(string(name), corev1.ResourceRequestsHugePagesPrefix)
}

// validateResourceName: a resource is a qualified name, either standard or domain-prefixed.
func validateResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	errs := validateQualifiedName(string(name), p)
	if len(errs) == 0 && !strings.Contains(string(name), "/") && !standardResources[name] && !isQuotaHugePages(name) {
		errs = append(errs, field.Invalid(p, name, "must be a standard resource type or fully qualified"))
	}
	return errs
}

func validateContainerResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	errs := validateResourceName(name, p)
	if !strings.Contains(string(name), "/") && !standardContainerResources[name] && !isHugePages(name) {
		errs = append(errs, field.Invalid(p, name, "must be a standard resource for containers"))
	}
	return errs
}

var standardLimitTypes = setOf(corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim)

func validateLimitRange(obj runtime.Object) field.ErrorList {
	lr := obj.(*corev1.LimitRange)
	lp := field.NewPath("spec", "limits")
	var errs field.ErrorList
	seenTypes := map[corev1.LimitType]bool{}
	for i := range lr.Spec.Limits {
		item, ip := &lr.Spec.Limits[i], lp.Index(i)
		if typeErrs := validateQualifiedName(string(item.Type), ip.Child("type")); len(typeErrs) > 0 {
			errs = append(errs, typeErrs...)
		} else if !strings.Contains(string(item.Type), "/") && !standardLimitTypes[item.Type] {
			errs = append(errs, field.Invalid(ip.Child("type"), item.Type, "must be a standard limit type or fully qualified"))
		}
		if seenTypes[item.Type] {
			errs = append(errs, field.Duplicate(ip.Child("type"), item.Type))
		}
		seenTypes[item.Type] = true

		nameErrs := func(name corev1.ResourceName, p *field.Path) field.ErrorList {
			if item.Type == corev1.LimitTypePod || item.Type == corev1.LimitTypeContainer {
				return validateContainerResourceName(name, p)
			}
			return validateResourceName(name, p)
		}
		type namedList struct {
			name string
			list corev1.ResourceList
		}
		lists := []namedList{{"max", item.Max}, {"min", item.Min}, {"maxLimitRequestRatio", item.MaxLimitRequestRatio}}
		if item.Type != corev1.LimitTypePod { // a Pod limit has no defaults: refused below
			lists = append(lists, namedList{"default", item.Default}, namedList{"defaultRequest", item.DefaultRequest})
		}
		keys := map[corev1.ResourceName]bool{}
		for _, l := range lists {
			for k := range l.list {
				errs = append(errs, nameErrs(k, ip.Child(l.name).Key(string(k)))...)
				keys[k] = true
			}
		}
		if item.Type == corev1.LimitTypePod {
			if len(item.Default) > 0 {
				errs = append(errs, field.Forbidden(ip.Child("default"), "may not be specified when `type` is 'Pod'"))
			}
			if len(item.DefaultRequest) > 0 {
				errs = append(errs, field.Forbidden(ip.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
			}
		}
		if item.Type == corev1.LimitTypePersistentVolumeClaim {
			_, hasMin := item.Min[corev1.ResourceStorage]
			_, hasMax := item.Max[corev1.ResourceStorage]
			if !hasMin && !hasMax {
				errs = append(errs, field.Required(ip.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
			}
		}
		for _, k := range sortedNames(keys) {
			errs = append(errs, validateLimitRangeBounds(item, k, ip)...)
		}
	}
	return errs
}

// validateLimitRangeBounds orders one resource's bounds: min <= defaultRequest <= default <= max.
func validateLimitRangeBounds(item *corev1.LimitRangeItem, k corev1.ResourceName, ip *field.Path) field.ErrorList {
	var errs field.ErrorList
	minQ, hasMin := item.Min[k]
	maxQ, hasMax := item.Max[k]
	def, hasDef := item.Default[k]
	defReq, hasDefReq := item.DefaultRequest[k]
	if item.Type == corev1.LimitTypePod {
		hasDef, hasDefReq = false, false
	}
	ratio, hasRatio := item.MaxLimitRequestRatio[k]
	key := string(k)
	if hasMin && hasMax && minQ.Cmp(maxQ) > 0 {
		errs = append(errs, field.Invalid(ip.Child("min").Key(key), minQ, fmt.Sprintf("min value %s is greater than max value %s", minQ.String(), maxQ.String())))
	}
	if hasDefReq && hasMin && minQ.Cmp(defReq) > 0 {
		errs = append(errs, field.Invalid(ip.Child("defaultRequest").Key(key), defReq, fmt.Sprintf("min value %s is greater than default request value %s", minQ.String(), defReq.String())))
	}
	if hasDefReq && hasMax && defReq.Cmp(maxQ) > 0 {
		errs = append(errs, field.Invalid(ip.Child("defaultRequest").Key(key), defReq, fmt.Sprintf("default request value %s is greater than max value %s", defReq.String(), maxQ.String())))
	}
	if hasDefReq && hasDef && defReq.Cmp(def) > 0 {
		errs = append(errs, field.Invalid(ip.Child("defaultRequest").Key(key), defReq, fmt.Sprintf("default request value %s is greater than default limit value %s", defReq.String(), def.String())))
	}
	if hasDef && hasMin && minQ.Cmp(def) > 0 {
		errs = append(errs, field.Invalid(ip.Child("default").Key(key), minQ, fmt.Sprintf("min value %s is greater than default value %s", minQ.String(), def.String())))
	}
	if hasDef && hasMax && def.Cmp(maxQ) > 0 {
		errs = append(errs, field.Invalid(ip.Child("default").Key(key), maxQ, fmt.Sprintf("default value %s is greater than max value %s", def.String(), maxQ.String())))
	}
	if hasRatio && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0 {
		errs = append(errs, field.Invalid(ip.Child("maxLimitRequestRatio").Key(key), ratio, fmt.Sprintf("ratio %s is less than 1", ratio.String())))
	}
	if hasRatio && hasMin && hasMax {
		// Compare in milli-units unless that would overflow.
		r, lo, hi := float64(ratio.Value()), minQ.Value(), maxQ.Value()
		if ratio.Value() < resource.MaxMilliValue && lo < resource.MaxMilliValue && hi < resource.MaxMilliValue {
			r, lo, hi = float64(ratio.MilliValue())/1000, minQ.MilliValue(), maxQ.MilliValue()
		}
		if limit := float64(hi) / float64(lo); r > limit {
			errs = append(errs, field.Invalid(ip.Child("maxLimitRequestRatio").Key(key), ratio, fmt.Sprintf("ratio %s is greater than max/min = %f", ratio.String(), limit)))
		}
	}
	return errs
}

func sortedNames(m map[corev1.ResourceName]bool) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

var standardQuotaScopes = setOf(corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopePriorityClass,
	corev1.ResourceQuotaScopeCrossNamespacePodAffinity, corev1.ResourceQuotaScopeVolumeAttributesClass)

// quotaScopeFits reports whether a scope can restrict a quota on resource: the pod scopes
// apply to pod counts and compute resources only, BestEffort to pod counts only.
func quotaScopeFits(scope corev1.ResourceQuotaScope, r corev1.ResourceName) bool {
	podCompute := r == corev1.ResourcePods || r == corev1.ResourceCPU || r == corev1.ResourceMemory ||
		r == corev1.ResourceLimitsCPU || r == corev1.ResourceLimitsMemory || r == corev1.ResourceRequestsCPU || r == corev1.ResourceRequestsMemory
	switch scope {
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeNotBestEffort,
		corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return podCompute
	case corev1.ResourceQuotaScopeBestEffort:
		return r == corev1.ResourcePods
	}
	return true
}

func validateResourceQuota(obj runtime.Object) field.ErrorList {
	q := obj.(*corev1.ResourceQuota)
	sp := field.NewPath("spec")
	var errs field.ErrorList
	hard := make(map[corev1.ResourceName]bool, len(q.Spec.Hard))
	for k := range q.Spec.Hard {
		hard[k] = true
	}
	for _, k := range sortedNames(hard) {
		v, kp := q.Spec.Hard[k], sp.Child("hard").Key(string(k))
		errs = append(errs, validateResourceName(k, kp)...)
		if !strings.Contains(string(k), "/") && !standardQuotaResources[k] && !isQuotaHugePages(k) {
			errs = append(errs, field.Invalid(kp, k, "must be a standard resource for quota"))
		}
		if v.Sign() < 0 {
			errs = append(errs, field.Invalid(kp, v.String(), apivalidation.IsNegativeErrorMsg))
		}
		if (integerQuotaResources[k] || strings.HasPrefix(string(k), "count/")) && v.MilliValue()%1000 != 0 {
			errs = append(errs, field.Invalid(kp, v, "must be an integer"))
		}
	}

	scopes := map[corev1.ResourceQuotaScope]bool{}
	scopesPath := sp.Child("scopes")
	for _, s := range q.Spec.Scopes {
		if !standardQuotaScopes[s] {
			errs = append(errs, field.Invalid(scopesPath, q.Spec.Scopes, "unsupported scope"))
		}
		for _, k := range sortedNames(hard) {
			if standardQuotaResources[k] && !quotaScopeFits(s, k) {
				errs = append(errs, field.Invalid(scopesPath, q.Spec.Scopes, "unsupported scope applied to resource"))
			}
		}
		scopes[s] = true
	}
	if conflictingScopes(scopes) {
		errs = append(errs, field.Invalid(scopesPath, q.Spec.Scopes, "conflicting scopes"))
	}

	if sel := q.Spec.ScopeSelector; sel != nil {
		mp := sp.Child("scopeSelector", "matchExpressions")
		for _, req := range sel.MatchExpressions {
			if !standardQuotaScopes[req.ScopeName] {
				errs = append(errs, field.Invalid(mp.Child("scopeName"), req.ScopeName, "unsupported scope"))
			}
			switch req.Operator {
			case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
				if len(req.Values) == 0 {
					errs = append(errs, field.Required(mp.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
				}
			case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
				if len(req.Values) != 0 {
					errs = append(errs, field.Invalid(mp.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
				}
			default:
				errs = append(errs, field.Invalid(mp.Child("operator"), req.Operator, "not a valid selector operator"))
			}
		}
	}
	return errs
}

// conflictingScopes: a quota cannot be both for BestEffort and NotBestEffort pods, nor both
// for Terminating and NotTerminating ones.
func conflictingScopes(s map[corev1.ResourceQuotaScope]bool) bool {
	return (s[corev1.ResourceQuotaScopeBestEffort] && s[corev1.ResourceQuotaScopeNotBestEffort]) ||
		(s[corev1.ResourceQuotaScopeTerminating] && s[corev1.ResourceQuotaScopeNotTerminating])
}

// validateResourceQuotaUpdate: the scopes of a quota are fixed, as its usage was counted for them.
func validateResourceQuotaUpdate(obj, old runtime.Object) field.ErrorList {
	n, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	ns, os := setOf(n.Spec.Scopes...), setOf(o.Spec.Scopes...)
	same := len(ns) == len(os)
	for s := range ns {
		same = same && os[s]
	}
	if !same {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "scopes"), n.Spec.Scopes, apivalidation.FieldImmutableErrorMsg)}
	}
	return nil
}

var supportedTaintEffects = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}

// nodePodCIDRs is what kube-apiserver validates: spec.podCIDRs, or the legacy spec.podCIDR
// standing in as its first element when podCIDRs is empty.
func nodePodCIDRs(s *corev1.NodeSpec) []string {
	if len(s.PodCIDRs) == 0 && s.PodCIDR != "" {
		return []string{s.PodCIDR}
	}
	return s.PodCIDRs
}

func validateNode(obj runtime.Object) field.ErrorList {
	n := obj.(*corev1.Node)
	sp := field.NewPath("spec")
	var errs field.ErrorList
	type taintKey struct {
		key    string
		effect corev1.TaintEffect
	}
	seen := map[taintKey]bool{}
	for i, t := range n.Spec.Taints {
		tp := sp.Child("taints").Index(i)
		errs = append(errs, validateQualifiedName(t.Key, tp.Child("key"))...)
		if msgs := validation.IsValidLabelValue(t.Value); len(msgs) > 0 {
			errs = append(errs, field.Invalid(tp.Child("value"), t.Value, strings.Join(msgs, ";")))
		}
		switch t.Effect {
		case "":
			errs = append(errs, field.Required(tp.Child("effect"), ""))
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect, supportedTaintEffects))
		}
		if k := (taintKey{t.Key, t.Effect}); seen[k] {
			dup := field.Duplicate(tp, t)
			dup.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, dup)
		} else {
			seen[k] = true
		}
	}
	cidrs := nodePodCIDRs(&n.Spec)
	cp := sp.Child("podCIDRs")
	v4, v6 := 0, 0
	for i, c := range cidrs {
		cidrErrs := validation.IsValidCIDRForLegacyField(cp.Index(i), c, true, nil)
		errs = append(errs, cidrErrs...)
		if len(cidrErrs) == 0 {
			if ip, _, _ := net.ParseCIDR(c); ip.To4() != nil {
				v4++
			} else {
				v6++
			}
		}
	}
	if len(cidrs) > 2 || v4 > 1 || v6 > 1 {
		errs = append(errs, field.Invalid(cp, cidrs, "may specify no more than one CIDR for each IP family"))
	}
	return errs
}

// validateNodeUpdate: the node IPAM controller and the cloud provider may fill podCIDRs and
// providerID once; after that they are fixed.
func validateNodeUpdate(obj, old runtime.Object) field.ErrorList {
	n, o := obj.(*corev1.Node), old.(*corev1.Node)
	var errs field.ErrorList
	if oc, nc := nodePodCIDRs(&o.Spec), nodePodCIDRs(&n.Spec); len(oc) > 0 && strings.Join(oc, ",") != strings.Join(nc, ",") {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), `node updates may not change podCIDR except from "" to valid`))
	}
	if o.Spec.ProviderID != "" && n.Spec.ProviderID != o.Spec.ProviderID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), `node updates may not change providerID except from "" to valid`))
	}
	return errs
}
