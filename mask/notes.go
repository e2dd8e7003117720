package mask

import (
	"fmt"
	"net/netip"
)

// Note kinds, as named in the handed cases' README.
const (
	NoteDuplicate   = "duplicate"
	NoteContained   = "contained"
	NotePrivate     = "private"
	NoteSingleEntry = "single-entry"
	NoteOneFamily   = "one-family"
)

// Note is a notice shown after a save: the mask was saved, but something
// in it deserves a second look.
type Note struct {
	// Kind is one of the Note constants.
	Kind string
	// Entry is the canonical text of the entry concerned, or "" for a note
	// about the whole mask.
	Entry string
	// Message is a sentence for the user.
	Message string
}

// privateBlocks are the blocks a private note is about, exactly the list
// of the handed cases' README.
var privateBlocks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fc00::/7"),
}

// isPrivate reports whether p lies inside one of privateBlocks.
func isPrivate(p netip.Prefix) bool {
	for _, b := range privateBlocks {
		if b.Bits() <= p.Bits() && b.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// Notes returns the notes to show after saving m: entries merged away as
// duplicates or as inside another entry, entries in private space, a mask
// whose entries all come from one entry typed (one address, block or
// range; duplicates of it and entries inside it aside), and, unless caller
// is the zero Addr, a mask of only the other address family than the
// caller's. Ten notes of a kind at
// most are listed, then one note counts the rest. The empty mask has no
// notes.
func (m *Mask) Notes(caller netip.Addr) []Note {
	if m.Empty() {
		return nil
	}
	entries := m.Entries()
	notes := m.merged.appendNotes(nil)
	notes = appendPrivate(notes, entries)
	if m.single {
		notes = append(notes, singleNote(entries))
	}
	if caller.IsValid() {
		notes = appendOneFamily(notes, m, Normalize(caller))
	}
	return notes
}

func (m *merged) appendNotes(notes []Note) []Note {
	if m == nil {
		return notes
	}
	for _, n := range m.list {
		if n.p == n.into {
			notes = append(notes, Note{Kind: NoteDuplicate, Entry: text(n.p),
				Message: text(n.p) + " is listed more than once; it is kept once."})
		}
	}
	notes = appendMore(notes, NoteDuplicate, m.dups,
		"more entries are listed more than once; each is kept once.")
	for _, n := range m.list {
		if n.p != n.into {
			notes = append(notes, Note{Kind: NoteContained, Entry: text(n.p),
				Message: fmt.Sprintf("%s lies inside %s and was merged into it; %s keeps "+
					"its label.", text(n.p), text(n.into), text(n.into))})
		}
	}
	return appendMore(notes, NoteContained, m.contained,
		"more entries lie inside other entries and were merged into them.")
}

// appendMore adds a note counting the notes of a kind past the listed ten.
func appendMore(notes []Note, kind string, total int, rest string) []Note {
	if total <= maxNotesPerKind {
		return notes
	}
	return append(notes, Note{Kind: kind,
		Message: fmt.Sprintf("%d %s", total-maxNotesPerKind, rest)})
}

func appendPrivate(notes []Note, entries []Entry) []Note {
	total := 0
	for _, e := range entries {
		if !isPrivate(e.Prefix) {
			continue
		}
		if total++; total <= maxNotesPerKind {
			notes = append(notes, Note{Kind: NotePrivate, Entry: e.String(),
				Message: e.String() + " is private or local address space; logons from " +
					"the internet never come from it, so it helps only on your own " +
					"network or behind your own proxy."})
		}
	}
	return appendMore(notes, NotePrivate, total,
		"more entries are private or local address space.")
}

// singleNote advises a backup when the text held one entry, which may
// have become several blocks when it was a range.
func singleNote(entries []Entry) Note {
	entry := entries[0].String()
	if len(entries) > 1 {
		_, last := bounds(entries[len(entries)-1].Prefix)
		is4 := entries[0].Prefix.Addr().Is4()
		entry = entries[0].Prefix.Addr().String() + "-" + last.addr(is4).String()
	}
	return Note{Kind: NoteSingleEntry, Entry: entry, Message: "The mask holds one entry, " +
		entry + "; if the address you log on from moves out of it, you cannot log on. Add a " +
		"backup, such as a second static address or your office's block."}
}

func appendOneFamily(notes []Note, m *Mask, caller netip.Addr) []Note {
	has4, has6 := m.table.bt.Size4() > 0, m.table.bt.Size6() > 0
	mine, other := "IPv4", "IPv6"
	if caller.Is6() {
		mine, other = other, mine
	}
	if caller.Is4() && has4 || caller.Is6() && has6 {
		return notes
	}
	return append(notes, Note{Kind: NoteOneFamily, Message: fmt.Sprintf("Every entry is "+
		"an %s address or block, but you are connected over %s (%s); add an %s entry "+
		"or you may be unable to log on from here.", other, mine, caller, mine)})
}

// text returns the canonical text of p.
func text(p netip.Prefix) string {
	return Entry{Prefix: p}.String()
}
