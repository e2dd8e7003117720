package mask

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLookup(t *testing.T) {
	m, err := Parse("42.120.66.0/24 #office;42.120.74.98 #backup;2001:db8::/32;" +
		"2001:db8:1::/48 #lab;fe80::/64;198.51.100.1-198.51.100.6 #range;0.0.0.0/8;::/80")
	if err != nil {
		t.Fatal(err)
	}
	entry := func(p, label string) Entry {
		return Entry{Prefix: netip.MustParsePrefix(p), Label: label}
	}
	tests := []struct {
		name      string
		giveAddr  netip.Addr
		wantEntry Entry
		wantOK    bool
	}{
		{"inside a block", addr("42.120.66.7"), entry("42.120.66.0/24", "office"), true},
		{"first of a block", addr("42.120.66.0"), entry("42.120.66.0/24", "office"), true},
		{"last of a block", addr("42.120.66.255"), entry("42.120.66.0/24", "office"), true},
		{"single address", addr("42.120.74.98"), entry("42.120.74.98/32", "backup"), true},
		{"next to a single address", addr("42.120.74.99"), Entry{}, false},
		{"outside every entry", addr("203.0.113.9"), Entry{}, false},
		{"range start", addr("198.51.100.1"), entry("198.51.100.1/32", "range"), true},
		{"range middle", addr("198.51.100.5"), entry("198.51.100.4/31", "range"), true},
		{"range end", addr("198.51.100.6"), entry("198.51.100.6/32", "range"), true},
		{"before a range", addr("198.51.100.0"), Entry{}, false},
		{"after a range", addr("198.51.100.7"), Entry{}, false},
		{"zero block", addr("0.1.2.3"), entry("0.0.0.0/8", ""), true},
		{"mapped address", addr("::ffff:42.120.66.7"), entry("42.120.66.0/24", "office"), true},
		{"mapped miss", addr("::ffff:203.0.113.9"), Entry{}, false},
		{"IPv6 in the /32", addr("2001:db8:ffff::1"), entry("2001:db8::/32", ""), true},
		// 2001:db8:1::/48 lies inside 2001:db8::/32 and was merged into it.
		{"IPv6 in the merged /48", addr("2001:db8:1::1"), entry("2001:db8::/32", ""), true},
		{"IPv6 outside", addr("2001:db9::1"), Entry{}, false},
		{"zone ignored", addr("fe80::1%eth0"), entry("fe80::/64", ""), true},
		{"zone ignored, outside", addr("fe80:0:0:1::1%eth0"), Entry{}, false},
		{"IPv4-compatible is IPv6", addr("::42.120.66.7"), entry("::/80", ""), true},
		// ::/80 holds every IPv4-mapped address, but they are IPv4 addresses.
		{"mapped address inside ::/80", addr("::ffff:203.0.113.9"), Entry{}, false},
		{"IPv6 address inside ::/80", addr("::1:2"), entry("::/80", ""), true},
		{"invalid address", netip.Addr{}, Entry{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, lookup := range []func(netip.Addr) (Entry, bool){
				m.Lookup, m.Table().Lookup, NewTable(m).Lookup,
			} {
				got, ok := lookup(tt.giveAddr)
				if ok != tt.wantOK {
					t.Errorf("Lookup(%s) ok = %v, want %v", tt.giveAddr, ok, tt.wantOK)
				}
				if diff := cmp.Diff(tt.wantEntry, got,
					cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
					t.Errorf("Lookup(%s) (-want +got):\n%s", tt.giveAddr, diff)
				}
			}
		})
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestLookupEmpty(t *testing.T) {
	empty, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	var nilTable *Table
	for name, table := range map[string]*Table{
		"empty mask": empty.Table(), "NewTable of nil": NewTable(nil), "nil table": nilTable,
	} {
		if e, ok := table.Lookup(addr("1.2.3.4")); ok || e != (Entry{}) {
			t.Errorf("%s: Lookup = %v, %v; want no match", name, e, ok)
		}
		if table.Len() != 0 {
			t.Errorf("%s: Len = %d, want 0", name, table.Len())
		}
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	m, err := Parse("42.120.66.0/24 #office;2001:db8::/32 #v6;fe80::/64")
	if err != nil {
		t.Fatal(err)
	}
	table := m.Table()
	addrs := []netip.Addr{addr("42.120.66.7"), addr("2001:db8::1"), addr("::ffff:42.120.66.7"),
		addr("fe80::1%eth0"), addr("9.9.9.9")}
	allocs := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			table.Lookup(a)
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times a run, want 0", allocs)
	}
}

// TestLookupAgreesWithScan checks the table against a plain scan of the
// entries on random masks and addresses, mapped and zoned ones included.
func TestLookupAgreesWithScan(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 50 {
		prefixes := make([]netip.Prefix, 1+r.IntN(60))
		for i := range prefixes {
			prefixes[i] = randomPrefix(r)
		}
		m, err := Parse(maskText(prefixes) + "10.9.8.7-10.9.9.3 #r")
		if err != nil {
			t.Fatal(err)
		}
		entries := m.Entries()
		for range 200 {
			a := randomAddrIn(r, prefixes[r.IntN(len(prefixes))])
			switch r.IntN(4) {
			case 0:
				a = randomAddrIn(r, netip.MustParsePrefix("10.9.8.0/23"))
			case 1:
				if a.Is4() {
					a = netip.AddrFrom16(a.As16())
				} else {
					a = a.WithZone("eth0")
				}
			}
			want, wantOK := scanEntries(entries, Normalize(a))
			got, ok := m.Lookup(a)
			if ok != wantOK || got != want {
				t.Fatalf("round %d: Lookup(%s) = %v, %v; the scan finds %v, %v",
					round, a, got, ok, want, wantOK)
			}
		}
	}
}

func scanEntries(entries []Entry, a netip.Addr) (Entry, bool) {
	for _, e := range entries {
		if e.Prefix.Contains(a) {
			return e, true
		}
	}
	return Entry{}, false
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		give netip.Addr
		want netip.Addr
	}{
		{"IPv4", addr("1.2.3.4"), addr("1.2.3.4")},
		{"mapped", addr("::ffff:1.2.3.4"), addr("1.2.3.4")},
		{"mapped with zone", addr("::ffff:1.2.3.4%eth0"), addr("1.2.3.4")},
		{"IPv6 with zone", addr("fe80::1%eth0"), addr("fe80::1")},
		{"IPv6", addr("2001:db8::1"), addr("2001:db8::1")},
		{"invalid", netip.Addr{}, netip.Addr{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.give); got != tt.want {
				t.Errorf("Normalize(%s) = %s, want %s", tt.give, got, tt.want)
			}
		})
	}
}

