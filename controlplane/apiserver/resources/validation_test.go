package resources

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"reflect"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"kforge.dev/kforge/controlplane/apiserver/admission"
	"kforge.dev/kforge/controlplane/apiserver/authz"
)

// wantErr is one expected field error: its type and path, and optionally a piece of its detail.
type wantErr struct {
	typ    field.ErrorType
	path   string
	detail string
}

func req(path string) wantErr           { return wantErr{typ: field.ErrorTypeRequired, path: path} }
func inv(path string) wantErr           { return wantErr{typ: field.ErrorTypeInvalid, path: path} }
func notSup(path string) wantErr        { return wantErr{typ: field.ErrorTypeNotSupported, path: path} }
func forbid(path string) wantErr        { return wantErr{typ: field.ErrorTypeForbidden, path: path} }
func dup(path string) wantErr           { return wantErr{typ: field.ErrorTypeDuplicate, path: path} }
func (w wantErr) with(d string) wantErr { w.detail = d; return w }

// vcase is a create (old == nil) or an update of old to obj, and the errors it must give
// (none: the object is valid).
type vcase struct {
	name string
	obj  runtime.Object
	old  runtime.Object
	want []wantErr
}

// definitionOf finds the served resource of obj's Go type.
func definitionOf(t *testing.T, obj runtime.Object) Definition {
	t.Helper()
	for _, d := range All() {
		if !d.CreateOnly && reflect.TypeOf(d.New()) == reflect.TypeOf(obj) {
			return d
		}
	}
	t.Fatalf("no resource serves %T", obj)
	return Definition{}
}

// validateAs runs obj through its resource's strategy as the registry does: defaults, then
// validation (of the update from old when old is set; old is defaulted as stored objects are).
func validateAs(t *testing.T, obj, old runtime.Object) field.ErrorList {
	t.Helper()
	ctx := context.Background()
	s := definitionOf(t, obj).Strategy
	if old == nil {
		s.PrepareForCreate(ctx, obj)
		return s.Validate(ctx, obj)
	}
	s.PrepareForCreate(ctx, old)
	s.PrepareForUpdate(ctx, obj, old)
	return s.ValidateUpdate(ctx, obj, old)
}

func runCases(t *testing.T, cases []vcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := validateAs(t, c.obj, c.old)
			var got, want []string
			for _, e := range errs {
				got = append(got, string(e.Type)+" "+e.Field)
			}
			for _, w := range c.want {
				want = append(want, string(w.typ)+" "+w.path)
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("errors:\n  %s\nwant:\n  %s\n(%v)", strings.Join(got, "\n  "), strings.Join(want, "\n  "), errs.ToAggregate())
			}
			for _, w := range c.want {
				if w.detail == "" {
					continue
				}
				found := false
				for _, e := range errs {
					found = found || (e.Type == w.typ && e.Field == w.path && strings.Contains(e.Detail, w.detail))
				}
				if !found {
					t.Errorf("no %s error at %s saying %q: %v", w.typ, w.path, w.detail, errs.ToAggregate())
				}
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

var (
	webLabels   = map[string]string{"app": "web"}
	webSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
)

func webTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.25"}}}}
}

func om(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", UID: "0f7a3a52-uid"}
}

func deployment(mut func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: om("web"), Spec: appsv1.DeploymentSpec{Selector: webSelector.DeepCopy(), Template: webTemplate()}}
	if mut != nil {
		mut(d)
	}
	return d
}

func TestValidateDeployment(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: deployment(nil)},
		{name: "no selector", obj: deployment(func(d *appsv1.Deployment) { d.Spec.Selector = nil }),
			want: []wantErr{req("spec.selector"), inv("spec.template.metadata.labels")}},
		{name: "empty selector", obj: deployment(func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }),
			want: []wantErr{inv("spec.selector").with("empty selector is invalid for deployment")}},
		{name: "selector does not match", obj: deployment(func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "api"} }),
			want: []wantErr{inv("spec.template.metadata.labels").with("`selector` does not match template `labels`")}},
		{name: "bad selector operator", obj: deployment(func(d *appsv1.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near", Values: []string{"web"}}}}
		}), want: []wantErr{inv("spec.selector.matchExpressions[0].operator"), inv("spec.selector").with("invalid label selector")}},
		{name: "negative replicas", obj: deployment(func(d *appsv1.Deployment) { d.Spec.Replicas = ptrTo(int32(-1)) }),
			want: []wantErr{inv("spec.replicas").with("must be greater than or equal to 0")}},
		{name: "restartPolicy OnFailure", obj: deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }),
			want: []wantErr{notSup("spec.template.spec.restartPolicy")}},
		{name: "no containers", obj: deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers = nil }),
			want: []wantErr{req("spec.template.spec.containers")}},
		{name: "activeDeadlineSeconds", obj: deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptrTo(int64(30)) }),
			want: []wantErr{forbid("spec.template.spec.activeDeadlineSeconds").with("activeDeadlineSeconds in ReplicaSet is not Supported")}},
		{name: "Recreate with rollingUpdate", obj: deployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}), want: []wantErr{forbid("spec.strategy.rollingUpdate")}},
		{name: "unknown strategy", obj: deployment(func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "BlueGreen" }),
			want: []wantErr{notSup("spec.strategy")}},
		{name: "no surge, no unavailable", obj: deployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptrTo(intstr.FromInt32(0)), MaxSurge: ptrTo(intstr.FromString("0%"))}
		}), want: []wantErr{inv("spec.strategy.rollingUpdate.maxUnavailable").with("may not be 0 when `maxSurge` is 0")}},
		{name: "maxUnavailable over 100%", obj: deployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptrTo(intstr.FromString("150%"))}
		}), want: []wantErr{inv("spec.strategy.rollingUpdate.maxUnavailable").with("must not be greater than 100%")}},
		{name: "maxSurge not a percentage", obj: deployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: ptrTo(intstr.FromString("lots"))}
		}), want: []wantErr{inv("spec.strategy.rollingUpdate.maxSurge")}},
		{name: "progress deadline within minReadySeconds", obj: deployment(func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 10
			d.Spec.ProgressDeadlineSeconds = ptrTo(int32(5))
		}), want: []wantErr{inv("spec.progressDeadlineSeconds").with("must be greater than minReadySeconds")}},
		{name: "update replicas", old: deployment(nil), obj: deployment(func(d *appsv1.Deployment) { d.Spec.Replicas = ptrTo(int32(5)) })},
		{name: "update selector", old: deployment(nil), obj: deployment(func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchLabels["tier"] = "front"
			d.Spec.Template.Labels["tier"] = "front"
		}), want: []wantErr{inv("spec.selector").with("field is immutable")}},
	})
}

