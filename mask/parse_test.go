package mask

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAccepted(t *testing.T) {
	tests := []struct {
		name     string
		giveText string
		wantText string // canonical text
	}{
		{"IPv4 address", "198.51.100.7", "198.51.100.7"},
		{"IPv4 /32 shown bare", "198.51.100.7/32", "198.51.100.7"},
		{"IPv4 block", "198.51.100.0/24", "198.51.100.0/24"},
		{"IPv4 /0 prefix of a half", "0.0.0.0/1", "0.0.0.0/1"},
		{"IPv6 address", "2001:db8::1", "2001:db8::1"},
		{"IPv6 long form", "2001:0DB8:0000:0000::0001", "2001:db8::1"},
		{"IPv6 /128 shown bare", "2001:db8::1/128", "2001:db8::1"},
		{"IPv6 block", "2001:db8:1::/48", "2001:db8:1::/48"},
		{"mapped address", "::ffff:198.51.100.7", "198.51.100.7"},
		{"mapped address in hex", "::ffff:c633:6407", "198.51.100.7"},
		{"mapped /96 block", "::ffff:0.0.0.0/97", "0.0.0.0/1"},
		{"mapped /104 block", "::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"IPv4-compatible stays IPv6", "::198.51.100.7", "::c633:6407"},
		{"range of one address", "198.51.100.7-198.51.100.7", "198.51.100.7"},
		{"range of one block", "198.51.100.0-198.51.100.127", "198.51.100.0/25"},
		{"range over an octet boundary", "198.51.100.254-198.51.101.1",
			"198.51.100.254/31;198.51.101.0/31"},
		{"IPv6 range", "2001:db8::1-2001:db8::6",
			"2001:db8::1;2001:db8::2/127;2001:db8::4/127;2001:db8::6"},
		{"IPv6 range of one block", "2001:db8::-2001:db8::ffff", "2001:db8::/112"},
		{"mapped range", "::ffff:198.51.100.0-198.51.100.3", "198.51.100.0/30"},
		{"blanks around slash and dash", "198.51.100.0 / 24; 10.0.0.1 - 10.0.0.2",
			"10.0.0.1;10.0.0.2;198.51.100.0/24"},
		{"every separator", "1.1.1.1;1.1.1.2\n1.1.1.3\r\n1.1.1.4\r1.1.1.5,1.1.1.6；1.1.1.7，1.1.1.8",
			"1.1.1.1;1.1.1.2;1.1.1.3;1.1.1.4;1.1.1.5;1.1.1.6;1.1.1.7;1.1.1.8"},
		{"blanks of every kind", "\ufeff\t1.1.1.1\u00a0;\u3000 1.1.1.2\u200b\u2003",
			"1.1.1.1;1.1.1.2"},
		{"only separators and blanks", " ;\n, ；\u3000", ""},
		{"numeric, not text, order", "10.0.0.0/8;9.0.0.0/8;2001:db8::/32;1.2.3.4",
			"1.2.3.4;9.0.0.0/8;10.0.0.0/8;2001:db8::/32"},
		{"adjacent blocks not joined", "1.2.3.128/25;1.2.3.0/25", "1.2.3.0/25;1.2.3.128/25"},
		{"overlapping ranges merged", "1.2.3.0-1.2.3.10;1.2.3.5-1.2.3.20",
			"1.2.3.0/29;1.2.3.8/29;1.2.3.16/30;1.2.3.20"},
		{"three quarters of IPv4", "0.0.0.0/1;128.0.0.0/2;192.0.0.0/3",
			"0.0.0.0/1;128.0.0.0/2;192.0.0.0/3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.giveText)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := m.String(); got != tt.wantText {
				t.Errorf("String = %q, want %q", got, tt.wantText)
			}
			if m.Empty() != (m.Len() == 0) {
				t.Errorf("Empty = %v with %d entries", m.Empty(), m.Len())
			}
			checkRoundTrip(t, m)
		})
	}
}

