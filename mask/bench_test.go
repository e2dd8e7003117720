package mask

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/gaissmai/bart"
)

// randomPrefix returns a random global-looking prefix, half of them IPv4
// (addresses and /16 to /28 blocks) and half IPv6 (addresses and /32 to /64
// blocks), as masks of many sites hold.
func randomPrefix(r *rand.Rand) netip.Prefix {
	if r.IntN(2) == 0 {
		var b [4]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		bits := []int{16, 20, 24, 24, 28, 32, 32, 32}[r.IntN(8)]
		return netip.PrefixFrom(netip.AddrFrom4(b), bits).Masked()
	}
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[0] = 0x20 | b[0]&0x1f // 2000::/3, global unicast
	bits := []int{32, 48, 48, 56, 64, 64, 128, 128}[r.IntN(8)]
	return netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked()
}

// randomPrefixes returns n random prefixes of which none overlaps another,
// so that a mask of them keeps all n.
func randomPrefixes(r *rand.Rand, n int) []netip.Prefix {
	var seen bart.Lite
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		p := randomPrefix(r)
		if seen.OverlapsPrefix(p) {
			continue
		}
		seen.Insert(p)
		out = append(out, p)
	}
	return out
}

// randomAddrIn returns a random address inside p.
func randomAddrIn(r *rand.Rand, p netip.Prefix) netip.Addr {
	first, _ := bounds(p)
	host := lowOnes(p.Addr().BitLen() - p.Bits())
	noise := u128{hi: r.Uint64() & host.hi, lo: r.Uint64() & host.lo}
	return first.or(noise).addr(p.Addr().Is4())
}

// maskText writes prefixes as mask text, one a line.
func maskText(prefixes []netip.Prefix) string {
	var b strings.Builder
	for _, p := range prefixes {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// checkFixture is the shared setup of the check benchmarks: a mask of n
// random entries and 4,096 random addresses, each inside a random entry.
type checkFixture struct {
	prefixes []netip.Prefix
	table    *Table
	addrs    []netip.Addr
}

const fixtureAddrs = 4096

func newCheckFixture(tb testing.TB, n int) checkFixture {
	tb.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 7))
	prefixes := randomPrefixes(r, n)
	m, err := Parse(maskText(prefixes))
	if err != nil {
		tb.Fatal(err)
	}
	if m.Len() != n {
		tb.Fatalf("mask holds %d entries, want %d", m.Len(), n)
	}
	addrs := make([]netip.Addr, fixtureAddrs)
	for i := range addrs {
		addrs[i] = randomAddrIn(r, prefixes[r.IntN(n)])
	}
	return checkFixture{prefixes: prefixes, table: m.Table(), addrs: addrs}
}

var benchSizes = []int{1, 100, 1000, 10000}

// BenchmarkMaskCheck measures Table.Lookup, which names the entry matched.
func BenchmarkMaskCheck(b *testing.B) {
	for _, n := range benchSizes {
		fx := newCheckFixture(b, n)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			bits, i := 0, 0
			for b.Loop() {
				e, ok := fx.table.Lookup(fx.addrs[i%fixtureAddrs])
				if !ok {
					b.Fatalf("%s not matched", fx.addrs[i%fixtureAddrs])
				}
				bits += e.Prefix.Bits()
				i++
			}
			runtime.KeepAlive(bits)
		})
	}
}

// BenchmarkMaskScanLinear is the baseline: a scan of the same entries, in
// the order typed, with netip.Prefix.Contains.
func BenchmarkMaskScanLinear(b *testing.B) {
	for _, n := range benchSizes {
		fx := newCheckFixture(b, n)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			bits, i := 0, 0
			for b.Loop() {
				p, ok := scanLinear(fx.prefixes, fx.addrs[i%fixtureAddrs])
				if !ok {
					b.Fatalf("%s not matched", fx.addrs[i%fixtureAddrs])
				}
				bits += p.Bits()
				i++
			}
			runtime.KeepAlive(bits)
		})
	}
}

func scanLinear(prefixes []netip.Prefix, a netip.Addr) (netip.Prefix, bool) {
	for _, p := range prefixes {
		if p.Contains(a) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// memoryShapes are the two shapes the memory goal is measured over: many
// accounts with long masks, and very many accounts with short ones.
var memoryShapes = []struct{ masks, entries int }{{1000, 1000}, {10000, 10}}

// memoryTexts returns the texts of masks random entries each, the same
// for every run.
func memoryTexts(masks, entries int) []string {
	r := rand.New(rand.NewPCG(uint64(masks), uint64(entries)))
	texts := make([]string, masks)
	for i := range texts {
		texts[i] = maskText(randomPrefixes(r, entries))
	}
	return texts
}

// heapPerEntry parses texts, masks of the given entries each, and returns
// the growth of the live heap per entry while they are all held, texts
// excluded.
func heapPerEntry(tb testing.TB, texts []string, entries int) float64 {
	tb.Helper()
	held := make([]*Mask, len(texts))
	before := liveHeap()
	for i, text := range texts {
		m, err := Parse(text)
		if err != nil {
			tb.Fatal(err)
		}
		held[i] = m
	}
	after := liveHeap()
	for _, m := range held {
		if m.Len() != entries {
			tb.Fatalf("mask holds %d entries, want %d", m.Len(), entries)
		}
	}
	return float64(after-before) / float64(len(texts)*entries)
}

func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMaskMemory reports the heap a parsed mask holds per entry, its
// match table included, as B/entry.
func BenchmarkMaskMemory(b *testing.B) {
	for _, shape := range memoryShapes {
		name := fmt.Sprintf("masks=%d/entries=%d", shape.masks, shape.entries)
		texts := memoryTexts(shape.masks, shape.entries)
		b.Run(name, func(b *testing.B) {
			var perEntry float64
			for b.Loop() {
				perEntry = heapPerEntry(b, texts, shape.entries)
			}
			b.ReportMetric(perEntry, "B/entry")
		})
	}
}