func replicaSet(mut func(*appsv1.ReplicaSet)) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: om("web"), Spec: appsv1.ReplicaSetSpec{Selector: webSelector.DeepCopy(), Template: webTemplate()}}
	if mut != nil {
		mut(rs)
	}
	return rs
}

func TestValidateReplicaSet(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: replicaSet(nil)},
		{name: "no selector", obj: replicaSet(func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = nil }),
			want: []wantErr{req("spec.selector"), inv("spec.template.metadata.labels")}},
		{name: "empty selector", obj: replicaSet(func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = &metav1.LabelSelector{} }),
			want: []wantErr{inv("spec.selector").with("empty selector is invalid for deployment")}},
		{name: "selector does not match", obj: replicaSet(func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Labels = nil }),
			want: []wantErr{inv("spec.template.metadata.labels").with("`selector` does not match template `labels`")}},
		{name: "negative replicas", obj: replicaSet(func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptrTo(int32(-2)) }),
			want: []wantErr{inv("spec.replicas")}},
		{name: "negative minReadySeconds", obj: replicaSet(func(rs *appsv1.ReplicaSet) { rs.Spec.MinReadySeconds = -1 }),
			want: []wantErr{inv("spec.minReadySeconds")}},
		{name: "restartPolicy Never", obj: replicaSet(func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }),
			want: []wantErr{notSup("spec.template.spec.restartPolicy")}},
		{name: "bad template label", obj: replicaSet(func(rs *appsv1.ReplicaSet) {
			rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
			rs.Spec.Template.Labels["bad key!"] = "x"
		}), want: []wantErr{inv("spec.template.labels")}},
		{name: "update selector", old: replicaSet(nil), obj: replicaSet(func(rs *appsv1.ReplicaSet) {
			rs.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}
		}), want: []wantErr{inv("spec.selector").with("field is immutable")}},
		{name: "update template", old: replicaSet(nil), obj: replicaSet(func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.Containers[0].Image = "nginx:1.27" })},
	})
}

func daemonSet(mut func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: om("agent"), Spec: appsv1.DaemonSetSpec{Selector: webSelector.DeepCopy(), Template: webTemplate()}}
	if mut != nil {
		mut(ds)
	}
	return ds
}

func TestValidateDaemonSet(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: daemonSet(nil)},
		{name: "valid surge", obj: daemonSet(func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptrTo(intstr.FromInt32(0)), MaxSurge: ptrTo(intstr.FromString("10%"))}
		})},
		{name: "no selector", obj: daemonSet(func(ds *appsv1.DaemonSet) { ds.Spec.Selector = nil }),
			want: []wantErr{req("spec.selector"), inv("spec.template.metadata.labels")}},
		{name: "empty selector", obj: daemonSet(func(ds *appsv1.DaemonSet) { ds.Spec.Selector = &metav1.LabelSelector{} }),
			want: []wantErr{inv("spec.selector").with("empty selector is invalid for daemonset")}},
		{name: "selector does not match", obj: daemonSet(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Labels = map[string]string{"app": "other"} }),
			want: []wantErr{inv("spec.template.metadata.labels")}},
		{name: "restartPolicy OnFailure", obj: daemonSet(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }),
			want: []wantErr{notSup("spec.template.spec.restartPolicy")}},
		{name: "surge and unavailable", obj: daemonSet(func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxSurge: ptrTo(intstr.FromInt32(1))} // maxUnavailable defaults to 1
		}), want: []wantErr{inv("spec.updateStrategy.rollingUpdate.maxSurge").with("may not be set when maxUnavailable is non-zero")}},
		{name: "neither surge nor unavailable", obj: daemonSet(func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptrTo(intstr.FromString("0%"))}
		}), want: []wantErr{req("spec.updateStrategy.rollingUpdate.maxUnavailable")}},
		{name: "unknown update strategy", obj: daemonSet(func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = "Sometimes" }),
			want: []wantErr{notSup("spec.updateStrategy")}},
		{name: "negative revisionHistoryLimit", obj: daemonSet(func(ds *appsv1.DaemonSet) { ds.Spec.RevisionHistoryLimit = ptrTo(int32(-1)) }),
			want: []wantErr{inv("spec.revisionHistoryLimit")}},
		{name: "update selector", old: daemonSet(nil), obj: daemonSet(func(ds *appsv1.DaemonSet) {
			ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
			ds.Spec.Template.Labels["v"] = "2"
		}), want: []wantErr{inv("spec.selector").with("field is immutable")}},
	})
}

func statefulSet(mut func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{ObjectMeta: om("db"), Spec: appsv1.StatefulSetSpec{Selector: webSelector.DeepCopy(), Template: webTemplate(), ServiceName: "db"}}
	if mut != nil {
		mut(s)
	}
	return s
}

