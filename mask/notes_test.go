package mask

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	callerV4 = netip.MustParseAddr("127.0.0.1")
	callerV6 = netip.MustParseAddr("2001:db8::99")
)

func TestNotes(t *testing.T) {
	type note struct{ Kind, Entry string }
	tests := []struct {
		name       string
		giveText   string
		giveCaller netip.Addr
		want       []note
	}{
		{"none", "42.120.66.0/24;42.120.74.98", callerV4, nil},
		{"empty mask", "", callerV4, nil},
		{"duplicate", "42.120.66.0/24;42.120.66.0/24;42.120.74.98", callerV4,
			[]note{{NoteDuplicate, "42.120.66.0/24"}}},
		{"three times is one duplicate", "1.2.3.4;1.2.3.4;1.2.3.4;5.6.7.8", callerV4,
			[]note{{NoteDuplicate, "1.2.3.4"}}},
		{"duplicate through a range", "1.2.3.0/30;1.2.3.0-1.2.3.3;5.6.7.8", callerV4,
			[]note{{NoteDuplicate, "1.2.3.0/30"}}},
		{"contained", "42.120.66.0/24;42.120.66.9;42.120.74.98", callerV4,
			[]note{{NoteContained, "42.120.66.9"}}},
		{"contained before its container", "42.120.66.9;42.120.66.0/24;42.120.74.98",
			callerV4, []note{{NoteContained, "42.120.66.9"}}},
		{"contained twice over", "10.0.0.0/8;10.1.0.0/16;10.1.0.0/16;8.8.8.8", callerV4,
			[]note{{NoteContained, "10.1.0.0/16"}, {NotePrivate, "10.0.0.0/8"}}},
		{"private IPv4 blocks",
			"10.1.0.0/16;172.31.0.1;192.168.1.0/24;127.0.0.1;169.254.1.1;100.127.0.0/16",
			callerV4, []note{{NotePrivate, "10.1.0.0/16"}, {NotePrivate, "100.127.0.0/16"},
				{NotePrivate, "127.0.0.1"}, {NotePrivate, "169.254.1.1"},
				{NotePrivate, "172.31.0.1"}, {NotePrivate, "192.168.1.0/24"}}},
		{"private IPv6 blocks", "::1;fe80::/64;fd00:1::/48;2001:db8::1", callerV6,
			[]note{{NotePrivate, "::1"}, {NotePrivate, "fd00:1::/48"},
				{NotePrivate, "fe80::/64"}}},
		{"special but not private", "192.0.2.0/24;198.18.0.0/15;2001:db8::/32;224.0.0.1;" +
			"0.0.0.0/8;172.15.0.0/16;172.32.0.0/16;100.128.0.0/16;fec0::/10;ff02::1;fe00::1",
			callerV4, nil},
		{"holding private space is not inside it", "8.0.0.0/6;4.4.4.4", callerV4, nil},
		{"single address", "198.51.100.7", callerV4,
			[]note{{NoteSingleEntry, "198.51.100.7"}}},
		{"single range", "198.51.100.1-198.51.100.6", callerV4,
			[]note{{NoteSingleEntry, "198.51.100.1-198.51.100.6"}}},
		{"single entry typed twice", "198.51.100.7;198.51.100.7", callerV4,
			[]note{{NoteDuplicate, "198.51.100.7"}, {NoteSingleEntry, "198.51.100.7"}}},
		{"one block holding the rest", "198.51.100.7;198.51.100.0/24", callerV4,
			[]note{{NoteContained, "198.51.100.7"}, {NoteSingleEntry, "198.51.100.0/24"}}},
		{"IPv6 only, caller on IPv4", "2001:db8::/32;2001:db9::/32", callerV4,
			[]note{{NoteOneFamily, ""}}},
		{"IPv4 only, caller on IPv6", "1.2.3.4;5.6.7.8", callerV6,
			[]note{{NoteOneFamily, ""}}},
		{"IPv6 only, caller mapped IPv4", "2001:db8::/32;2001:db9::/32",
			netip.MustParseAddr("::ffff:127.0.0.1"), []note{{NoteOneFamily, ""}}},
		{"IPv4 only, caller mapped IPv4", "1.2.3.4;5.6.7.8",
			netip.MustParseAddr("::ffff:127.0.0.1"), nil},
		{"both families", "1.2.3.4;2001:db8::/32", callerV6, nil},
		{"no caller", "2001:db8::/32;2001:db9::/32", netip.Addr{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.giveText)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []note
			for _, n := range m.Notes(tt.giveCaller) {
				got = append(got, note{n.Kind, n.Entry})
				if n.Message == "" || n.Entry != "" && !strings.Contains(n.Message, n.Entry) {
					t.Errorf("note %+v: message does not name the entry", n)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotesNameTheContainer(t *testing.T) {
	m, err := Parse("42.120.66.0/24 #office;42.120.66.9 #home;1.1.1.1")
	if err != nil {
		t.Fatal(err)
	}
	notes := m.Notes(callerV4)
	if len(notes) != 1 || !strings.Contains(notes[0].Message, "inside 42.120.66.0/24") {
		t.Errorf("notes = %+v, want one naming 42.120.66.0/24", notes)
	}
}

func TestNotesOneFamilyNamesCaller(t *testing.T) {
	m, err := Parse("2001:db8::/32;2001:db9::/32")
	if err != nil {
		t.Fatal(err)
	}
	notes := m.Notes(netip.MustParseAddr("203.0.113.5"))
	if len(notes) != 1 || !strings.Contains(notes[0].Message, "203.0.113.5") ||
		!strings.Contains(notes[0].Message, "add an IPv4 entry") {
		t.Errorf("notes = %+v, want one naming the caller and the family to add", notes)
	}
}

func TestNotesAreCappedPerKind(t *testing.T) {
	var b strings.Builder
	for i := range 25 {
		fmt.Fprintf(&b, "10.0.%d.0/24;10.0.%d.0/24;10.0.%d.1;", i, i, i)
	}
	m, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var summaries []Note
	for _, n := range m.Notes(callerV4) {
		count[n.Kind]++
		if n.Entry == "" {
			summaries = append(summaries, n)
		}
	}
	want := map[string]int{NoteDuplicate: 11, NoteContained: 11, NotePrivate: 11}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("notes per kind (-want +got):\n%s", diff)
	}
	for _, n := range summaries {
		if !strings.HasPrefix(n.Message, "15 more entries") {
			t.Errorf("summary %q does not count the 15 not listed", n.Message)
		}
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name  string
		giveA string
		giveB string
		want  bool
	}{
		{"same text", "1.2.3.4;2001:db8::/32", "1.2.3.4;2001:db8::/32", true},
		{"other order and separators", "2001:db8::/32\n1.2.3.4", "1.2.3.4;2001:db8::/32", true},
		{"range and its blocks", "1.2.3.0-1.2.3.3", "1.2.3.0/30", true},
		{"mapped and plain", "::ffff:1.2.3.4", "1.2.3.4", true},
		{"merged duplicate", "1.2.3.4;1.2.3.4", "1.2.3.4", true},
		{"both empty", "", " ; ", true},
		{"label changed", "1.2.3.4 #home", "1.2.3.4 #office", false},
		{"label added", "1.2.3.4", "1.2.3.4 #home", false},
		{"entry added", "1.2.3.4", "1.2.3.4;1.2.3.5", false},
		{"entry changed", "1.2.3.4", "1.2.3.5", false},
		{"length changed", "1.2.3.0/24", "1.2.3.0/25", false},
		{"empty and not", "", "1.2.3.4", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, errA := Parse(tt.giveA)
			b, errB := Parse(tt.giveB)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if got := a.Equal(b); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
			if got := b.Equal(a); got != tt.want {
				t.Errorf("Equal, turned round, = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNilMask(t *testing.T) {
	var m *Mask
	empty, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Empty() || m.Len() != 0 || m.String() != "" || m.Entries() != nil ||
		m.Notes(callerV4) != nil || !m.Equal(empty) || !empty.Equal(m) {
		t.Error("a nil mask is not the same as an empty one")
	}
	if _, ok := m.Lookup(callerV4); ok {
		t.Error("a nil mask matches an address")
	}
}

func TestEntriesOrderAndLabels(t *testing.T) {
	m, err := Parse("2001:db8::/32 #v6;10.0.0.0/8;9.9.9.9 #dns;10.0.0.0/7;::ffff:1.1.1.1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{netip.MustParsePrefix("1.1.1.1/32"), ""},
		{netip.MustParsePrefix("9.9.9.9/32"), "dns"},
		{netip.MustParsePrefix("10.0.0.0/7"), ""},
		{netip.MustParsePrefix("2001:db8::/32"), "v6"},
	}
	if diff := cmp.Diff(want, m.Entries(), cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("Entries (-want +got):\n%s", diff)
	}
}
