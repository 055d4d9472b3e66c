package resources

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation of the workload controllers (apps/v1, batch/v1) and of PodDisruptionBudgets
// (policy/v1): a controller whose selector does not pick its own pods, or whose pods could
// never run, is refused at the door with kube-apiserver's field paths and messages instead of
// failing later inside a controller.

// validateControllerSelector checks a pod controller's selector: required, a valid label
// selector, and not empty (an empty one would adopt every pod of the namespace). kind is the
// word kube-apiserver puts in the "empty selector" message. The parsed selector (nil when it
// does not parse) feeds the template check.
func validateControllerSelector(sel *metav1.LabelSelector, kind string, p *field.Path) (labels.Selector, field.ErrorList) {
	var errs field.ErrorList
	if sel == nil {
		errs = append(errs, field.Required(p, ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p)...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(p, sel, "empty selector is invalid for "+kind))
		}
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, append(errs, field.Invalid(p, sel, "invalid label selector"))
	}
	return s, errs
}

// validateControllerTemplate checks the pod template of a long-running controller: its labels
// must be selected by the controller, its pod spec valid, its pods restarted Always and
// without a deadline. kind names the controller in the activeDeadlineSeconds message.
func validateControllerTemplate(t *corev1.PodTemplateSpec, sel labels.Selector, kind string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if sel != nil && !sel.Empty() && !sel.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(p.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	// kube-apiserver reports bad template labels at <template>.labels, without "metadata".
	errs = append(errs, metav1validation.ValidateLabels(t.Labels, p.Child("labels"))...)
	errs = append(errs, validatePodSpec(&t.Spec, p.Child("spec"))...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	return errs
}

func nonNegative32(v *int32, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return apivalidation.ValidateNonnegativeField(int64(*v), p)
}

// percentValue is the number of a valid "N%" value.
func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

// intOrPercentValue is what a maxSurge-like value amounts to when compared with zero.
func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

// validateIntOrPercent accepts a non-negative integer or a percentage ("25%").
func validateIntOrPercent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	switch v.Type {
	case intstr.String:
		var errs field.ErrorList
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(p, v, msg))
		}
		return errs
	case intstr.Int:
		return apivalidation.ValidateNonnegativeField(int64(v.IntValue()), p)
	}
	return field.ErrorList{field.Invalid(p, v, "must be an integer or percentage (e.g '5%%')")} // kube-apiserver's text, "%%" included
}

func notMoreThan100Percent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	if n, ok := percentValue(v); ok && n > 100 {
		return field.ErrorList{field.Invalid(p, v, "must not be greater than 100%")}
	}
	return nil
}

func derefIntOrString(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.IntOrString{}
	}
	return *v
}