func TestValidateStatefulSet(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: statefulSet(nil)},
		{name: "no selector", obj: statefulSet(func(s *appsv1.StatefulSet) { s.Spec.Selector = nil }),
			want: []wantErr{req("spec.selector"), inv("spec.template.metadata.labels")}},
		{name: "empty selector", obj: statefulSet(func(s *appsv1.StatefulSet) { s.Spec.Selector = &metav1.LabelSelector{} }),
			want: []wantErr{inv("spec.selector").with("empty selector is invalid for statefulset")}},
		{name: "selector does not match", obj: statefulSet(func(s *appsv1.StatefulSet) { s.Spec.Template.Labels = map[string]string{"app": "db"} }),
			want: []wantErr{inv("spec.template.metadata.labels")}},
		{name: "negative replicas", obj: statefulSet(func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptrTo(int32(-1)) }),
			want: []wantErr{inv("spec.replicas")}},
		{name: "unknown pod management", obj: statefulSet(func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = "Random" }),
			want: []wantErr{inv("spec.podManagementPolicy").with("must be 'OrderedReady' or 'Parallel'")}},
		{name: "OnDelete with rollingUpdate", obj: statefulSet(func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{}}
		}), want: []wantErr{inv("spec.updateStrategy.rollingUpdate")}},
		{name: "negative partition", obj: statefulSet(func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptrTo(int32(-1))}
		}), want: []wantErr{inv("spec.updateStrategy.rollingUpdate.partition")}},
		{name: "unknown retention", obj: statefulSet(func(s *appsv1.StatefulSet) {
			s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: "Archive"}
		}), want: []wantErr{notSup("spec.persistentVolumeClaimRetentionPolicy.whenDeleted")}},
		{name: "restartPolicy Never", obj: statefulSet(func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }),
			want: []wantErr{notSup("spec.template.spec.restartPolicy")}},
		{name: "update replicas and template", old: statefulSet(nil), obj: statefulSet(func(s *appsv1.StatefulSet) {
			s.Spec.Replicas = ptrTo(int32(3))
			s.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
		})},
		{name: "update serviceName", old: statefulSet(nil), obj: statefulSet(func(s *appsv1.StatefulSet) { s.Spec.ServiceName = "db2" }),
			want: []wantErr{forbid("spec").with("updates to statefulset spec for fields other than")}},
		{name: "update selector", old: statefulSet(nil), obj: statefulSet(func(s *appsv1.StatefulSet) {
			s.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
			s.Spec.Template.Labels["v"] = "2"
		}), want: []wantErr{forbid("spec")}},
	})
}

func job(mut func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: om("once"), Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}}}}}
	if mut != nil {
		mut(j)
	}
	return j
}

func TestValidateJob(t *testing.T) {
	manual := func(j *batchv1.Job) {
		j.Spec.ManualSelector = ptrTo(true)
		j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"run": "once"}}
		j.Spec.Template.Labels = map[string]string{"run": "once"}
	}
	suspended := func(j *batchv1.Job) { j.Spec.Suspend = ptrTo(true) }
	runCases(t, []vcase{
		{name: "valid, generated selector", obj: job(nil)},
		{name: "valid, manual selector", obj: job(manual)},
		{name: "restartPolicy Always", obj: job(func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways }),
			want: []wantErr{req("spec.template.spec.restartPolicy").with(`valid values: "OnFailure", "Never"`)}},
		{name: "negative parallelism", obj: job(func(j *batchv1.Job) { j.Spec.Parallelism = ptrTo(int32(-1)) }),
			want: []wantErr{inv("spec.parallelism")}},
		{name: "negative completions", obj: job(func(j *batchv1.Job) { j.Spec.Completions = ptrTo(int32(-1)) }),
			want: []wantErr{inv("spec.completions")}},
		{name: "negative backoffLimit", obj: job(func(j *batchv1.Job) { j.Spec.BackoffLimit = ptrTo(int32(-3)) }),
			want: []wantErr{inv("spec.backoffLimit").with("must be greater than or equal to 0")}},
		{name: "manual selector missing", obj: job(func(j *batchv1.Job) { j.Spec.ManualSelector = ptrTo(true) }),
			want: []wantErr{req("spec.selector"), inv("spec.template.metadata.labels")}},
		{name: "manual selector does not match", obj: job(func(j *batchv1.Job) {
			manual(j)
			j.Spec.Template.Labels = map[string]string{"run": "twice"}
		}), want: []wantErr{inv("spec.template.metadata.labels").with("`selector` does not match template `labels`")}},
		{name: "generated label overridden", obj: job(func(j *batchv1.Job) {
			j.Spec.Template.Labels = map[string]string{batchv1.JobNameLabel: "other"}
		}), want: []wantErr{inv("spec.template.metadata.labels[batch.kubernetes.io/job-name]").with("must be 'once'")}},
		{name: "unknown completion mode", obj: job(func(j *batchv1.Job) { j.Spec.CompletionMode = ptrTo(batchv1.CompletionMode("Sometimes")) }),
			want: []wantErr{notSup("spec.completionMode")}},
		{name: "backoffLimitPerIndex without Indexed", obj: job(func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = ptrTo(int32(1)) }),
			want: []wantErr{inv("spec.backoffLimitPerIndex").with("requires indexed completion mode")}},
		{name: "update parallelism", old: job(nil), obj: job(func(j *batchv1.Job) { j.Spec.Parallelism = ptrTo(int32(3)) })},
		{name: "update template", old: job(nil), obj: job(func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "busybox:1.37" }),
			want: []wantErr{inv("spec.template").with("field is immutable")}},
		{name: "update completions", old: job(nil), obj: job(func(j *batchv1.Job) { j.Spec.Completions = ptrTo(int32(4)) }),
			want: []wantErr{inv("spec.completions").with("field is immutable")}},
		{name: "update manual selector", old: job(manual), obj: job(func(j *batchv1.Job) {
			manual(j)
			j.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "run", Operator: metav1.LabelSelectorOpExists}}
		}), want: []wantErr{inv("spec.selector").with("field is immutable")}},
		{name: "update scheduling of a suspended job", old: job(suspended), obj: job(func(j *batchv1.Job) {
			suspended(j)
			j.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		})},
		{name: "update a job stored without generated selector", old: job(func(j *batchv1.Job) { j.UID = "" }), // no uid: nothing generated
			obj: job(func(j *batchv1.Job) { j.Labels = map[string]string{"touched": "yes"} })},
		{name: "update image of a job stored without generated selector", old: job(func(j *batchv1.Job) { j.UID = "" }),
			obj: job(func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "busybox:1.37" }), want: []wantErr{inv("spec.template")}},
		{name: "update image of a suspended job", old: job(suspended), obj: job(func(j *batchv1.Job) {
			suspended(j)
			j.Spec.Template.Spec.Containers[0].Image = "busybox:1.37"
		}), want: []wantErr{inv("spec.template")}},
	})
}

