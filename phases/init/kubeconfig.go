package initphases

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"kforge.dev/kforge/phases/workflow"
	"kforge.dev/kforge/pki"
	"kforge.dev/kforge/pki/kubeconfig"
)

var kubeconfigFlags = []string{"config", "cert-dir", "kubeconfig-dir", "dry-run", "kubernetes-version",
	"apiserver-advertise-address", "apiserver-bind-port", "control-plane-endpoint", "node-name"}

// kubeconfigDescriptions says what each file is for, as the phase help shows it.
var kubeconfigDescriptions = []struct{ name, file, short string }{
	{"admin", "admin.conf", "Generate a kubeconfig file for the admin to use and for kforge itself"},
	{"super-admin", "super-admin.conf", "Generate a kubeconfig file for the super-admin (group system:masters, bypasses RBAC)"},
	{"kubelet", "kubelet.conf", "Generate a kubeconfig file for the kubelet to use *only* for cluster bootstrapping purposes"},
	{"controller-manager", "controller-manager.conf", "Generate a kubeconfig file for the controller manager to use"},
	{"scheduler", "scheduler.conf", "Generate a kubeconfig file for the scheduler to use"},
}

func kubeconfigPhase() workflow.Phase[*Data] {
	var subs []workflow.Phase[*Data]
	for _, k := range kubeconfigDescriptions {
		file := k.file
		subs = append(subs, workflow.Phase[*Data]{
			Name:  k.name,
			Short: k.short,
			Long:  k.short + ", and save it to " + file + " in the kubeconfig directory.",
			Flags: kubeconfigFlags,
			Run:   func(_ context.Context, d *Data) error { return writeKubeconfig(d, file) },
		})
	}
	return workflow.Phase[*Data]{
		Name:  "kubeconfig",
		Short: "Generate all kubeconfig files necessary to establish the control plane and the admin kubeconfig file",
		Run: func(_ context.Context, d *Data) error {
			fmt.Fprintf(d.Out, "[kubeconfig] Using kubeconfig folder %q\n", displayKubeconfigDir(d))
			return nil
		},
		Phases: subs,
	}
}

// displayKubeconfigDir is the directory the user asked for, even during a dry run.
func displayKubeconfigDir(d *Data) string {
	if d.dryRun != nil {
		return d.dryRun.realKubeconfigDir
	}
	return d.KubeconfigDir
}

func writeKubeconfig(d *Data, file string) error {
	c := d.Cfg
	for _, spec := range kubeconfig.DefaultSpecs(c.NodeRegistration.Name, c.APIServerURL(), c.LocalAPIServerURL()) {
		if spec.FileName != file {
			continue
		}
		out, err := kubeconfig.Ensure(d.KubeconfigDir, spec, d.PKIParams(), c.ClusterConfiguration.ClusterName)
		if err != nil {
			return err
		}
		path := filepath.Join(displayKubeconfigDir(d), file)
		if out == pki.Kept {
			fmt.Fprintf(d.Out, "[kubeconfig] Using existing kubeconfig file: %q\n", path)
		} else {
			fmt.Fprintf(d.Out, "[kubeconfig] Writing %q kubeconfig file\n", file)
		}
		return nil
	}
	return fmt.Errorf("kubeconfig: no specification for %s (known: %s)", file, strings.Join(kubeconfigFiles(), ", "))
}

func kubeconfigFiles() []string {
	var out []string
	for _, k := range kubeconfigDescriptions {
		out = append(out, k.file)
	}
	return out
}
