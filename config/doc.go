// Package config is kforge's configuration API, kforge.dev/v1beta1: InitConfiguration,
// ClusterConfiguration and JoinConfiguration, shaped like kubeadm's v1beta4 so a kubeadm user
// recognises every field, name and default.
//
// It also reads kubeadm's own kubeadm.k8s.io/v1beta3 and v1beta4 files, so an existing kubeadm
// configuration works unchanged: what kforge cannot honour (image fields, kubernetesVersion,
// kubeadm settings it has no use for, KubeletConfiguration documents) is a one-line warning,
// never a refusal. kforge's own kinds are read strictly, so a misspelt field is an error.
//
// The path every command takes is: Load (or LoadFile) → InitFromDocuments → InitFlags.Apply →
// SetInitDefaults → SetInitDynamicDefaults (DetectHost) → ValidateInitConfiguration, whose
// *ValidationError names each bad field and its fix and maps to exit code 3.
package config