func TestJobSelectorIsGenerated(t *testing.T) {
	j := job(func(j *batchv1.Job) { j.Spec.Template.Labels = map[string]string{"team": "a"} })
	if errs := validateAs(t, j, nil); len(errs) > 0 {
		t.Fatal(errs.ToAggregate())
	}
	uid := string(j.UID)
	if got := j.Spec.Selector.MatchLabels; !reflect.DeepEqual(got, map[string]string{batchv1.ControllerUidLabel: uid}) {
		t.Errorf("selector %v", got)
	}
	want := map[string]string{"team": "a", batchv1.ControllerUidLabel: uid, "controller-uid": uid, batchv1.JobNameLabel: "once", "job-name": "once"}
	if got := j.Spec.Template.Labels; !reflect.DeepEqual(got, want) {
		t.Errorf("template labels %v, want %v", got, want)
	}
}

func pdb(mut func(*policyv1.PodDisruptionBudget)) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	p := &policyv1.PodDisruptionBudget{ObjectMeta: om("db"), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: webSelector.DeepCopy()}}
	if mut != nil {
		mut(p)
	}
	return p
}

func TestValidatePodDisruptionBudget(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: pdb(nil)},
		{name: "valid percentage", obj: pdb(func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable, p.Spec.MaxUnavailable = nil, ptrTo(intstr.FromString("20%"))
		})},
		{name: "both set", obj: pdb(func(p *policyv1.PodDisruptionBudget) { p.Spec.MaxUnavailable = ptrTo(intstr.FromInt32(1)) }),
			want: []wantErr{inv("spec").with("minAvailable and maxUnavailable cannot be both set")}},
		{name: "negative minAvailable", obj: pdb(func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptrTo(intstr.FromInt32(-1)) }),
			want: []wantErr{inv("spec.minAvailable")}},
		{name: "not a percentage", obj: pdb(func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptrTo(intstr.FromString("half")) }),
			want: []wantErr{inv("spec.minAvailable")}},
		{name: "over 100%", obj: pdb(func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable, p.Spec.MaxUnavailable = nil, ptrTo(intstr.FromString("120%"))
		}), want: []wantErr{inv("spec.maxUnavailable").with("must not be greater than 100%")}},
		{name: "bad selector", obj: pdb(func(p *policyv1.PodDisruptionBudget) { p.Spec.Selector.MatchLabels["-bad"] = "x" }),
			want: []wantErr{inv("spec.selector.matchLabels")}},
		{name: "unknown eviction policy", obj: pdb(func(p *policyv1.PodDisruptionBudget) {
			p.Spec.UnhealthyPodEvictionPolicy = ptrTo(policyv1.UnhealthyPodEvictionPolicyType("Never"))
		}), want: []wantErr{notSup("spec.unhealthyPodEvictionPolicy")}},
	})
}

func TestNamespaceNamesAreDNSLabels(t *testing.T) {
	d := definitionOf(t, &corev1.Namespace{})
	if d.NameValidator == nil {
		t.Fatal("namespaces have no NameValidator: their names would be checked as DNS subdomains")
	}
	for name, ok := range map[string]bool{"team-a": true, "a.b": false, "Team": false, "-a": false, strings.Repeat("a", 64): false} {
		if got := len(d.NameValidator(name)) == 0; got != ok {
			t.Errorf("namespace name %q valid: %v, want %v", name, got, ok)
		}
	}
}

func TestValidateNamespace(t *testing.T) {
	ns := func(fin ...corev1.FinalizerName) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}, Spec: corev1.NamespaceSpec{Finalizers: fin}}
	}
	runCases(t, []vcase{
		{name: "valid", obj: ns()},
		{name: "valid finalizers", obj: ns("kubernetes", "example.com/cleanup")},
		{name: "unqualified finalizer", obj: ns("cleanup"),
			want: []wantErr{inv("spec.finalizers").with("name is neither a standard finalizer name nor is it fully qualified")}},
		{name: "malformed finalizer", obj: ns("example.com/bad name"), want: []wantErr{inv("spec.finalizers")}},
	})
}

func node(mut func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{
		PodCIDR: "10.244.1.0/24", Taints: []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}}}
	if mut != nil {
		mut(n)
	}
	return n
}

func TestValidateNode(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: node(nil)},
		{name: "valid dual stack", obj: node(func(n *corev1.Node) {
			n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.244.1.0/24", []string{"10.244.1.0/24", "fd00:1::/64"}
		})},
		{name: "unknown effect", obj: node(func(n *corev1.Node) { n.Spec.Taints[0].Effect = "NoWay" }),
			want: []wantErr{notSup("spec.taints[0].effect")}},
		{name: "no effect", obj: node(func(n *corev1.Node) { n.Spec.Taints[0].Effect = "" }),
			want: []wantErr{req("spec.taints[0].effect")}},
		{name: "bad key", obj: node(func(n *corev1.Node) { n.Spec.Taints[0].Key = "not a key" }),
			want: []wantErr{inv("spec.taints[0].key")}},
		{name: "bad value", obj: node(func(n *corev1.Node) { n.Spec.Taints[0].Value = "a value" }),
			want: []wantErr{inv("spec.taints[0].value")}},
		{name: "duplicate taint", obj: node(func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, n.Spec.Taints[0]) }),
			want: []wantErr{dup("spec.taints[1]").with("taints must be unique by key and effect pair")}},
		{name: "bad podCIDR", obj: node(func(n *corev1.Node) { n.Spec.PodCIDR = "10.244.1.0/33" }),
			want: []wantErr{inv("spec.podCIDRs[0]")}},
		{name: "two IPv4 podCIDRs", obj: node(func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.244.1.0/24", "10.245.1.0/24"} }),
			want: []wantErr{inv("spec.podCIDRs").with("may specify no more than one CIDR for each IP family")}},
		{name: "update: podCIDR assigned", old: node(func(n *corev1.Node) { n.Spec.PodCIDR = "" }), obj: node(nil)},
		{name: "update: podCIDR changed", old: node(nil), obj: node(func(n *corev1.Node) { n.Spec.PodCIDR = "10.244.2.0/24" }),
			want: []wantErr{forbid("spec.podCIDRs")}},
		{name: "update: providerID changed", old: node(func(n *corev1.Node) { n.Spec.ProviderID = "aws:///a" }),
			obj: node(func(n *corev1.Node) { n.Spec.ProviderID = "aws:///b" }), want: []wantErr{forbid("spec.providerID")}},
	})
}

