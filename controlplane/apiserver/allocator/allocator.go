// Package allocator hands out Service cluster IPs and node ports. Each taken value is an etcd
// key created only if absent, so several apiservers allocate from the same range without
// handing out a value twice, and a value is free again when its key is deleted.
package allocator

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrFull is returned when no value is left in a range.
var ErrFull = errors.New("range is full")

// ErrAllocated is returned when a requested value is taken.
var ErrAllocated = errors.New("provided value is already allocated")

// ErrNotInRange is returned when a requested value is outside the range.
var ErrNotInRange = errors.New("provided value is not in the valid range")

// pool is a range of n values, value i named by name(i), kept under prefix in etcd.
type pool struct {
	client *clientv3.Client
	prefix string
	n      int
	name   func(i int) string
}

func (p *pool) key(v string) string { return p.prefix + v }

// take claims value v for owner; ErrAllocated when someone has it.
func (p *pool) take(ctx context.Context, v, owner string) error {
	k := p.key(v)
	resp, err := p.client.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).Then(clientv3.OpPut(k, owner)).Commit()
	if err != nil {
		return fmt.Errorf("allocate %s: %w", v, err)
	}
	if !resp.Succeeded {
		return ErrAllocated
	}
	return nil
}

// next claims a free value, starting at a random offset so concurrent allocators rarely race.
func (p *pool) next(ctx context.Context, owner string) (string, error) {
	if p.n <= 0 {
		return "", ErrFull
	}
	start := rand.IntN(p.n)
	for i := 0; i < p.n; i++ {
		v := p.name((start + i) % p.n)
		err := p.take(ctx, v, owner)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, ErrAllocated) {
			return "", err
		}
	}
	return "", ErrFull
}

func (p *pool) release(ctx context.Context, v string) error {
	_, err := p.client.Delete(ctx, p.key(v))
	return err
}

// IPRange allocates service cluster IPs from a CIDR (the network and broadcast addresses are
// never handed out).
type IPRange struct {
	cidr *net.IPNet
	pool pool
}

// NewIPRange returns the allocator of the service CIDR cidr (the first one of a dual-stack list).
func NewIPRange(client *clientv3.Client, cidr string) (*IPRange, error) {
	first := strings.TrimSpace(strings.Split(cidr, ",")[0])
	_, n, err := net.ParseCIDR(first)
	if err != nil {
		return nil, fmt.Errorf("service cluster IP range %q: %w", cidr, err)
	}
	ones, bits := n.Mask.Size()
	if bits-ones > 24 {
		return nil, fmt.Errorf("service cluster IP range %s is too large (at most 24 host bits)", n)
	}
	size := 1<<(bits-ones) - 2
	base := new(big.Int).SetBytes(n.IP.To16())
	r := &IPRange{cidr: n}
	r.pool = pool{client: client, prefix: "/registry/kforge/serviceips/", n: size, name: func(i int) string {
		ip := new(big.Int).Add(base, big.NewInt(int64(i+1))).Bytes()
		out := make(net.IP, 16)
		copy(out[16-len(ip):], ip)
		if n.IP.To4() != nil {
			return out.To4().String()
		}
		return out.String()
	}}
	return r, nil
}

// CIDR is the range.
func (r *IPRange) CIDR() *net.IPNet { return r.cidr }

// Allocate claims ip; ErrNotInRange or ErrAllocated when it cannot be had.
func (r *IPRange) Allocate(ctx context.Context, ip net.IP, owner string) error {
	if ip == nil || !r.cidr.Contains(ip) {
		return ErrNotInRange
	}
	return r.pool.take(ctx, ip.String(), owner)
}

// AllocateNext claims any free IP.
func (r *IPRange) AllocateNext(ctx context.Context, owner string) (net.IP, error) {
	v, err := r.pool.next(ctx, owner)
	if err != nil {
		return nil, err
	}
	return net.ParseIP(v), nil
}

// Release frees ip.
func (r *IPRange) Release(ctx context.Context, ip net.IP) error {
	return r.pool.release(ctx, ip.String())
}

// PortRange allocates node ports.
type PortRange struct {
	Base, Size int
	pool       pool
}

// NewPortRange returns the allocator of ports base..base+size-1 (kube's default 30000-32767).
func NewPortRange(client *clientv3.Client, base, size int) *PortRange {
	r := &PortRange{Base: base, Size: size}
	r.pool = pool{client: client, prefix: "/registry/kforge/nodeports/", n: size, name: func(i int) string { return strconv.Itoa(base + i) }}
	return r
}

// Allocate claims port.
func (r *PortRange) Allocate(ctx context.Context, port int, owner string) error {
	if port < r.Base || port >= r.Base+r.Size {
		return ErrNotInRange
	}
	return r.pool.take(ctx, strconv.Itoa(port), owner)
}

// AllocateNext claims any free port.
func (r *PortRange) AllocateNext(ctx context.Context, owner string) (int, error) {
	v, err := r.pool.next(ctx, owner)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

// Release frees port.
func (r *PortRange) Release(ctx context.Context, port int) error {
	return r.pool.release(ctx, strconv.Itoa(port))
}
