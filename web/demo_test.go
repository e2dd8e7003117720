package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web/webtest"
)

// startDemo starts a demo-mode console with the demo account and, when
// mask is not empty, that mask saved by the owner.
func startDemo(t *testing.T, mask string) *webtest.Env {
	t.Helper()
	env := webtest.Start(t, webtest.Options{Demo: true})
	env.AddAccount(t, ownerName, ownerPw)
	if mask != "" {
		owner := env.Client(t)
		owner.LogOn(ownerName, ownerPw)
		r := saveMask(owner, mask, url.Values{"confirm_lockout": {"yes"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save mask %q: status %d", mask, r.StatusCode)
		}
	}
	return env
}

// texts returns the trimmed text of every element matching selector.
func texts(r *webtest.Response, selector string) []string {
	var out []string
	r.Doc.Find(selector).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

// demoLogon posts a demo logon from a fresh client and returns both.
func demoLogon(t *testing.T, env *webtest.Env, account, pw, ip string) (
	*webtest.Client, *webtest.Response) {
	t.Helper()
	c := env.Client(t)
	c.Get("/demo")
	r := c.Post("/demo/login", url.Values{"account": {account}, "password": {pw}, "source_ip": {ip}})
	return c, r
}

func TestDemoLogonAgainstExampleMask(t *testing.T) {
	env := startDemo(t, example)
	const ok, blocked = http.StatusSeeOther, http.StatusForbidden
	tests := []struct {
		name       string
		giveIP     string
		wantStatus int
		wantAddr   string // the address the page names
		wantEntry  string // the entry that let it in, when allowed
	}{
		{"inside the block", "42.120.66.7", ok, "42.120.66.7", "42.120.66.0/24"},
		{"the single address", "42.120.74.98", ok, "42.120.74.98", "42.120.74.98"},
		{"IPv4-mapped IPv6 is unmapped", "::ffff:42.120.66.7", ok, "42.120.66.7", "42.120.66.0/24"},
		{"blanks around are ignored", " 42.120.66.200 ", ok, "42.120.66.200", "42.120.66.0/24"},
		{"outside", "203.0.113.9", blocked, "203.0.113.9", ""},
		{"next block", "42.120.67.1", blocked, "42.120.67.1", ""},
		{"IPv6 outside a v4 mask", "2001:db8::7", blocked, "2001:db8::7", ""},
		{"zone stripped", "fe80::1%eth0", blocked, "fe80::1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := demoLogon(t, env, ownerName, ownerPw, tt.giveIP)
			if r.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d\n%s", r.StatusCode, tt.wantStatus, r.Body)
			}
			if tt.wantStatus == http.StatusForbidden {
				blocked := r.Doc.Find(`[data-result="blocked"]`)
				if blocked.Length() != 1 || !strings.Contains(blocked.Text(), tt.wantAddr) {
					t.Errorf("blocked element %q does not name %s", blocked.Text(), tt.wantAddr)
				}
				if c.Cookie("lg_session") != nil {
					t.Error("a blocked demo logon set a session cookie")
				}
				return
			}
			if loc := r.Header.Get("Location"); loc != "/security" {
				t.Fatalf("Location %q, want /security", loc)
			}
			page := c.Get("/security")
			got := page.Attr(`[data-result="allowed"]`, "data-entry")
			if !cmp.Equal(got, []string{tt.wantEntry}) {
				t.Errorf("allowed data-entry = %v, want [%s]", got, tt.wantEntry)
			}
			if txt := page.Doc.Find(`[data-result="allowed"]`).Text(); !strings.Contains(txt, tt.wantAddr) {
				t.Errorf("allowed element %q does not name %s", txt, tt.wantAddr)
			}
			// The result is shown once.
			if n := c.Get("/security").Doc.Find(`[data-result="allowed"]`).Length(); n != 0 {
				t.Errorf("allowed result shown again on reload (%d)", n)
			}
		})
	}
}

func TestDemoPageShowsMaskPresetsAndEvents(t *testing.T) {
	env := startDemo(t, example)
	r := env.Client(t).Get("/demo")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	entries := texts(r, ".entries code")
	if diff := cmp.Diff([]string{"42.120.66.0/24", "42.120.74.98"}, entries); diff != "" {
		t.Errorf("mask shown (-want +got):\n%s", diff)
	}
	presets := r.Attr(`.presets input[name="source_ip"]`, "value")
	want := []string{"42.120.66.7", "203.0.113.9", "2001:db8::7", "::ffff:42.120.66.7"}
	if diff := cmp.Diff(want, presets); diff != "" {
		t.Errorf("presets (-want +got):\n%s", diff)
	}
	csrf := r.Doc.Find(`.presets form[action="/demo/login"] input[name="_csrf"]`)
	if n := csrf.Length(); n != len(want) {
		t.Errorf("preset forms with _csrf: %d, want %d", n, len(want))
	}

	// Each try lands in the list at once, newest first.
	env.Clock.Advance(time.Second)
	demoLogon(t, env, ownerName, ownerPw, "203.0.113.9")
	env.Clock.Advance(time.Second)
	demoLogon(t, env, ownerName, "wrong-password", "42.120.66.7")
	env.Clock.Advance(time.Second)
	r = env.Client(t).Get("/demo")
	got := r.Attr("#events tbody tr", "data-outcome")
	if diff := cmp.Diff([]string{"wrong_password", "blocked", "allowed"}, got); diff != "" {
		t.Errorf("event outcomes, newest first (-want +got):\n%s", diff)
	}
	sources := texts(r, "#events tbody tr code")
	if diff := cmp.Diff([]string{"42.120.66.7", "203.0.113.9", "127.0.0.1"}, sources); diff != "" {
		t.Errorf("event sources (-want +got):\n%s", diff)
	}
}

func TestDemoBlockedPageSameWhateverPassword(t *testing.T) {
	env := startDemo(t, example)
	c := env.Client(t) // one client, so both pages carry the same CSRF token
	c.Get("/demo")
	var pages []string
	for _, pw := range []string{ownerPw, "wrong-password"} {
		form := url.Values{"account": {ownerName}, "password": {pw}, "source_ip": {"203.0.113.9"}}
		r := c.Post("/demo/login", form)
		if r.StatusCode != http.StatusForbidden {
			t.Fatalf("password %q: status %d, want 403", pw, r.StatusCode)
		}
		if strings.Contains(r.Body, "wrong-password") {
			t.Error("the page echoes the posted password")
		}
		// The events list grows by one row per try; the rest must not differ.
		r.Doc.Find("#events").Remove()
		html, err := r.Doc.Html()
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, html)
	}
	if diff := cmp.Diff(pages[0], pages[1]); diff != "" {
		t.Errorf("blocked page depends on the password (-right +wrong):\n%s", diff)
	}
}