func endpoints(mut func(*corev1.Endpoints)) *corev1.Endpoints {
	e := &corev1.Endpoints{ObjectMeta: om("web"), Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.244.1.5", NodeName: ptrTo("n1")}},
		Ports:     []corev1.EndpointPort{{Port: 8080}}}}}
	if mut != nil {
		mut(e)
	}
	return e
}

func TestValidateEndpoints(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: endpoints(nil)},
		{name: "valid, no subsets", obj: &corev1.Endpoints{ObjectMeta: om("e")}},
		{name: "bad IP", obj: endpoints(func(e *corev1.Endpoints) { e.Subsets[0].Addresses[0].IP = "10.244.1" }),
			want: []wantErr{inv("subsets[0].addresses[0].ip")}},
		{name: "bad not-ready IP", obj: endpoints(func(e *corev1.Endpoints) {
			e.Subsets[0].NotReadyAddresses = []corev1.EndpointAddress{{IP: "web-0"}}
		}), want: []wantErr{inv("subsets[0].notReadyAddresses[0].ip")}},
		{name: "no addresses", obj: endpoints(func(e *corev1.Endpoints) { e.Subsets[0].Addresses = nil }),
			want: []wantErr{req("subsets[0]")}},
		{name: "port 0", obj: endpoints(func(e *corev1.Endpoints) { e.Subsets[0].Ports[0].Port = 0 }),
			want: []wantErr{inv("subsets[0].ports[0].port").with("between 1 and 65535")}},
		{name: "port too high", obj: endpoints(func(e *corev1.Endpoints) { e.Subsets[0].Ports[0].Port = 65536 }),
			want: []wantErr{inv("subsets[0].ports[0].port")}},
		{name: "unknown protocol", obj: endpoints(func(e *corev1.Endpoints) { e.Subsets[0].Ports[0].Protocol = "HTTP" }),
			want: []wantErr{notSup("subsets[0].ports[0].protocol")}},
		{name: "unnamed port among several", obj: endpoints(func(e *corev1.Endpoints) {
			e.Subsets[0].Ports = []corev1.EndpointPort{{Name: "http", Port: 80}, {Port: 443}}
		}), want: []wantErr{req("subsets[0].ports[1].name")}},
	})
}

func TestValidateEvent(t *testing.T) {
	ev := func(ns, involvedNS string, eventTime bool) *corev1.Event {
		e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "ev", Namespace: ns}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p", Namespace: involvedNS}}
		if eventTime {
			e.EventTime = metav1.NowMicro()
		}
		return e
	}
	runCases(t, []vcase{
		{name: "valid, same namespace", obj: ev("team", "team", false)},
		{name: "valid, cluster-scoped object in default", obj: ev("default", "", false)},
		{name: "valid, new-style event in kube-system", obj: ev("kube-system", "", true)},
		{name: "other namespace", obj: ev("team", "other", false),
			want: []wantErr{inv("involvedObject.namespace").with("does not match event.namespace")}},
		{name: "cluster-scoped object outside default", obj: ev("kube-system", "", false),
			want: []wantErr{inv("involvedObject.namespace")}},
		{name: "new-style event about a cluster-scoped object in a team namespace", obj: ev("team", "", true),
			want: []wantErr{inv("involvedObject.namespace")}},
	})
}

func q(s string) resource.Quantity { return resource.MustParse(s) }

func limitRange(items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: om("limits"), Spec: corev1.LimitRangeSpec{Limits: items}}
}

func TestValidateLimitRange(t *testing.T) {
	cpu := func(v string) corev1.ResourceList { return corev1.ResourceList{corev1.ResourceCPU: q(v)} }
	runCases(t, []vcase{
		{name: "valid", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: cpu("500m"), DefaultRequest: cpu("100m"), Max: cpu("1"), Min: cpu("50m")})},
		{name: "valid pod and claim limits", obj: limitRange(
			corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: cpu("4")},
			corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Max: corev1.ResourceList{corev1.ResourceStorage: q("10Gi")}})},
		{name: "min over max", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: cpu("2"), Max: cpu("1")}),
			want: []wantErr{inv("spec.limits[0].min[cpu]").with("min value 2 is greater than max value 1")}},
		{name: "default over max", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: cpu("2"), Max: cpu("1")}),
			want: []wantErr{inv("spec.limits[0].default[cpu]").with("default value 2 is greater than max value 1")}},
		{name: "min over default", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: cpu("100m"), Min: cpu("200m")}),
			want: []wantErr{inv("spec.limits[0].default[cpu]")}},
		{name: "default request over default", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: cpu("100m"), DefaultRequest: cpu("200m")}),
			want: []wantErr{inv("spec.limits[0].defaultRequest[cpu]").with("default request value 200m is greater than default limit value 100m")}},
		{name: "unknown type", obj: limitRange(corev1.LimitRangeItem{Type: "Namespace", Max: cpu("1")}),
			want: []wantErr{inv("spec.limits[0].type").with("must be a standard limit type or fully qualified")}},
		{name: "duplicate type", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: cpu("1")}, corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: cpu("2")}),
			want: []wantErr{dup("spec.limits[1].type")}},
		{name: "pod default", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypePod, Default: cpu("1")}),
			want: []wantErr{forbid("spec.limits[0].default")}},
		{name: "claim without storage bound", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim}),
			want: []wantErr{req("spec.limits[0].limits")}},
		{name: "unknown container resource", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{"gpus": q("1")}}),
			want: []wantErr{inv("spec.limits[0].max[gpus]").with("must be a standard resource type or fully qualified"), inv("spec.limits[0].max[gpus]").with("must be a standard resource for containers")}},
		{name: "ratio below 1", obj: limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: cpu("500m")}),
			want: []wantErr{inv("spec.limits[0].maxLimitRequestRatio[cpu]")}},
	})
}