func validateDeployment(obj runtime.Object) field.ErrorList {
	d := obj.(*appsv1.Deployment)
	p := field.NewPath("spec")
	errs := nonNegative32(d.Spec.Replicas, p.Child("replicas"))
	sel, selErrs := validateControllerSelector(d.Spec.Selector, "deployment", p.Child("selector"))
	errs = append(errs, selErrs...)
	if sel != nil {
		// A Deployment's pods are a ReplicaSet's: kube-apiserver reuses its template check.
		errs = append(errs, validateControllerTemplate(&d.Spec.Template, sel, "ReplicaSet", p.Child("template"))...)
	}
	errs = append(errs, validateDeploymentStrategy(&d.Spec.Strategy, p.Child("strategy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(d.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, nonNegative32(d.Spec.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	if pds := d.Spec.ProgressDeadlineSeconds; pds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*pds), p.Child("progressDeadlineSeconds"))...)
		if *pds <= d.Spec.MinReadySeconds {
			errs = append(errs, field.Invalid(p.Child("progressDeadlineSeconds"), *pds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(p.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(p.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		rp := p.Child("rollingUpdate")
		maxUnavailable, maxSurge := derefIntOrString(s.RollingUpdate.MaxUnavailable), derefIntOrString(s.RollingUpdate.MaxSurge)
		errs := validateIntOrPercent(maxUnavailable, rp.Child("maxUnavailable"))
		errs = append(errs, validateIntOrPercent(maxSurge, rp.Child("maxSurge"))...)
		if intOrPercentValue(maxUnavailable) == 0 && intOrPercentValue(maxSurge) == 0 {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), maxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
		return append(errs, notMoreThan100Percent(maxUnavailable, rp.Child("maxUnavailable"))...)
	default:
		return field.ErrorList{field.NotSupported(p, *s, []string{string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)})}
	}
	return nil
}

// immutableSelector is the apps/v1 rule: a controller's selector never changes, or it would
// orphan its pods.
func immutableSelector(sel, old *metav1.LabelSelector) field.ErrorList {
	return apivalidation.ValidateImmutableField(sel, old, field.NewPath("spec", "selector"))
}

func validateDeploymentUpdate(obj, old runtime.Object) field.ErrorList {
	return immutableSelector(obj.(*appsv1.Deployment).Spec.Selector, old.(*appsv1.Deployment).Spec.Selector)
}

func validateReplicaSet(obj runtime.Object) field.ErrorList {
	rs := obj.(*appsv1.ReplicaSet)
	p := field.NewPath("spec")
	errs := nonNegative32(rs.Spec.Replicas, p.Child("replicas"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(rs.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	// kube-apiserver says "deployment" here too.
	sel, selErrs := validateControllerSelector(rs.Spec.Selector, "deployment", p.Child("selector"))
	errs = append(errs, selErrs...)
	if sel != nil {
		errs = append(errs, validateControllerTemplate(&rs.Spec.Template, sel, "ReplicaSet", p.Child("template"))...)
	}
	return errs
}

func validateReplicaSetUpdate(obj, old runtime.Object) field.ErrorList {
	return immutableSelector(obj.(*appsv1.ReplicaSet).Spec.Selector, old.(*appsv1.ReplicaSet).Spec.Selector)
}

func validateDaemonSet(obj runtime.Object) field.ErrorList {
	ds := obj.(*appsv1.DaemonSet)
	p := field.NewPath("spec")
	sel, errs := validateControllerSelector(ds.Spec.Selector, "daemonset", p.Child("selector"))
	if sel != nil {
		errs = append(errs, validateControllerTemplate(&ds.Spec.Template, sel, "DaemonSet", p.Child("template"))...)
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(ds.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateDaemonSetUpdateStrategy(&ds.Spec.UpdateStrategy, p.Child("updateStrategy"))...)
	return append(errs, nonNegative32(ds.Spec.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
}

func validateDaemonSetUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(p.Child("rollingUpdate"), "")}
		}
	default:
		return field.ErrorList{field.NotSupported(p, *s, []string{string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType)})}
	}
	rp := p.Child("rollingUpdate")
	maxUnavailable, maxSurge := derefIntOrString(s.RollingUpdate.MaxUnavailable), derefIntOrString(s.RollingUpdate.MaxSurge)
	errs := validateIntOrPercent(maxUnavailable, rp.Child("maxUnavailable"))
	errs = append(errs, validateIntOrPercent(maxSurge, rp.Child("maxSurge"))...)
	errs = append(errs, notMoreThan100Percent(maxUnavailable, rp.Child("maxUnavailable"))...)
	errs = append(errs, notMoreThan100Percent(maxSurge, rp.Child("maxSurge"))...)
	// A daemon either surges or takes nodes down, exactly one of the two.
	hasUnavailable, hasSurge := intOrPercentValue(maxUnavailable) != 0, intOrPercentValue(maxSurge) != 0
	switch {
	case hasUnavailable && hasSurge:
		errs = append(errs, field.Invalid(rp.Child("maxSurge"), s.RollingUpdate.MaxSurge, "may not be set when maxUnavailable is non-zero"))
	case !hasUnavailable && !hasSurge:
		errs = append(errs, field.Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return errs
}

func validateDaemonSetUpdate(obj, old runtime.Object) field.ErrorList {
	return immutableSelector(obj.(*appsv1.DaemonSet).Spec.Selector, old.(*appsv1.DaemonSet).Spec.Selector)
}

func validateStatefulSet(obj runtime.Object) field.ErrorList {
	s := obj.(*appsv1.StatefulSet)
	p := field.NewPath("spec")
	var errs field.ErrorList
	switch s.Spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(p.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(p.Child("podManagementPolicy"), s.Spec.PodManagementPolicy, "must be 'OrderedReady' or 'Parallel'"))
	}
	errs = append(errs, validateStatefulSetUpdateStrategy(&s.Spec.UpdateStrategy, p.Child("updateStrategy"))...)
	if rp := s.Spec.PersistentVolumeClaimRetentionPolicy; rp != nil {
		pp := p.Child("persistentVolumeClaimRetentionPolicy")
		for _, f := range []struct {
			name string
			v    appsv1.PersistentVolumeClaimRetentionPolicyType
		}{{"whenDeleted", rp.WhenDeleted}, {"whenScaled", rp.WhenScaled}} {
			if f.v != appsv1.RetainPersistentVolumeClaimRetentionPolicyType && f.v != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
				errs = append(errs, field.NotSupported(pp.Child(f.name), f.v, []string{string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType), string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType)}))
			}
		}
	}
	errs = append(errs, nonNegative32(s.Spec.Replicas, p.Child("replicas"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if s.Spec.Ordinals != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.Spec.Ordinals.Start), p.Child("ordinals", "start"))...)
	}
	errs = append(errs, nonNegative32(s.Spec.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	sel, selErrs := validateControllerSelector(s.Spec.Selector, "statefulset", p.Child("selector"))
	errs = append(errs, selErrs...)
	if sel != nil {
		errs = append(errs, validateControllerTemplate(&s.Spec.Template, sel, "StatefulSet", p.Child("template"))...)
	}
	return errs
}

func validateStatefulSetUpdateStrategy(s *appsv1.StatefulSetUpdateStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case "":
		return field.ErrorList{field.Required(p, "")}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(p.Child("rollingUpdate"), s.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")}
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if s.RollingUpdate == nil {
			return nil
		}
		rp := p.Child("rollingUpdate")
		errs := nonNegative32(s.RollingUpdate.Partition, rp.Child("partition"))
		if mu := s.RollingUpdate.MaxUnavailable; mu != nil {
			errs = append(errs, validateIntOrPercent(*mu, rp.Child("maxUnavailable"))...)
			if intOrPercentValue(*mu) == 0 {
				errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), *mu, "cannot be 0"))
			}
			errs = append(errs, notMoreThan100Percent(*mu, rp.Child("maxUnavailable"))...)
		}
		return errs
	default:
		return field.ErrorList{field.Invalid(p, *s, "must be 'RollingUpdate' or 'OnDelete'")}
	}
	return nil
}

// validateStatefulSetUpdate: a StatefulSet's identity (selector, serviceName, volume claim
// templates...) is fixed; only the fields kube-apiserver lists may change.
func validateStatefulSetUpdate(obj, old runtime.Object) field.ErrorList {
	n, o := obj.(*appsv1.StatefulSet).Spec.DeepCopy(), &old.(*appsv1.StatefulSet).Spec
	n.Replicas = o.Replicas
	n.Ordinals = o.Ordinals
	n.Template = o.Template
	n.UpdateStrategy = o.UpdateStrategy
	n.RevisionHistoryLimit = o.RevisionHistoryLimit
	n.PersistentVolumeClaimRetentionPolicy = o.PersistentVolumeClaimRetentionPolicy
	n.MinReadySeconds = o.MinReadySeconds
	if !apiequality.Semantic.DeepEqual(n, o) {
		return field.ErrorList{field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")}
	}
	return nil
}

// The labels a Job's generated selector relies on; kube-apiserver sets both the prefixed and
// the legacy spelling on the pod template.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

// manualSelector reports whether the Job's author chose its selector (spec.manualSelector).
func manualSelector(j *batchv1.Job) bool {
	return j.Spec.ManualSelector != nil && *j.Spec.ManualSelector
}

// Indexed Jobs with more pods than this would make .status.completedIndexes too long.
const maxParallelismForIndexedJob = 100000

func validateJob(obj runtime.Object) field.ErrorList {
	j := obj.(*batchv1.Job)
	p := field.NewPath("spec")
	errs := validateGeneratedJobSelector(j)
	errs = append(errs, nonNegative32(j.Spec.Parallelism, p.Child("parallelism"))...)
	errs = append(errs, nonNegative32(j.Spec.Completions, p.Child("completions"))...)
	if j.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*j.Spec.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	}
	errs = append(errs, nonNegative32(j.Spec.BackoffLimit, p.Child("backoffLimit"))...)
	errs = append(errs, nonNegative32(j.Spec.TTLSecondsAfterFinished, p.Child("ttlSecondsAfterFinished"))...)
	errs = append(errs, nonNegative32(j.Spec.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
	if j.Spec.MaxFailedIndexes != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*j.Spec.MaxFailedIndexes), p.Child("maxFailedIndexes"))...)
		if j.Spec.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
		}
	}
	indexed := j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
	if m := j.Spec.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		errs = append(errs, field.NotSupported(p.Child("completionMode"), *m, []batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
	}
	if indexed {
		if j.Spec.Completions == nil {
			errs = append(errs, field.Required(p.Child("completions"), "when completion mode is Indexed"))
		} else if *j.Spec.Completions > 0 {
			// Pod hostnames are <job>-<index>: the last one must still be a DNS label.
			host := fmt.Sprintf("%s-%d", j.Name, *j.Spec.Completions-1)
			if len(validation.IsDNS1123Label(host)) > 0 {
				errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), j.Name, "will not able to create pod with invalid DNS label: "+host))
			}
		}
		if j.Spec.Parallelism != nil && *j.Spec.Parallelism > maxParallelismForIndexedJob {
			errs = append(errs, field.Invalid(p.Child("parallelism"), *j.Spec.Parallelism, fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxParallelismForIndexedJob)))
		}
	} else {
		if j.Spec.BackoffLimitPerIndex != nil {
			errs = append(errs, field.Invalid(p.Child("backoffLimitPerIndex"), *j.Spec.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
		if j.Spec.MaxFailedIndexes != nil {
			errs = append(errs, field.Invalid(p.Child("maxFailedIndexes"), *j.Spec.MaxFailedIndexes, "requires indexed completion mode"))
		}
	}

	if j.Spec.Selector == nil {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(j.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	// Whether generated or manual, the selector must pick the Job's own pods.
	if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !sel.Matches(labels.Set(j.Spec.Template.Labels)) {
		errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), j.Spec.Template.Labels, "`selector` does not match template `labels`"))
	}

	tp := p.Child("template")
	errs = append(errs, metav1validation.ValidateLabels(j.Spec.Template.Labels, tp.Child("labels"))...)
	errs = append(errs, validatePodSpec(&j.Spec.Template.Spec, tp.Child("spec"))...)
	rp := tp.Child("spec", "restartPolicy")
	switch rpol := j.Spec.Template.Spec.RestartPolicy; {
	case rpol == corev1.RestartPolicyAlways || rpol == "":
		errs = append(errs, field.Required(rp, `valid values: "OnFailure", "Never"`))
	case rpol != corev1.RestartPolicyOnFailure && rpol != corev1.RestartPolicyNever:
		errs = append(errs, field.NotSupported(rp, rpol, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	case j.Spec.PodFailurePolicy != nil && rpol != corev1.RestartPolicyNever:
		errs = append(errs, field.Invalid(rp, rpol, `only "Never" is supported when podFailurePolicy is specified`))
	}
	return errs
}

// validateGeneratedJobSelector checks, for Jobs whose selector the apiserver generated, that
// the selector and the pod template labels still carry the Job's uid and name.
func validateGeneratedJobSelector(j *batchv1.Job) field.ErrorList {
	if manualSelector(j) || j.Spec.Selector == nil {
		return nil
	}
	var errs field.ErrorList
	if j.UID == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "uid"), ""))
	}
	lp := field.NewPath("spec", "template", "metadata", "labels")
	for _, want := range [][2]string{{batchv1.ControllerUidLabel, string(j.UID)}, {batchv1.JobNameLabel, j.Name}} {
		got, ok := j.Spec.Template.Labels[want[0]]
		switch {
		case !ok:
			errs = append(errs, field.Required(lp.Key(want[0]), fmt.Sprintf("must be '%s'", want[1])))
		case got != want[1]:
			errs = append(errs, field.Invalid(lp.Key(want[0]), j.Spec.Template.Labels, fmt.Sprintf("must be '%s'", want[1])))
		}
	}
	expected := labels.Set{
		batchv1.ControllerUidLabel: string(j.UID), batchv1.JobNameLabel: j.Name,
		legacyControllerUIDLabel: string(j.UID), legacyJobNameLabel: j.Name,
	}
	if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !sel.Matches(expected) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "selector"), j.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