func TestDemoOtherAccountAnswersAsUnknown(t *testing.T) {
	env := startDemo(t, "")
	env.AddAccount(t, "alice", "alice-password-1")
	env.AddStaff(t, "support", "support-password")
	c := env.Client(t)
	c.Get("/demo")
	var bodies []string
	for _, give := range [][2]string{{"nobody", "whatever-password"}, {"alice", "alice-password-1"},
		{"support", "support-password"}} {
		form := url.Values{"account": {give[0]}, "password": {give[1]}, "source_ip": {"42.120.66.7"}}
		r := c.Post("/demo/login", form)
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("account %q: status %d, want 401", give[0], r.StatusCode)
		}
		if c.Cookie("lg_session") != nil {
			t.Fatalf("account %q: a session cookie was set", give[0])
		}
		bodies = append(bodies, r.Body)
	}
	for i, b := range bodies[1:] {
		if diff := cmp.Diff(bodies[0], b); diff != "" {
			t.Errorf("body %d differs from the unknown account's (-unknown +got):\n%s", i+1, diff)
		}
	}
	if r := c.Get("/security"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after the refused logons /security answers %d, want 303", r.StatusCode)
	}
}

func TestDemoLogonWithoutMask(t *testing.T) {
	env := startDemo(t, "")
	page := env.Client(t).Get("/demo")
	presets := page.Attr(`.presets input[name="source_ip"]`, "value")
	want := []string{"42.120.66.7", "203.0.113.9", "2001:db8::7", "::ffff:42.120.66.7"}
	if diff := cmp.Diff(want, presets); diff != "" {
		t.Errorf("presets without a mask (-want +got):\n%s", diff)
	}
	for i, tag := range texts(page, ".presets .tag") {
		if !strings.Contains(tag, "no mask") {
			t.Errorf("preset %d is tagged %q, want that no mask is set", i, tag)
		}
	}
	c, r := demoLogon(t, env, ownerName, ownerPw, "2001:db8::7")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", r.StatusCode)
	}
	page = c.Get("/security")
	allowed := page.Doc.Find(`[data-result="allowed"]`)
	if allowed.Length() != 1 {
		t.Fatalf("allowed elements: %d, want 1", allowed.Length())
	}
	if _, ok := allowed.Attr("data-entry"); ok {
		t.Error("allowed element names an entry although no mask is set")
	}
	txt := allowed.Text()
	if !strings.Contains(txt, "No logon mask is set") || !strings.Contains(txt, "2001:db8::7") {
		t.Errorf("allowed element %q does not say that no mask is set", txt)
	}
	// The session records the simulated address, as a real logon would.
	if got := page.Doc.Find("[data-session] code").First().Text(); got != "2001:db8::7" {
		t.Errorf("session source %q, want 2001:db8::7", got)
	}
}

