package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sjson "sigs.k8s.io/json"

	"kforge.dev/kforge/version"
)

// argPaths are where kubeadm keeps component flags, per kind: maps in v1beta3, lists of
// {name, value} in v1beta4 and in kforge's own kinds.
var argPaths = map[string][][]string{
	KindCluster: {{"apiServer", "extraArgs"}, {"controllerManager", "extraArgs"}, {"scheduler", "extraArgs"}, {"etcd", "local", "extraArgs"}},
	KindInit:    {{"nodeRegistration", "kubeletExtraArgs"}},
	KindJoin:    {{"nodeRegistration", "kubeletExtraArgs"}},
}

// decodeKubeadm reads a kubeadm.k8s.io/v1beta3 or v1beta4 document into kforge's kind of the
// same name. kforge's kinds follow v1beta4, so v1beta3 is first rewritten into v1beta4's shape.
// Fields kforge has no use for are warnings, never errors: a kubeadm file always loads.
func decodeKubeadm(docs *Documents, apiVersion, kind string, js []byte, ref docRef) ([]string, error) {
	m, err := decodeMap(js)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
	}
	delete(m, "apiVersion")
	delete(m, "kind")
	switch apiVersion {
	case kubeadmV1beta3:
		if err := fromV1beta3(docs, kind, m); err != nil {
			return nil, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
		}
	case kubeadmV1beta4:
		for _, p := range argPaths[kind] {
			if _, isMap := dig(m, p[:len(p)-1]...)[p[len(p)-1]].(map[string]any); isMap {
				return nil, fmt.Errorf("%s %s: %s is a map, the v1beta3 form; %s takes a list of {name, value}, e.g. \"- name: v\\n  value: \\\"4\\\"\"",
					apiVersion, kind, strings.Join(p, "."), apiVersion)
			}
		}
	}
	obj, err := target(docs, apiVersion, kind)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
	}
	strict, err := sjson.UnmarshalStrict(b, obj)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
	}
	where := "in " + ref.source
	var warnings []string
	for _, e := range strict {
		warnings = append(warnings, fmt.Sprintf("warning: %s %s (document %d, %s %s): kforge does not use this kubeadm setting; it is ignored",
			e, where, ref.index, apiVersion, kind))
	}
	tm := metav1.TypeMeta{APIVersion: GroupVersion, Kind: kind}
	switch o := obj.(type) {
	case *InitConfiguration:
		o.TypeMeta = tm
	case *JoinConfiguration:
		o.TypeMeta = tm
	case *ClusterConfiguration:
		o.TypeMeta = tm
		warnings = append(warnings, versionWarnings(o.KubernetesVersion, where)...)
		warnings = append(warnings, imageWarnings(o, where)...)
	}
	return warnings, nil
}

// decodeMap reads a JSON object keeping numbers as written, so "v: 4" stays "4".
func decodeMap(js []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// versionWarnings explains that kubernetesVersion does not pick what runs: kforge's components
// are built into its binary at one Kubernetes API level. where is e.g. "in config.yaml".
func versionWarnings(v, where string) []string {
	if v == "" || v == version.KubernetesAPILevel {
		return nil
	}
	return []string{fmt.Sprintf("warning: kubernetesVersion %q %s: kforge runs its own built-in components at Kubernetes API level %s; the value is recorded but not used to pick images",
		v, where, version.KubernetesAPILevel)}
}

// imageWarnings covers kubeadm's image fields: kforge pulls no control-plane images.
func imageWarnings(c *ClusterConfiguration, where string) []string {
	var out []string
	add := func(field, value, component string) {
		if value != "" {
			out = append(out, fmt.Sprintf("warning: %s %q %s: kforge runs its own built-in %s; %s is ignored",
				field, value, where, component, field))
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

// fromV1beta3 rewrites the places where v1beta3 differs from v1beta4: extraArgs were maps, and
// two timeouts lived elsewhere (apiServer.timeoutForControlPlane, discovery.timeout).
func fromV1beta3(docs *Documents, kind string, m map[string]any) error {
	for _, p := range argPaths[kind] {
		if err := argsMapToList(dig(m, p[:len(p)-1]...), p); err != nil {
			return err
		}
	}
	switch kind {
	case KindCluster:
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
	case KindJoin:
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

// argsMapToList turns v1beta3's {flag: value} at path into v1beta4's [{name, value}], sorted
// by name so the result does not depend on map order.
func argsMapToList(parent map[string]any, path []string) error {
	field := path[len(path)-1]
	if parent == nil || parent[field] == nil {
		return nil
	}
	args, ok := parent[field].(map[string]any)
	if !ok {
		return fmt.Errorf("%s must be a map of flag names to values in %s", strings.Join(path, "."), kubeadmV1beta3)
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
