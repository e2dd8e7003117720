// Package mask parses logon masks, the lists of addresses, blocks and
// ranges an account may log on from. It turns what people type or paste
// into a canonical, immutable Mask, refuses what is dangerous or unclear
// with a ParseError that names every bad entry, keeps notes about entries
// it merged or that deserve a second look, and answers "is this address
// allowed" through a prefix table whose cost does not grow with the list.
//
// The rules, error kinds and note kinds are those of the handed cases'
// README (shared/cases/README.md).
package mask

import (
	"net/netip"
	"slices"
	"strings"
)

// Entry is one canonical prefix of a mask with its optional label.
type Entry struct {
	Prefix netip.Prefix
	Label  string
}

// String returns the entry's canonical text without its label: a single
// address bare ("42.120.74.98"), a block with its length ("42.120.66.0/24");
// the zero Entry, which Lookup returns on no match, gives "".
func (e Entry) String() string {
	switch {
	case !e.Prefix.IsValid():
		return ""
	case e.Prefix.IsSingleIP():
		return e.Prefix.Addr().String()
	}
	return e.Prefix.String()
}

// Mask is a parsed, canonical, immutable logon mask. A nil or zero Mask,
// like the empty one Parse returns for blank text, means no restriction.
// A Mask is safe for concurrent use.
type Mask struct {
	table  Table   // holds the entries; built once by Parse
	merged *merged // entries merged away, nil when none
	single bool    // the text held one entry that was kept
}

// Parse reads a mask as typed into the Logon Mask box. Entries are
// separated by ";", line ends, "," or the full-width "；" and "，", with
// blanks around them ignored and empty entries skipped; each is an IPv4 or
// IPv6 address, a block addr/len or an inclusive range a-b, optionally
// followed by "#" and a label. Ranges become the fewest blocks that cover
// them, IPv4-mapped IPv6 becomes IPv4, and entries equal to or inside
// another are merged into it.
//
// User input problems come back as a *ParseError listing every refused
// entry. Text longer than MaxTextBytes is refused before any other work.
func Parse(text string) (*Mask, error) {
	if len(text) > MaxTextBytes {
		return nil, &ParseError{Problems: []Problem{tooMuchText(len(text))}}
	}
	var ps parser
	ps.run(text)
	kept, merged := canonical(ps.recs)
	if ps.count > MaxPrefixes {
		// A problem of the whole mask is listed whatever the count of others.
		ps.problems = append(ps.problems, tooManyPrefixes(ps.count))
	} else {
		ps.checkAllowsAll(kept)
	}
	if len(ps.problems) > 0 {
		return nil, &ParseError{Problems: ps.problems, Omitted: ps.omitted}
	}
	m := &Mask{merged: merged}
	if len(kept) > 0 {
		m.single = len(distinctItems(kept)) == 1
		m.table = buildTable(kept)
	}
	return m, nil
}

// Empty reports whether the mask has no entries, so that it restricts
// nothing.
func (m *Mask) Empty() bool {
	return m == nil || m.table.Len() == 0
}

// Len returns the number of entries.
func (m *Mask) Len() int {
	if m == nil {
		return 0
	}
	return m.table.Len()
}

// Entries returns the entries in canonical order: IPv4 before IPv6, each
// by address and then prefix length. The slice is the caller's.
func (m *Mask) Entries() []Entry {
	if m.Empty() {
		return nil
	}
	entries := make([]Entry, 0, m.Len())
	for p, v := range m.table.bt.AllSorted() {
		entries = append(entries, Entry{Prefix: p, Label: m.table.label(v)})
	}
	return entries
}

// String returns the canonical text the Logon Mask box shows back: the
// entries in canonical order joined by ";", single addresses bare, each
// label after " #" (a range's label on each of its blocks). Parsing it
// gives an equal mask. The empty mask's text is "".
func (m *Mask) String() string {
	var b strings.Builder
	for i, e := range m.Entries() {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(e.String())
		if e.Label != "" {
			b.WriteString(" #")
			b.WriteString(e.Label)
		}
	}
	return b.String()
}

// Equal reports whether m and o hold the same entries with the same
// labels; a label change is a change. Notes do not count.
func (m *Mask) Equal(o *Mask) bool {
	return m.Len() == o.Len() && slices.Equal(m.Entries(), o.Entries())
}

// Table returns the mask's match table. It is built once by Parse and
// shared, so this costs nothing; an empty mask gives an empty table.
func (m *Mask) Table() *Table {
	if m == nil {
		return &emptyTable
	}
	return &m.table
}

// Lookup is m.Table().Lookup(a).
func (m *Mask) Lookup(a netip.Addr) (Entry, bool) {
	return m.Table().Lookup(a)
}