func checkRoundTrip(t *testing.T, m *Mask) {
	t.Helper()
	back, err := Parse(m.String())
	if err != nil {
		t.Fatalf("Parse(%q): %v", m.String(), err)
	}
	if !back.Equal(m) || back.String() != m.String() {
		t.Errorf("Parse(%q) = %q, want the same mask", m.String(), back.String())
	}
}

func TestParseLabels(t *testing.T) {
	long := strings.Repeat("é", MaxLabelRunes)
	tests := []struct {
		name     string
		giveText string
		wantText string
	}{
		{"label after blank", "1.2.3.4 #backup line", "1.2.3.4 #backup line"},
		{"label without blank", "1.2.3.4#backup", "1.2.3.4 #backup"},
		{"blanks trimmed", "1.2.3.4 \u00a0#\u3000 backup \t", "1.2.3.4 #backup"},
		{"empty label dropped", "1.2.3.4 #", "1.2.3.4"},
		{"hash inside a label", "1.2.3.4 #rack #2", "1.2.3.4 #rack #2"},
		{"non-ASCII label", "1.2.3.4 #Büro 東京", "1.2.3.4 #Büro 東京"},
		{"longest label", "1.2.3.4 #" + long, "1.2.3.4 #" + long},
		{"range label on each block", "10.0.0.1-10.0.0.2 #lab", "10.0.0.1 #lab;10.0.0.2 #lab"},
		{"label on a block", "42.120.66.0/24 #office", "42.120.66.0/24 #office"},
		{"first duplicate label wins", "1.2.3.4 #a;1.2.3.4 #b", "1.2.3.4 #a"},
		{"duplicate lends its label", "1.2.3.4;1.2.3.4 #b", "1.2.3.4 #b"},
		{"container keeps its label", "1.2.3.0/24 #office;1.2.3.4 #home",
			"1.2.3.0/24 #office"},
		{"container without label keeps none", "1.2.3.4 #home;1.2.3.0/24", "1.2.3.0/24"},
		{"shared label, different entries", "1.2.3.4 #x;5.6.7.8 #x;9.9.9.9 #y",
			"1.2.3.4 #x;5.6.7.8 #x;9.9.9.9 #y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.giveText)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := m.String(); got != tt.wantText {
				t.Errorf("String = %q, want %q", got, tt.wantText)
			}
			checkRoundTrip(t, m)
		})
	}
}

