package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
)

// Bounds of the client-certificate verification cache: entries live at most verifyCacheTTL
// (and never past a certificate's expiry), and at most verifyCacheSize chains are kept.
const (
	verifyCacheTTL  = 5 * time.Minute
	verifyCacheSize = 4096
)

// verifyCache remembers client certificate chains that verified against one fixed root pool, so
// a client sending many requests pays for the signature checks once rather than on every
// request (they were a tenth of a small GET's CPU). Only successes are kept, and each only
// until the earliest expiry in its chain, so an expired certificate is refused on time; a
// clock that moves backwards makes the entry be checked again.
type verifyCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedChain
}

type verifiedChain struct {
	at, until time.Time
	leaf      *x509.Certificate
}

// verify is verifyClientCert with the cache in front; roots must be the same pool on every call.
func (c *verifyCache) verify(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) (*x509.Certificate, error) {
	key, ok := chainDigest(chain)
	if !ok {
		return verifyClientCert(chain, roots, now)
	}
	c.mu.Lock()
	e, hit := c.entries[key]
	c.mu.Unlock()
	if hit && !now.Before(e.at) && now.Before(e.until) {
		return e.leaf, nil
	}
	leaf, until, err := verifyClientCertUntil(chain, roots, now)
	if err != nil {
		return nil, err
	}
	if limit := now.Add(verifyCacheTTL); until.After(limit) {
		until = limit
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[[sha256.Size]byte]verifiedChain{}
	}
	if len(c.entries) >= verifyCacheSize {
		for k, v := range c.entries {
			if !now.Before(v.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= verifyCacheSize {
			clear(c.entries)
		}
	}
	c.entries[key] = verifiedChain{at: now, until: until, leaf: leaf}
	return leaf, nil
}

// chainDigest identifies a presented chain by the hash of its certificates' DER, each prefixed
// by its length so different splits of the same bytes differ.
func chainDigest(chain []*x509.Certificate) ([sha256.Size]byte, bool) {
	h := sha256.New()
	var n [8]byte
	for _, c := range chain {
		if c == nil {
			return [sha256.Size]byte{}, false
		}
		binary.BigEndian.PutUint64(n[:], uint64(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out, true
}
