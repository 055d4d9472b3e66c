package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// KubeletClientConfig is how the apiserver reaches kubelets for pod logs, exec, attach and
// port-forward, from kube-apiserver's --kubelet-* flags.
type KubeletClientConfig struct {
	// CertFile and KeyFile are the client certificate the kubelet authenticates the apiserver
	// by (--kubelet-client-certificate, --kubelet-client-key; kubeadm's
	// apiserver-kubelet-client.crt).
	CertFile, KeyFile string
	// CAFile verifies kubelets' serving certificates (--kubelet-certificate-authority). Without
	// it the serving certificate is not verified, as kube-apiserver does without the flag.
	CAFile string
	// PreferredAddressTypes are the Node address types to connect to, in order
	// (--kubelet-preferred-address-types).
	PreferredAddressTypes []corev1.NodeAddressType
	// Timeout bounds connecting to a kubelet and the TLS handshake (--kubelet-timeout).
	Timeout time.Duration
}

// DefaultKubeletPreferredAddressTypes is kube-apiserver's default order.
var DefaultKubeletPreferredAddressTypes = []corev1.NodeAddressType{
	corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeInternalIP, corev1.NodeExternalDNS, corev1.NodeExternalIP,
}

// defaultKubeletPort is the kubelet's port when the Node does not report one.
const defaultKubeletPort = 10250

// kubeletClient opens connections to kubelets.
type kubeletClient struct {
	cfg       KubeletClientConfig
	transport *http.Transport
}

// SetKubeletClient lets the API reach kubelets for pod logs and exec; without it those
// subresources answer 503.
func (a *API) SetKubeletClient(cfg KubeletClientConfig) error {
	if len(cfg.PreferredAddressTypes) == 0 {
		cfg.PreferredAddressTypes = DefaultKubeletPreferredAddressTypes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	// Unverified unless a CA is given, as kube-apiserver does without --kubelet-certificate-authority.
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return fmt.Errorf("apiserver: read --kubelet-certificate-authority: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("apiserver: --kubelet-certificate-authority %s holds no PEM certificate", cfg.CAFile)
		}
		tlsCfg.InsecureSkipVerify = false
		tlsCfg.RootCAs = pool
	}
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return fmt.Errorf("apiserver: load --kubelet-client-certificate/--kubelet-client-key: %w", err)
		}
		tlsCfg.Certificates = []tls.Certificate{cert}
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	a.kubelet = &kubeletClient{cfg: cfg, transport: &http.Transport{
		DialContext: dialer.DialContext, TLSClientConfig: tlsCfg, TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second,
	}}
	return nil
}

// nodeURL is the kubelet's base URL for node: the first address of a preferred type, and the
// port the kubelet reports.
func (k *kubeletClient) nodeURL(node *corev1.Node) (*url.URL, error) {
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port <= 0 {
		port = defaultKubeletPort
	}
	for _, t := range k.cfg.PreferredAddressTypes {
		for _, addr := range node.Status.Addresses {
			if addr.Type == t && addr.Address != "" {
				return &url.URL{Scheme: "https", Host: net.JoinHostPort(addr.Address, strconv.Itoa(port))}, nil
			}
		}
	}
	return nil, apierrors.NewServiceUnavailable(fmt.Sprintf(
		"no preferred addresses found; known addresses: %v (node %q reports none of the types %v in status.addresses)",
		node.Status.Addresses, node.Name, k.cfg.PreferredAddressTypes))
}
