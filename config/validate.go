package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
)

// FieldError is one problem with one field: where it is, the value, and what is wrong and how
// to fix it. It prints as `networking.podSubnet "10.244.0.0/33": invalid CIDR; ...`.
type FieldError struct {
	// Path is the field's path in the YAML, e.g. "networking.podSubnet".
	Path string
	// Value is the offending value as written.
	Value string
	// Detail says what is wrong and how to fix it.
	Detail string

	// noValue prints the error without a value, for missing fields and whole documents.
	noValue bool
}

// Error renders the field error on one line: path, quoted value, detail.
func (e FieldError) Error() string {
	if e.noValue {
		return e.Path + ": " + e.Detail
	}
	return fmt.Sprintf("%s %q: %s", e.Path, e.Value, e.Detail)
}

// ValidationError lists every problem found in a configuration, so the user fixes them in one
// go; the CLI maps it to exit code 3.
type ValidationError struct {
	// Errors are the problems, in the order of the fields.
	Errors []FieldError
}

// Error puts one problem per line.
func (e *ValidationError) Error() string {
	if len(e.Errors) == 1 {
		return "invalid configuration: " + e.Errors[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Errors))
	for _, fe := range e.Errors {
		b.WriteString("\n  - " + fe.Error())
	}
	return b.String()
}

// ExitCode is 3: scripts can tell a bad configuration from a failed run.
func (e *ValidationError) ExitCode() int { return 3 }

type validator struct{ errs []FieldError }

func (v *validator) add(path, value, detail string, args ...any) {
	v.errs = append(v.errs, FieldError{Path: path, Value: value, Detail: fmt.Sprintf(detail, args...)})
}

// missing records a problem that has no value to show: a required field left empty.
func (v *validator) missing(path, detail string) {
	v.errs = append(v.errs, FieldError{Path: path, Detail: detail, noValue: true})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: v.errs}
}

var (
	tokenRE      = regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)
	tokenGroupRE = regexp.MustCompile(`^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`)
	certKeyRE    = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	caHashRE     = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	tokenFix     = `a bootstrap token is 6 then 16 characters of [a-z0-9] joined by a dot, e.g. "abcdef.0123456789abcdef"`
)

// ValidateInitConfiguration checks a defaulted InitConfiguration and its ClusterConfiguration.
// The error is a *ValidationError listing every problem with the field path and the fix.
func ValidateInitConfiguration(c *InitConfiguration) error {
	v := &validator{}
	validateNodeRegistration(v, "nodeRegistration", &c.NodeRegistration)
	validateEndpoint(v, "localAPIEndpoint", c.LocalAPIEndpoint, true)
	for i, t := range c.BootstrapTokens {
		validateToken(v, fmt.Sprintf("bootstrapTokens[%d]", i), t)
	}
	if c.CertificateKey != "" && !certKeyRE.MatchString(c.CertificateKey) {
		v.errs = append(v.errs, FieldError{Path: "certificateKey", noValue: true,
			Detail: fmt.Sprintf("must be 64 hexadecimal characters (32 bytes), not %d characters; 'kforge certs certificate-key' prints one", len(c.CertificateKey))})
	}
	validateCluster(v, &c.ClusterConfiguration)
	return v.err()
}

// ValidateClusterConfiguration checks cluster-wide settings on their own.
func ValidateClusterConfiguration(c *ClusterConfiguration) error {
	v := &validator{}
	validateCluster(v, c)
	return v.err()
}

