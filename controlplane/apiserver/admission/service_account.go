package admission

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
)

// Names and paths the ServiceAccount plugin uses, as in Kubernetes, so workloads find their
// credentials where client libraries look for them.
const (
	// DefaultServiceAccountName is the service account a pod runs as when it names none.
	DefaultServiceAccountName = "default"
	// DefaultAPITokenMountPath is where the token, CA bundle and namespace files appear.
	DefaultAPITokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// ServiceAccountVolumeName is the prefix of the injected projected volume's name.
	ServiceAccountVolumeName = "kube-api-access"
	// RootCAConfigMapName is the per-namespace ConfigMap holding the cluster CA bundle.
	RootCAConfigMapName = "kube-root-ca.crt"
	// ServiceAccountTokenExpirationSeconds is the lifetime requested for the projected token:
	// one hour plus seven seconds, the value kube-apiserver uses to recognise tokens issued
	// for the automatic mount (the kubelet refreshes them long before expiry).
	ServiceAccountTokenExpirationSeconds int64 = 3607
	// EnforceMountableSecretsAnnotation on a service account limits the secrets its pods may use
	// to those it lists.
	EnforceMountableSecretsAnnotation = "kubernetes.io/enforce-mountable-secrets"
	// MirrorPodAnnotationKey marks pods the kubelet created from static manifests.
	MirrorPodAnnotationKey = "kubernetes.io/config.mirror"
)

// ServiceAccount makes every pod run as a service account that exists and, unless disabled on
// the pod or the account, gives its containers a short-lived token for the API server (the
// "kube-api-access-xxxxx" projected volume), the cluster CA and its namespace. Workloads get API
// credentials without anyone managing secrets, as in any Kubernetes cluster.
type ServiceAccount struct {
	serviceAccounts ServiceAccountGetter
	// MountServiceAccountToken turns the token volume injection on (Kubernetes' default).
	MountServiceAccountToken bool
	// DefaultLookupRetries and RetryInterval: the "default" account is created by a controller
	// right after its namespace, so a miss is retried a few times before the pod is refused.
	DefaultLookupRetries int
	RetryInterval        time.Duration
	// generateName returns prefix plus a random suffix; replaced in tests.
	generateName func(prefix string) string
}

// NewServiceAccount builds the plugin; it needs deps.ServiceAccounts.
func NewServiceAccount(deps Deps) (*ServiceAccount, error) {
	if err := requireDep(ServiceAccountPluginName, "ServiceAccounts", deps.ServiceAccounts != nil); err != nil {
		return nil, err
	}
	return &ServiceAccount{
		serviceAccounts:          deps.ServiceAccounts,
		MountServiceAccountToken: true,
		DefaultLookupRetries:     10,
		RetryInterval:            100 * time.Millisecond,
		generateName:             func(prefix string) string { return prefix + utilrand.String(5) },
	}, nil
}

// Name implements Plugin.
func (*ServiceAccount) Name() string { return ServiceAccountPluginName }

func (p *ServiceAccount) handles(a *Attributes) (*corev1.Pod, bool) {
	if a.groupResource() != podsResource || (a.Subresource != "" && a.Subresource != "ephemeralcontainers") {
		return nil, false
	}
	pod, ok := a.Object.(*corev1.Pod)
	return pod, ok
}

// Admit implements Mutator: defaults spec.serviceAccountName, checks the account exists, mounts
// the API access volume and copies the account's imagePullSecrets.
func (p *ServiceAccount) Admit(ctx context.Context, a *Attributes) error {
	pod, ok := p.handles(a)
	if !ok || a.Operation != Create || a.Subresource != "" {
		return nil
	}
	// Mirror pods are never changed (the kubelet would see a spec that differs from its
	// manifest and delete the pod); Validate checks what they may reference.
	if _, mirror := pod.Annotations[MirrorPodAnnotationKey]; mirror {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccountName
	}
	sa, err := p.getServiceAccount(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return forbiddenf(a, "error looking up service account %s/%s: %v", a.Namespace, pod.Spec.ServiceAccountName, err)
	}
	if p.MountServiceAccountToken && shouldAutomount(sa, pod) {
		p.mountServiceAccountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = append([]corev1.LocalObjectReference(nil), sa.ImagePullSecrets...)
	}
	return nil
}

