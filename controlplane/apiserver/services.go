package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"kforge.dev/kforge/controlplane/apiserver/allocator"
)

// serviceHooks allocate a Service's cluster IP and node ports when it is written and free them
// when it is deleted, as kube-apiserver's service registry does.
type serviceHooks struct {
	ips   *allocator.IPRange
	ports *allocator.PortRange
}

func serviceInvalid(svc *corev1.Service, errs field.ErrorList) error {
	return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name, errs)
}

func owner(svc *corev1.Service) string { return svc.Namespace + "/" + svc.Name }

func needsNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// BeforeCreate gives the Service its cluster IP (the one asked for, or a free one) and node ports.
func (h *serviceHooks) BeforeCreate(ctx context.Context, obj runtime.Object, dryRun bool) (func(), error) {
	svc := obj.(*corev1.Service)
	var undo []func()
	rollback := func() {
		for _, u := range undo {
			u()
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "", nil
		return nil, nil
	}
	if err := h.allocateIP(ctx, svc, dryRun, &undo); err != nil {
		rollback()
		return nil, err
	}
	if needsNodePorts(svc) {
		for i := range svc.Spec.Ports {
			if err := h.allocatePort(ctx, svc, i, dryRun, &undo); err != nil {
				rollback()
				return nil, err
			}
		}
	}
	return rollback, nil
}

func (h *serviceHooks) allocateIP(ctx context.Context, svc *corev1.Service, dryRun bool, undo *[]func()) error {
	p := field.NewPath("spec", "clusterIPs").Index(0)
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
		return nil
	}
	var ip net.IP
	if svc.Spec.ClusterIP != "" {
		ip = net.ParseIP(svc.Spec.ClusterIP)
		if ip == nil {
			return serviceInvalid(svc, field.ErrorList{field.Invalid(p, svc.Spec.ClusterIP, "must be a valid IP address")})
		}
		if !h.ips.CIDR().Contains(ip) {
			return serviceInvalid(svc, field.ErrorList{field.Invalid(p, svc.Spec.ClusterIP,
				fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, ip, h.ips.CIDR()))})
		}
		if !dryRun {
			if err := h.ips.Allocate(ctx, ip, owner(svc)); err != nil {
				if errors.Is(err, allocator.ErrAllocated) {
					return serviceInvalid(svc, field.ErrorList{field.Invalid(p, svc.Spec.ClusterIP, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", ip))})
				}
				return apierrors.NewInternalError(err)
			}
			*undo = append(*undo, func() { h.ips.Release(context.WithoutCancel(ctx), ip) })
		}
	} else if !dryRun {
		var err error
		if ip, err = h.ips.AllocateNext(ctx, owner(svc)); err != nil {
			if errors.Is(err, allocator.ErrFull) {
				return apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: range %s is full", h.ips.CIDR()))
			}
			return apierrors.NewInternalError(err)
		}
		*undo = append(*undo, func() { h.ips.Release(context.WithoutCancel(ctx), ip) })
	}
	if ip != nil {
		svc.Spec.ClusterIP = ip.String()
		svc.Spec.ClusterIPs = []string{ip.String()}
		family := corev1.IPv4Protocol
		if ip.To4() == nil {
			family = corev1.IPv6Protocol
		}
		svc.Spec.IPFamilies = []corev1.IPFamily{family}
		single := corev1.IPFamilyPolicySingleStack
		svc.Spec.IPFamilyPolicy = &single
	}
	return nil
}

func (h *serviceHooks) allocatePort(ctx context.Context, svc *corev1.Service, i int, dryRun bool, undo *[]func()) error {
	port := &svc.Spec.Ports[i]
	p := field.NewPath("spec", "ports").Index(i).Child("nodePort")
	if dryRun {
		return nil
	}
	if port.NodePort != 0 {
		n := int(port.NodePort)
		if err := h.ports.Allocate(ctx, n, owner(svc)); err != nil {
			msg := fmt.Sprintf("provided port is already allocated")
			if errors.Is(err, allocator.ErrNotInRange) {
				msg = fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", h.ports.Base, h.ports.Base+h.ports.Size-1)
			} else if !errors.Is(err, allocator.ErrAllocated) {
				return apierrors.NewInternalError(err)
			}
			return serviceInvalid(svc, field.ErrorList{field.Invalid(p, port.NodePort, msg)})
		}
		*undo = append(*undo, func() { h.ports.Release(context.WithoutCancel(ctx), n) })
		return nil
	}
	n, err := h.ports.AllocateNext(ctx, owner(svc))
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %w", err))
	}
	port.NodePort = int32(n)
	*undo = append(*undo, func() { h.ports.Release(context.WithoutCancel(ctx), n) })
	return nil
}

// BeforeUpdate keeps the cluster IP (immutable once set) and gives new node ports.
func (h *serviceHooks) BeforeUpdate(ctx context.Context, obj, oldObj runtime.Object, dryRun bool) (func(), error) {
	svc, old := obj.(*corev1.Service), oldObj.(*corev1.Service)
	if svc.Spec.Type != corev1.ServiceTypeExternalName && old.Spec.Type != corev1.ServiceTypeExternalName {
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = old.Spec.ClusterIP
		}
		if len(svc.Spec.ClusterIPs) == 0 {
			svc.Spec.ClusterIPs = old.Spec.ClusterIPs
		}
		if svc.Spec.ClusterIP != old.Spec.ClusterIP {
			return nil, serviceInvalid(svc, field.ErrorList{field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), svc.Spec.ClusterIP, "may not change once set")})
		}
		if len(svc.Spec.IPFamilies) == 0 {
			svc.Spec.IPFamilies = old.Spec.IPFamilies
		}
		if svc.Spec.IPFamilyPolicy == nil {
			svc.Spec.IPFamilyPolicy = old.Spec.IPFamilyPolicy
		}
	}
	var undo []func()
	rollback := func() {
		for _, u := range undo {
			u()
		}
	}
	if old.Spec.Type == corev1.ServiceTypeExternalName && svc.Spec.Type != corev1.ServiceTypeExternalName {
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "", nil
		if err := h.allocateIP(ctx, svc, dryRun, &undo); err != nil {
			rollback()
			return nil, err
		}
	}
	if needsNodePorts(svc) {
		held := map[int32]bool{}
		if needsNodePorts(old) {
			for _, p := range old.Spec.Ports {
				held[p.NodePort] = true
			}
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort == 0 {
				// Keep the node port of the same port, as kube-apiserver does.
				for _, op := range old.Spec.Ports {
					if op.Port == p.Port && op.Protocol == p.Protocol && op.NodePort != 0 && needsNodePorts(old) {
						p.NodePort = op.NodePort
					}
				}
			}
			if p.NodePort != 0 && held[p.NodePort] {
				continue
			}
			if err := h.allocatePort(ctx, svc, i, dryRun, &undo); err != nil {
				rollback()
				return nil, err
			}
		}
	} else {
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = 0
		}
	}
	return rollback, nil
}

// AfterUpdate frees the node ports and IP the updated Service no longer uses.
func (h *serviceHooks) AfterUpdate(ctx context.Context, obj, oldObj runtime.Object) {
	svc, old := obj.(*corev1.Service), oldObj.(*corev1.Service)
	used := map[int32]bool{}
	for _, p := range svc.Spec.Ports {
		used[p.NodePort] = true
	}
	for _, p := range old.Spec.Ports {
		if p.NodePort != 0 && !used[p.NodePort] {
			h.ports.Release(ctx, int(p.NodePort))
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName && old.Spec.ClusterIP != "" && old.Spec.ClusterIP != corev1.ClusterIPNone {
		h.ips.Release(ctx, net.ParseIP(old.Spec.ClusterIP))
	}
}

// AfterDelete frees the Service's IP and node ports.
func (h *serviceHooks) AfterDelete(ctx context.Context, obj runtime.Object) {
	svc := obj.(*corev1.Service)
	if ip := net.ParseIP(svc.Spec.ClusterIP); ip != nil {
		h.ips.Release(ctx, ip)
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			h.ports.Release(ctx, int(p.NodePort))
		}
	}
}
