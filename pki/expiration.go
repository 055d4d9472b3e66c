package pki

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/cloudflare/cfssl/helpers"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/tools/clientcmd"
)

// ExpirationInfo is one row of `certs check-expiration`: when a certificate (or the client
// certificate of a kubeconfig file) expires and whether kforge can renew it.
type ExpirationInfo struct {
	// Name is the certificate's phase name (apiserver, etcd-ca), or the kubeconfig file name.
	Name string
	// Expires is the certificate's NotAfter; zero when Missing.
	Expires time.Time
	// CAName is the CA that signed it; empty for CAs.
	CAName string
	// ExternallyManaged is true when the signing CA's key (for a CA, its own key) is absent,
	// so kforge cannot renew it.
	ExternallyManaged bool
	// Missing is true when the file does not exist.
	Missing bool
}

// Residual is how long the certificate stays valid after now (negative once expired).
func (e ExpirationInfo) Residual(now time.Time) time.Duration { return e.Expires.Sub(now) }

// CheckExpiration reads every certificate of p's tree in certDir and the client certificates
// of the kubeconfig files kforge renews in kubeconfigDir, returning leaves (kubeconfig files
// included) and CAs, each sorted by name as kubeadm prints them. Absent files are rows with
// Missing set; unreadable ones are an error naming the file.
func CheckExpiration(certDir, kubeconfigDir string, p Params) (certs, cas []ExpirationInfo, err error) {
	p.CertificatesDir = certDir
	list := DefaultCertList(p)
	external := map[string]bool{}
	for _, s := range list {
		if s.IsCA {
			external[s.Name] = IsExternalCA(certDir, s.BaseName)
		}
	}
	for _, s := range list {
		info := ExpirationInfo{Name: s.Name, CAName: s.CAName, ExternallyManaged: external[s.CAName]}
		if s.IsCA {
			info.ExternallyManaged = external[s.Name]
		}
		if !exists(CertPath(certDir, s.BaseName)) {
			info.Missing = true
		} else {
			c, err := LoadCert(certDir, s.BaseName)
			if err != nil {
				return nil, nil, err
			}
			info.Expires = c.NotAfter
		}
		if s.IsCA {
			cas = append(cas, info)
		} else {
			certs = append(certs, info)
		}
	}
	for _, f := range KubeconfigFilesWithClientCerts() {
		info := ExpirationInfo{Name: f, CAName: CAName, ExternallyManaged: external[CAName]}
		path := filepath.Join(kubeconfigDir, f)
		if !exists(path) {
			info.Missing = true
		} else {
			c, err := KubeconfigClientCert(path)
			if err != nil {
				return nil, nil, err
			}
			info.Expires = c.NotAfter
		}
		certs = append(certs, info)
	}
	sort.SliceStable(certs, func(i, j int) bool { return certs[i].Name < certs[j].Name })
	sort.SliceStable(cas, func(i, j int) bool { return cas[i].Name < cas[j].Name })
	return certs, cas, nil
}

// KubeconfigClientCert returns the client certificate of a kubeconfig file's current user
// (or of its only user): embedded data, or the file it names.
func KubeconfigClientCert(path string) (*x509.Certificate, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	user := ""
	if ctx, ok := cfg.Contexts[cfg.CurrentContext]; ok {
		user = ctx.AuthInfo
	} else if len(cfg.AuthInfos) == 1 {
		for n := range cfg.AuthInfos {
			user = n
		}
	}
	ai, ok := cfg.AuthInfos[user]
	if !ok {
		return nil, fmt.Errorf("kubeconfig %s: no user for current context %q; fix the file or remove it to have kforge write a new one", path, cfg.CurrentContext)
	}
	data := ai.ClientCertificateData
	if len(data) == 0 && ai.ClientCertificate != "" {
		if data, err = os.ReadFile(ai.ClientCertificate); err != nil {
			return nil, fmt.Errorf("kubeconfig %s: client certificate: %w", path, err)
		}
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("kubeconfig %s: user %q has no client certificate; it authenticates another way, so kforge cannot check or renew it", path, user)
	}
	c, err := helpers.ParseCertificatePEM(data)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: parse client certificate: %w", path, err)
	}
	return c, nil
}

// WriteExpirationTable prints kubeadm's two tables, byte for byte in kubeadm's layout: leaf
// certificates and kubeconfig files, then certificate authorities, with the residual time as
// now sees it ("364d", "9y", "<invalid>" once expired).
func WriteExpirationTable(w io.Writer, certs, cas []ExpirationInfo, now time.Time) error {
	tw := tabwriter.NewWriter(w, 10, 4, 3, ' ', 0)
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintln(tw, "CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED")
	for _, c := range certs {
		if c.Missing {
			fmt.Fprintf(tw, "!MISSING! %s\t\t\t\t\n", c.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%-8v\n", c.Name, formatExpiry(c.Expires), ResidualTime(c.Residual(now)), c.CAName, yesNo(c.ExternallyManaged))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED")
	for _, c := range cas {
		if c.Missing {
			fmt.Fprintf(tw, "!MISSING! %s\t\t\t\n", c.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%-8v\n", c.Name, formatExpiry(c.Expires), ResidualTime(c.Residual(now)), yesNo(c.ExternallyManaged))
	}
	return tw.Flush()
}

func formatExpiry(t time.Time) string { return t.UTC().Format("Jan 02, 2006 15:04 MST") }

// ResidualTime renders a remaining lifetime the short way kubectl and kubeadm do (59s, 59m,
// 47h, 364d, 9y; <invalid> once expired).
func ResidualTime(d time.Duration) string { return duration.ShortHumanDuration(d) }
