package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/watch"

	"kforge.dev/kforge/controlplane/storage"
)

// minWatchTimeout is kube-apiserver's --min-request-timeout: a watch without timeoutSeconds
// ends after a random time between it and twice it, so clients spread their reconnects.
const minWatchTimeout = 30 * time.Minute

// watch streams events as newline-delimited metav1.WatchEvent JSON objects, flushed one by one
// (chunked over HTTP/1.1, data frames over HTTP/2).
func (a *API) watch(w http.ResponseWriter, r *http.Request, res *resource, ri requestInfo) error {
	q := r.URL.Query()
	lo, err := listOptions(q)
	if err != nil {
		return err
	}
	if lo.Predicate.Field != nil {
		if err := a.checkFieldSelector(res, lo.Predicate.Field); err != nil {
			return err
		}
	}
	opts := storage.WatchOptions{ResourceVersion: lo.ResourceVersion, Predicate: lo.Predicate, AllowBookmarks: boolParam(q, "allowWatchBookmarks")}
	if v := q.Get("sendInitialEvents"); v != "" {
		b := v == "true"
		opts.SendInitialEvents = &b
		if b && lo.ResourceVersionMatch != metav1.ResourceVersionMatchNotOlderThan {
			return apierrors.NewBadRequest("sendInitialEvents requires resourceVersionMatch=NotOlderThan")
		}
	}
	if ri.name != "" {
		return apierrors.NewBadRequest("watch of a single object: use fieldSelector=metadata.name=<name> on the collection")
	}
	timeout := minWatchTimeout + time.Duration(rand.Int64N(int64(minWatchTimeout)))
	if t := q.Get("timeoutSeconds"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 0 {
			return apierrors.NewBadRequest("invalid timeoutSeconds " + t)
		}
		timeout = time.Duration(n) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	wi, err := res.store.Watch(ctx, ri.namespace, opts)
	if err != nil {
		return err
	}
	defer wi.Stop()
	asTable := wantsTable(r)
	proto := !asTable && wantsProtobuf(r)
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	var frames io.Writer
	if proto {
		// A protobuf watch is a stream of length-prefixed WatchEvent messages whose objects are
		// themselves protobuf-encoded, as client-go's streaming decoder expects.
		w.Header().Set("Content-Type", mediaProtobuf+";stream=watch")
		frames = protobuf.LengthDelimitedFramer.NewFrameWriter(w)
	}
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return nil
			}
			obj := ev.Object
			if asTable && (ev.Type == watch.Added || ev.Type == watch.Modified || ev.Type == watch.Deleted) {
				t, err := a.table(r, res, []runtime.Object{obj})
				if err != nil {
					return nil
				}
				t.TypeMeta = metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "Table"}
				obj = t
			}
			if proto {
				raw, err := a.encodeProtobuf(obj)
				if err != nil {
					return nil
				}
				var buf bytes.Buffer
				if err := a.codecs.raw.Encode(&metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: raw}}, &buf); err != nil {
					return nil
				}
				if _, err := frames.Write(buf.Bytes()); err != nil {
					return nil // client went away
				}
			} else {
				raw, err := json.Marshal(a.typed(obj))
				if err != nil {
					return nil
				}
				if err := enc.Encode(&metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: raw}}); err != nil {
					return nil // client went away
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}
