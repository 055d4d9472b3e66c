package version

// KubernetesAPILevel is the Kubernetes release whose API kforge implements: the minor of the
// k8s.io/api module it is built with (v0.37.x serves Kubernetes 1.37). A test keeps it in step
// with go.mod, so bumping the module without bumping this fails loudly.
const KubernetesAPILevel = "v1.37.0"
