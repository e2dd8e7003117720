package clientip

import (
	"bufio"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ipCase is one row of ../shared/cases/client-ip.tsv.
type ipCase struct {
	line    int
	peer    string
	trusted string
	headers string
	want    string
	source  string
}

// casesDir walks up from the working directory to go.mod and returns the
// shared cases folder beside the repository.
func casesDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "cases")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
}

// readIPCases reads every row of client-ip.tsv, checking the header line so
// a reordered file fails loudly instead of testing the wrong columns.
func readIPCases(t *testing.T) []ipCase {
	t.Helper()
	f, err := os.Open(filepath.Join(casesDir(t), "client-ip.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	sc := bufio.NewScanner(f)
	var rows []ipCase
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		cols := strings.Split(line, "\t")
		if n == 1 {
			if line != "peer\ttrusted\theaders\twant\tsource" {
				t.Fatalf("client-ip.tsv: unexpected header %q", line)
			}
			continue
		}
		if line == "" {
			continue
		}
		if len(cols) != 5 {
			t.Fatalf("client-ip.tsv line %d: %d columns, want 5", n, len(cols))
		}
		rows = append(rows, ipCase{n, cols[0], cols[1], cols[2], cols[3], cols[4]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("client-ip.tsv holds no cases")
	}
	return rows
}

// caseHeaders builds request headers from the headers column. Values are
// kept exactly as written after the colon, blanks included.
func caseHeaders(t *testing.T, col string) http.Header {
	t.Helper()
	h := http.Header{}
	if col == "-" {
		return h
	}
	for _, field := range strings.Split(col, "|") {
		name, value, ok := strings.Cut(field, ":")
		if !ok {
			t.Fatalf("header %q has no colon", field)
		}
		h.Add(strings.TrimSpace(name), value)
	}
	return h
}

func TestResolveCases(t *testing.T) {
	for _, c := range readIPCases(t) {
		t.Run(c.source, func(t *testing.T) {
			var trusted []netip.Prefix
			if c.trusted != "-" {
				var err error
				if trusted, err = ParsePrefixes(c.trusted); err != nil {
					t.Fatalf("line %d: %v", c.line, err)
				}
			}
			peer := netip.MustParseAddr(c.peer)
			remote := netip.AddrPortFrom(peer, 40123).String()

			got := NewResolver(trusted).Resolve(remote, caseHeaders(t, c.headers))

			if got.Peer != peer {
				t.Errorf("line %d: Peer = %v, want %v", c.line, got.Peer, peer)
			}
			if c.want == "none" {
				if got.Known || got.Addr.IsValid() || got.String() != "unknown" {
					t.Errorf("line %d: got %+v, want no trustworthy address", c.line, got)
				}
				if got.Key() != peer.String() {
					t.Errorf("line %d: Key() = %q, want the peer %v", c.line, got.Key(), peer)
				}
				return
			}
			want := netip.MustParseAddr(c.want)
			if !got.Known || got.Addr != want || got.String() != want.String() {
				t.Errorf("line %d: got %+v (%s), want %v", c.line, got, got, want)
			}
			if got.Key() != want.String() {
				t.Errorf("line %d: Key() = %q, want %v", c.line, got.Key(), want)
			}
		})
	}
}
