package config

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// HostInfo is what init takes from the machine when the configuration leaves it out.
type HostInfo struct {
	// Hostname is the lower-cased host name, the default node name.
	Hostname string
	// DefaultIP is the address of the interface holding the default route, the default
	// advertise address.
	DefaultIP net.IP
}

// DetectHost reads the host name and the default-route address of this machine. An error
// means one of them could not be found; the other may still be filled.
func DetectHost() (HostInfo, error) {
	var h HostInfo
	var errs []error
	name, err := os.Hostname()
	if err != nil {
		errs = append(errs, fmt.Errorf("read host name: %w", err))
	}
	h.Hostname = strings.ToLower(strings.TrimSpace(name))
	ip, err := defaultRouteIP("/proc/net/route")
	if err != nil {
		errs = append(errs, err)
	}
	h.DefaultIP = ip
	return h, errors.Join(errs...)
}

// defaultRouteIP returns the first global unicast IPv4 address of the interface that holds the
// default route, falling back to any global unicast address of an up, non-loopback interface.
func defaultRouteIP(routeFile string) (net.IP, error) {
	if iface := defaultRouteInterface(routeFile); iface != "" {
		if ifi, err := net.InterfaceByName(iface); err == nil {
			if ip := firstGlobal(ifi); ip != nil {
				return ip, nil
			}
		}
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	for i := range ifaces {
		ifi := &ifaces[i]
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		if ip := firstGlobal(ifi); ip != nil {
			return ip, nil
		}
	}
	return nil, errors.New("no default route and no global unicast address on this machine")
}

func defaultRouteInterface(routeFile string) string {
	f, err := os.Open(routeFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		// Iface Destination Gateway Flags ...; destination 00000000 is the default route.
		if len(fields) > 2 && fields[1] == "00000000" {
			return fields[0]
		}
	}
	return ""
}

func firstGlobal(ifi *net.Interface) net.IP {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil
	}
	var v6 net.IP
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || !n.IP.IsGlobalUnicast() {
			continue
		}
		if n.IP.To4() != nil {
			return n.IP.To4()
		}
		if v6 == nil {
			v6 = n.IP
		}
	}
	return v6
}
