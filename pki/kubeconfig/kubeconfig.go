// Package kubeconfig writes and checks the kubeconfig files of a control-plane node
// (admin.conf, super-admin.conf, kubelet.conf, controller-manager.conf, scheduler.conf): each
// embeds the cluster CA and a client certificate signed by it, with the user and groups
// kubeadm gives them, so RBAC rules written for kubeadm clusters apply unchanged. It sits on
// top of pki, which issues the client certificates; pki never imports it.
package kubeconfig

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/cloudflare/cfssl/helpers"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"kforge.dev/kforge/pki"
)

// DefaultClusterName is the cluster name written when the configuration gives none, kubeadm's.
const DefaultClusterName = "kubernetes"

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

// DefaultSpecs are the files `kforge init phase kubeconfig` writes, as kubeadm init does:
// admin, super-admin and kubelet point at the control-plane endpoint (controlPlaneURL, which
// is the advertise address when there is no endpoint); the controller-manager and scheduler
// talk to their own node's apiserver (localURL), so they keep working while the load balancer
// does not. admin.conf's group is bound to cluster-admin by RBAC; only super-admin.conf is in
// system:masters, which bypasses RBAC.
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
func clientSpec(fileName, user string, groups []string, p pki.Params) pki.CertSpec {
	return pki.CertSpec{
		Name:         fileName,
		CommonName:   user,
		Organization: groups,
		CAName:       pki.CAName,
		KeyUsage:     pki.LeafKeyUsage(p),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// loadCA reads the cluster CA certificates (a bundle is allowed) and their PEM encoding, which
// is what the kubeconfig embeds.
func loadCA(p pki.Params) ([]*x509.Certificate, []byte, error) {
	path := pki.CertPath(p.CertificatesDir, "ca")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read the cluster CA: %w; run 'kforge init phase certs ca' first", err)
	}
	certs, err := helpers.ParseCertificatesPEM(b)
	if err != nil || len(certs) == 0 {
		return nil, nil, fmt.Errorf("parse the cluster CA %s: %v", path, err)
	}
	var buf bytes.Buffer
	for _, c := range certs {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return certs, buf.Bytes(), nil
}

// Ensure writes dir/spec.FileName unless a file for the same CA, server and user is already
// there, which is kept byte for byte. A file with another CA, server URL or user is an error
// naming the file, never overwritten. With an external CA (ca.crt without ca.key) the file
// must already exist.
func Ensure(dir string, spec Spec, p pki.Params, clusterName string) (pki.Outcome, error) {
	path := filepath.Join(dir, spec.FileName)
	caCerts, caPEM, err := loadCA(p)
	if err != nil {
		return 0, fmt.Errorf("kubeconfig %s: %w", spec.FileName, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		if err := checkExisting(path, spec, caCerts); err != nil {
			return 0, err
		}
		return pki.Kept, nil
	}
	if pki.IsExternalCA(p.CertificatesDir, "ca") {
		return 0, fmt.Errorf("kubeconfig %s: %w: %s is absent, so provide %s with a client certificate for %q signed by that CA",
			spec.FileName, pki.ErrExternalCAMissingCert, pki.KeyPath(p.CertificatesDir, "ca"), path, spec.ClientName)
	}
	caCert, caKey, err := pki.LoadCertAndKey(p.CertificatesDir, "ca")
	if err != nil {
		return 0, fmt.Errorf("kubeconfig %s: %w", spec.FileName, err)
	}
	is, err := pki.IssueLeaf(p, clientSpec(spec.FileName, spec.ClientName, spec.Organizations, p), caCert, caKey)
	if err != nil {
		return 0, fmt.Errorf("kubeconfig %s: %w", spec.FileName, err)
	}
	if clusterName == "" {
		clusterName = DefaultClusterName
	}
	ctxName := spec.ClientName + "@" + clusterName
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{Server: spec.ServerURL, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[spec.ClientName] = &clientcmdapi.AuthInfo{ClientCertificateData: is.CertPEM, ClientKeyData: is.KeyPEM}
	cfg.Contexts[ctxName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: spec.ClientName}
	cfg.CurrentContext = ctxName
	if err := write(path, cfg); err != nil {
		return 0, err
	}
	return pki.Created, nil
}

// write encodes cfg and replaces path atomically with mode 0600: the file holds a private key.
func write(path string, cfg *clientcmdapi.Config) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: encode: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		return fmt.Errorf("kubeconfig: write %s: %w", path, werr)
	}
	return nil
}

// current returns the cluster and user the file's current context names.
func current(cfg *clientcmdapi.Config, path string) (*clientcmdapi.Cluster, *clientcmdapi.AuthInfo, error) {
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, nil, fmt.Errorf("kubeconfig %s: current context %q not found; fix it or remove the file to have kforge write a new one", path, cfg.CurrentContext)
	}
	cl, ok := cfg.Clusters[ctx.Cluster]
	if !ok {
		return nil, nil, fmt.Errorf("kubeconfig %s: cluster %q not found; fix it or remove the file to have kforge write a new one", path, ctx.Cluster)
	}
	return cl, cfg.AuthInfos[ctx.AuthInfo], nil
}

// trustsCA reports whether the kubeconfig's CA data (or file, relative to baseDir) shares a
// certificate with the cluster CA, so a bundle written during a CA rotation still counts, as
// in kubeadm.
func trustsCA(cl *clientcmdapi.Cluster, caCerts []*x509.Certificate, baseDir string) bool {
	data := cl.CertificateAuthorityData
	if f := cl.CertificateAuthority; len(data) == 0 && f != "" {
		if !filepath.IsAbs(f) {
			f = filepath.Join(baseDir, f)
		}
		data, _ = os.ReadFile(f)
	}
	have, err := helpers.ParseCertificatesPEM(bytes.TrimSpace(data))
	if err != nil {
		return false
	}
	for _, h := range have {
		if slices.ContainsFunc(caCerts, h.Equal) {
			return true
		}
	}
	return false
}

func checkExisting(path string, spec Spec, caCerts []*x509.Certificate) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w; remove it to have kforge write a new one", path, err)
	}
	cl, ai, err := current(cfg, path)
	if err != nil {
		return err
	}
	if !trustsCA(cl, caCerts, filepath.Dir(path)) {
		return fmt.Errorf("a kubeconfig file %q exists already but has got the wrong CA cert; remove it to have kforge write one for the CA in the certificates dir", path)
	}
	if cl.Server != spec.ServerURL {
		return fmt.Errorf("a kubeconfig file %q exists already but points at %s, not %s; remove it to have kforge write a new one, or fix the server URL", path, cl.Server, spec.ServerURL)
	}
	if ai == nil || len(ai.ClientCertificateData) == 0 {
		// The kubelet's file points at its rotated certificate once bootstrapped; nothing
		// embedded to check.
		return nil
	}
	c, err := helpers.ParseCertificatePEM(ai.ClientCertificateData)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: parse client certificate: %w; remove it to have kforge write a new one", path, err)
	}
	pool := x509.NewCertPool()
	for _, ca := range caCerts {
		pool.AddCert(ca)
	}
	mid := c.NotBefore.Add(c.NotAfter.Sub(c.NotBefore) / 2)
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: mid}); err != nil {
		return fmt.Errorf("kubeconfig %s: its client certificate %w (%v); remove the file to have kforge write a new one", path, pki.ErrForeignCA, err)
	}
	if c.Subject.CommonName != spec.ClientName {
		return fmt.Errorf("kubeconfig %s: %w: its client certificate is for user %q, not %q; remove it to have kforge write a new one",
			path, pki.ErrCertMismatch, c.Subject.CommonName, spec.ClientName)
	}
	return nil
}

