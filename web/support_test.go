package web_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web/webtest"
)

func TestStaffLogonRefusals(t *testing.T) {
	env := startAt(t, webtest.Options{})
	env.AddStaff(t, staffName, staffPw)
	env.AddAccount(t, ownerName, ownerPw)
	var messages []string
	tries := [][2]string{{staffName, "wrong-password"}, {"nobody", staffPw}, {ownerName, ownerPw}}
	for _, give := range tries {
		c := env.Client(t)
		c.Get("/support/login")
		r := c.Post("/support/login", url.Values{"staff": {give[0]}, "password": {give[1]}})
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%v: status %d, want 401", give, r.StatusCode)
		}
		if c.Cookie("lg_staff") != nil {
			t.Errorf("%v: refused logon set a staff cookie", give)
		}
		messages = append(messages, r.Doc.Find(".result").Text())
	}
	if messages[0] != messages[1] || messages[1] != messages[2] {
		t.Errorf("refusals differ: %q", messages)
	}
}

func TestStaffLogonRateLimited(t *testing.T) {
	env := startAt(t, webtest.Options{})
	env.AddStaff(t, staffName, staffPw)
	c := env.Client(t)
	c.Get("/support/login")
	for i := range 10 {
		r := c.Post("/support/login", url.Values{"staff": {staffName}, "password": {"wrong"}})
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, r.StatusCode)
		}
	}
	r := c.Post("/support/login", url.Values{"staff": {staffName}, "password": {staffPw}})
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("11th try: status %d Retry-After %q, want 429 with Retry-After",
			r.StatusCode, r.Header.Get("Retry-After"))
	}
	// Owner logons keep their own limits.
	env.AddAccount(t, ownerName, ownerPw)
	env.Client(t).LogOn(ownerName, ownerPw)
	env.Clock.Advance(15 * time.Minute)
	staffLogOn(t, env, staffName, staffPw)
}

func TestStaffTokenRenewedAndLogout(t *testing.T) {
	env := startAt(t, webtest.Options{})
	env.AddStaff(t, staffName, staffPw)
	c := env.Client(t)
	planted := &http.Cookie{Name: "lg_staff", Value: "attacker-chosen-token-000000000000", Path: "/"}
	c.SetCookie(planted)
	c.Get("/support/login")
	r := c.Post("/support/login", url.Values{"staff": {staffName}, "password": {staffPw}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logon: status %d", r.StatusCode)
	}
	ck := r.SetCookieHeader("lg_staff")
	if ck == nil || ck.Value == planted.Value || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("staff cookie after logon = %+v, want a new HttpOnly SameSite=Lax token", ck)
	}
	q := c.Get("/support/tickets")
	if q.StatusCode != http.StatusOK {
		t.Fatalf("queue: status %d", q.StatusCode)
	}
	if q.Doc.Find(`form[action="/support/logout"] input[name="_csrf"]`).Length() != 1 {
		t.Error("queue's logout form carries no _csrf")
	}
	r = c.Post("/support/logout", nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/support/login" {
		t.Fatalf("logout: status %d location %q", r.StatusCode, r.Header.Get("Location"))
	}
	c.SetCookie(&http.Cookie{Name: "lg_staff", Value: ck.Value, Path: "/"})
	if r := c.Get("/support/tickets"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("old token after logout: status %d, want 303 to /support/login", r.StatusCode)
	}
}

// TestStaffSessionLimits runs on a clock years from the real date. scs
// computes an idle expiry from time.Now, which would end every session at
// once on such a clock; staff sessions measure idleness on the server's
// clock instead, so this passes only if nothing reads the real time.
func TestStaffSessionLimits(t *testing.T) {
	env := startAt(t, webtest.Options{})
	env.AddStaff(t, staffName, staffPw)

	idle := staffLogOn(t, env, staffName, staffPw)
	for i, step := range []time.Duration{29 * time.Minute, 29 * time.Minute} {
		env.Clock.Advance(step)
		r := idle.Get("/support/tickets")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("request %d, %v after the previous one: status %d, want 200", i+1, step, r.StatusCode)
		}
		ck := r.SetCookieHeader("lg_staff")
		if ck == nil || ck.MaxAge != 1800 || !ck.Expires.Equal(env.Clock.Now().Add(30*time.Minute)) {
			t.Errorf("cookie after request %d = %+v, want Max-Age 1800 and Expires 30 minutes on", i+1, ck)
		}
	}
	env.Clock.Advance(30*time.Minute + time.Second)
	if r := idle.Get("/support/tickets"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after 30 idle minutes: status %d, want 303 to /support/login", r.StatusCode)
	}

	busy := staffLogOn(t, env, staffName, staffPw)
	for elapsed := 20 * time.Minute; elapsed < 8*time.Hour; elapsed += 20 * time.Minute {
		env.Clock.Advance(20 * time.Minute)
		if r := busy.Get("/support/tickets"); r.StatusCode != http.StatusOK {
			t.Fatalf("active session after %v: status %d, want 200", elapsed, r.StatusCode)
		}
	}
	env.Clock.Advance(20 * time.Minute)
	if r := busy.Get("/support/tickets"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("active session after 8h20m: status %d, want 303", r.StatusCode)
	}
}

