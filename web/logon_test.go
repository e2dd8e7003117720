package web_test

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/web/webtest"
)

const (
	ownerName = "demo"
	ownerPw   = "demo-password"
	example   = "42.120.66.0/24;42.120.74.98"
)

func TestSecurityPageDefaults(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)

	if r := c.Get("/security"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("signed out: status %d location %q, want 303 /login", r.StatusCode, r.Header.Get("Location"))
	}
	c.LogOn(ownerName, ownerPw)
	r := c.Get("/security")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	if got := r.Attr("[data-hours]", "data-hours"); !cmp.Equal(got, []string{"48"}) {
		t.Errorf("data-hours = %v, want [48]", got)
	}
	if got := r.Attr("[data-entry]", "data-entry"); len(got) != 0 {
		t.Errorf("entries on a new account: %v", got)
	}
	if !strings.Contains(r.Doc.Find("#mask-h").Parent().Text(), "Not set") {
		t.Error(`Logon Mask card does not say "Not set"`)
	}
	if n := len(r.Attr("[data-session]", "data-session")); n != 1 {
		t.Errorf("open sessions listed: %d, want 1", n)
	}
	if r.Doc.Find(`form[action="/logout"] input[name="_csrf"]`).Length() != 1 {
		t.Error("logout form carries no _csrf")
	}
}

// saveMask posts a mask and returns the response.
func saveMask(c *webtest.Client, mask string, extra url.Values) *webtest.Response {
	c.Get("/security/logon-mask")
	form := url.Values{"mask": {mask}}
	for k, v := range extra {
		form[k] = v
	}
	return c.Post("/security/logon-mask", form)
}

func TestMaskLocksOutAndBlocksBeforePassword(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)

	r := saveMask(owner, example, nil)
	if r.StatusCode != http.StatusConflict || len(r.Attr(`[data-result="lockout-warning"]`, "data-result")) != 1 {
		t.Fatalf("unconfirmed lockout: status %d, want 409 lockout-warning", r.StatusCode)
	}
	if got := r.Doc.Find("textarea#mask").Text(); got != example {
		t.Errorf("warning page lost the input: %q", got)
	}
	if r := owner.Get("/security"); len(r.Attr("[data-entry]", "data-entry")) != 0 {
		t.Fatal("mask saved without confirmation")
	}
	r = saveMask(owner, example, url.Values{"confirm_lockout": {"yes"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed save: status %d, want 303\n%s", r.StatusCode, r.Body)
	}
	r = owner.Get("/security")
	want := []string{"42.120.66.0/24", "42.120.74.98"}
	if got := r.Attr("[data-entry]", "data-entry"); !cmp.Equal(got, want) {
		t.Errorf("saved entries = %v, want %v", got, want)
	}
	// The open session runs on although its address is now outside the mask.
	if r.StatusCode != http.StatusOK {
		t.Errorf("open session refused after the save: %d", r.StatusCode)
	}

	var bodies []string
	c := env.Client(t) // one client, so both pages carry the same CSRF token
	c.Get("/login")
	for _, pw := range []string{ownerPw, "wrong-password"} {
		r := c.Post("/login", url.Values{"account": {ownerName}, "password": {pw}})
		if r.StatusCode != http.StatusForbidden || len(r.Attr(`[data-result="blocked"]`, "data-result")) != 1 {
			t.Fatalf("logon with %q from outside: status %d, want 403 blocked", pw, r.StatusCode)
		}
		if !strings.Contains(r.Doc.Find(`[data-result="blocked"]`).Text(), "127.0.0.1") {
			t.Error("blocked page does not show the source address")
		}
		if c.Cookie("lg_session") != nil {
			t.Error("blocked logon set a session cookie")
		}
		bodies = append(bodies, r.Body)
	}
	if bodies[0] != bodies[1] {
		t.Error("blocked page differs between right and wrong password")
	}

	spoof := env.Client(t)
	spoof.Header.Set("X-Forwarded-For", "42.120.66.7")
	spoof.Get("/login")
	logon := url.Values{"account": {ownerName}, "password": {ownerPw}}
	if r := spoof.Post("/login", logon); r.StatusCode != http.StatusForbidden {
		t.Errorf("spoofed X-Forwarded-For without a trusted proxy: status %d, want 403", r.StatusCode)
	}
}

func TestTrustedProxyAddressPassesMask(t *testing.T) {
	env := webtest.Start(t, webtest.Options{TrustedProxies: mustPrefixes(t, "127.0.0.1/32")})
	env.AddAccount(t, ownerName, ownerPw)
	owner := env.Client(t)
	owner.Header.Set("X-Forwarded-For", "42.120.66.7")
	owner.LogOn(ownerName, ownerPw)
	if r := saveMask(owner, example, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save from inside the mask: status %d, want 303 without a warning", r.StatusCode)
	}
	outside := env.Client(t)
	outside.Header.Set("X-Forwarded-For", "203.0.113.9")
	outside.Get("/login")
	logon := url.Values{"account": {ownerName}, "password": {ownerPw}}
	if r := outside.Post("/login", logon); r.StatusCode != http.StatusForbidden {
		t.Errorf("logon from 203.0.113.9: status %d, want 403", r.StatusCode)
	}
	inside := env.Client(t)
	inside.Header.Set("X-Forwarded-For", "42.120.66.8")
	inside.LogOn(ownerName, ownerPw)
}

func TestWrongPasswordAndUnknownAccountLookAlike(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	var bodies []string
	for _, give := range [][2]string{{ownerName, "not-the-password"}, {"nobody", "not-the-password"}} {
		c := env.Client(t)
		c.Get("/login")
		r := c.Post("/login", url.Values{"account": {give[0]}, "password": {give[1]}})
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%v: status %d, want 401", give, r.StatusCode)
		}
		bodies = append(bodies, r.Doc.Find(".result").Text())
	}
	if bodies[0] != bodies[1] {
		t.Errorf("messages differ: %q vs %q", bodies[0], bodies[1])
	}
}

