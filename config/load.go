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

// Documents are the configuration documents of one file, which may hold any of the three kinds
// (at most one of each); a kind the file lacks is nil.
type Documents struct {
	// Init is the InitConfiguration document, if any.
	Init *InitConfiguration
	// Cluster is the ClusterConfiguration document, if any.
	Cluster *ClusterConfiguration
	// Join is the JoinConfiguration document, if any.
	Join *JoinConfiguration

	// controlPlaneTimeout is kubeadm v1beta3's apiServer.timeoutForControlPlane, which v1beta4
	// (and kforge) keep in InitConfiguration's timeouts; InitFromDocuments moves it there.
	controlPlaneTimeout *metav1.Duration
}

// kubeadm's API versions kforge reads.
const (
	kubeadmV1beta3 = "kubeadm.k8s.io/v1beta3"
	kubeadmV1beta4 = "kubeadm.k8s.io/v1beta4"
)

// dataSource names configuration given to Load rather than read from a file.
const dataSource = "config data"

// ignoredKinds are documents kubeadm files often carry that kforge does not read yet; they are
// skipped with a warning rather than refused, so a kubeadm file loads unchanged.
var ignoredKinds = map[string]string{
	"kubelet.config.k8s.io/v1beta1/KubeletConfiguration":      "the kubelet takes its settings from nodeRegistration.kubeletExtraArgs for now",
	"kubeproxy.config.k8s.io/v1alpha1/KubeProxyConfiguration": "the proxy runs with kforge's settings for now",
	kubeadmV1beta4 + "/ResetConfiguration":                    "use the flags of 'kforge reset'",
	kubeadmV1beta4 + "/UpgradeConfiguration":                  "use the flags of 'kforge upgrade'",
}

// acceptedKinds is what an unknown apiVersion/kind error tells the user kforge reads.
const acceptedKinds = "InitConfiguration, ClusterConfiguration or JoinConfiguration of " + GroupVersion + ", " +
	kubeadmV1beta3 + " or " + kubeadmV1beta4 +
	" (kubelet.config.k8s.io/v1beta1 KubeletConfiguration and kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration are skipped with a warning)"

// LoadFile reads a configuration file holding kforge's own kinds or kubeadm's v1beta3/v1beta4
// kinds, `---` separated. Warnings are one line each, for what kforge accepts but does not do
// as asked; errors name the file and the document.
func LoadFile(path string) (*Documents, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config file: %w; check the --config path", err)
	}
	return load(data, path)
}

// Load reads configuration documents from data, as LoadFile does for a file.
func Load(data []byte) (*Documents, []string, error) { return load(data, dataSource) }

// InitFromDocuments combines a file's InitConfiguration and ClusterConfiguration documents into
// one InitConfiguration, the shape init works with. An absent InitConfiguration document gives
// an empty one; an absent ClusterConfiguration leaves the cluster settings to the defaults.
func InitFromDocuments(d *Documents) *InitConfiguration {
	c := &InitConfiguration{}
	if d == nil {
		return c
	}
	if d.Init != nil {
		cp := *d.Init
		c = &cp
	}
	if d.Cluster != nil {
		c.ClusterConfiguration = *d.Cluster
	}
	if d.controlPlaneTimeout != nil {
		if c.Timeouts == nil {
			c.Timeouts = &Timeouts{}
		}
		if c.Timeouts.ControlPlaneComponentHealthCheck == nil {
			c.Timeouts.ControlPlaneComponentHealthCheck = d.controlPlaneTimeout
		}
	}
	return c
}

func load(data []byte, source string) (*Documents, []string, error) {
	var warnings []string
	docs := &Documents{}
	found := false
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, warnings, documentError(source, i, fmt.Errorf("not valid YAML: %w", err))
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, warnings, documentError(source, i, fmt.Errorf("not valid YAML: %w", err))
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "" {
			continue // an empty document, e.g. after a trailing '---'
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			return nil, warnings, documentError(source, i, fmt.Errorf("a document must be a YAML mapping with apiVersion and kind: %w", err))
		}
		found = true
		w, err := decodeDocument(docs, tm.APIVersion, tm.Kind, js, docRef{source: source, index: i})
		warnings = append(warnings, w...)
		if err != nil {
			return nil, warnings, documentError(source, i, err)
		}
	}
	if !found {
		return nil, warnings, &ValidationError{Errors: []FieldError{{Path: source, noValue: true,
			Detail: "holds no configuration document; start from 'kforge config print init-defaults'"}}}
	}
	return docs, warnings, nil
}

// docRef says where a document came from, for warnings.
type docRef struct {
	source string
	index  int
}

// documentError makes a load error a *ValidationError (exit code 3) naming file and document.
func documentError(source string, doc int, err error) error {
	return &ValidationError{Errors: []FieldError{{Path: fmt.Sprintf("%s: document %d", source, doc), Detail: err.Error(), noValue: true}}}
}

func decodeDocument(docs *Documents, apiVersion, kind string, js []byte, ref docRef) ([]string, error) {
	if why, ok := ignoredKinds[apiVersion+"/"+kind]; ok {
		return []string{fmt.Sprintf("warning: %s %s in %s (document %d) is not read by kforge yet and is ignored; %s",
			apiVersion, kind, ref.source, ref.index, why)}, nil
	}
	switch apiVersion {
	case GroupVersion:
		if err := decodeOwn(docs, kind, js); err != nil {
			return nil, err
		}
		if kind == KindCluster {
			return versionWarnings(docs.Cluster.KubernetesVersion, "in "+ref.source), nil
		}
		return nil, nil
	case kubeadmV1beta3, kubeadmV1beta4:
		return decodeKubeadm(docs, apiVersion, kind, js, ref)
	case "":
		return nil, fmt.Errorf("missing apiVersion; start the document with \"apiVersion: %s\" and a kind", GroupVersion)
	}
	return nil, fmt.Errorf("unknown apiVersion/kind %q %q; kforge reads %s", apiVersion, kind, acceptedKinds)
}

// target returns the object a kind decodes into, stored in docs; a kind may appear once.
func target(docs *Documents, apiVersion, kind string) (any, error) {
	dup := fmt.Errorf("a second %s document; a file holds at most one of each kind, merge them", kind)
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
	return nil, fmt.Errorf("unknown apiVersion/kind %q %q; kforge reads %s", apiVersion, kind, acceptedKinds)
}

// decodeOwn reads kforge's own kinds strictly: a misspelt field is an error, not a surprise.
func decodeOwn(docs *Documents, kind string, js []byte) error {
	obj, err := target(docs, GroupVersion, kind)
	if err != nil {
		return err
	}
	strict, err := sjson.UnmarshalStrict(js, obj)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if len(strict) > 0 {
		msgs := make([]string, 0, len(strict))
		for _, e := range strict {
			msgs = append(msgs, e.Error())
		}
		return fmt.Errorf("%s: %s; fix the spelling (see 'kforge config print init-defaults' for every field)", kind, strings.Join(msgs, "; "))
	}
	return nil
}
