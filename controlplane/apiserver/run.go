package apiserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"kforge.dev/kforge/controlplane/etcd"
)

// Options are `kforge apiserver`'s settings, named after kube-apiserver's flags.
type Options struct {
	// EtcdServers lists etcd client URLs, or is ["embedded"] to run a member in-process with
	// its data in EtcdDataDir (one process is then a whole API).
	EtcdServers                           []string
	EtcdDataDir                           string
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// BindAddress and SecurePort are where the API listens; AdvertiseAddress is the address
	// other members of the cluster reach it on (the kubernetes Service's endpoint).
	BindAddress      string
	AdvertiseAddress string
	SecurePort       int
	// TLSCertFile and TLSPrivateKeyFile are the serving certificate (apiserver.crt/key);
	// ClientCAFile verifies client certificates (ca.crt).
	TLSCertFile, TLSPrivateKeyFile, ClientCAFile string
	// API tunes storage.
	API APIOptions
	// Log receives start-up lines.
	Log io.Writer
}

// Validate checks the options and names the flag to fix.
func (o Options) Validate() error {
	var problems []string
	if len(o.EtcdServers) == 0 {
		problems = append(problems, "--etcd-servers is required (etcd client URLs, or \"embedded\" to run etcd in this process)")
	}
	if o.embedded() && o.EtcdDataDir == "" {
		problems = append(problems, "--etcd-servers=embedded needs --etcd-data-dir")
	}
	if o.TLSCertFile == "" || o.TLSPrivateKeyFile == "" {
		problems = append(problems, "--tls-cert-file and --tls-private-key-file are required; 'kforge init phase certs apiserver --cert-dir DIR' makes apiserver.crt and apiserver.key")
	}
	if o.SecurePort < 1 || o.SecurePort > 65535 {
		problems = append(problems, fmt.Sprintf("--secure-port %d: must be between 1 and 65535", o.SecurePort))
	}
	if net.ParseIP(o.BindAddress) == nil {
		problems = append(problems, fmt.Sprintf("--bind-address %q: not an IP address", o.BindAddress))
	}
	if len(problems) > 0 {
		return fmt.Errorf("apiserver: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (o Options) embedded() bool { return len(o.EtcdServers) == 1 && o.EtcdServers[0] == "embedded" }

// Run serves the API until ctx ends.
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	tlsCfg, err := TLSConfig(o.TLSCertFile, o.TLSPrivateKeyFile, o.ClientCAFile)
	if err != nil {
		return err
	}
	endpoints := o.EtcdServers
	if o.embedded() {
		m, err := etcd.StartEmbedded(ctx, o.EtcdDataDir)
		if err != nil {
			return fmt.Errorf("apiserver: embedded etcd: %w", err)
		}
		defer m.Stop(context.WithoutCancel(ctx))
		endpoints = m.ClientURLs()
		fmt.Fprintf(o.Log, "embedded etcd serving on %s (data in %s)\n", strings.Join(endpoints, ","), o.EtcdDataDir)
	}
	client, err := etcd.NewClient(etcd.ClientConfig{Endpoints: endpoints, CAFile: o.EtcdCAFile, CertFile: o.EtcdCertFile, KeyFile: o.EtcdKeyFile})
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	defer client.Close()
	if h := client.Health(ctx); len(h) > 0 && !h[0].Healthy {
		return fmt.Errorf("apiserver: etcd is not reachable: %s", h[0].Error)
	}
	api, err := NewAPI(client.Raw(), o.API)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if err := api.Run(ctx); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	if err := api.Bootstrap(ctx); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	advertise := net.ParseIP(o.AdvertiseAddress)
	if advertise == nil {
		advertise = net.ParseIP(o.BindAddress)
		if advertise == nil || advertise.IsUnspecified() {
			advertise = net.IPv4(127, 0, 0, 1)
		}
	}
	if err := api.RunEndpointReconciler(ctx, client.Raw(), advertise, o.SecurePort, 10*time.Second); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	addr := net.JoinHostPort(o.BindAddress, strconv.Itoa(o.SecurePort))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("apiserver: listen on %s: %w; is another apiserver running? choose --secure-port or --bind-address", addr, err)
	}
	fmt.Fprintf(o.Log, "kforge apiserver serving on https://%s\n", l.Addr())
	return api.Serve(ctx, l, tlsCfg)
}
