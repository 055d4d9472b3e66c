package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Documents are the configuration documents of one file; a file may hold any of them.
type Documents struct {
	Init    *InitConfiguration
	Cluster *ClusterConfiguration
	Join    *JoinConfiguration

	// controlPlaneTimeout is kubeadm v1beta3's apiServer.timeoutForControlPlane, which v1beta4
	// (and kforge) keep in InitConfiguration's timeouts.
	controlPlaneTimeout *metav1.Duration
}

// kubeadm's API groups and the other kinds a kubeadm file may carry.
const (
	kubeadmV1beta3 = "kubeadm.k8s.io/v1beta3"
	kubeadmV1beta4 = "kubeadm.k8s.io/v1beta4"
)

// ignoredKinds are documents kubeadm files often carry that kforge reads elsewhere or not yet.
var ignoredKinds = map[string]string{
	"kubelet.config.k8s.io/v1beta1/KubeletConfiguration":      "kforge's kubelet takes its settings from nodeRegistration.kubeletExtraArgs for now",
	"kubeproxy.config.k8s.io/v1alpha1/KubeProxyConfiguration": "kforge's proxy is configured by kforge",
	kubeadmV1beta4 + "/ResetConfiguration":                    "use 'kforge reset' flags",
	kubeadmV1beta4 + "/UpgradeConfiguration":                  "kforge upgrades by replacing its binary",
}

// LoadFile reads a configuration file (kforge's own kinds or kubeadm's v1beta3/v1beta4). The
// warnings are one line each, for things kforge accepts but does not do as asked.
func LoadFile(path string) (*Documents, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	docs, warnings, err := load(data, path)
	if err != nil {
		return nil, warnings, err
	}
	return docs, warnings, nil
}

// Load reads configuration documents from data, as LoadFile does.
func Load(data []byte) (*Documents, []string, error) { return load(data, "config") }

func load(data []byte, source string) (*Documents, []string, error) {
	var warnings []string
	docs := &Documents{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, warnings, configError(source, i, fmt.Errorf("not valid YAML: %w", err))
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, warnings, configError(source, i, fmt.Errorf("not valid YAML: %w", err))
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "" {
			continue // an empty document, e.g. after a trailing '---'
		}
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := json.Unmarshal(js, &tm); err != nil {
			return nil, warnings, configError(source, i, fmt.Errorf("a document must be a YAML mapping: %w", err))
		}
		w, err := decodeDocument(docs, tm.APIVersion, tm.Kind, js, fmt.Sprintf("%s (document %d, %s)", source, i, tm.Kind))
		warnings = append(warnings, w...)
		if err != nil {
			return nil, warnings, configError(source, i, err)
		}
	}
	if docs.Init == nil && docs.Cluster == nil && docs.Join == nil {
		return nil, warnings, fmt.Errorf("%s: no InitConfiguration, ClusterConfiguration or JoinConfiguration document found; see 'kforge config print init-defaults'", source)
	}
	return docs, warnings, nil
}

func configError(source string, doc int, err error) error {
	return &ValidationError{Errors: []FieldError{{Path: fmt.Sprintf("%s: document %d", source, doc), Detail: err.Error(), noValue: true}}}
}

func decodeDocument(docs *Documents, apiVersion, kind string, js []byte, where string) ([]string, error) {
	switch apiVersion {
	case GroupVersion:
		if err := decodeOwn(docs, kind, js, where); err != nil {
			return nil, err
		}
		if kind == KindCluster {
			return versionWarnings(docs.Cluster, where), nil
		}
		return nil, nil
	case kubeadmV1beta3, kubeadmV1beta4:
		return decodeKubeadm(docs, apiVersion, kind, js, where)
	case "":
		return nil, errors.New(`missing apiVersion; start the document with "apiVersion: kforge.dev/v1beta1" and a kind`)
	}
	if why, ok := ignoredKinds[apiVersion+"/"+kind]; ok {
		return []string{fmt.Sprintf("warning: %s: %s %s is not read by kforge and is ignored (%s)", where, apiVersion, kind, why)}, nil
	}
	return nil, fmt.Errorf("unknown apiVersion/kind %s %s; kforge reads %s, kubeadm.k8s.io/v1beta3 and kubeadm.k8s.io/v1beta4 InitConfiguration, ClusterConfiguration and JoinConfiguration",
		apiVersion, kind, GroupVersion)
}

// target returns the object a kind decodes into, stored in docs; a kind may appear once.
func target(docs *Documents, kind string) (any, error) {
	dup := fmt.Errorf("a second %s document; a file holds at most one of each kind", kind)
	switch kind {
	case KindInit:
		if docs.Init != nil {
			return nil, dup
		}
		docs.Init = &InitConfiguration{}
		return docs.Init, nil
	case KindCluster:
		if docs.Cluster != nil {
			return nil, dup
		}
		docs.Cluster = &ClusterConfiguration{}
		return docs.Cluster, nil
	case KindJoin:
		if docs.Join != nil {
			return nil, dup
		}
		docs.Join = &JoinConfiguration{}
		return docs.Join, nil
	}
	return nil, fmt.Errorf("unknown kind %q; use InitConfiguration, ClusterConfiguration or JoinConfiguration", kind)
}

// decodeOwn reads kforge's own kinds strictly: a misspelt field is an error, not a surprise.
func decodeOwn(docs *Documents, kind string, js []byte, where string) error {
	obj, err := target(docs, kind)
	if err != nil {
		return err
	}
	strict, err := sjson.UnmarshalStrict(js, obj)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if len(strict) > 0 {
		var msgs []string
		for _, e := range strict {
			msgs = append(msgs, e.Error())
		}
		return fmt.Errorf("%s: %s; check the spelling against 'kforge config print init-defaults'", kind, strings.Join(msgs, "; "))
	}
	return nil
}
