package initphases

import (
	"context"
	"fmt"
	"strings"

	"kforge.dev/kforge/phases/workflow"
	"kforge.dev/kforge/pki"
)

// certFlags are the init flags that change what a certificate contains or where it goes.
var certFlags = []string{"config", "cert-dir", "dry-run", "kubernetes-version"}

// certSANFlags additionally shape the serving certificates' SANs and subjects.
var certSANFlags = []string{"apiserver-advertise-address", "apiserver-cert-extra-sans",
	"control-plane-endpoint", "service-cidr", "service-dns-domain", "node-name"}

func certsPhase() workflow.Phase[*Data] {
	// The tree is built from the full list; certificates a configuration does not need
	// (etcd's, with external etcd) are skipped at run time.
	var subs []workflow.Phase[*Data]
	for _, spec := range pki.DefaultCertList(pki.Params{}) {
		subs = append(subs, certSubPhase(spec))
	}
	subs = append(subs, workflow.Phase[*Data]{
		Name:  "sa",
		Short: "Generate a private key for signing service account tokens along with its public key",
		Long: "Generate the private key for signing service account tokens along with its public key, " +
			"and save them into sa.key and sa.pub files.\n\nIf both files already exist, kforge skips the generation step and existing files will be used.",
		Flags: certFlags,
		Run: func(_ context.Context, d *Data) error {
			out, err := pki.EnsureServiceAccountKeys(d.PKIParams())
			if err != nil {
				return err
			}
			if out == pki.Kept {
				fmt.Fprintln(d.Out, `[certs] Using the existing "sa" key`)
			} else {
				fmt.Fprintln(d.Out, `[certs] Generating "sa" key and public key`)
			}
			return nil
		},
	})
	return workflow.Phase[*Data]{
		Name:  "certs",
		Short: "Certificate generation",
		Run: func(_ context.Context, d *Data) error {
			fmt.Fprintf(d.Out, "[certs] Using certificateDir folder %q\n", d.Cfg.ClusterConfiguration.CertificatesDir)
			return nil
		},
		Phases: subs,
	}
}

func certSubPhase(spec pki.CertSpec) workflow.Phase[*Data] {
	flags := certFlags
	if spec.SANs != nil || strings.HasPrefix(spec.Name, "etcd-") {
		flags = append(append([]string{}, certFlags...), certSANFlags...)
	}
	what := "certificate and key"
	if spec.IsCA {
		what = "certificate authority"
	}
	long := fmt.Sprintf("Generate the %s, and save them into %s.crt and %s.key files.", spec.LongName, spec.BaseName, spec.BaseName)
	if spec.IsCA {
		long = fmt.Sprintf("Generate the self-signed %s, and save them into %s.crt and %s.key files.", spec.LongName, spec.BaseName, spec.BaseName)
	}
	long += "\n\nIf both files already exist, kforge skips the generation step and existing files will be used; " +
		"an existing file that does not match (another CA, a missing SAN) is an error, never overwritten."
	return workflow.Phase[*Data]{
		Name:  spec.Name,
		Short: "Generate the " + spec.LongName,
		Long:  long,
		Flags: flags,
		RunIf: func(d *Data) (bool, error) { return certNeeded(d, spec.Name), nil },
		Run: func(_ context.Context, d *Data) error {
			p := d.PKIParams()
			// Re-read the spec for this configuration: SAN functions close over nothing, but the
			// list for this cluster is the authority on which certificates exist.
			cur, ok := findSpec(p, spec.Name)
			if !ok {
				return nil
			}
			out, err := pki.EnsureCert(p, cur)
			if err != nil {
				return err
			}
			if out == pki.Kept {
				if cur.IsCA {
					fmt.Fprintf(d.Out, "[certs] Using existing %s certificate authority\n", cur.Name)
				} else {
					fmt.Fprintf(d.Out, "[certs] Using existing %s certificate and key on disk\n", cur.Name)
				}
				return nil
			}
			fmt.Fprintf(d.Out, "[certs] Generating %q %s\n", cur.Name, what)
			if cur.SANs != nil {
				dns, ips, err := cur.SANs(p)
				if err != nil {
					return err
				}
				fmt.Fprintf(d.Out, "[certs] %s serving cert is signed for DNS names %v and IPs %v\n", cur.Name, dns, ips)
			}
			return nil
		},
	}
}

func findSpec(p pki.Params, name string) (pki.CertSpec, bool) {
	for _, s := range pki.DefaultCertList(p) {
		if s.Name == name {
			return s, true
		}
	}
	return pki.CertSpec{}, false
}

func certNeeded(d *Data, name string) bool {
	_, ok := findSpec(d.PKIParams(), name)
	return ok
}
