package mask

import (
	"net/netip"
	"strconv"
	"strings"
)

// parseAddr parses one IPv4 or IPv6 address, strictly: no zone, no
// leading zeros or signs in IPv4 numbers. IPv4-mapped IPv6 addresses are
// returned as written; the caller unmaps them.
func parseAddr(s string) (netip.Addr, *fault) {
	s = trimBlank(s)
	if base, zone, ok := strings.Cut(s, "%"); ok {
		if _, f := parseAddr(base); f != nil {
			return netip.Addr{}, f
		}
		return netip.Addr{}, newFault(KindZone, "has a zone (%%%s), which means something "+
			"only on one machine; remove %%%s.", zone, zone)
	}
	if strings.Contains(s, ":") {
		return parseIPv6(s)
	}
	return parseIPv4(s)
}

// octet kinds, from the way a dotted-quad number is written.
const (
	octetPlain   = iota // 0, or digits without a leading zero
	octetZero           // digits with a leading zero: 010
	octetPlus           // a plus sign and digits: +10
	octetAmbig          // a minus sign and digits, or hexadecimal: -1, 0x0a
	octetInvalid        // anything else
)

// classifyOctet says how one number of a dotted quad is written and, when
// it can be read as decimal, its value (-1 when above 255).
func classifyOctet(s string) (kind, value int) {
	kind = octetPlain
	switch {
	case s == "":
		return octetInvalid, 0
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2:]):
		return octetAmbig, 0
	case s[0] == '-':
		kind, s = octetAmbig, s[1:]
	case s[0] == '+':
		kind, s = octetPlus, s[1:]
	case len(s) > 1 && s[0] == '0':
		kind = octetZero
	}
	if !isDigits(s) {
		return octetInvalid, 0
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 3 {
		return kind, -1
	}
	n, _ := strconv.Atoi("0" + s)
	if n > 255 {
		return kind, -1
	}
	return kind, n
}

// parseIPv4 parses a dotted quad and tells leading zeros and signs apart
// from text that is no address at all.
func parseIPv4(s string) (netip.Addr, *fault) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, notAddress(s)
	}
	var kinds, values [4]int
	for i, part := range parts {
		kinds[i], values[i] = classifyOctet(part)
		if kinds[i] == octetInvalid {
			return netip.Addr{}, notAddress(s)
		}
	}
	if max(kinds[0], kinds[1], kinds[2], kinds[3]) != octetPlain {
		return netip.Addr{}, leadingZero(s, kinds, values)
	}
	var b [4]byte
	for i, v := range values {
		if v < 0 || v > 255 {
			return netip.Addr{}, newFault(KindNotAddress, "has a number above 255; "+
				"each of the four numbers of an IPv4 address is 0 to 255.")
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), nil
}

// leadingZero explains a leading zero or sign, suggesting the decimal
// reading when there is one.
func leadingZero(s string, kinds, values [4]int) *fault {
	const why = "has a number written with a leading zero or a sign, which some " +
		"systems read as octal or hexadecimal"
	var fixed [4]byte
	for i, k := range kinds {
		v := values[i]
		if k == octetAmbig || v < 0 || v > 255 {
			return newFault(KindLeadingZero, "%s; write each number in plain decimal, "+
				"0 to 255, with no sign.", why)
		}
		fixed[i] = byte(v)
	}
	return newFault(KindLeadingZero, "%s; write %s rather than %s.", why, netip.AddrFrom4(fixed), s)
}