func quota(mut func(*corev1.ResourceQuota)) *corev1.ResourceQuota {
	rq := &corev1.ResourceQuota{ObjectMeta: om("q"), Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		corev1.ResourcePods: q("4"), corev1.ResourceRequestsCPU: q("2"), "count/deployments.apps": q("3"), "requests.example.com/gpu": q("1")}}}
	if mut != nil {
		mut(rq)
	}
	return rq
}

func TestValidateResourceQuota(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: quota(nil)},
		{name: "valid scopes", obj: quota(func(rq *corev1.ResourceQuota) {
			rq.Spec.Hard = corev1.ResourceList{corev1.ResourcePods: q("4")}
			rq.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}
		})},
		{name: "negative", obj: quota(func(rq *corev1.ResourceQuota) { rq.Spec.Hard[corev1.ResourceRequestsCPU] = q("-1") }),
			want: []wantErr{inv("spec.hard[requests.cpu]").with("must be greater than or equal to 0")}},
		{name: "fractional pods", obj: quota(func(rq *corev1.ResourceQuota) { rq.Spec.Hard[corev1.ResourcePods] = q("1500m") }),
			want: []wantErr{inv("spec.hard[pods]").with("must be an integer")}},
		{name: "unknown resource", obj: quota(func(rq *corev1.ResourceQuota) { rq.Spec.Hard["widgets"] = q("1") }),
			want: []wantErr{inv("spec.hard[widgets]"), inv("spec.hard[widgets]").with("must be a standard resource for quota")}},
		{name: "unknown scope", obj: quota(func(rq *corev1.ResourceQuota) {
			rq.Spec.Hard = corev1.ResourceList{corev1.ResourcePods: q("4")}
			rq.Spec.Scopes = []corev1.ResourceQuotaScope{"Weekend"}
		}), want: []wantErr{inv("spec.scopes").with("unsupported scope")}},
		{name: "scope does not apply", obj: quota(func(rq *corev1.ResourceQuota) {
			rq.Spec.Hard = corev1.ResourceList{corev1.ResourceRequestsCPU: q("1")}
			rq.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}
		}), want: []wantErr{inv("spec.scopes").with("unsupported scope applied to resource")}},
		{name: "conflicting scopes", obj: quota(func(rq *corev1.ResourceQuota) {
			rq.Spec.Hard = corev1.ResourceList{corev1.ResourcePods: q("4")}
			rq.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating}
		}), want: []wantErr{inv("spec.scopes").with("conflicting scopes")}},
		{name: "scope selector without values", obj: quota(func(rq *corev1.ResourceQuota) {
			rq.Spec.ScopeSelector = &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn}}}
		}), want: []wantErr{req("spec.scopeSelector.matchExpressions.values")}},
		{name: "update hard", old: quota(nil), obj: quota(func(rq *corev1.ResourceQuota) { rq.Spec.Hard[corev1.ResourcePods] = q("10") })},
		{name: "update scopes", old: quota(func(rq *corev1.ResourceQuota) { rq.Spec.Hard = corev1.ResourceList{corev1.ResourcePods: q("4")} }),
			obj: quota(func(rq *corev1.ResourceQuota) {
				rq.Spec.Hard = corev1.ResourceList{corev1.ResourcePods: q("4")}
				rq.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotTerminating}
			}), want: []wantErr{inv("spec.scopes").with("field is immutable")}},
	})
}

func TestValidateRoles(t *testing.T) {
	read := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	metrics := rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}
	role := func(rules ...rbacv1.PolicyRule) *rbacv1.Role { return &rbacv1.Role{ObjectMeta: om("r"), Rules: rules} }
	clusterRole := func(rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cr"}, Rules: rules}
	}
	runCases(t, []vcase{
		{name: "valid role", obj: role(read)},
		{name: "valid empty role", obj: role()},
		{name: "valid cluster role", obj: clusterRole(read, metrics)},
		{name: "valid aggregated cluster role", obj: &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg"},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"rbac.example.com/aggregate": "true"}}}}}},
		{name: "no verbs", obj: role(rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}}),
			want: []wantErr{req("rules[0].verbs").with("verbs must contain at least one value")}},
		{name: "no groups nor resources", obj: role(rbacv1.PolicyRule{Verbs: []string{"get"}}),
			want: []wantErr{req("rules[0].apiGroups"), req("rules[0].resources")}},
		{name: "non-resource URL in a role", obj: role(read, metrics),
			want: []wantErr{inv("rules[1].nonResourceURLs").with("namespaced rules cannot apply to non-resource URLs")}},
		{name: "mixed rule", obj: clusterRole(rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}, Resources: []string{"pods"}}),
			want: []wantErr{inv("rules[0].nonResourceURLs").with("rules cannot apply to both regular resources and non-resource URLs")}},
		{name: "aggregation without selectors", obj: &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg"}, AggregationRule: &rbacv1.AggregationRule{}},
			want: []wantErr{req("aggregationRule.clusterRoleSelectors")}},
		{name: "update role rules", old: role(read), obj: role(read, rbacv1.PolicyRule{Verbs: []string{"list"}, APIGroups: []string{"apps"}, Resources: []string{"*"}})},
		{name: "update to a rule without resources", old: role(read), obj: role(rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}}),
			want: []wantErr{req("rules[0].resources")}},
	})
}

