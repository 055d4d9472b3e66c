package config

import (
	"encoding/json"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sjson "sigs.k8s.io/json"

	"kforge.dev/kforge/version"
)

// decodeKubeadm reads a kubeadm.k8s.io/v1beta3 or v1beta4 document into kforge's kind of the
// same name. kforge's kinds follow v1beta4, so v1beta3 is first rewritten into v1beta4's shape.
// Fields kforge has no use for are warnings: a kubeadm file always loads.
func decodeKubeadm(docs *Documents, apiVersion, kind string, js []byte, where string) ([]string, error) {
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	delete(m, "apiVersion")
	delete(m, "kind")
	if apiVersion == kubeadmV1beta3 {
		if err := fromV1beta3(docs, kind, m); err != nil {
			return nil, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
		}
	}
	obj, err := target(docs, kind)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	strict, err := sjson.UnmarshalStrict(b, obj)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
	}
	var warnings []string
	for _, e := range strict {
		warnings = append(warnings, fmt.Sprintf("warning: %s: %s is a kubeadm setting kforge does not use; ignored", where, e))
	}
	tm := metav1.TypeMeta{APIVersion: GroupVersion, Kind: kind}
	switch o := obj.(type) {
	case *InitConfiguration:
		o.TypeMeta = tm
	case *JoinConfiguration:
		o.TypeMeta = tm
	case *ClusterConfiguration:
		o.TypeMeta = tm
		warnings = append(warnings, versionWarnings(o, where)...)
		warnings = append(warnings, imageWarnings(o, where)...)
	}
	return warnings, nil
}

// versionWarnings explains that kubernetesVersion does not pick what runs: kforge's components
// are built into its binary at one Kubernetes API level.
func versionWarnings(c *ClusterConfiguration, where string) []string {
	v := c.KubernetesVersion
	if v == "" || v == version.KubernetesAPILevel {
		return nil
	}
	return []string{fmt.Sprintf("warning: %s: kubernetesVersion %q: kforge runs its own built-in components at Kubernetes API level %s; the value is recorded but picks no images or binaries",
		where, v, version.KubernetesAPILevel)}
}

// imageWarnings covers kubeadm's image fields: kforge pulls no control-plane images.
func imageWarnings(c *ClusterConfiguration, where string) []string {
	var out []string
	add := func(field, value, component string) {
		if value != "" {
			out = append(out, fmt.Sprintf("warning: %s: %s %q: kforge runs its own built-in %s from its binary; no image is pulled, the value is ignored",
				where, field, value, component))
		}
	}
	add("imageRepository", c.ImageRepository, "control-plane components")
	add("dns.imageRepository", c.DNS.ImageRepository, "DNS server")
	add("dns.imageTag", c.DNS.ImageTag, "DNS server")
	if l := c.Etcd.Local; l != nil {
		add("etcd.local.imageRepository", l.ImageRepository, "etcd")
		add("etcd.local.imageTag", l.ImageTag, "etcd")
	}
	return out
}

// fromV1beta3 rewrites the few places where v1beta3 differs from v1beta4: extraArgs were maps,
// and two timeouts lived elsewhere.
func fromV1beta3(docs *Documents, kind string, m map[string]any) error {
	switch kind {
	case KindCluster:
		for _, path := range [][]string{{"apiServer"}, {"controllerManager"}, {"scheduler"}, {"etcd", "local"}} {
			if err := argsMapToList(dig(m, path...), "extraArgs"); err != nil {
				return err
			}
		}
		if api := dig(m, "apiServer"); api != nil {
			if t, ok := api["timeoutForControlPlane"]; ok {
				d, err := duration(t)
				if err != nil {
					return fmt.Errorf("apiServer.timeoutForControlPlane: %w", err)
				}
				docs.controlPlaneTimeout = d
				delete(api, "timeoutForControlPlane")
			}
		}
	case KindInit, KindJoin:
		if err := argsMapToList(dig(m, "nodeRegistration"), "kubeletExtraArgs"); err != nil {
			return err
		}
		if disc := dig(m, "discovery"); disc != nil {
			if t, ok := disc["timeout"]; ok {
				timeouts, _ := m["timeouts"].(map[string]any)
				if timeouts == nil {
					timeouts = map[string]any{}
					m["timeouts"] = timeouts
				}
				timeouts["discovery"] = t
				delete(disc, "timeout")
			}
		}
	}
	return nil
}

// dig walks nested maps; nil when a step is missing.
func dig(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

// argsMapToList turns v1beta3's {flag: value} into v1beta4's [{name, value}], sorted by name
// so the result does not depend on map order.
func argsMapToList(parent map[string]any, field string) error {
	if parent == nil {
		return nil
	}
	raw, ok := parent[field]
	if !ok || raw == nil {
		return nil
	}
	args, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("%s must be a map of flag names to values in kubeadm.k8s.io/v1beta3", field)
	}
	names := make([]string, 0, len(args))
	for n := range args {
		names = append(names, n)
	}
	sort.Strings(names)
	list := make([]any, 0, len(names))
	for _, n := range names {
		list = append(list, map[string]any{"name": n, "value": fmt.Sprint(args[n])})
	}
	parent[field] = list
	return nil
}

func duration(v any) (*metav1.Duration, error) {
	b, _ := json.Marshal(v)
	var d metav1.Duration
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%v is not a duration like 4m0s", v)
	}
	return &d, nil
}