func TestEntryString(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"IPv4 address", "1.2.3.4/32", "1.2.3.4"},
		{"IPv4 block", "1.2.3.0/24", "1.2.3.0/24"},
		{"IPv6 address", "2001:db8::1/128", "2001:db8::1"},
		{"IPv6 block", "2001:db8::/32", "2001:db8::/32"},
		{"zero entry", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entry{Label: "not shown"}
			if tt.give != "" {
				e.Prefix = netip.MustParsePrefix(tt.give)
			}
			if got := e.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("parses a million entries")
	}
	for _, shape := range memoryShapes {
		perEntry := heapPerEntry(t, memoryTexts(shape.masks, shape.entries), shape.entries)
		t.Logf("%d masks of %d entries: %.1f B/entry", shape.masks, shape.entries, perEntry)
		if perEntry > 100 {
			t.Errorf("%d masks of %d entries hold %.1f B/entry, goal 100", shape.masks,
				shape.entries, perEntry)
		}
	}
}

// TestLookupConcurrent runs lookups and reads from several goroutines; run
// with -race it shows that a shared mask is never written after Parse.
func TestLookupConcurrent(t *testing.T) {
	m, err := Parse("42.120.66.0/24 #office;2001:db8::/32 #v6;198.51.100.1-198.51.100.6")
	if err != nil {
		t.Fatal(err)
	}
	want := m.String()
	done := make(chan string)
	for range 4 {
		go func() {
			for range 200 {
				if e, ok := NewTable(m).Lookup(addr("42.120.66.9")); !ok || e.Label != "office" {
					done <- "lookup lost its entry"
					return
				}
				if m.String() != want {
					done <- "canonical text changed"
					return
				}
			}
			done <- ""
		}()
	}
	for range 4 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
