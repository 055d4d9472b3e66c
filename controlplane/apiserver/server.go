package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/version"

	"kforge.dev/kforge/controlplane/apiserver/authn"
	"kforge.dev/kforge/controlplane/apiserver/authz"
	"kforge.dev/kforge/controlplane/apiserver/openapi"

	kversion "kforge.dev/kforge/version"
)

// Handler is the apiserver's HTTP handler: health, version, discovery and resources.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/version", a.serveVersion)
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		mux.HandleFunc(p, a.serveHealth)
		mux.HandleFunc(p+"/", a.serveHealth)
	}
	if err := openapi.Register(mux, a.scheme, a.openapiResources()); err != nil {
		// The API still works without its schema; kubectl apply, edit and explain do not.
		failed := apierrors.NewInternalError(fmt.Errorf("openapi: %w", err))
		mux.HandleFunc("/openapi/", func(w http.ResponseWriter, _ *http.Request) { a.writeError(w, failed) })
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if a.serveDiscovery(w, r) {
			return
		}
		ri, ok, err := parseResourcePath(r.URL.Path)
		if err != nil {
			a.writeError(w, err)
			return
		}
		if !ok {
			a.writeError(w, notFoundPath(r.URL.Path))
			return
		}
		a.serveResource(w, r, ri)
	})
	var h http.Handler = a.withSecurity(mux)
	if a.audit != nil {
		h = a.audit.Middleware(h, func(r *http.Request) (authz.Attributes, bool) {
			return requestAttributes(r, authn.User{}), false
		})
	}
	return a.withTimeout(h)
}

// openapiResources lists every served resource for the OpenAPI documents.
func (a *API) openapiResources() []openapi.Resource {
	var out []openapi.Resource
	for _, g := range a.groups {
		for _, r := range g.resources {
			out = append(out, openapi.Resource{GVK: r.def.GVK, Plural: r.def.Plural, Namespaced: r.def.Namespaced})
		}
	}
	return out
}

// withTimeout bounds every request but watches.
func (a *API) withTimeout(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if boolParam(q, "watch") || strings.Contains(r.URL.Path, "/watch/") || isLongRunningConnect(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ServerVersion is what /version reports: kforge's Kubernetes API level.
func ServerVersion() version.Info {
	v := kversion.Get()
	level := strings.TrimPrefix(kversion.KubernetesAPILevel, "v")
	parts := strings.SplitN(level, ".", 3)
	info := version.Info{Major: parts[0], Minor: parts[1], GitVersion: kversion.KubernetesAPILevel + "+kforge",
		GitCommit: v.GitCommit, BuildDate: v.BuildDate, GoVersion: v.GoVersion, Compiler: v.Compiler, Platform: v.Platform}
	return info
}

func (a *API) serveVersion(w http.ResponseWriter, _ *http.Request) {
	info := ServerVersion()
	b, _ := jsonMarshal(&info)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// serveHealth answers ok when etcd answers; /readyz also needs the watch caches filled.
func (a *API) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var failed []string
	if _, err := a.namespace.store.Storage.CurrentRevision(ctx); err != nil {
		failed = append(failed, "etcd")
	}
	if strings.HasPrefix(r.URL.Path, "/readyz") {
		for _, c := range a.cachers {
			rctx, rcancel := context.WithTimeout(ctx, 10*time.Millisecond)
			err := c.WaitReady(rctx)
			rcancel()
			if err != nil {
				failed = append(failed, "informer-sync")
				break
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusInternalServerError)
		for _, f := range failed {
			fmt.Fprintf(w, "[-]%s failed: reason withheld\n", f)
		}
		fmt.Fprintf(w, "%s check failed\n", strings.TrimPrefix(strings.SplitN(r.URL.Path, "/", 3)[1], "/"))
		return
	}
	w.Write([]byte("ok"))
}

// TLSConfig is the serving TLS configuration: the serving certificate, and client
// certificates verified when presented against the client CA files (--client-ca-file and
// --requestheader-client-ca-file; the authenticators then tell which CA signed which).
func TLSConfig(certFile, keyFile string, clientCAFiles ...string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("apiserver: load --tls-cert-file/--tls-private-key-file: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	pool := x509.NewCertPool()
	for _, f := range clientCAFiles {
		if f == "" {
			continue
		}
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("apiserver: read client CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("apiserver: client CA file %s holds no PEM certificate", f)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// Serve serves the API on l with TLS until ctx ends, then shuts down gracefully.
func (a *API) Serve(ctx context.Context, l net.Listener, tlsConfig *tls.Config) error {
	srv := &http.Server{Handler: a.Handler(), TLSConfig: tlsConfig, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: nil, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(l, "", "") }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return nil
	}
}
