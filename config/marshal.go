package config

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"
)

// MarshalInitConfiguration renders c as two YAML documents, InitConfiguration then
// ClusterConfiguration, each with its apiVersion and kind, that Load and InitFromDocuments read
// back to the same object: the file `kforge config print init-defaults` writes.
func MarshalInitConfiguration(c *InitConfiguration) ([]byte, error) {
	init := *c
	init.APIVersion, init.Kind = GroupVersion, KindInit
	cluster := c.ClusterConfiguration
	cluster.APIVersion, cluster.Kind = GroupVersion, KindCluster
	a, err := yaml.Marshal(&init)
	if err != nil {
		return nil, fmt.Errorf("marshal InitConfiguration: %w", err)
	}
	b, err := yaml.Marshal(&cluster)
	if err != nil {
		return nil, fmt.Errorf("marshal ClusterConfiguration: %w", err)
	}
	return bytes.Join([][]byte{a, b}, []byte("---\n")), nil
}

// MarshalJoinConfiguration renders c as one YAML document, with its apiVersion and kind, that
// Load reads back to the same object: the file `kforge config print join-defaults` writes.
func MarshalJoinConfiguration(c *JoinConfiguration) ([]byte, error) {
	j := *c
	j.APIVersion, j.Kind = GroupVersion, KindJoin
	b, err := yaml.Marshal(&j)
	if err != nil {
		return nil, fmt.Errorf("marshal JoinConfiguration: %w", err)
	}
	return b, nil
}