// validateJobUpdate: a Job's pods are fixed once it exists. As in kube-apiserver, a Job that
// is suspended and has never started may still have its scheduling directives changed, and an
// Indexed Job may scale completions together with parallelism.
func validateJobUpdate(obj, old runtime.Object) field.ErrorList {
	j, o := obj.(*batchv1.Job), old.(*batchv1.Job)
	p := field.NewPath("spec")
	var errs field.ErrorList
	if !apiequality.Semantic.DeepEqual(j.Spec.Completions, o.Spec.Completions) {
		indexed := j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
		switch {
		case !indexed:
			errs = append(errs, field.Invalid(p.Child("completions"), j.Spec.Completions, apivalidation.FieldImmutableErrorMsg))
		case j.Spec.Completions != nil && (j.Spec.Parallelism == nil || *j.Spec.Completions != *j.Spec.Parallelism):
			errs = append(errs, field.Invalid(p.Child("completions"), j.Spec.Completions, "can only be modified in tandem with spec.parallelism"))
		}
	}
	oldTemplate := &o.Spec.Template
	if o.Spec.Selector == nil && !manualSelector(o) && !manualSelector(j) {
		// Stored before kforge generated Job selectors: the update may add the generated
		// selector and labels, and nothing else.
		g := &batchv1.Job{ObjectMeta: j.ObjectMeta, Spec: batchv1.JobSpec{Template: *o.Spec.Template.DeepCopy()}}
		generateJobSelector(g)
		oldTemplate = &g.Spec.Template
	} else {
		errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.Selector, o.Spec.Selector, p.Child("selector"))...)
	}
	if o.Spec.Suspend != nil && *o.Spec.Suspend && o.Status.StartTime == nil {
		oldTemplate = mutableSchedulingDirectives(&j.Spec.Template, oldTemplate)
	}
	errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.Template, *oldTemplate, p.Child("template"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.CompletionMode, o.Spec.CompletionMode, p.Child("completionMode"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.PodFailurePolicy, o.Spec.PodFailurePolicy, p.Child("podFailurePolicy"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.BackoffLimitPerIndex, o.Spec.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(j.Spec.ManagedBy, o.Spec.ManagedBy, p.Child("managedBy"))...)
	return append(errs, apivalidation.ValidateImmutableField(j.Spec.SuccessPolicy, o.Spec.SuccessPolicy, p.Child("successPolicy"))...)
}

// mutableSchedulingDirectives is old with the fields a not-yet-started suspended Job may
// change (node selector and affinity, tolerations, scheduling gates, labels, annotations)
// taken from t, so that comparing t with it checks everything else.
func mutableSchedulingDirectives(t, old *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	o := old.DeepCopy()
	switch {
	case t.Spec.Affinity == nil && o.Spec.Affinity != nil:
		o.Spec.Affinity.NodeAffinity = nil
		if *o.Spec.Affinity == (corev1.Affinity{}) {
			o.Spec.Affinity = nil
		}
	case t.Spec.Affinity != nil && o.Spec.Affinity == nil:
		o.Spec.Affinity = &corev1.Affinity{NodeAffinity: t.Spec.Affinity.NodeAffinity}
	case t.Spec.Affinity != nil && o.Spec.Affinity != nil:
		o.Spec.Affinity.NodeAffinity = t.Spec.Affinity.NodeAffinity
	}
	o.Spec.NodeSelector = t.Spec.NodeSelector
	o.Spec.Tolerations = t.Spec.Tolerations
	o.Spec.SchedulingGates = t.Spec.SchedulingGates
	o.Labels = t.Labels
	o.Annotations = t.Annotations
	return o
}

var supportedUnhealthyPodEvictionPolicies = []policyv1.UnhealthyPodEvictionPolicyType{policyv1.AlwaysAllow, policyv1.IfHealthyBudget}

func validatePodDisruptionBudget(obj runtime.Object) field.ErrorList {
	pdb := obj.(*policyv1.PodDisruptionBudget)
	p := field.NewPath("spec")
	var errs field.ErrorList
	if pdb.Spec.MinAvailable != nil && pdb.Spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(p, pdb.Spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	for _, v := range []struct {
		name string
		v    *intstr.IntOrString
	}{{"minAvailable", pdb.Spec.MinAvailable}, {"maxUnavailable", pdb.Spec.MaxUnavailable}} {
		if v.v != nil {
			errs = append(errs, validateIntOrPercent(*v.v, p.Child(v.name))...)
			errs = append(errs, notMoreThan100Percent(*v.v, p.Child(v.name))...)
		}
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(pdb.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	if u := pdb.Spec.UnhealthyPodEvictionPolicy; u != nil && *u != policyv1.AlwaysAllow && *u != policyv1.IfHealthyBudget {
		errs = append(errs, field.NotSupported(p.Child("unhealthyPodEvictionPolicy"), *u, supportedUnhealthyPodEvictionPolicies))
	}
	return errs
}
