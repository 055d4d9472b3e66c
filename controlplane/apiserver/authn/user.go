// Package authn answers "who is making this request?" for the apiserver: x509 client
// certificates, bootstrap tokens, service-account tokens, front-proxy request headers and,
// where enabled, anonymous requests. Each authenticator is tried in the order kube-apiserver
// uses, so a kforge cluster lets in exactly the identities a kubeadm cluster does.
package authn

// Well-known users and groups, with Kubernetes' names so RBAC bindings written for kubeadm
// clusters mean the same here.
const (
	Anonymous             = "system:anonymous"
	AllUnauthenticated    = "system:unauthenticated"
	AllAuthenticated      = "system:authenticated"
	SystemMasters         = "system:masters"
	NodesGroup            = "system:nodes"
	NodeUserPrefix        = "system:node:"
	BootstrapUserPrefix   = "system:bootstrap:"
	BootstrappersGroup    = "system:bootstrappers"
	ServiceAccountPrefix  = "system:serviceaccount:"
	ServiceAccountsGroup  = "system:serviceaccounts"
	KubeSchedulerUser     = "system:kube-scheduler"
	KubeControllerManager = "system:kube-controller-manager"
	KubeProxyUser         = "system:kube-proxy"
	APIServerUser         = "system:apiserver"
)

// User is an authenticated identity: what RBAC bindings name and what admission and audit see.
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// InGroup reports whether the user is a member of group.
func (u User) InGroup(group string) bool {
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}
