// Package clientip derives the source address of a request: the TCP peer, or,
// when the peer is a trusted proxy, the nearest X-Forwarded-For item that is
// not a trusted proxy.
//
// Only X-Forwarded-For is read; X-Real-IP and Forwarded are ignored, and no
// address range (loopback and private ranges included) is trusted unless the
// operator names it.
package clientip

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParsePrefixes parses a comma-separated list of CIDR blocks, as given to
// -trusted-proxy and -ratelimit-exempt. Blanks around items are ignored and an
// empty or blank list gives nil. A bare address counts as a /32 or /128 block,
// and an IPv4-mapped IPv6 block of length 96 or more is read as the IPv4 block
// it maps. Empty items, zones, leading zeros and host bits set past the prefix
// length are refused with an error that names the item.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	items := strings.Split(list, ",")
	prefixes := make([]netip.Prefix, 0, len(items))
	for i, item := range items {
		item = strings.TrimSpace(item)
		p, err := parsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("clientip: item %d %q: %w", i+1, item, err)
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

// parsePrefix parses one item of a prefix list.
func parsePrefix(item string) (netip.Prefix, error) {
	if item == "" {
		return netip.Prefix{}, errors.New("empty item")
	}
	if !strings.Contains(item, "/") {
		a, err := netip.ParseAddr(item)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, errors.New("zones are not allowed")
		}
		return normalize(netip.PrefixFrom(a, a.BitLen())), nil
	}
	p, err := netip.ParsePrefix(item)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("host bits set past the prefix length (did you mean %s?)",
			p.Masked())
	}
	return normalize(p), nil
}

// normalize masks p and turns an IPv4-mapped IPv6 block into the IPv4 block
// it covers, because addresses are unmapped before they are looked up.
func normalize(p netip.Prefix) netip.Prefix {
	p = p.Masked()
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// Contains reports whether a falls in any of prefixes. The lists it serves
// are a handful of blocks, so a linear scan is the fastest structure.
func Contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolver derives the source address of requests from a fixed list of
// trusted proxies. It is safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// NewResolver returns a Resolver that believes the X-Forwarded-For headers of
// peers inside trusted. The list is copied; nil trusts no proxy.
func NewResolver(trusted []netip.Prefix) *Resolver {
	own := make([]netip.Prefix, 0, len(trusted))
	for _, p := range trusted {
		if p.IsValid() {
			own = append(own, normalize(p))
		}
	}
	return &Resolver{trusted: own}
}

// Trusted reports whether a is inside a trusted proxy block. Mapped
// addresses are unmapped and zones ignored first.
func (r *Resolver) Trusted(a netip.Addr) bool {
	return Contains(r.trusted, clean(a))
}

// Source is the source address of one request.
type Source struct {
	// Addr is the address the logon mask is checked against; it is invalid
	// when Known is false.
	Addr netip.Addr
	// Known is false when no trustworthy address can be derived: a trusted
	// proxy forwarded an item that is not an address, or the peer itself is
	// not an address.
	Known bool
	// Peer is the TCP peer, unmapped and without zone; rate limits key on it
	// when Known is false. It is invalid when RemoteAddr was not an address.
	Peer netip.Addr
	// ViaTrustedProxy reports that the peer is a trusted proxy.
	ViaTrustedProxy bool
}

// Key returns the string rate limits and logs should use: Addr when Known,
// else Peer, or "unknown" when neither is an address.
func (s Source) Key() string {
	switch {
	case s.Known:
		return s.Addr.String()
	case s.Peer.IsValid():
		return s.Peer.String()
	default:
		return "unknown"
	}
}

// String returns Addr, or "unknown" when Known is false.
func (s Source) String() string {
	if !s.Known {
		return "unknown"
	}
	return s.Addr.String()
}

// Resolve derives the source of a request from its RemoteAddr ("host:port",
// as in http.Request) and its headers.
//
// The source is the TCP peer unless the peer is a trusted proxy. Then the
// X-Forwarded-For headers, taken in order as one list, are walked from the
// right past trusted proxies; the first item that is not one is the source,
// and when every item is trusted the leftmost is. Empty items and headers are
// skipped, so a trusted peer with no item left is itself the source. When the
// item the walk stops at is not an address, Known is false.
func (r *Resolver) Resolve(remoteAddr string, h http.Header) Source {
	peer, ok := parseHostPort(remoteAddr)
	if !ok {
		return Source{}
	}
	src := Source{Addr: peer, Known: true, Peer: peer}
	if !Contains(r.trusted, peer) {
		return src
	}
	src.ViaTrustedProxy = true
	addr, ok, found := r.walk(h.Values("X-Forwarded-For"))
	switch {
	case !found:
		// No item at all: the trusted peer is the client.
	case !ok:
		src.Addr, src.Known = netip.Addr{}, false
	default:
		src.Addr = addr
	}
	return src
}

// walk returns the nearest untrusted item of the X-Forwarded-For values, or
// the leftmost when all are trusted. ok is false when that item is not an
// address; found is false when there is no item at all.
func (r *Resolver) walk(values []string) (addr netip.Addr, ok, found bool) {
	for i := len(values) - 1; i >= 0; i-- {
		rest := values[i]
		for rest != "" {
			var item string
			if cut := strings.LastIndexByte(rest, ','); cut >= 0 {
				rest, item = rest[:cut], rest[cut+1:]
			} else {
				rest, item = "", rest
			}
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			found = true
			a, parsed := parseItem(item)
			if !parsed {
				return netip.Addr{}, false, true
			}
			addr = a
			if !Contains(r.trusted, a) {
				return addr, true, true
			}
		}
	}
	return addr, found, found
}

// ForwardedHTTPS reports whether a trusted proxy said the request reached it
// over https: the peer is trusted and the nearest (rightmost) non-empty
// X-Forwarded-Proto item is "https", in any case.
func (r *Resolver) ForwardedHTTPS(remoteAddr string, h http.Header) bool {
	peer, ok := parseHostPort(remoteAddr)
	if !ok || !Contains(r.trusted, peer) {
		return false
	}
	values := h.Values("X-Forwarded-Proto")
	for i := len(values) - 1; i >= 0; i-- {
		items := strings.Split(values[i], ",")
		for j := len(items) - 1; j >= 0; j-- {
			if item := strings.TrimSpace(items[j]); item != "" {
				return strings.EqualFold(item, "https")
			}
		}
	}
	return false
}

// parseHostPort reads a RemoteAddr: "host:port", "[v6]:port", or a bare
// address for callers that set one without a port.
func parseHostPort(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return clean(a), true
}

// parseItem reads one X-Forwarded-For item: an address, an address with a
// port ("192.0.2.1:80", "[2001:db8::1]:80") or a bracketed IPv6 address.
func parseItem(item string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(item); err == nil {
		return clean(a), true
	}
	if ap, err := netip.ParseAddrPort(item); err == nil {
		return clean(ap.Addr()), true
	}
	inner, ok := strings.CutPrefix(item, "[")
	if inner, ok2 := strings.CutSuffix(inner, "]"); ok && ok2 {
		if a, err := netip.ParseAddr(inner); err == nil && a.Is6() {
			return clean(a), true
		}
	}
	return netip.Addr{}, false
}

// clean strips the zone and unmaps IPv4-mapped IPv6 addresses.
func clean(a netip.Addr) netip.Addr {
	return a.WithZone("").Unmap()
}
