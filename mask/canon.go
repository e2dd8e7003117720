package mask

import (
	"cmp"
	"net/netip"
	"slices"
)

// maxNotesPerKind caps the notes of one kind; past it one note gives the
// count of the rest.
const maxNotesPerKind = 10

// comparePrefix orders prefixes canonically: IPv4 before IPv6, then by
// address, then by prefix length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// merged records the entries merged away, for the notes.
type merged struct {
	list      []mergeNote // at most maxNotesPerKind of each kind
	dups      int         // distinct prefixes listed more than once
	contained int         // prefixes inside another entry
}

// mergeNote is one entry merged away into the entry kept.
type mergeNote struct {
	p, into netip.Prefix
}

// add records that p was merged into the entry into.
func (m *merged) add(p, into netip.Prefix) {
	if p == into {
		m.dups++
		if m.dups <= maxNotesPerKind {
			m.list = append(m.list, mergeNote{p, into})
		}
		return
	}
	m.contained++
	if m.contained <= maxNotesPerKind {
		m.list = append(m.list, mergeNote{p, into})
	}
}

// canonical sorts recs and merges duplicates and entries inside another
// entry into the entry that holds them. The entry kept keeps its label; a
// duplicate's label is taken only when the first had none. The result
// holds disjoint prefixes in canonical order.
func canonical(recs []rec) ([]rec, *merged) {
	slices.SortStableFunc(recs, func(a, b rec) int { return comparePrefix(a.p, b.p) })
	var m merged
	var noted netip.Prefix // a prefix typed three times gets one note, not two
	kept := recs[:0]
	for _, r := range recs {
		// Sorted prefixes are nested or disjoint, and the kept ones are
		// disjoint, so only the last kept one can hold r.
		n := len(kept)
		if n == 0 || !kept[n-1].p.Contains(r.p.Addr()) {
			kept = append(kept, r)
			continue
		}
		k := &kept[n-1]
		if k.p == r.p && k.label == "" {
			k.label = r.label
		}
		if r.p != noted {
			m.add(r.p, k.p)
			noted = r.p
		}
	}
	if m.dups == 0 && m.contained == 0 {
		return kept, nil
	}
	m.list = slices.Clip(m.list)
	return kept, &m
}

// split returns the IPv4 and the IPv6 part of canonically sorted recs.
func split(recs []rec) (v4, v6 []rec) {
	i, _ := slices.BinarySearchFunc(recs, true, func(r rec, _ bool) int {
		if r.p.Addr().Is4() {
			return -1
		}
		return 1
	})
	return recs[:i], recs[i:]
}

// checkAllowsAll refuses a mask whose entries of one family together hold
// every address of that family, naming each entry that takes part.
func (ps *parser) checkAllowsAll(kept []rec) {
	v4, v6 := split(kept)
	for _, fam := range []struct {
		recs []rec
		name string
	}{{v4, "IPv4"}, {v6, "IPv6"}} {
		if !coversAll(fam.recs) {
			continue
		}
		items := distinctItems(fam.recs)
		rest := "allows every %s address; a logon mask must leave some out: list " +
			"only the addresses and blocks you log on from, or empty the mask to lift " +
			"the restriction."
		if len(items) > 1 {
			rest = "together with the other " + fam.name + " entries " + rest
		}
		for _, item := range items {
			ps.refuse(ps.items[item], newFault(KindAllowsAll, rest, fam.name))
		}
	}
}

// distinctItems returns the entries that recs came from, in the order typed.
func distinctItems(recs []rec) []int32 {
	items := make([]int32, 0, len(recs))
	for _, r := range recs {
		items = append(items, r.item)
	}
	slices.Sort(items)
	return slices.Compact(items)
}
