// Package config is kforge's configuration API, kforge.dev/v1beta1: InitConfiguration,
// ClusterConfiguration and JoinConfiguration, shaped like kubeadm's v1beta4 so a kubeadm user
// recognises every field. It also reads kubeadm's own kubeadm.k8s.io/v1beta3 and v1beta4 files,
// so an existing kubeadm configuration works unchanged; what kforge cannot honour is a warning,
// never a refusal. Defaulting and validation live here too, with errors that name the field.
package config