// Validate implements Validator: mirror pods may not reference accounts or secrets, other pods
// must name an existing account and, if it enforces mountable secrets, only use its secrets.
func (p *ServiceAccount) Validate(ctx context.Context, a *Attributes) error {
	pod, ok := p.handles(a)
	if !ok {
		return nil
	}
	if a.Operation == Update && a.Subresource == "ephemeralcontainers" {
		return p.validateEphemeralContainers(ctx, a, pod)
	}
	if a.Operation != Create || a.Subresource != "" {
		return nil
	}
	if _, mirror := pod.Annotations[MirrorPodAnnotationKey]; mirror {
		if pod.Spec.ServiceAccountName != "" {
			return forbiddenf(a, "a mirror pod may not reference service accounts")
		}
		if podReferencesSecrets(pod) {
			return forbiddenf(a, "a mirror pod may not reference secrets")
		}
		for _, v := range pod.Spec.Volumes {
			if v.Projected == nil {
				continue
			}
			for _, src := range v.Projected.Sources {
				if src.ServiceAccountToken != nil {
					return forbiddenf(a, "a mirror pod may not use ServiceAccountToken volume projections")
				}
			}
		}
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		return forbiddenf(a, "no service account specified for pod %s/%s", a.Namespace, pod.Name)
	}
	sa, err := p.getServiceAccount(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return forbiddenf(a, "error looking up service account %s/%s: %v", a.Namespace, pod.Spec.ServiceAccountName, err)
	}
	if enforceMountableSecrets(sa) {
		if err := limitSecretReferences(sa, pod); err != nil {
			return forbidden(a, err)
		}
	}
	return nil
}

func (p *ServiceAccount) validateEphemeralContainers(ctx context.Context, a *Attributes, pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName == "" {
		return forbiddenf(a, "no service account specified for pod %s/%s", a.Namespace, pod.Name)
	}
	sa, err := p.getServiceAccount(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return forbiddenf(a, "error looking up service account %s/%s: %v", a.Namespace, pod.Spec.ServiceAccountName, err)
	}
	if !enforceMountableSecrets(sa) {
		return nil
	}
	mountable := map[string]bool{}
	for _, s := range sa.Secrets {
		mountable[s.Name] = true
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if err := checkEnvSecrets("ephemeral container", c.Name, c.Env, c.EnvFrom, mountable, sa.Name); err != nil {
			return forbidden(a, err)
		}
	}
	return nil
}

// getServiceAccount looks the account up, retrying a missing "default" account a few times, and
// reports a miss with the text kube-apiserver uses (`serviceaccount "x" not found`).
func (p *ServiceAccount) getServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	attempts := 1
	if name == DefaultServiceAccountName && p.DefaultLookupRetries > 1 {
		attempts = p.DefaultLookupRetries
	}
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(p.RetryInterval):
			}
		}
		sa, err := p.serviceAccounts.GetServiceAccount(ctx, namespace, name)
		if err == nil {
			return sa, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("serviceaccount %q not found", name)
}

func shouldAutomount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

func enforceMountableSecrets(sa *corev1.ServiceAccount) bool {
	v, ok := sa.Annotations[EnforceMountableSecretsAnnotation]
	if !ok {
		return false
	}
	b, _ := strconv.ParseBool(v)
	return b
}

func (p *ServiceAccount) mountServiceAccountToken(pod *corev1.Pod) {
	volumeName := ""
	hasVolume := false
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, ServiceAccountVolumeName+"-") {
			volumeName = v.Name
			hasVolume = true
			break
		}
	}
	if volumeName == "" {
		volumeName = p.generateName(ServiceAccountVolumeName + "-")
	}
	mount := corev1.VolumeMount{Name: volumeName, ReadOnly: true, MountPath: DefaultAPITokenMountPath}
	needsVolume := false
	addMount := func(mounts []corev1.VolumeMount) []corev1.VolumeMount {
		for _, m := range mounts {
			if m.MountPath == DefaultAPITokenMountPath {
				return mounts
			}
		}
		needsVolume = true
		return append(mounts, mount)
	}
	for i := range pod.Spec.InitContainers {
		pod.Spec.InitContainers[i].VolumeMounts = addMount(pod.Spec.InitContainers[i].VolumeMounts)
	}
	for i := range pod.Spec.Containers {
		pod.Spec.Containers[i].VolumeMounts = addMount(pod.Spec.Containers[i].VolumeMounts)
	}
	for i := range pod.Spec.EphemeralContainers {
		c := &pod.Spec.EphemeralContainers[i].EphemeralContainerCommon
		c.VolumeMounts = addMount(c.VolumeMounts)
	}
	if needsVolume && !hasVolume {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name:         volumeName,
			VolumeSource: corev1.VolumeSource{Projected: TokenVolumeSource()},
		})
	}
}