func TestDemoLogonRefusesBadSourceAddress(t *testing.T) {
	env := startDemo(t, "")
	tests := []struct {
		name     string
		giveIP   string
		wantName bool // the message quotes the input
	}{
		{"empty", "", false},
		{"three octets", "42.120.66", true},
		{"a block", "42.120.66.0/24", true},
		{"a host name", "office.example", true},
		{"with a port", "42.120.66.7:443", true},
		{"leading zero", "042.120.66.7", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := demoLogon(t, env, ownerName, ownerPw, tt.giveIP)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.StatusCode)
			}
			if got, _ := r.Doc.Find("input#source_ip").Attr("value"); got != tt.giveIP {
				t.Errorf("input kept as %q, want %q", got, tt.giveIP)
			}
			if got, _ := r.Doc.Find("input#source_ip").Attr("aria-invalid"); got != "true" {
				t.Error("input not marked aria-invalid")
			}
			msg := r.Doc.Find("#source_ip-error").Text()
			if msg == "" || tt.wantName && !strings.Contains(msg, tt.giveIP) {
				t.Errorf("message %q does not name %q", msg, tt.giveIP)
			}
			if c.Cookie("lg_session") != nil {
				t.Error("a refused input opened a session")
			}
		})
	}
}

func TestDemoRoutesOnlyInDemoMode(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	if r := c.Get("/demo"); r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /demo: status %d, want 404", r.StatusCode)
	}
	for _, path := range []string{"/demo/login", "/demo/reset"} {
		form := url.Values{"account": {ownerName}, "password": {ownerPw}, "source_ip": {"42.120.66.7"}}
		if r := c.Post(path, form); r.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: status %d, want 404", path, r.StatusCode)
		}
	}
	if c.Cookie("lg_session") != nil {
		t.Error("a demo logon outside demo mode opened a session")
	}
	if r := c.Get("/login"); strings.Contains(r.Body, `href="/demo"`) {
		t.Error("the logon page links to /demo outside demo mode")
	}
}

