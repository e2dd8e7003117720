package mask

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// rec is one prefix of the mask being parsed, before merging.
type rec struct {
	p     netip.Prefix
	label string
	item  int32 // the entry it came from, by position among the non-empty entries
}

// parser collects the outcome of one Parse call.
type parser struct {
	recs     []rec
	items    []string // each non-empty entry, trimmed
	problems []Problem
	omitted  int
	count    int // prefixes seen, ranges expanded, whether kept or not
	scratch  []netip.Prefix
}

// isSeparator reports whether r ends an entry.
func isSeparator(r rune) bool {
	switch r {
	case ';', ',', '\n', '\r', '；', '，':
		return true
	}
	return false
}

// isBlank reports whether r is trimmed around entries and labels: any
// Unicode space (no-break and ideographic included), a zero-width space or
// a byte order mark, which pasted text often carries.
func isBlank(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF'
}

func trimBlank(s string) string {
	return strings.TrimFunc(s, isBlank)
}

// run parses every entry of text.
func (ps *parser) run(text string) {
	for text != "" {
		item := text
		text = ""
		if i := strings.IndexFunc(item, isSeparator); i >= 0 {
			_, size := utf8.DecodeRuneInString(item[i:])
			item, text = item[:i], item[i+size:]
		}
		if item = trimBlank(item); item != "" {
			ps.entry(item)
		}
	}
}

// entry parses one non-empty, trimmed entry and its label.
func (ps *parser) entry(item string) {
	n := int32(len(ps.items)) //nolint:gosec // under MaxTextBytes entries: Parse caps the text
	ps.items = append(ps.items, item)
	addr, label, _ := strings.Cut(item, "#")
	addr, label = trimBlank(addr), trimBlank(label)
	if f := checkLabel(addr, label); f != nil {
		ps.refuse(item, f)
		return
	}
	prefixes, f := appendEntry(ps.scratch[:0], addr)
	ps.scratch = prefixes
	if f != nil {
		ps.refuse(item, f)
		return
	}
	ps.count += len(prefixes)
	if ps.count > MaxPrefixes {
		return
	}
	// The label is copied so that the mask does not pin the whole text.
	label = strings.Clone(label)
	for _, p := range prefixes {
		ps.recs = append(ps.recs, rec{p: p, label: label, item: n})
	}
}

// refuse records a refused entry; past maxProblems it is only counted.
func (ps *parser) refuse(item string, f *fault) {
	if len(ps.problems) >= maxProblems {
		ps.omitted++
		return
	}
	ps.problems = append(ps.problems, f.problem(item))
}

// checkLabel refuses an entry with a label but no address, and labels that
// are too long or hold characters a page cannot show as typed.
func checkLabel(addr, label string) *fault {
	switch {
	case addr == "":
		return newFault(KindNotAddress, "has no address before the #; write the address "+
			"first and the label after it, as in 42.120.74.98 #backup line.")
	case !utf8.ValidString(label):
		return newFault(KindNotAddress, "has a label that is not valid text; retype the label.")
	case utf8.RuneCountInString(label) > MaxLabelRunes:
		return newFault(KindNotAddress, "has a label longer than %d characters; shorten it.",
			MaxLabelRunes)
	case strings.ContainsFunc(label, isControl):
		return newFault(KindNotAddress, "has a label with a tab, a line break or another "+
			"control or formatting character in it; remove it.")
	}
	return nil
}

// isControl reports control and formatting characters, including the
// direction overrides that can make a label read as something else, and
// the line and paragraph separators.
func isControl(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// appendEntry parses the address part of one entry, an address, a block
// or a range, and appends its prefixes to dst.
func appendEntry(dst []netip.Prefix, s string) ([]netip.Prefix, *fault) {
	slash := strings.IndexByte(s, '/')
	dash := strings.IndexByte(s, '-')
	switch {
	case slash >= 0 && dash >= 0 && (dash < slash || trimBlank(s[slash+1:dash]) != ""):
		return dst, newFault(KindNotAddress, "is a range of blocks; a range joins two "+
			"addresses, as in 198.51.100.1-198.51.100.6, and a block stands alone.")
	case slash >= 0:
		p, f := parseBlock(s[:slash], s[slash+1:])
		if f != nil {
			return dst, f
		}
		return append(dst, p), nil
	case dash >= 0:
		return appendRange(dst, s[:dash], s[dash+1:])
	}
	a, f := parseAddr(s)
	if f != nil {
		return dst, f
	}
	a = a.Unmap()
	return append(dst, netip.PrefixFrom(a, a.BitLen())), nil
}