// parseIPv6 parses an IPv6 address, with the IPv4 tail of a mapped
// address held to the IPv4 rules.
func parseIPv6(s string) (netip.Addr, *fault) {
	head, tail := s[:strings.LastIndexByte(s, ':')+1], s[strings.LastIndexByte(s, ':')+1:]
	if strings.Contains(tail, ".") {
		_, f := parseIPv4(tail)
		// The tail's leading zero is the problem only if the rest is sound.
		if _, err := netip.ParseAddr(head + "0.0.0.0"); f != nil && err == nil &&
			f.kind == KindLeadingZero {
			return netip.Addr{}, f
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, notAddress(s)
	}
	return a, nil
}

// parseBlock parses addr/bits. An IPv4-mapped block of /96 or longer
// becomes the IPv4 block it maps.
func parseBlock(addrText, bitsText string) (netip.Prefix, *fault) {
	if trimBlank(addrText) == "" {
		return netip.Prefix{}, newFault(KindNotAddress, "has no address before the /; "+
			"write a block such as 198.51.100.0/24.")
	}
	a, f := parseAddr(addrText)
	if f != nil {
		return netip.Prefix{}, f
	}
	bits, f := parseBits(trimBlank(bitsText), a.BitLen())
	if f != nil {
		return netip.Prefix{}, f
	}
	p := netip.PrefixFrom(a, bits)
	if a.Is4In6() && bits >= 96 {
		p = netip.PrefixFrom(a.Unmap(), bits-96)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, newFault(KindHostBits, "has address bits set past its "+
			"prefix length /%d; write %s for the whole block, or %s for the one address.",
			p.Bits(), m, p.Addr())
	}
	return p, nil
}

// parseBits parses a prefix length of at most maxBits.
func parseBits(s string, maxBits int) (int, *fault) {
	switch {
	case s == "":
		return 0, newFault(KindPrefixLength, "has no prefix length after the /; write one, "+
			"as in 198.51.100.0/24, or drop the / for a single address.")
	case (s[0] == '+' || s[0] == '-') && isDigits(s[1:]):
		return 0, newFault(KindLeadingZero, "has a sign in its prefix length; write the "+
			"length as a plain number from 0 to %d.", maxBits)
	case isDigits(s) && len(s) > 1 && s[0] == '0':
		return 0, newFault(KindLeadingZero, "has a prefix length with a leading zero; "+
			"write /%s rather than /%s.", strings.TrimLeft(s[:len(s)-1], "0")+s[len(s)-1:], s)
	case isDigits(s):
		n, err := strconv.Atoi(s)
		if err != nil || n > maxBits {
			return 0, newFault(KindPrefixLength, "has a prefix length past /%d, the "+
				"longest this address family allows; write a length from 0 to %d.",
				maxBits, maxBits)
		}
		return n, nil
	}
	if m, err := netip.ParseAddr(s); err == nil && m.Is4() {
		return 0, newFault(KindPrefixLength, "gives a netmask where a prefix length "+
			"belongs; write the number of leading one bits, as in /24 for 255.255.255.0.")
	}
	return 0, newFault(KindNotAddress, "has a prefix length that is not a number; write "+
		"a whole number from 0 to %d after the /.", maxBits)
}

// appendRange parses start-end and appends the fewest blocks that cover
// exactly that range.
func appendRange(dst []netip.Prefix, start, end string) ([]netip.Prefix, *fault) {
	start, end = trimBlank(start), trimBlank(end)
	if start == "" || end == "" {
		return dst, newFault(KindNotAddress, "is a range with a missing end; write both "+
			"ends in full, as in 198.51.100.1-198.51.100.6.")
	}
	a, f := parseAddr(start)
	if f != nil {
		return dst, f
	}
	b, f := parseAddr(end)
	if f != nil {
		return dst, f
	}
	a, b = a.Unmap(), b.Unmap()
	switch {
	case a.Is4() != b.Is4():
		return dst, newFault(KindNotAddress, "starts and ends in different address "+
			"families; a range runs from IPv4 to IPv4 or from IPv6 to IPv6.")
	case b.Less(a):
		return dst, newFault(KindRangeOrder, "ends before it starts; write %s-%s.", b, a)
	}
	return appendCover(dst, a, b), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if (s[i] < '0' || s[i] > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}