func TestValidateRoleBindings(t *testing.T) {
	view := rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"} // apiGroup defaulted
	binding := func(ref rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{ObjectMeta: om("rb"), RoleRef: ref, Subjects: subjects}
	}
	clusterBinding := func(ref rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crb"}, RoleRef: ref, Subjects: subjects}
	}
	user := rbacv1.Subject{Kind: rbacv1.UserKind, Name: "alice"} // apiGroup defaulted
	sa := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "builder"}
	runCases(t, []vcase{
		{name: "valid", obj: binding(view, user, sa, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"})},
		{name: "valid role", obj: binding(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"})},
		{name: "valid cluster binding", obj: clusterBinding(view, user, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "builder", Namespace: "ci"})},
		{name: "unknown roleRef kind", obj: binding(rbacv1.RoleRef{Kind: "Policy", Name: "view"}), want: []wantErr{notSup("roleRef.kind")}},
		{name: "other roleRef group", obj: binding(rbacv1.RoleRef{APIGroup: "example.com", Kind: "ClusterRole", Name: "view"}),
			want: []wantErr{notSup("roleRef.apiGroup")}},
		{name: "no roleRef name", obj: binding(rbacv1.RoleRef{Kind: "ClusterRole"}), want: []wantErr{req("roleRef.name")}},
		{name: "cluster binding to a Role", obj: clusterBinding(rbacv1.RoleRef{Kind: "Role", Name: "reader"}), want: []wantErr{notSup("roleRef.kind")}},
		{name: "unknown subject kind", obj: binding(view, rbacv1.Subject{Kind: "Robot", Name: "r2"}), want: []wantErr{notSup("subjects[0].kind")}},
		{name: "service account without name", obj: binding(view, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind}),
			want: []wantErr{req("subjects[0].name")}},
		{name: "service account in the RBAC group", obj: binding(view, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, APIGroup: rbacv1.GroupName, Name: "builder"}),
			want: []wantErr{notSup("subjects[0].apiGroup")}},
		{name: "user in another group", obj: binding(view, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: "example.com", Name: "alice"}),
			want: []wantErr{notSup("subjects[0].apiGroup")}},
		{name: "cluster binding service account without namespace", obj: clusterBinding(view, sa), want: []wantErr{req("subjects[0].namespace")}},
		{name: "update subjects", old: binding(view, user), obj: binding(view, user, sa)},
		{name: "update roleRef", old: binding(view), obj: binding(rbacv1.RoleRef{Kind: "ClusterRole", Name: "edit"}),
			want: []wantErr{inv("roleRef").with("cannot change roleRef")}},
		{name: "update cluster binding roleRef", old: clusterBinding(view), obj: clusterBinding(rbacv1.RoleRef{Kind: "ClusterRole", Name: "admin"}),
			want: []wantErr{inv("roleRef").with("cannot change roleRef")}},
	})
}

func TestBindingDefaults(t *testing.T) {
	b := &rbacv1.RoleBinding{ObjectMeta: om("rb"), RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "u"}, {Kind: rbacv1.ServiceAccountKind, Name: "sa"}}}
	if errs := validateAs(t, b, nil); len(errs) > 0 {
		t.Fatal(errs.ToAggregate())
	}
	if b.RoleRef.APIGroup != rbacv1.GroupName || b.Subjects[0].APIGroup != rbacv1.GroupName || b.Subjects[1].APIGroup != "" {
		t.Errorf("defaults: %+v", b)
	}
}

func TestValidateLease(t *testing.T) {
	lease := func(mut func(*coordinationv1.LeaseSpec)) *coordinationv1.Lease {
		l := &coordinationv1.Lease{ObjectMeta: om("kube-scheduler"), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptrTo("n1"), LeaseDurationSeconds: ptrTo(int32(15))}}
		if mut != nil {
			mut(&l.Spec)
		}
		return l
	}
	runCases(t, []vcase{
		{name: "valid", obj: lease(nil)},
		{name: "valid empty", obj: &coordinationv1.Lease{ObjectMeta: om("l")}},
		{name: "zero duration", obj: lease(func(s *coordinationv1.LeaseSpec) { s.LeaseDurationSeconds = ptrTo(int32(0)) }),
			want: []wantErr{inv("spec.leaseDurationSeconds").with("must be greater than 0")}},
		{name: "negative duration", obj: lease(func(s *coordinationv1.LeaseSpec) { s.LeaseDurationSeconds = ptrTo(int32(-5)) }),
			want: []wantErr{inv("spec.leaseDurationSeconds")}},
		{name: "negative transitions", obj: lease(func(s *coordinationv1.LeaseSpec) { s.LeaseTransitions = ptrTo(int32(-1)) }),
			want: []wantErr{inv("spec.leaseTransitions")}},
		{name: "preferred holder without holder", obj: lease(func(s *coordinationv1.LeaseSpec) { s.HolderIdentity, s.PreferredHolder = nil, ptrTo("n2") }),
			want: []wantErr{forbid("spec.preferredHolder")}},
		{name: "update to zero duration", old: lease(nil), obj: lease(func(s *coordinationv1.LeaseSpec) { s.LeaseDurationSeconds = ptrTo(int32(0)) }),
			want: []wantErr{inv("spec.leaseDurationSeconds")}},
	})
}

func slice(mut func(*discoveryv1.EndpointSlice)) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: om("web-abc"), AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.5"}, NodeName: ptrTo("n1")}},
		Ports:     []discoveryv1.EndpointPort{{Port: ptrTo(int32(8080))}}}
	if mut != nil {
		mut(s)
	}
	return s
}

func TestValidateEndpointSlice(t *testing.T) {
	runCases(t, []vcase{
		{name: "valid", obj: slice(nil)},
		{name: "valid IPv6", obj: slice(func(s *discoveryv1.EndpointSlice) {
			s.AddressType, s.Endpoints[0].Addresses = discoveryv1.AddressTypeIPv6, []string{"fd00::5"}
		})},
		{name: "valid FQDN", obj: slice(func(s *discoveryv1.EndpointSlice) {
			s.AddressType, s.Endpoints[0].Addresses = discoveryv1.AddressTypeFQDN, []string{"db.example.com"}
		})},
		{name: "no address type", obj: slice(func(s *discoveryv1.EndpointSlice) { s.AddressType = "" }), want: []wantErr{req("addressType")}},
		{name: "unknown address type", obj: slice(func(s *discoveryv1.EndpointSlice) { s.AddressType = "IPX" }), want: []wantErr{notSup("addressType")}},
		{name: "IPv6 address in an IPv4 slice", obj: slice(func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"fd00::5"} }),
			want: []wantErr{inv("endpoints[0].addresses[0]").with("must be a valid IPv4 address")}},
		{name: "not an IP", obj: slice(func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"web-0"} }),
			want: []wantErr{inv("endpoints[0].addresses[0]")}},
		{name: "bad FQDN", obj: slice(func(s *discoveryv1.EndpointSlice) {
			s.AddressType, s.Endpoints[0].Addresses = discoveryv1.AddressTypeFQDN, []string{"db_1.example.com"}
		}), want: []wantErr{inv("endpoints[0].addresses[0]")}},
		{name: "endpoint without address", obj: slice(func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = nil }),
			want: []wantErr{req("endpoints[0].addresses")}},
		{name: "port too high", obj: slice(func(s *discoveryv1.EndpointSlice) { s.Ports[0].Port = ptrTo(int32(70000)) }),
			want: []wantErr{inv("ports[0].port")}},
		{name: "unknown protocol", obj: slice(func(s *discoveryv1.EndpointSlice) { s.Ports[0].Protocol = ptrTo(corev1.Protocol("QUIC")) }),
			want: []wantErr{notSup("ports[0].protocol")}},
		{name: "duplicate port name", obj: slice(func(s *discoveryv1.EndpointSlice) {
			s.Ports = []discoveryv1.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(80))}, {Name: ptrTo("http"), Port: ptrTo(int32(81))}}
		}), want: []wantErr{dup("ports[1].name")}},
		{name: "update endpoints", old: slice(nil), obj: slice(func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"10.244.1.6"} })},
		{name: "update address type", old: slice(nil), obj: slice(func(s *discoveryv1.EndpointSlice) {
			s.AddressType, s.Endpoints[0].Addresses = discoveryv1.AddressTypeIPv6, []string{"fd00::5"}
		}), want: []wantErr{inv("addressType").with("field is immutable")}},
	})
}