// TokenVolumeSource returns the projected volume the ServiceAccount plugin injects: a bound
// service account token, the cluster CA from kube-root-ca.crt and the pod's namespace. Exported
// so the kubelet side and tests can recognise it.
func TokenVolumeSource() *corev1.ProjectedVolumeSource {
	mode := corev1.ProjectedVolumeSourceDefaultMode
	exp := ServiceAccountTokenExpirationSeconds
	return &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &exp}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMapName},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{
				Items: []corev1.DownwardAPIVolumeFile{{
					Path:     "namespace",
					FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
				}},
			}},
		},
	}
}

// limitSecretReferences enforces the kubernetes.io/enforce-mountable-secrets annotation.
func limitSecretReferences(sa *corev1.ServiceAccount, pod *corev1.Pod) error {
	mountable := map[string]bool{}
	for _, s := range sa.Secrets {
		mountable[s.Name] = true
	}
	for _, v := range pod.Spec.Volumes {
		if v.Secret == nil {
			continue
		}
		if !mountable[v.Secret.SecretName] {
			return fmt.Errorf("volume with secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", v.Secret.SecretName, sa.Name)
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if err := checkEnvSecrets("init container", c.Name, c.Env, c.EnvFrom, mountable, sa.Name); err != nil {
			return err
		}
	}
	for _, c := range pod.Spec.Containers {
		if err := checkEnvSecrets("container", c.Name, c.Env, c.EnvFrom, mountable, sa.Name); err != nil {
			return err
		}
	}
	pull := map[string]bool{}
	for _, s := range sa.ImagePullSecrets {
		pull[s.Name] = true
	}
	for i, ref := range pod.Spec.ImagePullSecrets {
		if !pull[ref.Name] {
			return fmt.Errorf(`imagePullSecrets[%d].name="%s" is not allowed because service account %s does not reference that imagePullSecret`, i, ref.Name, sa.Name)
		}
	}
	return nil
}

func checkEnvSecrets(what, name string, env []corev1.EnvVar, envFrom []corev1.EnvFromSource, mountable map[string]bool, saName string) error {
	for _, e := range env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !mountable[e.ValueFrom.SecretKeyRef.Name] {
			return fmt.Errorf("%s %s with envVar %s referencing secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", what, name, e.Name, e.ValueFrom.SecretKeyRef.Name, saName)
		}
	}
	for _, e := range envFrom {
		if e.SecretRef != nil && !mountable[e.SecretRef.Name] {
			return fmt.Errorf("%s %s with envFrom referencing secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", what, name, e.SecretRef.Name, saName)
		}
	}
	return nil
}

// visitContainers calls fn for every container of the pod, ephemeral ones included.
func visitContainers(spec *corev1.PodSpec, fn func(c *corev1.Container)) {
	for i := range spec.InitContainers {
		fn(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		fn(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		c := corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
		fn(&c)
	}
}

// podReferencesSecrets reports whether the pod names any Secret (volumes, projections, env,
// envFrom, image pull secrets), like Kubernetes' VisitPodSecretNames.
func podReferencesSecrets(pod *corev1.Pod) bool {
	if len(pod.Spec.ImagePullSecrets) > 0 {
		return true
	}
	found := false
	visitContainers(&pod.Spec, func(c *corev1.Container) {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				found = true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				found = true
			}
		}
	})
	if found {
		return true
	}
	for _, v := range pod.Spec.Volumes {
		s := v.VolumeSource
		switch {
		case s.Secret != nil,
			s.AzureFile != nil,
			s.CephFS != nil && s.CephFS.SecretRef != nil,
			s.Cinder != nil && s.Cinder.SecretRef != nil,
			s.FlexVolume != nil && s.FlexVolume.SecretRef != nil,
			s.ISCSI != nil && s.ISCSI.SecretRef != nil,
			s.RBD != nil && s.RBD.SecretRef != nil,
			s.ScaleIO != nil && s.ScaleIO.SecretRef != nil,
			s.StorageOS != nil && s.StorageOS.SecretRef != nil,
			s.CSI != nil && s.CSI.NodePublishSecretRef != nil:
			return true
		case s.Projected != nil:
			for _, src := range s.Projected.Sources {
				if src.Secret != nil {
					return true
				}
			}
		}
	}
	return false
}

// podReferencesConfigMaps reports whether the pod names any ConfigMap, like Kubernetes'
// VisitPodConfigmapNames.
func podReferencesConfigMaps(pod *corev1.Pod) bool {
	found := false
	visitContainers(&pod.Spec, func(c *corev1.Container) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				found = true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				found = true
			}
		}
	})
	if found {
		return true
	}
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil {
			return true
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					return true
				}
			}
		}
	}
	return false
}