// ValidateJoinConfiguration checks a defaulted JoinConfiguration.
func ValidateJoinConfiguration(c *JoinConfiguration) error {
	v := &validator{}
	validateNodeRegistration(v, "nodeRegistration", &c.NodeRegistration)
	d := c.Discovery
	switch {
	case d.BootstrapToken == nil && d.File == nil:
		v.missing("discovery", "set bootstrapToken (with --token and --discovery-token-ca-cert-hash) or file (--discovery-file)")
	case d.BootstrapToken != nil && d.File != nil:
		v.missing("discovery", "bootstrapToken and file are mutually exclusive; keep one")
	case d.BootstrapToken != nil:
		bt := d.BootstrapToken
		if !tokenRE.MatchString(bt.Token) {
			v.add("discovery.bootstrapToken.token", redactToken(bt.Token), "invalid token; %s", tokenFix)
		}
		if bt.APIServerEndpoint == "" {
			v.missing("discovery.bootstrapToken.apiServerEndpoint", "required: the control-plane endpoint host:port, e.g. 10.0.0.5:6443")
		} else if _, port, err := splitHostPort(bt.APIServerEndpoint); err != nil || port == 0 {
			v.add("discovery.bootstrapToken.apiServerEndpoint", bt.APIServerEndpoint, "not host:port; write e.g. 10.0.0.5:6443")
		}
		if len(bt.CACertHashes) == 0 && !bt.UnsafeSkipCAVerification {
			v.missing("discovery.bootstrapToken.caCertHashes", "required unless unsafeSkipCAVerification is true: pass --discovery-token-ca-cert-hash sha256:<hash> ('kforge certs ca-cert-hash' on a control plane prints it)")
		}
		for i, h := range bt.CACertHashes {
			if !caHashRE.MatchString(h) {
				v.add(fmt.Sprintf("discovery.bootstrapToken.caCertHashes[%d]", i), h, `must be "sha256:" and 64 hexadecimal characters`)
			}
		}
	case d.File != nil && d.File.KubeConfigPath == "":
		v.missing("discovery.file.kubeConfigPath", "required: the path or https URL of a kubeconfig with the cluster's address and CA")
	}
	if d.TLSBootstrapToken != "" && !tokenRE.MatchString(d.TLSBootstrapToken) {
		v.add("discovery.tlsBootstrapToken", redactToken(d.TLSBootstrapToken), "invalid token; %s", tokenFix)
	}
	if cp := c.ControlPlane; cp != nil {
		validateEndpoint(v, "controlPlane.localAPIEndpoint", cp.LocalAPIEndpoint, false)
		if cp.CertificateKey != "" && !certKeyRE.MatchString(cp.CertificateKey) {
			v.errs = append(v.errs, FieldError{Path: "controlPlane.certificateKey", noValue: true,
				Detail: fmt.Sprintf("must be 64 hexadecimal characters (32 bytes), not %d characters; use the key printed by 'kforge init --upload-certs'", len(cp.CertificateKey))})
		}
	}
	return v.err()
}

func validateNodeRegistration(v *validator, path string, n *NodeRegistrationOptions) {
	if n.Name == "" {
		v.missing(path+".name", "required: set it or pass --node-name")
	} else if errs := utilvalidation.IsDNS1123Subdomain(n.Name); len(errs) > 0 {
		v.add(path+".name", n.Name, "invalid node name: %s", strings.Join(errs, "; "))
	}
	if n.CRISocket != "" && !strings.HasPrefix(n.CRISocket, "unix://") && !strings.HasPrefix(n.CRISocket, "/") {
		v.add(path+".criSocket", n.CRISocket, `must be a unix socket, e.g. "unix:///var/run/containerd/containerd.sock"`)
	}
	for i, t := range n.Taints {
		p := fmt.Sprintf("%s.taints[%d]", path, i)
		if errs := utilvalidation.IsQualifiedName(t.Key); len(errs) > 0 {
			v.add(p+".key", t.Key, "invalid taint key: %s", strings.Join(errs, "; "))
		}
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			v.add(p+".effect", string(t.Effect), "must be NoSchedule, PreferNoSchedule or NoExecute")
		}
	}
	switch n.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		v.add(path+".imagePullPolicy", string(n.ImagePullPolicy), "must be Always, IfNotPresent or Never")
	}
}

func validateEndpoint(v *validator, path string, e APIEndpoint, required bool) {
	if e.AdvertiseAddress == "" {
		if required {
			v.missing(path+".advertiseAddress", "required: the IP address this node's apiserver advertises; set it or pass --apiserver-advertise-address")
		}
	} else if ip := net.ParseIP(e.AdvertiseAddress); ip == nil {
		v.add(path+".advertiseAddress", e.AdvertiseAddress, "not an IP address; give this node's address, e.g. 10.0.0.5")
	} else if ip.IsUnspecified() {
		v.add(path+".advertiseAddress", e.AdvertiseAddress, "cannot be the unspecified address; give the address other nodes reach this node on")
	}
	if e.BindPort < 0 || e.BindPort > 65535 || required && e.BindPort == 0 {
		v.add(path+".bindPort", strconv.Itoa(int(e.BindPort)), "must be a port between 1 and 65535 (default 6443)")
	}
}

