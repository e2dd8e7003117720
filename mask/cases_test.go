package mask

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/internal/cases"
)

// caseRow is one row of shared/cases/mask.tsv.
type caseRow struct {
	line   int
	input  string
	want   string
	notes  string
	source string
}

func readCases(t testing.TB) []caseRow {
	t.Helper()
	var rows []caseRow
	for _, r := range cases.Read(t, "mask.tsv", "input", "want", "notes", "source") {
		rows = append(rows, caseRow{line: r.Line, input: cases.Unescape(r.Get("input")),
			want: r.Get("want"), notes: r.Get("notes"), source: r.Get("source")})
	}
	return rows
}

// typedEntries splits input the plain way a reader of the README would,
// to check that a problem names one of the entries as typed.
func typedEntries(input string) []string {
	var out []string
	for _, e := range strings.FieldsFunc(input, func(r rune) bool {
		return strings.ContainsRune(";,\n\r；，", r)
	}) {
		if e = strings.TrimFunc(e, unicode.IsSpace); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func TestCasesFile(t *testing.T) {
	rows := readCases(t)
	if len(rows) < 30 {
		t.Fatalf("only %d rows read from mask.tsv", len(rows))
	}
	for _, row := range rows {
		t.Run(row.source, func(t *testing.T) {
			t.Logf("mask.tsv line %d, input %q", row.line, row.input)
			m, err := Parse(row.input)
			if kind, ok := strings.CutPrefix(row.want, "error:"); ok {
				checkRefused(t, row.input, kind, m, err)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkAccepted(t, row, m)
		})
	}
}

func checkRefused(t *testing.T, input, kind string, m *Mask, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse = %v, %v; want a *ParseError of kind %s", m, err, kind)
	}
	i := slices.IndexFunc(pe.Problems, func(p Problem) bool { return p.Kind == kind })
	if i < 0 {
		t.Fatalf("problem kinds = %v, want %s", pe.Kinds(), kind)
	}
	p := pe.Problems[i]
	if !slices.Contains(typedEntries(input), p.Entry) {
		t.Errorf("problem entry %q is not one of the entries typed, %q", p.Entry,
			typedEntries(input))
	}
	if !strings.Contains(p.Message, p.Entry) {
		t.Errorf("message %q does not name the entry %q", p.Message, p.Entry)
	}
}

func checkAccepted(t *testing.T, row caseRow, m *Mask) {
	t.Helper()
	var want []netip.Prefix
	if row.want != "-" {
		for _, s := range strings.Split(row.want, ";") {
			want = append(want, netip.MustParsePrefix(s))
		}
	}
	var got []netip.Prefix
	for _, e := range m.Entries() {
		got = append(got, e.Prefix)
	}
	slices.SortFunc(want, comparePrefix)
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool {
		return a == b
	})); diff != "" {
		t.Errorf("prefixes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantNoteKinds(row.notes), noteKinds(m)); diff != "" {
		t.Errorf("note kinds (-want +got):\n%s", diff)
	}
	back, err := Parse(m.String())
	if err != nil {
		t.Fatalf("Parse(%q), the canonical text: %v", m.String(), err)
	}
	if !back.Equal(m) {
		t.Errorf("Parse(%q) = %q, want an equal mask", m.String(), back.String())
	}
}

func wantNoteKinds(s string) []string {
	if s == "-" {
		return nil
	}
	kinds := strings.Split(s, ",")
	slices.Sort(kinds)
	return kinds
}

func noteKinds(m *Mask) []string {
	var kinds []string
	for _, n := range m.Notes(netip.MustParseAddr("127.0.0.1")) {
		kinds = append(kinds, n.Kind)
	}
	slices.Sort(kinds)
	return slices.Compact(kinds)
}
