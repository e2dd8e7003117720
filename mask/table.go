package mask

import (
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"
)

// Table answers "is this address allowed" with the entry that matched, at
// a cost that does not grow with the number of entries and without
// allocating. It is immutable and safe for concurrent use.
//
// The prefix table stores for each entry a uint32: the prefix length in
// the low 8 bits and, above them, 1 + the index of the label in labels (0
// for none). The matched prefix is rebuilt from the address and its length,
// so no entry is stored twice and no entry costs a pointer of its own.
type Table struct {
	bt *bart.Table[uint32] // nil for the empty table
	// labels holds each distinct label once. It is a pointer so that a mask
	// without labels, the common case, keeps 8 bytes for them rather than 24.
	labels *[]string
}

// emptyTable is what an empty or nil mask's Table returns.
var emptyTable Table

// NewTable returns the match table of m. Parse builds it once per mask, so
// NewTable costs nothing and every call returns the same table; keep it
// beside the mask, per account, until the next save.
func NewTable(m *Mask) *Table {
	return m.Table()
}

// buildTable builds the table of canonical, disjoint recs.
func buildTable(recs []rec) Table {
	bt := new(bart.Table[uint32])
	var labels []string
	index := make(map[string]uint32)
	for _, r := range recs {
		v := uint32(r.p.Bits()) //nolint:gosec // a valid prefix's length, 0 to 128
		if r.label != "" {
			i, ok := index[r.label]
			if !ok {
				labels = append(labels, r.label)
				// Fewer labels than entries in 512 KiB of text: well below the
				// 2^24 the upper bits hold.
				i = uint32(len(labels)) //nolint:gosec // see above
				index[r.label] = i
			}
			v |= i << 8
		}
		bt.Insert(r.p, v)
	}
	// Cloning sizes every node's slices to fit, which saves about a twentieth
	// of the memory a table keeps for as long as the account does.
	t := Table{bt: bt.Clone()}
	if len(labels) > 0 {
		labels = slices.Clone(labels)
		t.labels = &labels
	}
	return t
}

// Len returns the number of entries.
func (t *Table) Len() int {
	if t == nil || t.bt == nil {
		return 0
	}
	return t.bt.Size()
}

// Lookup returns the entry that holds a, and whether there is one; entries
// never overlap, so it is also the most specific. IPv4-mapped IPv6
// addresses are looked up as IPv4, so that an IPv6 entry such as ::/80
// never matches them, and zones are ignored. An empty table matches
// nothing: callers check Mask.Empty first, since an empty mask restricts
// nothing.
func (t *Table) Lookup(a netip.Addr) (Entry, bool) {
	if t == nil || t.bt == nil {
		return Entry{}, false
	}
	a = Normalize(a)
	v, ok := t.bt.Lookup(a)
	if !ok {
		return Entry{}, false
	}
	p, _ := a.Prefix(int(v & 0xff))
	return Entry{Prefix: p, Label: t.label(v)}, true
}

// label returns the label a stored value points to.
func (t *Table) label(v uint32) string {
	if i := v >> 8; i > 0 {
		return (*t.labels)[i-1]
	}
	return ""
}

// Normalize returns the address a mask is checked against: an
// IPv4-mapped IPv6 address as IPv4, without any zone.
func Normalize(a netip.Addr) netip.Addr {
	if a.Is4In6() {
		return a.Unmap()
	}
	if a.Zone() != "" {
		return a.WithZone("")
	}
	return a
}