func validateToken(v *validator, path string, t BootstrapToken) {
	if !tokenRE.MatchString(t.Token) {
		v.add(path+".token", redactToken(t.Token), "invalid token; %s", tokenFix)
	}
	for i, u := range t.Usages {
		if u != "signing" && u != "authentication" {
			v.add(fmt.Sprintf("%s.usages[%d]", path, i), u, `unknown usage; use "signing" and/or "authentication"`)
		}
	}
	for i, g := range t.Groups {
		if !tokenGroupRE.MatchString(g) {
			v.add(fmt.Sprintf("%s.groups[%d]", path, i), g, `extra groups of a bootstrap token must start with "system:bootstrappers:"`)
		}
	}
	if t.TTL != nil && t.TTL.Duration < 0 {
		v.add(path+".ttl", t.TTL.Duration.String(), "must not be negative (0 means the token never expires)")
	}
}

func validateCluster(v *validator, c *ClusterConfiguration) {
	svc := validateCIDRs(v, "networking.serviceSubnet", c.Networking.ServiceSubnet, true)
	for _, n := range svc {
		ones, bits := n.Mask.Size()
		if bits == 32 && bits-ones > 20 {
			v.add("networking.serviceSubnet", c.Networking.ServiceSubnet, "too large: at most /12 for IPv4 (20 host bits); use e.g. 10.96.0.0/12")
		} else if bits == 128 && bits-ones > 20 {
			v.add("networking.serviceSubnet", c.Networking.ServiceSubnet, "too large: at most /108 for IPv6 (20 host bits)")
		} else if bits-ones < 4 {
			v.add("networking.serviceSubnet", c.Networking.ServiceSubnet, "too small: the DNS Service takes the 10th address, so use at least a /28")
		}
	}
	pods := validateCIDRs(v, "networking.podSubnet", c.Networking.PodSubnet, false)
	for _, s := range svc {
		for _, p := range pods {
			if s.Contains(p.IP) || p.Contains(s.IP) {
				v.add("networking.podSubnet", c.Networking.PodSubnet, "overlaps networking.serviceSubnet %s; pick disjoint ranges, e.g. 10.244.0.0/16 for pods and 10.96.0.0/12 for services", s)
			}
		}
	}
	if d := c.Networking.DNSDomain; d == "" {
		v.missing("networking.dnsDomain", `required, e.g. "cluster.local"`)
	} else if errs := utilvalidation.IsDNS1123Subdomain(d); len(errs) > 0 {
		v.add("networking.dnsDomain", d, "not a DNS domain: %s", strings.Join(errs, "; "))
	}
	if ep := c.ControlPlaneEndpoint; ep != "" {
		host, _, err := splitHostPort(ep)
		if err != nil {
			v.add("controlPlaneEndpoint", ep, "%v; write a host or IP with an optional port, e.g. lb.example.com:6443", err)
		} else if net.ParseIP(host) == nil && len(utilvalidation.IsDNS1123Subdomain(host)) > 0 {
			v.add("controlPlaneEndpoint", ep, "host %q is neither an IP address nor a DNS name", host)
		}
	}
	for i, san := range c.APIServer.CertSANs {
		validateSAN(v, fmt.Sprintf("apiServer.certSANs[%d]", i), san)
	}
	if l := c.Etcd.Local; l != nil {
		for i, san := range l.ServerCertSANs {
			validateSAN(v, fmt.Sprintf("etcd.local.serverCertSANs[%d]", i), san)
		}
		for i, san := range l.PeerCertSANs {
			validateSAN(v, fmt.Sprintf("etcd.local.peerCertSANs[%d]", i), san)
		}
	}
	if l, e := c.Etcd.Local, c.Etcd.External; l != nil && e != nil {
		v.missing("etcd", "local and external are mutually exclusive; keep one")
	} else if e != nil {
		if len(e.Endpoints) == 0 {
			v.missing("etcd.external.endpoints", "required: the client URLs of the external etcd, e.g. https://10.0.0.20:2379")
		}
		secure := false
		for i, ep := range e.Endpoints {
			switch {
			case strings.HasPrefix(ep, "https://"):
				secure = true
			case strings.HasPrefix(ep, "http://"):
			default:
				v.add(fmt.Sprintf("etcd.external.endpoints[%d]", i), ep, "must be a URL starting with https:// (or http://)")
			}
		}
		if secure {
			for _, f := range []struct{ name, val string }{{"caFile", e.CAFile}, {"certFile", e.CertFile}, {"keyFile", e.KeyFile}} {
				if f.val == "" {
					v.missing("etcd.external."+f.name, "required for https endpoints: the etcd CA, and the client certificate and key the apiservers use")
				}
			}
		}
	}
	if c.CertificatesDir == "" {
		v.missing("certificatesDir", "required, e.g. /etc/kubernetes/pki")
	}
	if algs := EncryptionAlgorithms(); !slices.Contains(algs, c.EncryptionAlgorithm) {
		v.add("encryptionAlgorithm", c.EncryptionAlgorithm, "unknown; use one of %s", strings.Join(algs, ", "))
	}
	if p := c.CertificateValidityPeriod; p != nil && p.Duration <= 0 {
		v.add("certificateValidityPeriod", p.Duration.String(), "must be positive, e.g. 8760h0m0s")
	}
	if p := c.CACertificateValidityPeriod; p != nil && p.Duration <= 0 {
		v.add("caCertificateValidityPeriod", p.Duration.String(), "must be positive, e.g. 87600h0m0s")
	}
	if c.ClusterName != "" && len(utilvalidation.IsDNS1123Subdomain(c.ClusterName)) > 0 {
		v.add("clusterName", c.ClusterName, "must be a DNS-1123 subdomain (lower case, digits, '-' and '.')")
	}
}

