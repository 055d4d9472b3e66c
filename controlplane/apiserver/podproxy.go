package apiserver

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Pod subresources served by the pod's kubelet: the apiserver finds the node, checks the
// request as kube-apiserver does, and relays it to the kubelet's own paths (/containerLogs,
// /exec, /attach, /portForward) with its kubelet client certificate. exec, attach and
// port-forward are protocol upgrades (SPDY or WebSocket) relayed byte for byte.

// connectSubresources are the pod subresources relayed to the kubelet.
var connectSubresources = map[string]bool{"log": true, "exec": true, "attach": true, "portforward": true}

// isConnect reports whether the request is relayed to a kubelet and may outlive the usual
// request timeout.
func isConnect(ri requestInfo) bool {
	return ri.gvr.Group == "" && ri.gvr.Resource == "pods" && ri.name != "" && connectSubresources[ri.subresource]
}

// isLongRunningConnect reports whether path is a pod subresource relayed to a kubelet, which
// lives as long as the stream (a followed log, an interactive exec) rather than the usual
// request timeout; a log that does not follow gets its own timeout in streamLog.
func isLongRunningConnect(path string) bool {
	// Every request passes here: look at the last segment before parsing the path.
	if !connectSubresources[path[strings.LastIndex(path, "/")+1:]] {
		return false
	}
	ri, ok, err := parseResourcePath(path)
	return ok && err == nil && isConnect(ri)
}

// servePodConnect answers pods/log, pods/exec, pods/attach and pods/portforward.
func (a *API) servePodConnect(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	if ri.subresource == "log" && r.Method != http.MethodGet {
		return apierrors.NewMethodNotSupported(corev1.Resource("pods/log"), strings.ToLower(r.Method))
	}
	if ri.subresource != "log" && r.Method != http.MethodGet && r.Method != http.MethodPost {
		return apierrors.NewMethodNotSupported(corev1.Resource("pods/"+ri.subresource), strings.ToLower(r.Method))
	}
	if a.kubelet == nil {
		return apierrors.NewServiceUnavailable("pod " + ri.subresource + " needs the apiserver to reach kubelets: start it with --kubelet-client-certificate and --kubelet-client-key")
	}
	ctx := r.Context()
	pod, err := getAs[*corev1.Pod](ctx, a, gvrPods, ri.namespace, ri.name)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var path string
	params := url.Values{}
	switch ri.subresource {
	case "log":
		container, err := podContainer(pod, q.Get("container"))
		if err != nil {
			return err
		}
		if params, err = logParams(q); err != nil {
			return err
		}
		path = "/containerLogs/" + pod.Namespace + "/" + pod.Name + "/" + container
	case "exec", "attach":
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			return apierrors.NewBadRequest(fmt.Sprintf("cannot %s into a container in a completed pod; current phase is %s", ri.subresource, pod.Status.Phase))
		}
		container, err := podContainer(pod, q.Get("container"))
		if err != nil {
			return err
		}
		streams := 0
		for _, p := range []struct{ in, out string }{{"stdin", "input"}, {"stdout", "output"}, {"stderr", "error"}, {"tty", "tty"}} {
			if boolParam(q, p.in) {
				params.Set(p.out, "1")
				if p.in != "tty" {
					streams++
				}
			}
		}
		if streams == 0 {
			return apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
		}
		if ri.subresource == "exec" {
			if len(q["command"]) == 0 {
				return apierrors.NewBadRequest("you must specify a command to run in the container")
			}
			params["command"] = q["command"]
		}
		path = "/" + ri.subresource + "/" + pod.Namespace + "/" + pod.Name + "/" + container
	case "portforward":
		if ports := q["ports"]; len(ports) > 0 {
			params["port"] = ports
		}
		path = "/portForward/" + pod.Namespace + "/" + pod.Name
	}
	if pod.Spec.NodeName == "" {
		return apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	node, err := getAs[*corev1.Node](ctx, a, gvrNodes, "", pod.Spec.NodeName)
	if err != nil {
		return err
	}
	loc, err := a.kubelet.nodeURL(node)
	if err != nil {
		return err
	}
	loc.Path, loc.RawQuery = path, params.Encode()
	if ri.subresource == "log" {
		return a.kubelet.streamLog(ctx, w, loc, boolParam(q, "follow"))
	}
	a.kubelet.upgrade(w, r, loc, a.writeError)
	return nil
}

