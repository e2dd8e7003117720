// Package cases reads the handed cases in ../shared/cases (seen from the
// repository root) for tests in any package of the module.
package cases

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Row is one case: its cells by column name and its line in the file.
type Row struct {
	Line  int
	Cells map[string]string
}

// Get returns the cell of column name.
func (r Row) Get(name string) string { return r.Cells[name] }

// Dir walks up from the working directory to go.mod and returns the shared
// cases folder beside the repository.
func Dir(t testing.TB) string {
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
			t.Fatal("cases: no go.mod above the package directory")
		}
		dir = parent
	}
}

// Read returns every row of file, checking that the header holds the
// columns the test expects, so a reordered file fails loudly.
func Read(t testing.TB, file string, columns ...string) []Row {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(t), file)) //nolint:gosec // a handed case file
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var header []string
	var rows []Row
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			header = strings.Split(line, "\t")
			for _, c := range columns {
				if !contains(header, c) {
					t.Fatalf("cases: %s has no column %q (header %q)", file, c, line)
				}
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		cells := strings.Split(line, "\t")
		if len(cells) != len(header) {
			t.Fatalf("cases: %s line %d: %d columns, want %d", file, n, len(cells), len(header))
		}
		row := Row{Line: n, Cells: make(map[string]string, len(cells))}
		for i, c := range cells {
			row.Cells[header[i]] = c
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("cases: %s holds no cases", file)
	}
	return rows
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Unescape turns the files' \n and \r escapes into line feeds and carriage returns.
func Unescape(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\r`, "\r").Replace(s)
}

// Headers builds request headers from a headers cell: `|` between headers,
// `Name: value` each, `-` for none. Values are kept exactly as written
// after the colon, blanks included.
func Headers(t testing.TB, cell string) http.Header {
	t.Helper()
	h := http.Header{}
	if cell == "-" {
		return h
	}
	for _, field := range strings.Split(cell, "|") {
		name, value, ok := strings.Cut(field, ":")
		if !ok {
			t.Fatalf("cases: header %q has no colon", field)
		}
		h.Add(strings.TrimSpace(name), value)
	}
	return h
}