// EncryptionAlgorithms are the key types kubeadm v1beta4 accepts for encryptionAlgorithm
// (ECDSA-P384 since Kubernetes 1.34).
func EncryptionAlgorithms() []string {
	return []string{"RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"}
}

// validateCIDRs checks a CIDR or a dual-stack pair "v4,v6" and returns the parsed networks.
func validateCIDRs(v *validator, path, value string, required bool) []*net.IPNet {
	if value == "" {
		if required {
			v.missing(path, "required, e.g. 10.96.0.0/12")
		}
		return nil
	}
	parts := strings.Split(value, ",")
	if len(parts) > 2 {
		v.add(path, value, "at most two CIDRs (one IPv4, one IPv6) for dual-stack")
		return nil
	}
	var nets []*net.IPNet
	for _, p := range parts {
		p = strings.TrimSpace(p)
		ip, n, err := net.ParseCIDR(p)
		if err != nil {
			v.add(path, p, "invalid CIDR; write an address and prefix length, e.g. 10.244.0.0/16")
			continue
		}
		if !ip.Equal(n.IP) {
			v.add(path, p, "has host bits set; the network address is %s", n)
		}
		nets = append(nets, n)
	}
	if len(nets) == 2 && (nets[0].IP.To4() != nil) == (nets[1].IP.To4() != nil) {
		v.add(path, value, "a dual-stack pair needs one IPv4 and one IPv6 CIDR")
	}
	return nets
}

func validateSAN(v *validator, path, san string) {
	if net.ParseIP(san) != nil {
		return
	}
	name := strings.TrimPrefix(san, "*.")
	if errs := utilvalidation.IsDNS1123Subdomain(name); len(errs) > 0 {
		v.add(path, san, "neither an IP address nor a DNS name (wildcards like *.example.com are allowed)")
	}
}

// redactToken keeps a token's public ID and hides its secret half, so that an error message
// never carries a credential.
func redactToken(t string) string {
	if i := strings.IndexByte(t, '.'); i >= 0 {
		return t[:i+1] + "<redacted>"
	}
	if t == "" {
		return t
	}
	return "<redacted>"
}