func TestParseRefused(t *testing.T) {
	tests := []struct {
		name        string
		giveText    string
		wantKinds   []string
		wantEntries []string
		wantHint    string // a fix the first message must suggest
	}{
		{"octal-looking octet", "010.0.0.1", kinds(KindLeadingZero), entries("010.0.0.1"),
			"write 10.0.0.1"},
		{"double zero", "1.2.3.00", kinds(KindLeadingZero), entries("1.2.3.00"), "1.2.3.0"},
		{"hex octet", "0x7f.0.0.1", kinds(KindLeadingZero), entries("0x7f.0.0.1"), "decimal"},
		{"sign on an octet", "+1.2.3.4", kinds(KindLeadingZero), entries("+1.2.3.4"), "1.2.3.4"},
		{"leading zero in a range", "01.2.3.4-1.2.3.5", kinds(KindLeadingZero),
			entries("01.2.3.4-1.2.3.5"), "1.2.3.4"},
		{"leading zero in a mapped address", "::ffff:010.1.2.3", kinds(KindLeadingZero),
			entries("::ffff:010.1.2.3"), "10.1.2.3"},
		{"prefix length with leading zero", "1.2.3.0/024", kinds(KindLeadingZero),
			entries("1.2.3.0/024"), "/24"},
		{"prefix length of zeros", "1.2.3.0/00", kinds(KindLeadingZero),
			entries("1.2.3.0/00"), "/0"},
		{"prefix length with plus", "1.2.3.0/+24", kinds(KindLeadingZero),
			entries("1.2.3.0/+24"), "plain number"},
		{"prefix length with minus", "1.2.3.0/-8", kinds(KindLeadingZero),
			entries("1.2.3.0/-8"), "plain number"},
		{"zone on an address", "fe80::1%eth0", kinds(KindZone), entries("fe80::1%eth0"),
			"remove %eth0"},
		{"zone on a block", "fe80::%eth0/64", kinds(KindZone), entries("fe80::%eth0/64"),
			"remove %eth0"},
		{"zone on IPv4", "1.2.3.4%1", kinds(KindZone), entries("1.2.3.4%1"), "remove %1"},
		{"zone in a range", "fe80::1%eth0-fe80::2", kinds(KindZone),
			entries("fe80::1%eth0-fe80::2"), "remove %eth0"},
		{"host bits", "42.120.66.5/24", kinds(KindHostBits), entries("42.120.66.5/24"),
			"42.120.66.0/24"},
		{"IPv6 host bits", "2001:db8::1/32", kinds(KindHostBits), entries("2001:db8::1/32"),
			"2001:db8::/32"},
		{"mapped host bits", "::ffff:42.120.66.5/120", kinds(KindHostBits),
			entries("::ffff:42.120.66.5/120"), "42.120.66.0/24"},
		{"IPv4 prefix too long", "198.51.100.0/33", kinds(KindPrefixLength),
			entries("198.51.100.0/33"), "0 to 32"},
		{"IPv6 prefix too long", "2001:db8::/129", kinds(KindPrefixLength),
			entries("2001:db8::/129"), "0 to 128"},
		{"huge prefix length", "1.2.3.0/99999999999999999999", kinds(KindPrefixLength),
			entries("1.2.3.0/99999999999999999999"), "0 to 32"},
		{"missing prefix length", "1.2.3.0/", kinds(KindPrefixLength), entries("1.2.3.0/"),
			"drop the /"},
		{"netmask for a length", "1.2.3.0/255.255.255.0", kinds(KindPrefixLength),
			entries("1.2.3.0/255.255.255.0"), "/24"},
		{"all IPv4", "0.0.0.0/0", kinds(KindAllowsAll), entries("0.0.0.0/0"), "IPv4"},
		{"all IPv6", "::/0", kinds(KindAllowsAll), entries("::/0"), "IPv6"},
		{"all IPv4 as mapped", "::ffff:0.0.0.0/96", kinds(KindAllowsAll),
			entries("::ffff:0.0.0.0/96"), "IPv4"},
		{"all IPv4 as a range", "0.0.0.0-255.255.255.255", kinds(KindAllowsAll),
			entries("0.0.0.0-255.255.255.255"), "IPv4"},
		{"all IPv6 in halves", "::/1;8000::/1", kinds(KindAllowsAll, KindAllowsAll),
			entries("::/1", "8000::/1"), "together"},
		{"all IPv4 in pieces among others", "2001:db8::/32;128.0.0.0/1;0.0.0.0/2;64.0.0.0/2;10.0.0.0/8",
			kinds(KindAllowsAll, KindAllowsAll, KindAllowsAll),
			entries("128.0.0.0/1", "0.0.0.0/2", "64.0.0.0/2"), "together"},
		{"range end first", "198.51.100.10-198.51.100.1", kinds(KindRangeOrder),
			entries("198.51.100.10-198.51.100.1"), "198.51.100.1-198.51.100.10"},
		{"IPv6 range end first", "2001:db8::9-2001:db8::1", kinds(KindRangeOrder),
			entries("2001:db8::9-2001:db8::1"), "2001:db8::1-2001:db8::9"},
		{"octet above 255", "198.51.100.300", kinds(KindNotAddress),
			entries("198.51.100.300"), "0 to 255"},
		{"host name", "example.com", kinds(KindNotAddress), entries("example.com"),
			"host name"},
		{"three octets", "1.2.3", kinds(KindNotAddress), entries("1.2.3"), "198.51.100.7"},
		{"five octets", "1.2.3.4.5", kinds(KindNotAddress), entries("1.2.3.4.5"), ""},
		{"empty octet", "1..2.3", kinds(KindNotAddress), entries("1..2.3"), ""},
		{"bad IPv6", "2001:db8::1::2", kinds(KindNotAddress), entries("2001:db8::1::2"), ""},
		{"bad IPv6 with a leading zero in its tail", "zz::010.1.2.3", kinds(KindNotAddress),
			entries("zz::010.1.2.3"), ""},
		{"brackets", "[2001:db8::1]", kinds(KindNotAddress), entries("[2001:db8::1]"), ""},
		{"blank between two addresses", "1.2.3.4 5.6.7.8", kinds(KindNotAddress),
			entries("1.2.3.4 5.6.7.8"), "separate entries"},
		{"label without #", "1.2.3.4 backup", kinds(KindNotAddress),
			entries("1.2.3.4 backup"), "after #"},
		{"label without address", "#office", kinds(KindNotAddress), entries("#office"),
			"address first"},
		{"label too long", "1.2.3.4 #" + strings.Repeat("x", MaxLabelRunes+1),
			kinds(KindNotAddress), entries("1.2.3.4 #" + strings.Repeat("x", MaxLabelRunes+1)),
			"shorten"},
		{"tab in a label", "1.2.3.4 #a\tb", kinds(KindNotAddress), entries("1.2.3.4 #a\tb"),
			"control or formatting character"},
		{"direction override in a label", "1.2.3.4 #a\u202eb", kinds(KindNotAddress),
			entries("1.2.3.4 #a\u202eb"), "“1.2.3.4 #a\ufffdb” has a label with a tab"},
		{"broken text in a label", "1.2.3.4 #a\xffb", kinds(KindNotAddress),
			entries("1.2.3.4 #a\xffb"), "not valid text"},
		{"range across families", "1.2.3.4-::1", kinds(KindNotAddress),
			entries("1.2.3.4-::1"), "IPv4 to IPv4"},
		{"range without end", "1.2.3.4-", kinds(KindNotAddress), entries("1.2.3.4-"),
			"both ends"},
		{"range shorthand", "1.2.3.4-9", kinds(KindNotAddress), entries("1.2.3.4-9"), ""},
		{"range of blocks", "1.2.3.0/24-1.2.4.0/24", kinds(KindNotAddress),
			entries("1.2.3.0/24-1.2.4.0/24"), "two addresses"},
		{"lone dash", "-", kinds(KindNotAddress), entries("-"), "both ends"},
		{"lone slash", "/24", kinds(KindNotAddress), entries("/24"), "before the /"},
		{"length not a number", "1.2.3.0/abc", kinds(KindNotAddress),
			entries("1.2.3.0/abc"), "whole number"},
		{"every bad entry, in order", "010.0.0.1;1.2.3.4;example.com;1.2.3.5/24 #x;::/129",
			kinds(KindLeadingZero, KindNotAddress, KindHostBits, KindPrefixLength),
			entries("010.0.0.1", "example.com", "1.2.3.5/24 #x", "::/129"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pe := mustRefuse(t, tt.giveText)
			if diff := cmp.Diff(tt.wantKinds, pe.Kinds()); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
			var got []string
			for _, p := range pe.Problems {
				got = append(got, p.Entry)
				if !strings.HasPrefix(p.Message, quote(p.Entry)+" ") {
					t.Errorf("message %q does not start with the entry", p.Message)
				}
			}
			if diff := cmp.Diff(tt.wantEntries, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if msg := pe.Problems[0].Message; !strings.Contains(msg, tt.wantHint) {
				t.Errorf("message %q does not say %q", msg, tt.wantHint)
			}
		})
	}
}

func kinds(k ...string) []string   { return k }
func entries(e ...string) []string { return e }

func mustRefuse(t *testing.T, text string) *ParseError {
	t.Helper()
	m, err := Parse(text)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse = %q, %v; want a *ParseError", m.String(), err)
	}
	if m != nil {
		t.Errorf("Parse returned a mask with its error")
	}
	if len(pe.Problems) == 0 {
		t.Fatal("ParseError lists no problem")
	}
	return pe
}

