package pki

import (
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/cloudflare/cfssl/helpers"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/tools/clientcmd"
)

// ExpirationInfo is one row of `certs check-expiration`.
type ExpirationInfo struct {
	// Name is the certificate's phase name, or the kubeconfig file name.
	Name string
	// Expires is the certificate's NotAfter; zero when Missing.
	Expires time.Time
	// CAName is the CA that signed it (empty for CAs).
	CAName string
	// ExternallyManaged is true when the signing CA's key (or, for a CA, its own key) is absent.
	ExternallyManaged bool
	// Missing is true when the file does not exist.
	Missing bool
}

// CheckExpiration reads every certificate of p's tree in certDir and the client certificates of
// the kubeconfig files in kubeconfigDir, returning leaves and CAs sorted by name.
func CheckExpiration(certDir, kubeconfigDir string, p Params) (certs, cas []ExpirationInfo, err error) {
	p.CertificatesDir = certDir
	external := map[string]bool{}
	for _, s := range DefaultCertList(p) {
		if s.IsCA {
			external[s.Name] = IsExternalCA(certDir, s.BaseName)
		}
	}
	for _, s := range DefaultCertList(p) {
		info := ExpirationInfo{Name: s.Name, CAName: s.CAName}
		if s.IsCA {
			info.ExternallyManaged = external[s.Name]
		} else {
			info.ExternallyManaged = external[s.CAName]
		}
		c, lerr := LoadCert(certDir, s.BaseName)
		if lerr != nil {
			if exists(CertPath(certDir, s.BaseName)) {
				return nil, nil, lerr
			}
			info.Missing = true
		} else {
			info.Expires = c.NotAfter
		}
		if s.IsCA {
			cas = append(cas, info)
		} else {
			certs = append(certs, info)
		}
	}
	for _, f := range KubeconfigFilesWithClientCerts {
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
	sort.Slice(certs, func(i, j int) bool { return certs[i].Name < certs[j].Name })
	sort.Slice(cas, func(i, j int) bool { return cas[i].Name < cas[j].Name })
	return certs, cas, nil
}

// KubeconfigClientCert returns the client certificate embedded in a kubeconfig file's current
// user (or its only user).
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
	if !ok || len(ai.ClientCertificateData) == 0 {
		return nil, fmt.Errorf("kubeconfig %s has no embedded client certificate for its current context", path)
	}
	c, err := helpers.ParseCertificatePEM(ai.ClientCertificateData)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: parse client certificate: %w", path, err)
	}
	return c, nil
}

// WriteExpirationTable prints kubeadm's two tables: leaf certificates (and kubeconfig files),
// then certificate authorities, with the residual time as now sees it.
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, formatExpiry(c.Expires), ResidualTime(c.Expires.Sub(now)), c.CAName, yesNo(c.ExternallyManaged))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED")
	for _, c := range cas {
		if c.Missing {
			fmt.Fprintf(tw, "!MISSING! %s\t\t\t\n", c.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, formatExpiry(c.Expires), ResidualTime(c.Expires.Sub(now)), yesNo(c.ExternallyManaged))
	}
	return tw.Flush()
}

func formatExpiry(t time.Time) string { return t.UTC().Format("Jan 02, 2006 15:04 MST") }

// ResidualTime renders a remaining lifetime the short way kubectl and kubeadm do (59s, 59m, 23h,
// 364d, 9y; <invalid> once expired).
func ResidualTime(d time.Duration) string { return duration.ShortHumanDuration(d) }
