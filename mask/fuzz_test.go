package mask

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var knownKinds = []string{KindLeadingZero, KindZone, KindHostBits, KindPrefixLength,
	KindAllowsAll, KindRangeOrder, KindNotAddress, KindTooMany}

// FuzzParse checks that Parse never panics, that every refusal is a
// well-formed ParseError, and that every accepted mask is canonical: its
// text parses back to an equal mask with the same text, and its table
// finds each entry.
func FuzzParse(f *testing.F) {
	for _, row := range readCases(f) {
		f.Add(row.input)
	}
	for _, seed := range []string{
		"1.2.3.4 #a#b;1.2.3.0/24 #c", "::ffff:1.2.3.0/120-1.2.3.4", "1.2.3.0 / 24 ; 5.6.7.8 - 5.6.7.9",
		"0.0.0.0/1;128.0.0.0/1", "::ffff:0:0/95", "1.2.3.4%25eth0", "fe80::/10;fc00::/7;::1",
		"\ufeff1.1.1.1\u200b", "1.2.3.0/255.255.255.0", "0x7f.0.0.1", "2001:db8::/32 #ü\u202e",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := Parse(text)
		if err != nil {
			checkParseError(t, text, m, err)
			return
		}
		checkCanonical(t, m)
	})
}

func checkParseError(t *testing.T, text string, m *Mask, err error) {
	var pe *ParseError
	if !errors.As(err, &pe) || m != nil || len(pe.Problems) == 0 {
		t.Fatalf("Parse(%q) = %v, %v; want only a ParseError with problems", text, m, err)
	}
	for _, p := range pe.Problems {
		if !slices.Contains(knownKinds, p.Kind) {
			t.Fatalf("Parse(%q): unknown kind %q", text, p.Kind)
		}
		if p.Entry == "" && p.Kind != KindTooMany {
			t.Fatalf("Parse(%q): a %s problem names no entry", text, p.Kind)
		}
		if !strings.Contains(text, p.Entry) || !strings.Contains(p.Message, quote(p.Entry)) {
			t.Fatalf("Parse(%q): problem %+v does not name an entry typed", text, p)
		}
	}
}

func checkCanonical(t *testing.T, m *Mask) {
	canonical := m.String()
	back, err := Parse(canonical)
	if err != nil {
		t.Fatalf("Parse(%q), the canonical text: %v", canonical, err)
	}
	if !back.Equal(m) || back.String() != canonical {
		t.Fatalf("Parse(%q) = %q, want the same mask", canonical, back.String())
	}
	entries := m.Entries()
	if len(entries) > MaxPrefixes || len(entries) != m.Len() {
		t.Fatalf("%d entries, Len %d", len(entries), m.Len())
	}
	for i, e := range entries {
		checkEntry(t, m, e)
		if i > 0 && (comparePrefix(entries[i-1].Prefix, e.Prefix) >= 0 ||
			entries[i-1].Prefix.Overlaps(e.Prefix)) {
			t.Fatalf("entries %v and %v are out of order or overlap", entries[i-1], e)
		}
	}
}

func checkEntry(t *testing.T, m *Mask, e Entry) {
	p := e.Prefix
	if !p.IsValid() || p.Masked() != p || p.Addr().Is4In6() || p.Bits() == 0 {
		t.Fatalf("entry %v is not a canonical block", e)
	}
	if !utf8.ValidString(e.Label) || utf8.RuneCountInString(e.Label) > MaxLabelRunes ||
		strings.ContainsFunc(e.Label, isControl) || trimBlank(e.Label) != e.Label {
		t.Fatalf("entry %v has a label that should have been refused or trimmed", e)
	}
	first, last := bounds(p)
	for _, n := range []u128{first, last} {
		a := n.addr(p.Addr().Is4())
		if a.Is4In6() {
			// An IPv4-mapped address is looked up as the IPv4 address it
			// maps, which an IPv6 entry never holds.
			continue
		}
		if got, ok := m.Lookup(a); !ok || got != e {
			t.Fatalf("Lookup(%s) = %v, %v; want %v", a, got, ok, e)
		}
	}
}
