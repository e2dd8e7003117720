package recovery

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCanMove(t *testing.T) {
	tests := []struct {
		name     string
		giveFrom State
		giveTo   State
		want     bool
	}{
		{"open to approved", Open, Approved, true},
		{"open to rejected", Open, Rejected, true},
		{"open stays open", Open, Open, false},
		{"approved is final", Approved, Rejected, false},
		{"approved again", Approved, Approved, false},
		{"rejected is final", Rejected, Approved, false},
		{"rejected back to open", Rejected, Open, false},
		{"unknown state", State("closed"), Approved, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanMove(tt.giveFrom, tt.giveTo); got != tt.want {
				t.Errorf("CanMove(%q, %q) = %v, want %v", tt.giveFrom, tt.giveTo, got, tt.want)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		name   string
		give   string
		want   State
		wantOK bool
	}{
		{"open", "open", Open, true},
		{"approved", "approved", Approved, true},
		{"rejected", "rejected", Rejected, true},
		{"case matters", "Open", "", false},
		{"empty", "", "", false},
		{"other", "closed", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseState(tt.give)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseState(%q) = %q, %v; want %q, %v", tt.give, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestNewRef(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		ref, err := NewRef()
		if err != nil {
			t.Fatal(err)
		}
		if len(ref) < 22 || !ValidRef(ref) {
			t.Fatalf("NewRef() = %q: not a valid reference of at least 22 characters", ref)
		}
		if seen[ref] {
			t.Fatalf("NewRef() repeated %q", ref)
		}
		seen[ref] = true
	}
}

func TestValidRef(t *testing.T) {
	tests := []struct {
		name string
		give string
		want bool
	}{
		{"22 characters", "abcdefghijABCDEFGHIJ_-", true},
		{"21 characters", "abcdefghijABCDEFGHIJ_", false},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"plus sign", "abcdefghijABCDEFGHIJ+-", false},
		{"padding", "abcdefghijABCDEFGHIJ_=", false},
		{"blank", "abcdefghijABCDEFGHIJ _", false},
		{"non-ASCII", "abcdefghijABCDEFGHIJé_", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidRef(tt.give); got != tt.want {
				t.Errorf("ValidRef(%q) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

func TestRequestCheck(t *testing.T) {
	ok := Request{Account: "demo", Contact: "owner@example.com",
		Reason: "New office.\r\nLine two\tok."}
	tests := []struct {
		name       string
		give       Request
		wantFields []string
	}{
		{"accepted", ok, nil},
		{"all empty", Request{}, []string{"account", "contact", "reason"}},
		{"account too long", with(ok, func(r *Request) { r.Account = strings.Repeat("é", 65) }),
			[]string{"account"}},
		{"account of 64 characters",
			with(ok, func(r *Request) { r.Account = strings.Repeat("é", 64) }), nil},
		{"line break in account",
			with(ok, func(r *Request) { r.Account = "de\nmo" }), []string{"account"}},
		{"NUL in contact",
			with(ok, func(r *Request) { r.Contact = "a@b.example\x00" }), []string{"contact"}},
		{"escape in reason", with(ok, func(r *Request) { r.Reason = "x\x1b[31m" }), []string{"reason"}},
		{"line separator in reason", with(ok, func(r *Request) { r.Reason = "a\u2028b" }),
			[]string{"reason"}},
		{"reason too long", with(ok, func(r *Request) { r.Reason = strings.Repeat("x", 2001) }),
			[]string{"reason"}},
		{"invalid UTF-8", with(ok, func(r *Request) { r.Contact = "\xff\xfe" }), []string{"contact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range tt.give.Check() {
				got = append(got, p.Field)
				if p.Message == "" {
					t.Errorf("problem with %s has no message", p.Field)
				}
			}
			if diff := cmp.Diff(tt.wantFields, got); diff != "" {
				t.Errorf("fields refused (-want +got):\n%s", diff)
			}
		})
	}
}

func with(r Request, change func(*Request)) Request {
	change(&r)
	return r
}

func TestRequestTrim(t *testing.T) {
	got := Request{Account: " demo\t", Contact: "\na@b.example ", Reason: "  lost  "}.Trim()
	want := Request{Account: "demo", Contact: "a@b.example", Reason: "lost"}
	if got != want {
		t.Errorf("Trim() = %+v, want %+v", got, want)
	}
}

func TestCheckNote(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		wantBad bool
	}{
		{"a note", "Called the number on file; the owner read back the blocked address.", false},
		{"lines", "Called.\nConfirmed.", false},
		{"blank", "   \n ", true},
		{"control", "ok\x07", true},
		{"too long", strings.Repeat("n", 1001), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := CheckNote("Verification", tt.give)
			if (msg != "") != tt.wantBad {
				t.Errorf("CheckNote(%q) = %q, want refused=%v", tt.give, msg, tt.wantBad)
			}
			if msg != "" && !strings.HasPrefix(msg, "Verification") {
				t.Errorf("message %q does not name the field", msg)
			}
		})
	}
}

func TestContactMatch(t *testing.T) {
	tests := []struct {
		name       string
		giveGiven  string
		giveOnFile string
		want       Match
	}{
		{"same email", "owner@example.com", "owner@example.com", Matches},
		{"email case and blanks", " Owner@Example.COM ", "owner@example.com", Matches},
		{"email blank inside", "owner @example.com", "owner@example.com", Matches},
		{"other email", "other@example.com", "owner@example.com", Differs},
		{"phone formats", "+49 (30) 1234-567", "+4930 1234567", Matches},
		{"phone other digits", "030 1234567", "+49 30 1234567", Differs},
		{"email against phone", "owner@example.com", "+49 30 1234567", Differs},
		{"too few digits", "12345", "12345", NoContact},
		{"nothing on file", "owner@example.com", "", NoContact},
		{"given empty", "", "owner@example.com", Differs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ContactMatch(tt.giveGiven, tt.giveOnFile); got != tt.want {
				t.Errorf("ContactMatch(%q, %q) = %v, want %v", tt.giveGiven, tt.giveOnFile, got, tt.want)
			}
		})
	}
}

func TestNameKey(t *testing.T) {
	if a, b := NameKey(" Demo "), NameKey("demo"); a != b {
		t.Errorf("NameKey differs for case and blanks: %q vs %q", a, b)
	}
	if NameKey("demo") == NameKey("demo2") {
		t.Error("NameKey joins different names")
	}
}