// testCSR is a PEM-encoded certificate request signed by a fresh key.
func testCSR(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", Organization: []string{"devs"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestValidateCertificateSigningRequest(t *testing.T) {
	good := testCSR(t)
	csr := func(mut func(*certificatesv1.CertificateSigningRequestSpec)) *certificatesv1.CertificateSigningRequest {
		c := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "alice"}, Spec: certificatesv1.CertificateSigningRequestSpec{
			Request: good, SignerName: certificatesv1.KubeAPIServerClientSignerName, Usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}}}
		if mut != nil {
			mut(&c.Spec)
		}
		return c
	}
	block, _ := pem.Decode(good)
	tampered := append([]byte(nil), block.Bytes...)
	tampered[len(tampered)-1] ^= 0xff // the signature's last byte
	runCases(t, []vcase{
		{name: "valid", obj: csr(nil)},
		{name: "valid custom signer", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) {
			s.SignerName, s.ExpirationSeconds = "example.com/team.ca", ptrTo(int32(3600))
		})},
		{name: "not PEM", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) { s.Request = []byte("x") }),
			want: []wantErr{inv("spec.request").with("PEM block type must be CERTIFICATE REQUEST")}},
		{name: "not a request", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) {
			s.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes})
		}), want: []wantErr{inv("spec.request").with("PEM block type must be CERTIFICATE REQUEST")}},
		{name: "garbage request", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) {
			s.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte("garbage")})
		}), want: []wantErr{inv("spec.request")}},
		{name: "bad signature", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) {
			s.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: tampered})
		}), want: []wantErr{inv("spec.request")}},
		{name: "no usages", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) { s.Usages = nil }), want: []wantErr{req("spec.usages")}},
		{name: "unknown usage", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) {
			s.Usages = []certificatesv1.KeyUsage{"root access"}
		}),
			want: []wantErr{notSup("spec.usages[0]")}},
		{name: "duplicate usage", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) {
			s.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth, certificatesv1.UsageClientAuth}
		}), want: []wantErr{dup("spec.usages[1]")}},
		{name: "no signer", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) { s.SignerName = "" }), want: []wantErr{req("spec.signerName")}},
		{name: "signer without path", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) { s.SignerName = "example.com" }),
			want: []wantErr{inv("spec.signerName").with("must be a fully qualified domain and path of the form 'example.com/signer-name'")}},
		{name: "signer domain not qualified", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) { s.SignerName = "ca/signer" }),
			want: []wantErr{inv("spec.signerName").with("should be a domain with at least two segments separated by dots")}},
		{name: "signer with bad label", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) { s.SignerName = "Example.com/signer" }),
			want: []wantErr{inv("spec.signerName").with(`validating label "Example"`)}},
		{name: "legacy signer", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) { s.SignerName = "kubernetes.io/legacy-unknown" }),
			want: []wantErr{inv("spec.signerName").with("the legacy signerName is not allowed via this API version")}},
		{name: "short expiration", obj: csr(func(s *certificatesv1.CertificateSigningRequestSpec) { s.ExpirationSeconds = ptrTo(int32(60)) }),
			want: []wantErr{inv("spec.expirationSeconds")}},
	})
}

// TestOwnObjectsAreValid: what kforge itself writes at start-up (bootstrap RBAC policy, system
// PriorityClasses and namespaces) must pass the validation clients get.
func TestOwnObjectsAreValid(t *testing.T) {
	p := authz.BootstrapPolicy()
	var objs []runtime.Object
	for _, o := range p.ClusterRoles {
		objs = append(objs, o)
	}
	for _, o := range p.ClusterRoleBindings {
		objs = append(objs, o)
	}
	for _, o := range p.Roles {
		objs = append(objs, o)
	}
	for _, o := range p.RoleBindings {
		objs = append(objs, o)
	}
	for _, pc := range admission.SystemPriorityClasses() {
		objs = append(objs, pc)
	}
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	if len(objs) < 10 {
		t.Fatalf("only %d bootstrap objects", len(objs))
	}
	for _, o := range objs {
		m, _ := o.(metav1.Object)
		if errs := validateAs(t, o.DeepCopyObject(), nil); len(errs) > 0 {
			t.Errorf("%T %s: %v", o, m.GetName(), errs.ToAggregate())
		}
	}
}

// TestErrorsRender: the errors read as kube-apiserver's in a 422 (path, type and detail).
func TestErrorsRender(t *testing.T) {
	errs := validateAs(t, deployment(func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "api"} }), nil)
	want := "spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: `selector` does not match template `labels`"
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec.template.metadata.labels: Invalid value:") ||
		!strings.HasSuffix(errs[0].Error(), "`selector` does not match template `labels`") {
		t.Errorf("got %v, want like %s", errs.ToAggregate(), want)
	}
}