func TestSessionDurationAppliesFromNextLogon(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	first := env.Client(t)
	first.LogOn(ownerName, ownerPw)
	first.Get("/security/session-duration")
	for _, bad := range []string{"0", "73", "1.5", "abc", ""} {
		r := first.Post("/security/session-duration", url.Values{"hours": {bad}})
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("hours=%q: status %d, want 422", bad, r.StatusCode)
		}
		if got, _ := r.Doc.Find("input#hours").Attr("value"); got != bad {
			t.Errorf("hours=%q: input not kept, got %q", bad, got)
		}
	}
	if r := first.Post("/security/session-duration", url.Values{"hours": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("hours=1: status %d", r.StatusCode)
	}
	if got := first.Get("/security").Attr("[data-hours]", "data-hours"); !cmp.Equal(got, []string{"1"}) {
		t.Errorf("data-hours = %v, want [1]", got)
	}

	second := env.Client(t)
	second.Get("/login")
	r := second.Post("/login", url.Values{"account": {ownerName}, "password": {ownerPw}})
	ck := r.SetCookieHeader("lg_session")
	if ck == nil {
		t.Fatal("no lg_session cookie on logon")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Errorf("cookie flags: %+v", ck)
	}
	if d := ck.MaxAge - 3600; d < -60 || d > 60 {
		t.Errorf("Max-Age = %d, want 3600 ± 60", ck.MaxAge)
	}
	if d := ck.Expires.Sub(env.Clock.Now().Add(time.Hour)); d < -time.Minute || d > time.Minute {
		t.Errorf("Expires = %v, want an hour from now", ck.Expires)
	}

	// Past the hour the second session is refused, even with its cookie;
	// the first, from before the change, still has its 48 hours.
	env.Clock.Advance(61 * time.Minute)
	if r := second.Get("/security"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("expired session: status %d, want 303 to /login", r.StatusCode)
	}
	if r := first.Get("/security"); r.StatusCode != http.StatusOK {
		t.Errorf("session from before the change: status %d, want 200", r.StatusCode)
	}
	env.Clock.Advance(48 * time.Hour)
	if r := first.Get("/security"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("48-hour session after 49 hours: status %d, want 303", r.StatusCode)
	}
}