func TestParseLimits(t *testing.T) {
	addresses := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "10.%d.%d.%d\n", i>>16, i>>8&0xff, i&0xff)
		}
		return b.String()
	}
	bigRange := "::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe\n" // 254 blocks
	tests := []struct {
		name      string
		giveText  string
		wantKinds []string // nil: accepted
		wantLen   int
	}{
		{"10,000 addresses", addresses(MaxPrefixes), nil, MaxPrefixes},
		{"10,001 addresses", addresses(MaxPrefixes + 1), kinds(KindTooMany), 0},
		{"39 ranges of 254 blocks", strings.Repeat(bigRange, 39), nil, 254},
		{"40 ranges of 254 blocks", strings.Repeat(bigRange, 40), kinds(KindTooMany), 0},
		{"IPv6 all but the last address", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", nil,
			128},
		{"IPv4 all but the first address", "0.0.0.1-255.255.255.255", nil, 32},
		{"text of 512 KiB", strings.Repeat(";", MaxTextBytes-7) + "1.2.3.4", nil, 1},
		{"text past 512 KiB, checked first", strings.Repeat("x", MaxTextBytes+1),
			kinds(KindTooMany), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.giveText)
			if tt.wantKinds == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if m.Len() != tt.wantLen {
					t.Errorf("Len = %d, want %d", m.Len(), tt.wantLen)
				}
				return
			}
			pe := mustRefuse(t, tt.giveText)
			if diff := cmp.Diff(tt.wantKinds, pe.Kinds()); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
			if pe.Problems[0].Entry != "" {
				t.Errorf("entry = %q, want the whole mask", pe.Problems[0].Entry)
			}
		})
	}
}

func TestParseErrorListsTooManyPastTheCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Repeat("bad;", 1200))
	for i := range MaxPrefixes + 1 {
		fmt.Fprintf(&b, "10.0.%d.%d;", i>>8, i&0xff)
	}
	pe := mustRefuse(t, b.String())
	last := pe.Problems[len(pe.Problems)-1]
	if last.Kind != KindTooMany || pe.Omitted != 200 {
		t.Errorf("last problem %q, omitted %d; want too-many and 200", last.Kind, pe.Omitted)
	}
}

func TestParseErrorListsAtMost1000(t *testing.T) {
	pe := mustRefuse(t, strings.Repeat("bad;", 1500))
	if len(pe.Problems) != maxProblems || pe.Omitted != 500 {
		t.Errorf("listed %d, omitted %d; want %d and 500", len(pe.Problems), pe.Omitted,
			maxProblems)
	}
	if got := pe.Error(); !strings.Contains(got, "1500 problems") {
		t.Errorf("Error() = %q, want the count of every problem", got)
	}
}

func TestParseErrorError(t *testing.T) {
	tests := []struct {
		name     string
		giveText string
		want     string
	}{
		{"one problem", "1.2.3.0/33", "mask: “1.2.3.0/33” has a prefix length past /32"},
		{"two problems", "1;2", "mask: 2 problems, the first: “1” is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustRefuse(t, tt.giveText).Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("Error() = %q, want it to start %q", got, tt.want)
			}
		})
	}
}

func TestQuoteShortensLongEntries(t *testing.T) {
	long := strings.Repeat("a", 500)
	got := quote(long)
	if n := len([]rune(got)); n != maxQuoted+2 {
		t.Errorf("quote of 500 runes has %d runes, want %d", n, maxQuoted+2)
	}
	if !strings.HasSuffix(got, "…”") {
		t.Errorf("quote = %q, want it to end with an ellipsis", got)
	}
}
