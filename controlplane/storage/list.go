package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ListOptions are the list parameters of the Kubernetes API that storage honours.
type ListOptions struct {
	// ResourceVersion and ResourceVersionMatch follow the API's semantics: "" is a consistent
	// (latest) read, "0" any version, N with Exact that very revision, N otherwise at least N.
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch
	// Limit and Continue paginate; pages of one list all read the same revision.
	Limit    int64
	Continue string
	// Predicate filters the items.
	Predicate Predicate
}

// continueToken is what a paginated list hands back: where to resume and at which revision,
// so every page reads the same snapshot.
type continueToken struct {
	APIVersion string `json:"v"`
	RV         int64  `json:"rv"`
	Start      string `json:"start"`
}

func encodeContinue(key, keyPrefix string, rv int64) (string, error) {
	b, err := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", RV: rv, Start: strings.TrimPrefix(key, keyPrefix)})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeContinue(token, keyPrefix string) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", 0, fmt.Errorf("continue key is not valid: %v", err)
	}
	var c continueToken
	if err := json.Unmarshal(b, &c); err != nil || c.APIVersion != "meta.k8s.io/v1" || c.RV <= 0 {
		return "", 0, fmt.Errorf("continue key is not valid")
	}
	if strings.Contains(c.Start, "..") || strings.HasPrefix(c.Start, "/") {
		return "", 0, fmt.Errorf("continue key is not valid: invalid start")
	}
	return keyPrefix + c.Start, c.RV, nil
}

// ParseResourceVersion reads a resourceVersion parameter; "" is 0.
func ParseResourceVersion(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q: must be a non-negative integer", rv))
	}
	return n, nil
}

// List reads the objects under keyPrefix into listObj (a *XxxList), straight from etcd.
func (s *Store) List(ctx context.Context, keyPrefix string, opts ListOptions, listObj runtime.Object) error {
	listPtr, err := meta.GetItemsPtr(listObj)
	if err != nil {
		return err
	}
	items, err := conversion.EnforcePtr(listPtr)
	if err != nil {
		return err
	}
	start := keyPrefix
	var rev int64
	if opts.Continue != "" {
		if opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
			return apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
		}
		if start, rev, err = decodeContinue(opts.Continue, keyPrefix); err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
	} else if opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact {
		if rev, err = ParseResourceVersion(opts.ResourceVersion); err != nil {
			return err
		}
		if rev == 0 {
			return apierrors.NewBadRequest(`resourceVersionMatch "Exact" needs a resourceVersion other than 0`)
		}
	}
	end := clientv3.GetPrefixRangeEnd(keyPrefix)
	pageSize := opts.Limit
	if pageSize <= 0 || pageSize > 10000 {
		pageSize = 10000
	}
	var lastKey string
	more := false
	for {
		getOpts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(pageSize)}
		if rev > 0 {
			getOpts = append(getOpts, clientv3.WithRev(rev))
		}
		resp, err := s.client.Get(ctx, start, getOpts...)
		if err != nil {
			if opts.Continue != "" && isCompacted(err) {
				return apierrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.")
			}
			return s.etcdError(err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			obj := s.newFunc()
			if err := s.decodeStored(ctx, string(kv.Key), kv.Value, kv.ModRevision, obj); err != nil {
				return err
			}
			ok, err := opts.Predicate.Matches(obj)
			if err != nil {
				return err
			}
			lastKey = string(kv.Key)
			if ok {
				items.Set(reflectAppend(items, obj))
			}
			if opts.Limit > 0 && int64(items.Len()) >= opts.Limit {
				break
			}
		}
		if opts.Limit > 0 && int64(items.Len()) >= opts.Limit {
			// Are there keys after the last one returned?
			next := lastKey + "\x00"
			r, err := s.client.Get(ctx, next, clientv3.WithRange(end), clientv3.WithRev(rev), clientv3.WithCountOnly())
			if err != nil {
				return s.etcdError(err)
			}
			more = r.Count > 0
			break
		}
		if !resp.More {
			break
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	lm, err := meta.ListAccessor(listObj)
	if err != nil {
		return err
	}
	lm.SetResourceVersion(strconv.FormatInt(rev, 10))
	lm.SetContinue("")
	if more {
		token, err := encodeContinue(lastKey+"\x00", keyPrefix, rev)
		if err != nil {
			return err
		}
		lm.SetContinue(token)
	}
	return nil
}

func isCompacted(err error) bool {
	return err != nil && strings.Contains(err.Error(), "required revision has been compacted")
}