// Renew gives dir/fileName a new client certificate and key (same user and groups) signed by
// the CA in p.CertificatesDir, keeping its cluster, server and context. The file must already
// trust that CA; with an external CA renewal fails with pki.ErrExternalCA.
func Renew(dir, fileName string, p pki.Params) error {
	path := filepath.Join(dir, fileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist, so there is nothing to renew; create it with 'kforge init phase kubeconfig'", path)
	}
	if err != nil {
		return fmt.Errorf("read kubeconfig: %w", err)
	}
	// Load, not LoadFromFile: paths in the file are written back as they were, not resolved.
	cfg, err := clientcmd.Load(b)
	if err != nil {
		return fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	cl, ai, err := current(cfg, path)
	if err != nil {
		return err
	}
	if ai == nil || len(ai.ClientCertificateData) == 0 {
		return fmt.Errorf("kubeconfig %s has no embedded client certificate to renew", path)
	}
	old, err := helpers.ParseCertificatePEM(ai.ClientCertificateData)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: parse client certificate: %w", path, err)
	}
	caCerts, _, err := loadCA(p)
	if err != nil {
		return fmt.Errorf("renew %s: %w", fileName, err)
	}
	if !trustsCA(cl, caCerts, dir) {
		return fmt.Errorf("renew %s: the file was written for another CA than %s; remove it and run 'kforge init phase kubeconfig' to write a new one",
			path, pki.CertPath(p.CertificatesDir, "ca"))
	}
	if pki.IsExternalCA(p.CertificatesDir, "ca") {
		return fmt.Errorf("renew %s: %w: %s is absent; re-issue its client certificate with the external CA",
			path, pki.ErrExternalCA, pki.KeyPath(p.CertificatesDir, "ca"))
	}
	caCert, caKey, err := pki.LoadCertAndKey(p.CertificatesDir, "ca")
	if err != nil {
		return fmt.Errorf("renew %s: %w", fileName, err)
	}
	is, err := pki.IssueLeaf(p, clientSpec(fileName, old.Subject.CommonName, old.Subject.Organization, p), caCert, caKey)
	if err != nil {
		return fmt.Errorf("renew %s: %w", fileName, err)
	}
	ai.ClientCertificateData, ai.ClientKeyData = is.CertPEM, is.KeyPEM
	return write(path, cfg)
}

// ClientCert returns the client certificate of a kubeconfig file's current user, for expiry
// checks; it is pki.KubeconfigClientCert, here for callers that deal in kubeconfig files.
func ClientCert(path string) (*x509.Certificate, error) { return pki.KubeconfigClientCert(path) }
