package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/logonguard/logonguard/internal/cases"
	"github.com/logonguard/logonguard/web/webtest"
)

// TestMaskCasesThroughForm replays every row of mask.tsv through the real
// form: refused rows get 422 with their data-error and the input kept;
// accepted rows are saved and listed with their notes. The caller is 127.0.0.1.
func TestMaskCasesThroughForm(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	for _, row := range cases.Read(t, "mask.tsv", "input", "want", "notes", "source") {
		input := cases.Unescape(row.Get("input"))
		t.Run(row.Get("source"), func(t *testing.T) {
			r := saveMask(c, input, url.Values{"confirm_lockout": {"yes"}})
			if kind, ok := strings.CutPrefix(row.Get("want"), "error:"); ok {
				checkRefusedForm(t, r, input, kind)
				return
			}
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("line %d: status %d, want 303\n%s", row.Line, r.StatusCode, r.Body)
			}
			page := c.Get("/security")
			want := wantEntries(row.Get("want"))
			got := page.Attr("[data-entry]", "data-entry")
			sorted := cmpopts.SortSlices(func(a, b string) bool { return a < b })
			if diff := cmp.Diff(want, got, sorted, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("line %d: entries (-want +got):\n%s", row.Line, diff)
			}
			wantNotes := splitList(row.Get("notes"))
			gotNotes := page.Attr("[data-note]", "data-note")
			slices.Sort(gotNotes)
			gotNotes = slices.Compact(gotNotes)
			if diff := cmp.Diff(wantNotes, gotNotes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("line %d: notes (-want +got):\n%s", row.Line, diff)
			}
			// The edit form shows the canonical mask, which saves as itself.
			form := c.Get("/security/logon-mask")
			canonical := form.Doc.Find("textarea#mask").Text()
			if r := saveMask(c, canonical, url.Values{"confirm_lockout": {"yes"}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("line %d: canonical %q refused: %d", row.Line, canonical, r.StatusCode)
			}
			if again := c.Get("/security").Attr("[data-entry]", "data-entry"); !cmp.Equal(again, got) {
				t.Errorf("line %d: canonical form saved as %v, want %v", row.Line, again, got)
			}
		})
	}
}

func checkRefusedForm(t *testing.T, r *webtest.Response, input, kind string) {
	t.Helper()
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.StatusCode)
	}
	if got := r.Attr(`[data-result="invalid"]`, "data-result"); len(got) == 0 {
		t.Error("no data-result=invalid element")
	}
	kinds := r.Attr("[data-error]", "data-error")
	if !slices.Contains(kinds, kind) {
		t.Errorf("data-error = %v, want %q among them", kinds, kind)
	}
	if got := r.Doc.Find("textarea#mask").Text(); got != input {
		t.Errorf("input not kept: got %q, want %q", got, input)
	}
}

// wantEntries turns the file's prefix set into the page's canonical
// entries: single addresses bare.
func wantEntries(want string) []string {
	var out []string
	for _, p := range splitList(strings.ReplaceAll(want, ";", ",")) {
		if strings.Contains(p, ":") {
			p = strings.TrimSuffix(p, "/128")
		} else {
			p = strings.TrimSuffix(p, "/32")
		}
		out = append(out, p)
	}
	return out
}

// splitList reads a comma-separated cell; "-" is the empty list.
func splitList(s string) []string {
	if s == "-" || s == "" {
		return nil
	}
	out := strings.Split(s, ",")
	slices.Sort(out)
	return out
}

// TestCheckFormNamesWhatIsWrong: the check-an-address form says which
// problem an address has, and reads zones and mapped addresses as peers.
func TestCheckFormNamesWhatIsWrong(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	saveMask(c, example, url.Values{"confirm_lockout": {"yes"}})
	for _, tt := range []struct {
		give, wantWord string
		wantStatus     int
	}{
		{"1.2.3.04", "leading zero", http.StatusUnprocessableEntity},
		{"1.2.3.0/24", "block", http.StatusUnprocessableEntity},
		{"1.2.3.4:80", "port", http.StatusUnprocessableEntity},
		{"example.com", "not an IPv4 or IPv6 address", http.StatusUnprocessableEntity},
		{"::ffff:42.120.66.7", "42.120.66.0/24", http.StatusOK},
		{"fe80::1%eth0", "fe80::1", http.StatusOK},
	} {
		c.Get("/security/logon-mask")
		r := c.Post("/security/logon-mask/check", url.Values{"ip": {tt.give}})
		if r.StatusCode != tt.wantStatus {
			t.Errorf("%s: status %d, want %d", tt.give, r.StatusCode, tt.wantStatus)
			continue
		}
		text := r.Doc.Find(`.field-error, [data-result="allowed"], [data-result="blocked"]`).Text()
		if !strings.Contains(text, tt.wantWord) {
			t.Errorf("%s: page says %q, want it to mention %q", tt.give, text, tt.wantWord)
		}
	}
}
