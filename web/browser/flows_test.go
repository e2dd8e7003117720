package browser_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/web/webtest"
)

const (
	ownerName = "demo"
	ownerPw   = "demo-password"
	example   = "42.120.66.0/24;42.120.74.98"
)

// ownerTab starts a console with the owner account and opens a tab on it.
func ownerTab(t *testing.T, opts webtest.Options) *tab {
	t.Helper()
	tb := newTab(t, opts)
	tb.env.AddAccount(t, ownerName, ownerPw)
	return tb
}

func TestLogOnShowsBothCards(t *testing.T) {
	tb := ownerTab(t, webtest.Options{})
	if s := tb.logOn(ownerName, ownerPw); s != http.StatusOK {
		t.Fatalf("logon lands with status %d, want 200", s)
	}
	if p := tb.path(); p != "/security" {
		t.Fatalf("after logon at %s, want /security", p)
	}
	d := tb.doc()
	if got := d.Find("#mask-h").Parent().Find(".state").Text(); !strings.Contains(got, "Not set") {
		t.Errorf("Logon Mask card says %q, want Not set", got)
	}
	if got, _ := d.Find("#status-h").Parent().Find("[data-hours]").Attr("data-hours"); got != "48" {
		t.Errorf("Login Status card data-hours = %q, want 48", got)
	}
	if n := d.Find("[data-session]").Length(); n != 1 {
		t.Errorf("open sessions listed: %d, want 1", n)
	}
	// The stylesheet loaded under the Content-Security-Policy.
	ctxBg, err := runEval[string](tb, `getComputedStyle(document.body).backgroundColor`)
	if err != nil || ctxBg != "rgb(244, 246, 249)" {
		t.Errorf("body background %q (%v): the stylesheet did not apply", ctxBg, err)
	}
	tb.checkConsole()
}

func TestMaskLockoutWarningThenRefused(t *testing.T) {
	tb := ownerTab(t, webtest.Options{})
	tb.logOn(ownerName, ownerPw)
	if s := tb.click(`a[href="/security/logon-mask"]`); s != http.StatusOK {
		t.Fatalf("mask form: status %d", s)
	}
	tb.typeInto("#mask", example)
	if s := tb.submit("/security/logon-mask"); s != http.StatusConflict {
		t.Fatalf("save excluding 127.0.0.1: status %d, want 409", s)
	}
	d := tb.doc()
	warn := d.Find(`[data-result="lockout-warning"]`)
	if warn.Length() != 1 || !strings.Contains(warn.Text(), "127.0.0.1") {
		t.Fatalf("no lockout warning naming 127.0.0.1: %q", warn.Text())
	}
	if got := d.Find("textarea#mask").Text(); got != example {
		t.Errorf("warning lost the input: %q", got)
	}
	confirm := chromedp.CSS(`input[name="confirm_lockout"]`)
	tb.step("confirm", chromedp.Click(confirm, chromedp.NodeVisible))
	if s := tb.submit("/security/logon-mask"); s != http.StatusOK {
		t.Fatalf("confirmed save: status %d", s)
	}
	var entries []string
	for _, n := range tb.doc().Find("#mask-h").Parent().Find("[data-entry]").Nodes {
		for _, a := range n.Attr {
			if a.Key == "data-entry" {
				entries = append(entries, a.Val)
			}
		}
	}
	if diff := cmp.Diff([]string{"42.120.66.0/24", "42.120.74.98"}, entries); diff != "" {
		t.Errorf("saved entries (-want +got):\n%s", diff)
	}
	if s := tb.click(`form[action="/logout"] button`); s != http.StatusOK || tb.path() != "/login" {
		t.Fatalf("logout: status %d at %s", s, tb.path())
	}
	if s := tb.logOn(ownerName, ownerPw); s != http.StatusForbidden {
		t.Fatalf("logon from outside the mask: status %d, want 403", s)
	}
	blocked := tb.doc().Find(`[data-result="blocked"]`)
	if !strings.Contains(blocked.Text(), "127.0.0.1") {
		t.Errorf("blocked page does not name 127.0.0.1: %q", blocked.Text())
	}
	if tb.cookie("lg_session") != nil {
		t.Error("the refused logon left a session cookie")
	}
	tb.checkConsole()
}