func TestSessionTokenRenewedAtLogon(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	planted := &http.Cookie{Name: "lg_session", Value: "attacker-chosen-token-value-000000000000", Path: "/"}
	c.SetCookie(planted)
	c.LogOn(ownerName, ownerPw)
	if got := c.Cookie("lg_session"); got == nil || got.Value == planted.Value {
		t.Fatalf("session token after logon = %v, want a new one", got)
	}
}

func TestCSRFRefusedWithoutToken(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	for _, tok := range []string{"", "wrong-token"} {
		r := c.Post("/security/session-duration", url.Values{"hours": {"5"}, "_csrf": {tok}})
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("_csrf=%q: status %d, want 403", tok, r.StatusCode)
		}
	}
	if got := c.Get("/security").Attr("[data-hours]", "data-hours"); !cmp.Equal(got, []string{"48"}) {
		t.Errorf("refused POST changed the duration: %v", got)
	}
}

func TestRestartKeepsSettingsAndSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lg.db")
	env := webtest.Start(t, webtest.Options{DBPath: path})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	c.Get("/security/session-duration")
	c.Post("/security/session-duration", url.Values{"hours": {"7"}})
	ck := c.Cookie("lg_session")
	env.Stop()

	env2 := webtest.Start(t, webtest.Options{DBPath: path, Clock: env.Clock})
	c2 := env2.Client(t)
	c2.SetCookie(&http.Cookie{Name: ck.Name, Value: ck.Value, Path: "/"})
	r := c2.Get("/security")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("session after restart: status %d, want 200", r.StatusCode)
	}
	if got := r.Attr("[data-hours]", "data-hours"); !cmp.Equal(got, []string{"7"}) {
		t.Errorf("duration after restart = %v, want [7]", got)
	}
}

// TestErrorPageCarriesLogoutForm: a signed-in owner's error pages carry the
// logout form with its CSRF token, like every page they see.
func TestErrorPageCarriesLogoutForm(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	r := c.Post("/security/session-duration", url.Values{"hours": {"5"}, "_csrf": {"wrong"}})
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", r.StatusCode)
	}
	if r.Doc.Find(`form[action="/logout"] input[name="_csrf"]`).Length() != 1 {
		t.Error("error page of a signed-in owner has no logout form with _csrf")
	}
}

// TestHeadAnsweredLikeGet: monitors probing with HEAD get GET's status
// and headers, and no body.
func TestHeadAnsweredLikeGet(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	for _, path := range []string{"/healthz", "/login", "/recovery"} {
		req, _ := http.NewRequest(http.MethodHead, env.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(b) != 0 {
			t.Errorf("HEAD %s: status %d with %d body bytes, want 200 and none", path, resp.StatusCode, len(b))
		}
	}
}

// TestRawSemicolonsInFormBody: a script posting mask=a;b without encoding
// the ";" saves that mask; Go's parser alone would refuse the body.
func TestRawSemicolonsInFormBody(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	tok, _ := c.Get("/security/logon-mask").Doc.Find(`input[name="_csrf"]`).Attr("value")
	body := "_csrf=" + url.QueryEscape(tok) + "&confirm_lockout=yes&mask=42.120.66.0/24;42.120.74.98"
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/security/logon-mask", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", resp.StatusCode)
	}
	want := []string{"42.120.66.0/24", "42.120.74.98"}
	if got := c.Get("/security").Attr("[data-entry]", "data-entry"); !cmp.Equal(got, want) {
		t.Errorf("entries = %v, want %v", got, want)
	}
}