func TestDemoResetRestoresDefaultsAudited(t *testing.T) {
	env := startDemo(t, "")
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	owner.Get("/security/session-duration")
	owner.Post("/security/session-duration", url.Values{"hours": {"5"}})
	saveMask(owner, example, url.Values{"confirm_lockout": {"yes"}})

	c := env.Client(t)
	c.Get("/demo")
	r := c.Post("/demo/reset", nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/demo" {
		t.Fatalf("reset: status %d location %q, want 303 /demo", r.StatusCode, r.Header.Get("Location"))
	}
	ctx := context.Background()
	acct, err := env.Store.AccountByName(ctx, ownerName)
	if err != nil {
		t.Fatal(err)
	}
	st, err := env.Store.Settings(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mask != "" || st.SessionHours != 48 {
		t.Errorf("after reset: mask %q, hours %d; want no mask, 48", st.Mask, st.SessionHours)
	}
	audits, err := env.Store.AuditEvents(ctx, store.AuditFilter{AccountID: acct.ID, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range audits {
		got = append(got, a.Action+" by "+a.Actor.Name+" from "+a.Actor.Source+": "+
			a.OldValue+" > "+a.NewValue)
	}
	want := []string{"session_duration.update by demo page from 127.0.0.1: 5 > 48",
		"mask.update by demo page from 127.0.0.1: " + example + " > "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	// The cached match table follows at once: the outside address gets in.
	_, r = demoLogon(t, env, ownerName, ownerPw, "203.0.113.9")
	if r.StatusCode != http.StatusSeeOther {
		t.Errorf("logon from 203.0.113.9 after reset: status %d, want 303", r.StatusCode)
	}
	if r := c.Get("/demo"); !strings.Contains(r.Doc.Find(".state").Text(), "Not set") {
		t.Error(`demo page does not show the mask as "Not set" after reset`)
	}
}

func TestDemoPostsNeedCSRF(t *testing.T) {
	env := startDemo(t, example)
	posts := []struct {
		name     string
		givePath string
		giveForm url.Values
	}{
		{"login", "/demo/login", url.Values{"account": {ownerName}, "password": {ownerPw},
			"source_ip": {"42.120.66.7"}}},
		{"blocked login", "/demo/login", url.Values{"account": {ownerName}, "password": {ownerPw},
			"source_ip": {"203.0.113.9"}}},
		{"reset", "/demo/reset", url.Values{}},
	}
	for _, tt := range posts {
		for _, tok := range []string{"", "wrong-token"} {
			c := env.Client(t)
			c.Get("/demo")
			form := url.Values{"_csrf": {tok}}
			for k, v := range tt.giveForm {
				form[k] = v
			}
			if r := c.Post(tt.givePath, form); r.StatusCode != http.StatusForbidden {
				t.Errorf("%s with _csrf=%q: status %d, want 403", tt.name, tok, r.StatusCode)
			}
			if c.Cookie("lg_session") != nil {
				t.Errorf("%s with _csrf=%q: a session cookie was set", tt.name, tok)
			}
		}
	}
	r := env.Client(t).Get("/demo")
	if got := r.Attr("#events tbody tr", "data-outcome"); !cmp.Equal(got, []string{"allowed"}) {
		t.Errorf("refused POSTs left logon events: %v, want only the owner's [allowed]", got)
	}
	if r.Doc.Find(".entries li").Length() != 2 {
		t.Error("a refused reset changed the mask")
	}
}

func TestDemoLogonRateLimitedLikeLogin(t *testing.T) {
	env := startDemo(t, "")
	c := env.Client(t)
	c.Get("/demo")
	// Wrong passwords from ten simulated addresses reach the per-account
	// limit; the next try is refused at once, even with the right password.
	for i := range 10 {
		ip := "198.51.100." + strconv.Itoa(10+i)
		form := url.Values{"account": {ownerName}, "password": {"wrong-password"}, "source_ip": {ip}}
		if r := c.Post("/demo/login", form); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("try %d: status %d, want 401", i+1, r.StatusCode)
		}
	}
	// Queued events of one instant list oldest first, so let a second pass.
	env.Clock.Advance(time.Second)
	form := url.Values{"account": {ownerName}, "password": {ownerPw}, "source_ip": {"42.120.66.7"}}
	r := c.Post("/demo/login", form)
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after ten failures: status %d, want 429", r.StatusCode)
	}
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs <= 0 {
		t.Errorf("Retry-After %q, want a positive number of seconds", r.Header.Get("Retry-After"))
	}
	if got := r.Attr("#events tbody tr", "data-outcome"); len(got) == 0 || got[0] != "rate_limited" {
		t.Errorf("newest event outcomes %v, want rate_limited first", got)
	}
}
