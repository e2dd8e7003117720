package mask

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// u128 is an address as a number, IPv4 in the low 32 bits.
type u128 struct{ hi, lo uint64 }

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{lo: uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
}

func (u u128) addr(is4 bool) netip.Addr {
	if is4 {
		// An IPv4 address fills the low 32 bits of lo.
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], u.lo)
		return netip.AddrFrom4([4]byte(b[4:]))
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

// lowOnes returns a number with its n lowest bits set, n from 0 to 128.
func lowOnes(n int) u128 {
	switch {
	case n >= 128:
		return u128{^uint64(0), ^uint64(0)}
	case n >= 64:
		return u128{hi: 1<<(n-64) - 1, lo: ^uint64(0)}
	}
	return u128{lo: 1<<n - 1}
}

func (u u128) or(v u128) u128 { return u128{u.hi | v.hi, u.lo | v.lo} }

func (u u128) less(v u128) bool { return u.hi < v.hi || u.hi == v.hi && u.lo < v.lo }

func (u u128) next() u128 {
	lo, carry := bits.Add64(u.lo, 1, 0)
	return u128{u.hi + carry, lo}
}

func (u u128) trailingZeros() int {
	if u.lo != 0 {
		return bits.TrailingZeros64(u.lo)
	}
	return 64 + bits.TrailingZeros64(u.hi)
}

// appendCover appends the fewest blocks that together hold exactly the
// addresses from a to b, a <= b, both of one family: at each step the
// largest aligned block that starts at a and ends at or before b.
func appendCover(dst []netip.Prefix, a, b netip.Addr) []netip.Prefix {
	is4, width := a.Is4(), a.BitLen()
	lo, hi := toU128(a), toU128(b)
	for {
		host := min(lo.trailingZeros(), width)
		for host > 0 && hi.less(lo.or(lowOnes(host))) {
			host--
		}
		dst = append(dst, netip.PrefixFrom(lo.addr(is4), width-host))
		last := lo.or(lowOnes(host))
		if last == hi {
			return dst
		}
		lo = last.next()
	}
}

// bounds returns the first and last address of p as numbers.
func bounds(p netip.Prefix) (first, last u128) {
	first = toU128(p.Addr())
	return first, first.or(lowOnes(p.Addr().BitLen() - p.Bits()))
}

// coversAll reports whether sorted, disjoint prefixes of one family hold
// every address of that family.
func coversAll(recs []rec) bool {
	if len(recs) == 0 {
		return false
	}
	want := u128{}
	top := lowOnes(recs[0].p.Addr().BitLen())
	for _, r := range recs {
		first, last := bounds(r.p)
		if first != want {
			return false
		}
		if last == top {
			return true
		}
		want = last.next()
	}
	return false
}
