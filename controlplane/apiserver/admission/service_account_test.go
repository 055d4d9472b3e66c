package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newSAPlugin(t *testing.T, f *fakeDeps) *ServiceAccount {
	t.Helper()
	p, err := NewServiceAccount(f.deps())
	if err != nil {
		t.Fatal(err)
	}
	p.RetryInterval = 0
	p.generateName = func(prefix string) string { return prefix + "abcde" }
	return p
}

func TestServiceAccountMountsToken(t *testing.T) {
	f := newFake()
	f.serviceAccounts["ns/default"] = &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "default"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pull"}}}
	p := newSAPlugin(t, f)
	pod := newPod("ns", "p", corev1.Container{Name: "a"}, corev1.Container{Name: "b", VolumeMounts: []corev1.VolumeMount{{Name: "own", MountPath: DefaultAPITokenMountPath}}})
	pod.Spec.InitContainers = []corev1.Container{{Name: "init"}}
	a := createPod(pod)
	if err := p.Admit(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" {
		t.Fatalf("serviceAccountName %q", pod.Spec.ServiceAccountName)
	}
	mode := int32(0644)
	exp := int64(3607)
	wantVol := corev1.Volume{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &exp}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}}
	if len(pod.Spec.Volumes) != 1 || !equality.Semantic.DeepEqual(pod.Spec.Volumes[0], wantVol) {
		t.Fatalf("volumes %+v", pod.Spec.Volumes)
	}
	wantMount := corev1.VolumeMount{Name: "kube-api-access-abcde", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	if m := pod.Spec.Containers[0].VolumeMounts; len(m) != 1 || !equality.Semantic.DeepEqual(m[0], wantMount) {
		t.Fatalf("container a mounts %+v", m)
	}
	if m := pod.Spec.Containers[1].VolumeMounts; len(m) != 1 || m[0].Name != "own" {
		t.Fatalf("container b mounts %+v (existing mount must win)", m)
	}
	if m := pod.Spec.InitContainers[0].VolumeMounts; len(m) != 1 || !equality.Semantic.DeepEqual(m[0], wantMount) {
		t.Fatalf("init mounts %+v", m)
	}
	if len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "pull" {
		t.Fatalf("imagePullSecrets %+v", pod.Spec.ImagePullSecrets)
	}
}

func TestServiceAccountCases(t *testing.T) {
	no := false
	yes := true
	tests := []struct {
		name       string
		sa         *corev1.ServiceAccount
		mutate     func(*corev1.Pod)
		code       int32
		msg        string
		wantVolume bool
	}{
		{name: "missing default SA", code: 403, msg: `pods "p" is forbidden: error looking up service account ns/default: serviceaccount "default" not found`},
		{name: "missing named SA", sa: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
			mutate: func(p *corev1.Pod) { p.Spec.ServiceAccountName = "builder" }, code: 403,
			msg: `pods "p" is forbidden: error looking up service account ns/builder: serviceaccount "builder" not found`},
		{name: "SA opts out", sa: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}, AutomountServiceAccountToken: &no}},
		{name: "pod overrides SA opt-out", sa: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}, AutomountServiceAccountToken: &no},
			mutate: func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = &yes }, wantVolume: true},
		{name: "pod opts out", sa: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
			mutate: func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = &no }},
		{name: "mirror pod untouched", mutate: func(p *corev1.Pod) { p.Annotations = map[string]string{MirrorPodAnnotationKey: "x"} }},
		{name: "mirror pod with SA", mutate: func(p *corev1.Pod) {
			p.Annotations = map[string]string{MirrorPodAnnotationKey: "x"}
			p.Spec.ServiceAccountName = "default"
		}, code: 403, msg: `pods "p" is forbidden: a mirror pod may not reference service accounts`},
		{name: "mirror pod with secret", mutate: func(p *corev1.Pod) {
			p.Annotations = map[string]string{MirrorPodAnnotationKey: "x"}
			p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}
		}, code: 403, msg: `pods "p" is forbidden: a mirror pod may not reference secrets`},
		{name: "enforced mountable secrets", sa: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default",
			Annotations: map[string]string{EnforceMountableSecretsAnnotation: "true"}}, Secrets: []corev1.ObjectReference{{Name: "ok"}}},
			mutate: func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "other"}}}}
			}, code: 403,
			msg: `pods "p" is forbidden: volume with secret.secretName="other" is not allowed because service account default does not reference that secret`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			if tt.sa != nil {
				tt.sa.Namespace = "ns"
				f.serviceAccounts["ns/"+tt.sa.Name] = tt.sa
			}
			p := newSAPlugin(t, f)
			p.DefaultLookupRetries = 2
			pod := newPod("ns", "p")
			if tt.mutate != nil {
				tt.mutate(pod)
			}
			a := createPod(pod)
			err := p.Admit(context.Background(), a)
			if err == nil {
				err = p.Validate(context.Background(), a)
			}
			wantErr(t, err, tt.code, tt.msg)
			if err != nil {
				return
			}
			if got := len(pod.Spec.Volumes) > 0 && pod.Spec.Volumes[len(pod.Spec.Volumes)-1].Projected != nil; got != tt.wantVolume {
				t.Fatalf("token volume injected = %v, want %v", got, tt.wantVolume)
			}
		})
	}
}