func TestOwnerAndStaffCookiesSeparate(t *testing.T) {
	env := startAt(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, staffName, staffPw)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	staff := staffLogOn(t, env, staffName, staffPw)

	if r := owner.Get("/support/tickets"); !redirectsTo(r, "/support/login") {
		t.Errorf("owner cookie on a staff page: status %d, want 303 to /support/login", r.StatusCode)
	}
	if r := staff.Get("/security"); !redirectsTo(r, "/login") {
		t.Errorf("staff cookie on an owner page: status %d, want 303 to /login", r.StatusCode)
	}
	// A token moved to the other cookie's name opens nothing either.
	swapped := env.Client(t)
	ownerTok, staffTok := owner.Cookie("lg_session").Value, staff.Cookie("lg_staff").Value
	swapped.SetCookie(&http.Cookie{Name: "lg_staff", Value: ownerTok, Path: "/"})
	swapped.SetCookie(&http.Cookie{Name: "lg_session", Value: staffTok, Path: "/"})
	if r := swapped.Get("/support/tickets"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("owner token as lg_staff: status %d, want 303", r.StatusCode)
	}
	if r := swapped.Get("/security"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("staff token as lg_session: status %d, want 303", r.StatusCode)
	}
	if r := owner.Get("/security"); r.StatusCode != http.StatusOK {
		t.Errorf("owner's own page: status %d", r.StatusCode)
	}
	if r := staff.Get("/support/tickets"); r.StatusCode != http.StatusOK {
		t.Errorf("staff's own page: status %d", r.StatusCode)
	}
}

// redirectsTo reports whether r is a 303 to location.
func redirectsTo(r *webtest.Response, location string) bool {
	return r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == location
}

func TestStaffLogonIgnoresOwnerMask(t *testing.T) {
	env := startAt(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, ownerName, staffPw) // a staff member named like the masked account
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	lockOut(t, env, owner, example)
	staffLogOn(t, env, ownerName, staffPw)
}

func TestRemovedStaffRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lg.db")
	env := startAt(t, webtest.Options{DBPath: path})
	env.AddStaff(t, staffName, staffPw)
	env.AddStaff(t, "other", staffPw)
	by := store.Actor{Name: "operator test", Source: "test"}

	// Removed through the server's own store: the session is gone at once.
	c := staffLogOn(t, env, staffName, staffPw)
	if err := env.Store.RemoveStaff(context.Background(), staffName, by); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/support/tickets"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after removal: status %d, want 303", r.StatusCode)
	}

	// Removed by another process (the staff remove command): the server may
	// still hold the session in its cache, but the member check refuses it.
	o := staffLogOn(t, env, "other", staffPw)
	if r := o.Get("/support/tickets"); r.StatusCode != http.StatusOK {
		t.Fatalf("before removal: status %d", r.StatusCode)
	}
	cmd, err := store.Open(context.Background(), path, env.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer cmd.Close()
	if err := cmd.RemoveStaff(context.Background(), "other", by); err != nil {
		t.Fatal(err)
	}
	if r := o.Get("/support/tickets"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after removal by another process: status %d, want 303", r.StatusCode)
	}
}

func TestTicketQueueOrderOverdueAndFilter(t *testing.T) {
	env := startAt(t, webtest.Options{RateLimitExempt: mustPrefixes(t, "127.0.0.1/32")})
	env.AddStaff(t, staffName, staffPw)
	c := env.Client(t)
	file := func(name string) string {
		return ticketPath(t, env, filedRef(t, fileTicket(c, name, contact, "queue")))
	}
	// Monday 10:00 and 10:30, both due by the end of Thursday; then Friday
	// 17:30, due the next Thursday.
	first := file("first")
	env.Clock.Advance(30 * time.Minute)
	second := file("second")
	env.Clock.Advance(4*24*time.Hour + 7*time.Hour)
	third := file("third")

	staff := staffLogOn(t, env, staffName, staffPw)
	staff.Get(second)
	r := staff.Post(second+"/reject", url.Values{"reason": {"duplicate"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: status %d", r.StatusCode)
	}
	tests := []struct {
		name        string
		giveQuery   string
		wantPaths   []string
		wantOverdue []string
	}{
		{"every state", "", []string{first, second, third}, []string{first}},
		{"open", "?state=open", []string{first, third}, []string{first}},
		{"rejected", "?state=rejected", []string{second}, nil},
		{"approved", "?state=approved", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := staff.Get("/support/tickets" + tt.giveQuery)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status %d", r.StatusCode)
			}
			if diff := cmp.Diff(tt.wantPaths, r.Attr("tr[data-ticket] a", "href")); diff != "" {
				t.Errorf("queue order (-want +got):\n%s", diff)
			}
			var overdue []string
			r.Doc.Find("tr[data-ticket]:has([data-overdue]) a").Each(func(_ int, s *goquery.Selection) {
				overdue = append(overdue, s.AttrOr("href", ""))
			})
			if diff := cmp.Diff(tt.wantOverdue, overdue); diff != "" {
				t.Errorf("overdue tickets (-want +got):\n%s", diff)
			}
		})
	}
	r = staff.Get("/support/tickets?state=closed")
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown state filter: status %d, want 422", r.StatusCode)
	}
	r = staff.Get("/support/tickets/999")
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown ticket: status %d, want 404", r.StatusCode)
	}
	if r.Doc.Find(`form[action="/support/logout"] input[name="_csrf"]`).Length() != 1 {
		t.Error("the 404 page a signed-in staff member sees has no logout form with _csrf")
	}
	if !strings.Contains(staff.Get(first).Doc.Find("dd [data-overdue]").Text(), "overdue") {
		t.Error("ticket page does not mark the overdue ticket")
	}
}