// saveMaskHTTP saves a mask for the owner through the plain HTTP client.
func saveMaskHTTP(t *testing.T, env *webtest.Env, mask string) {
	t.Helper()
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	c.Get("/security/logon-mask")
	r := c.Post("/security/logon-mask", url.Values{"mask": {mask}, "confirm_lockout": {"yes"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save mask: status %d", r.StatusCode)
	}
}

func TestDemoPageBlockedAndAllowed(t *testing.T) {
	tb := ownerTab(t, webtest.Options{Demo: true})
	saveMaskHTTP(t, tb.env, example)
	if s := tb.open("/demo"); s != http.StatusOK {
		t.Fatalf("GET /demo: status %d", s)
	}
	// A preset from outside the mask, one click, no script.
	preset := `.presets form:has(input[name="source_ip"][value="203.0.113.9"]) button`
	if s := tb.click(preset); s != http.StatusForbidden {
		t.Fatalf("preset 203.0.113.9: status %d, want 403", s)
	}
	d := tb.doc()
	if got := d.Find(`[data-result="blocked"]`).Text(); !strings.Contains(got, "203.0.113.9") {
		t.Errorf("blocked result does not name 203.0.113.9: %q", got)
	}
	if got, _ := d.Find("#events tbody tr").First().Attr("data-outcome"); got != "blocked" {
		t.Errorf("newest event is %q, want blocked", got)
	}
	if d.Find(`[data-result="blocked"] a[href="/recovery"]`).Length() != 1 {
		t.Error("blocked result has no link to recovery")
	}

	// The free field, with an IPv4-mapped address inside the mask.
	tb.typeInto("#source_ip", "::ffff:42.120.66.7")
	if s := tb.click(`#source_ip ~ .actions button`); s != http.StatusOK {
		t.Fatalf("logon from ::ffff:42.120.66.7: status %d, want 200 after the redirect", s)
	}
	if p := tb.path(); p != "/security" {
		t.Fatalf("allowed demo logon at %s, want /security", p)
	}
	allowed := tb.doc().Find(`[data-result="allowed"]`)
	if got, _ := allowed.Attr("data-entry"); got != "42.120.66.0/24" {
		t.Errorf("allowed data-entry = %q, want 42.120.66.0/24", got)
	}
	if !strings.Contains(allowed.Text(), "42.120.66.7") {
		t.Errorf("allowed result does not name the unmapped address: %q", allowed.Text())
	}
	tb.checkConsole()
}

func TestSessionDurationSetsNextCookieExpiry(t *testing.T) {
	tb := ownerTab(t, webtest.Options{})
	tb.logOn(ownerName, ownerPw)
	first := tb.cookie("lg_session")
	if first == nil {
		t.Fatal("no lg_session cookie after logon")
	}
	if d := time.Until(time.Unix(int64(first.Expires), 0)); d < 47*time.Hour || d > 49*time.Hour {
		t.Errorf("first cookie expires in %v, want 48 hours", d)
	}
	tb.click(`a[href="/security/session-duration"]`)
	tb.typeInto("#hours", "1")
	if s := tb.submit("/security/session-duration"); s != http.StatusOK {
		t.Fatalf("save duration: status %d", s)
	}
	d := tb.doc()
	if got, _ := d.Find("[data-hours]").Attr("data-hours"); got != "1" {
		t.Errorf("data-hours = %q, want 1", got)
	}
	if got := d.Find(`[data-result="saved"]`).Text(); !strings.Contains(got, "next logon") {
		t.Errorf("saved message %q does not say it applies from the next logon", got)
	}
	// The session open now keeps its expiry. The browser counts Max-Age
	// from its own clock, which runs on while the test's server clock
	// stands still, so allow the seconds the test has taken.
	if c := tb.cookie("lg_session"); c == nil || c.Value != first.Value ||
		c.Expires-first.Expires > 10 || c.Expires-first.Expires < -10 {
		t.Errorf("open session's cookie changed: %+v, want expiry %v", c, first.Expires)
	}

	tb.click(`form[action="/logout"] button`)
	tb.logOn(ownerName, ownerPw)
	next := tb.cookie("lg_session")
	if next == nil || next.Value == first.Value {
		t.Fatalf("no new lg_session cookie after the next logon: %v", next)
	}
	want := tb.env.Clock.Now().Add(time.Hour)
	if d := time.Unix(int64(next.Expires), 0).Sub(want); d < -time.Minute || d > time.Minute {
		t.Errorf("new cookie expires at %v, want %v ± 1 minute", time.Unix(int64(next.Expires), 0), want)
	}
	if !next.HTTPOnly || next.SameSite != "Lax" {
		t.Errorf("cookie flags: httpOnly %v sameSite %q", next.HTTPOnly, next.SameSite)
	}
}

func TestBadMaskEntryShowsErrorNextToInput(t *testing.T) {
	tb := ownerTab(t, webtest.Options{})
	tb.logOn(ownerName, ownerPw)
	tb.open("/security/logon-mask")
	give := "42.120.66.0/24;42.120.66.300;42.120.74.98/16"
	tb.typeInto("#mask", give)
	if s := tb.submit("/security/logon-mask"); s != http.StatusUnprocessableEntity {
		t.Fatalf("save: status %d, want 422", s)
	}
	d := tb.doc()
	if got := d.Find("textarea#mask").Text(); got != give {
		t.Errorf("input not kept: %q", got)
	}
	var refused []string
	d.Find("[data-error]").Each(func(_ int, s *goquery.Selection) {
		e, _ := s.Attr("data-entry")
		k, _ := s.Attr("data-error")
		refused = append(refused, e+" "+k)
	})
	want := []string{"42.120.66.300 not-address", "42.120.74.98/16 host-bits"}
	if diff := cmp.Diff(want, refused); diff != "" {
		t.Errorf("refused entries (-want +got):\n%s", diff)
	}
	// The errors sit next to the box and the box points at them.
	described, _ := d.Find("textarea#mask").Attr("aria-describedby")
	if described == "" || d.Find("#"+described+" [data-error]").Length() != 2 {
		t.Errorf("textarea aria-describedby %q does not lead to the errors", described)
	}
	gap, err := runEval[float64](tb, `(() => {
		const box = document.getElementById("mask").getBoundingClientRect();
		const errs = document.getElementById("mask-errors").getBoundingClientRect();
		return Math.min(Math.abs(box.top - errs.bottom), Math.abs(errs.top - box.bottom));
	})()`)
	if err != nil || gap > 48 {
		t.Errorf("errors are %vpx from the box (%v), want next to it", gap, err)
	}

	// A bad draft in the check form is marked beside the draft, not the mask.
	tb.typeInto("#ip", "42.120.66.7")
	tb.typeInto("#draft", "42.120.66.0/33")
	if s := tb.submit("/security/logon-mask/check"); s != http.StatusUnprocessableEntity {
		t.Fatalf("check with a bad draft: status %d, want 422", s)
	}
	d = tb.doc()
	if got, _ := d.Find("textarea#draft").Attr("aria-describedby"); got != "draft-errors" {
		t.Errorf("draft aria-describedby = %q, want draft-errors", got)
	}
	if got, _ := d.Find("#draft-errors [data-error]").Attr("data-error"); got != "prefix-length" {
		t.Errorf("draft error kind %q, want prefix-length", got)
	}
	if _, marked := d.Find("textarea#mask").Attr("aria-invalid"); marked {
		t.Error("the saved mask's box is marked invalid for a bad draft")
	}
	tb.checkConsole()
}