// podContainer picks the container a request names, or the pod's only container.
func podContainer(pod *corev1.Pod, name string) (string, error) {
	var names, initNames, ephemeral []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.InitContainers {
		initNames = append(initNames, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		ephemeral = append(ephemeral, c.Name)
	}
	if name == "" {
		if len(names) == 1 {
			return names[0], nil
		}
		msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names)
		if len(initNames) > 0 {
			msg += fmt.Sprintf(" or one of the init containers: %v", initNames)
		}
		if len(ephemeral) > 0 {
			msg += fmt.Sprintf(" or one of the ephemeral containers: %v", ephemeral)
		}
		return "", apierrors.NewBadRequest(msg)
	}
	for _, list := range [][]string{names, initNames, ephemeral} {
		for _, n := range list {
			if n == name {
				return name, nil
			}
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

// logParams checks PodLogOptions from the query and turns them into the kubelet's parameters
// (the same names).
func logParams(q url.Values) (url.Values, error) {
	out := url.Values{}
	for _, b := range []string{"follow", "previous", "timestamps"} {
		if boolParam(q, b) {
			out.Set(b, "true")
		}
	}
	positive := func(name string, min int64) error {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min {
			return apierrors.NewBadRequest(fmt.Sprintf("%s: must be an integer of at least %d, got %q", name, min, v))
		}
		out.Set(name, v)
		return nil
	}
	for _, p := range []struct {
		name string
		min  int64
	}{{"sinceSeconds", 1}, {"tailLines", 0}, {"limitBytes", 1}} {
		if err := positive(p.name, p.min); err != nil {
			return nil, err
		}
	}
	if v := q.Get("sinceTime"); v != "" {
		if q.Get("sinceSeconds") != "" {
			return nil, apierrors.NewBadRequest("at most one of sinceTime or sinceSeconds may be specified")
		}
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("sinceTime %q: not an RFC 3339 time", v))
		}
		out.Set("sinceTime", v)
	}
	return out, nil
}

// maxKubeletErrorBody bounds how much of a kubelet's error answer is relayed.
const maxKubeletErrorBody = 4 << 10

// streamLog relays a container's log from the kubelet, flushing as it arrives when following.
func (k *kubeletClient) streamLog(ctx context.Context, w http.ResponseWriter, loc *url.URL, follow bool) error {
	if !follow {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return err
	}
	resp, err := k.transport.RoundTrip(req)
	if err != nil {
		return kubeletError(http.StatusInternalServerError, err.Error())
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxKubeletErrorBody))
		return kubeletError(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return nil // the client went away
			}
			if follow {
				_ = rc.Flush()
			}
		}
		if rerr != nil {
			return nil // the log ended, or the kubelet or client went away mid-stream
		}
	}
}

// kubeletError is a failure the kubelet reported, relayed with its own words, as
// kube-apiserver does ("Error from server: ..." in kubectl).
func kubeletError(code int, msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: int32(code), Message: msg}}
}

// upgrade relays an exec, attach or port-forward connection to the kubelet. The user's own
// credentials stay here: the kubelet sees the apiserver's client certificate only.
func (k *kubeletClient) upgrade(w http.ResponseWriter, r *http.Request, loc *url.URL, writeError func(http.ResponseWriter, error)) {
	proxy := &httputil.ReverseProxy{
		Transport: k.transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = loc
			pr.Out.Host = loc.Host
			for h := range pr.Out.Header {
				lh := strings.ToLower(h)
				if lh == "authorization" || lh == "cookie" || strings.HasPrefix(lh, "impersonate-") || strings.HasPrefix(lh, "x-remote-") {
					pr.Out.Header.Del(h)
				}
			}
		},
		// Mid-stream copy errors are clients or kubelets hanging up, which ends the session
		// anyway; they are not worth a line on standard error each.
		ErrorLog: log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, kubeletError(http.StatusBadGateway, fmt.Sprintf("error dialing backend: %v", err)))
		},
	}
	proxy.ServeHTTP(w, r)
}
