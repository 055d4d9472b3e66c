// Package kubeconfig writes and checks the kubeconfig files of a control-plane node (admin.conf,
// super-admin.conf, kubelet.conf, controller-manager.conf, scheduler.conf): each embeds the
// cluster CA and a client certificate signed by it, with the user and groups kubeadm gives them,
// so RBAC rules written for kubeadm clusters apply unchanged.
package kubeconfig

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"kforge.dev/kforge/pki"
)

// Spec says who a kubeconfig file speaks for and to which API endpoint.
type Spec struct {
	// FileName is the file's name in the kubeconfig directory (admin.conf).
	FileName string
	// ClientName is the certificate's common name: the Kubernetes user name.
	ClientName string
	// Organizations are the certificate's O fields: the user's groups.
	Organizations []string
	// ServerURL is the apiserver URL the file points at.
	ServerURL string
}

// DefaultSpecs are the files `kforge init phase kubeconfig` writes. admin, super-admin and
// kubelet point at the control-plane endpoint; the controller-manager and scheduler talk to
// their own node's apiserver, so they keep working while the load balancer does not.
func DefaultSpecs(nodeName, controlPlaneURL, localURL string) []Spec {
	return []Spec{
		{FileName: "admin.conf", ClientName: "kubernetes-admin", Organizations: []string{pki.ClusterAdminsGroup}, ServerURL: controlPlaneURL},
		{FileName: "super-admin.conf", ClientName: "kubernetes-super-admin", Organizations: []string{"system:masters"}, ServerURL: controlPlaneURL},
		{FileName: "kubelet.conf", ClientName: "system:node:" + nodeName, Organizations: []string{"system:nodes"}, ServerURL: controlPlaneURL},
		{FileName: "controller-manager.conf", ClientName: "system:kube-controller-manager", ServerURL: localURL},
		{FileName: "scheduler.conf", ClientName: "system:kube-scheduler", ServerURL: localURL},
	}
}

// clientSpec is the certificate spec of a kubeconfig's client certificate.
func clientSpec(s Spec, p pki.Params) pki.CertSpec {
	return pki.CertSpec{
		Name:         s.FileName,
		CommonName:   s.ClientName,
		Organization: s.Organizations,
		CAName:       pki.CAName,
		KeyUsage:     pki.LeafKeyUsage(p),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// Ensure writes dir/spec.FileName unless a file for the same CA and server is already there.
// A file with another CA or server URL is an error naming the file, never overwritten.
func Ensure(dir string, spec Spec, p pki.Params, clusterName string) (pki.Outcome, error) {
	path := filepath.Join(dir, spec.FileName)
	caCert, err := pki.LoadCert(p.CertificatesDir, "ca")
	if err != nil {
		return 0, fmt.Errorf("kubeconfig %s: %w; run 'kforge init phase certs ca' first", spec.FileName, err)
	}
	if _, err := os.Stat(path); err == nil {
		return pki.Kept, checkExisting(path, spec, caCert)
	}
	if pki.IsExternalCA(p.CertificatesDir, "ca") {
		return 0, fmt.Errorf("kubeconfig %s: the CA key %s is absent (external CA); create %s with a client certificate for %q signed by that CA",
			spec.FileName, pki.KeyPath(p.CertificatesDir, "ca"), path, spec.ClientName)
	}
	data, err := build(spec, p, clusterName)
	if err != nil {
		return 0, err
	}
	if err := write(path, data); err != nil {
		return 0, err
	}
	return pki.Created, nil
}

func build(spec Spec, p pki.Params, clusterName string) ([]byte, error) {
	caCert, caKey, err := pki.LoadCertAndKey(p.CertificatesDir, "ca")
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", spec.FileName, err)
	}
	is, err := pki.IssueLeaf(p, clientSpec(spec, p), caCert, caKey)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", spec.FileName, err)
	}
	caPEM, err := os.ReadFile(pki.CertPath(p.CertificatesDir, "ca"))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", spec.FileName, err)
	}
	if clusterName == "" {
		clusterName = "kubernetes"
	}
	ctxName := spec.ClientName + "@" + clusterName
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{Server: spec.ServerURL, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[spec.ClientName] = &clientcmdapi.AuthInfo{ClientCertificateData: is.CertPEM, ClientKeyData: is.KeyPEM}
	cfg.Contexts[ctxName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: spec.ClientName}
	cfg.CurrentContext = ctxName
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: encode: %w", spec.FileName, err)
	}
	return data, nil
}

// write replaces path atomically with mode 0600: the file holds a private key.
func write(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("kubeconfig: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kubeconfig: write %s: %w", path, err)
	}
	return nil
}

// current returns the cluster and user the file's current context names.
func current(cfg *clientcmdapi.Config, path string) (*clientcmdapi.Cluster, *clientcmdapi.AuthInfo, error) {
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, nil, fmt.Errorf("kubeconfig %s: current context %q not found", path, cfg.CurrentContext)
	}
	cl, ok := cfg.Clusters[ctx.Cluster]
	if !ok {
		return nil, nil, fmt.Errorf("kubeconfig %s: cluster %q not found", path, ctx.Cluster)
	}
	return cl, cfg.AuthInfos[ctx.AuthInfo], nil
}

func checkExisting(path string, spec Spec, caCert *x509.Certificate) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w; remove it to have kforge write a new one", path, err)
	}
	cl, _, err := current(cfg, path)
	if err != nil {
		return err
	}
	caPEM := pem(caCert)
	if !bytes.Equal(bytes.TrimSpace(cl.CertificateAuthorityData), bytes.TrimSpace(caPEM)) {
		return fmt.Errorf("kubeconfig %s exists already but has got the wrong CA cert; remove it to have kforge write one for the CA in the certificates dir", path)
	}
	if cl.Server != spec.ServerURL {
		return fmt.Errorf("kubeconfig %s exists already but points at %s, not %s; remove it to have kforge write a new one", path, cl.Server, spec.ServerURL)
	}
	return nil
}

// Renew gives dir/fileName a new client certificate (same user and groups, new key) signed by
// the CA, keeping its cluster, server and context.
func Renew(dir, fileName string, p pki.Params) error {
	path := filepath.Join(dir, fileName)
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	_, ai, err := current(cfg, path)
	if err != nil {
		return err
	}
	if ai == nil || len(ai.ClientCertificateData) == 0 {
		return errors.New("kubeconfig " + path + " has no embedded client certificate to renew")
	}
	old, err := pki.KubeconfigClientCert(path)
	if err != nil {
		return err
	}
	caCert, caKey, err := pki.LoadCertAndKey(p.CertificatesDir, "ca")
	if err != nil {
		return fmt.Errorf("renew %s: %w (an external CA renews its own client certificates)", fileName, err)
	}
	spec := clientSpec(Spec{FileName: fileName, ClientName: old.Subject.CommonName, Organizations: old.Subject.Organization}, p)
	is, err := pki.IssueLeaf(p, spec, caCert, caKey)
	if err != nil {
		return fmt.Errorf("renew %s: %w", fileName, err)
	}
	ai.ClientCertificateData, ai.ClientKeyData = is.CertPEM, is.KeyPEM
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("renew %s: encode: %w", fileName, err)
	}
	return write(path, data)
}
