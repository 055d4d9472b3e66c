package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// DefaultNotReadyTolerationSeconds and DefaultUnreachableTolerationSeconds are kube-apiserver's
// defaults for --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds:
// how long a pod stays bound to a node that stopped reporting before it is evicted.
const (
	DefaultNotReadyTolerationSeconds    int64 = 300
	DefaultUnreachableTolerationSeconds int64 = 300
)

// DefaultTolerationSeconds gives every new pod a bounded toleration for the not-ready and
// unreachable NoExecute taints, so that pods are evicted from a lost node after five minutes
// instead of immediately (no toleration) or never.
type DefaultTolerationSeconds struct {
	// NotReadySeconds and UnreachableSeconds are the tolerationSeconds added.
	NotReadySeconds    int64
	UnreachableSeconds int64
}

// NewDefaultTolerationSeconds builds the plugin with Kubernetes' 300s defaults.
func NewDefaultTolerationSeconds() *DefaultTolerationSeconds {
	return &DefaultTolerationSeconds{
		NotReadySeconds:    DefaultNotReadyTolerationSeconds,
		UnreachableSeconds: DefaultUnreachableTolerationSeconds,
	}
}

// Name implements Plugin.
func (*DefaultTolerationSeconds) Name() string { return DefaultTolerationSecondsPluginName }

// Admit implements Mutator.
func (p *DefaultTolerationSeconds) Admit(_ context.Context, a *Attributes) error {
	if a.groupResource() != podsResource || a.Subresource != "" || a.Operation != Create {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	notReady, unreachable := false, false
	for _, t := range pod.Spec.Tolerations {
		noExecute := t.Effect == corev1.TaintEffectNoExecute || t.Effect == ""
		if !noExecute {
			continue
		}
		if t.Key == corev1.TaintNodeNotReady || t.Key == "" {
			notReady = true
		}
		if t.Key == corev1.TaintNodeUnreachable || t.Key == "" {
			unreachable = true
		}
	}
	if !notReady {
		secs := p.NotReadySeconds
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
			Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs,
		})
	}
	if !unreachable {
		secs := p.UnreachableSeconds
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
			Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs,
		})
	}
	return nil
}
