package mask

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error kinds, as named in the handed cases' README. Each refused entry
// carries one of them in [Problem.Kind].
const (
	KindLeadingZero  = "leading-zero"
	KindZone         = "zone"
	KindHostBits     = "host-bits"
	KindPrefixLength = "prefix-length"
	KindAllowsAll    = "allows-all"
	KindRangeOrder   = "range-order"
	KindNotAddress   = "not-address"
	KindTooMany      = "too-many"
)

// Limits on what Parse accepts.
const (
	// MaxPrefixes is the most prefixes a mask may hold once its ranges are
	// expanded, counted before duplicates and contained entries are merged.
	MaxPrefixes = 10000
	// MaxTextBytes is the longest mask text Parse reads, in bytes.
	MaxTextBytes = 512 << 10
	// MaxLabelRunes is the longest label an entry may carry, in characters.
	MaxLabelRunes = 100
	// maxProblems caps the problems a ParseError lists; the rest are counted.
	maxProblems = 1000
	// maxQuoted caps how much of an entry a message repeats.
	maxQuoted = 80
)

// Problem is one refused entry, or a problem of the whole mask.
type Problem struct {
	// Entry is the entry as typed, trimmed, label included; it is empty for
	// a problem of the whole mask, such as too much text.
	Entry string
	// Kind is one of the Kind constants.
	Kind string
	// Message is a sentence for the user that names the entry and says how
	// to fix it.
	Message string
}

// ParseError lists the refused entries of a mask text in the order typed,
// followed by the problems of the mask as a whole (too-many). A text with
// more than 1,000 refused entries lists the first 1,000 and counts the rest.
type ParseError struct {
	// Problems holds at most 1,000 refused entries and any problem of the
	// whole mask.
	Problems []Problem
	// Omitted counts the refused entries past the first 1,000.
	Omitted int
}

// Error sums the problems up in one line, quoting the first.
func (e *ParseError) Error() string {
	n := len(e.Problems) + e.Omitted
	switch n {
	case 0:
		return "mask: refused"
	case 1:
		return "mask: " + e.Problems[0].Message
	}
	return fmt.Sprintf("mask: %d problems, the first: %s", n, e.Problems[0].Message)
}

// Kinds returns the kind of each listed problem, in order; tests and logs
// use it.
func (e *ParseError) Kinds() []string {
	kinds := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		kinds[i] = p.Kind
	}
	return kinds
}

// fault is what the entry parsers report: a kind and the rest of a
// sentence whose subject is the quoted entry, formatted only when the
// problem is listed.
type fault struct {
	kind   string
	format string
	args   []any
}

func newFault(kind, format string, args ...any) *fault {
	return &fault{kind: kind, format: format, args: args}
}

// problem turns f into a Problem about entry.
func (f *fault) problem(entry string) Problem {
	return Problem{Entry: entry, Kind: f.kind,
		Message: quote(entry) + " " + fmt.Sprintf(f.format, f.args...)}
}

// quote puts s in quotation marks, shortened when long so that a message
// stays readable, and with broken text and control characters shown as
// U+FFFD so that they cannot reorder or hide the rest of the message.
func quote(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || isControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxQuoted {
		runes := []rune(s)
		s = string(runes[:maxQuoted-1]) + "…"
	}
	return "“" + s + "”"
}

const examples = "write an address such as 198.51.100.7, a block such as " +
	"198.51.100.0/24 or a range such as 198.51.100.1-198.51.100.6"

func notAddress(s string) *fault {
	switch {
	case strings.ContainsFunc(s, isBlank):
		return newFault(KindNotAddress, "is not one address, block or range; separate "+
			"entries with ; or new lines and put a label after #, as in 42.120.74.98 #backup line.")
	case looksLikeHostName(s):
		return newFault(KindNotAddress, "looks like a host name, which a logon mask "+
			"cannot use; %s.", examples)
	}
	return newFault(KindNotAddress, "is not an IP address, block or range; %s.", examples)
}

// looksLikeHostName reports whether s has a letter and no colon, as host
// names do and IPv6 addresses do not.
func looksLikeHostName(s string) bool {
	return !strings.Contains(s, ":") && strings.ContainsFunc(s, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	})
}

func tooMuchText(n int) Problem {
	return Problem{Kind: KindTooMany, Message: fmt.Sprintf("The mask text is %d KiB; "+
		"the limit is %d KiB. Join neighbouring addresses into blocks or remove "+
		"entries you no longer use.", (n+1023)>>10, MaxTextBytes>>10)}
}

func tooManyPrefixes(n int) Problem {
	return Problem{Kind: KindTooMany, Message: fmt.Sprintf("The mask holds %d blocks "+
		"once its ranges are expanded; the limit is %d. Join neighbouring addresses "+
		"into blocks or remove entries you no longer use.", n, MaxPrefixes)}
}
