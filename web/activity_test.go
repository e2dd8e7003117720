package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web"
	"github.com/logonguard/logonguard/web/webtest"
)

// activityRow is one row of the activity table as a test reads it.
type activityRow struct {
	Kind, Event, Actor, Source, Old, New string
}

func activityRows(r *webtest.Response) []activityRow {
	var out []activityRow
	r.Doc.Find("tr[data-kind]").Each(func(_ int, tr *goquery.Selection) {
		td := tr.Find("td")
		cell := func(i int) string { return strings.TrimSpace(td.Eq(i).Text()) }
		out = append(out, activityRow{Kind: tr.AttrOr("data-kind", ""), Event: tr.AttrOr("data-event", ""),
			Actor: cell(2), Source: cell(3), Old: cell(4), New: cell(5)})
	})
	return out
}

// proxied returns a client whose logons come from addr through the trusted proxy.
func proxied(env *webtest.Env, t *testing.T, addr string) *webtest.Client {
	c := env.Client(t)
	c.Header.Set("X-Forwarded-For", addr)
	c.Get("/login")
	return c
}

func TestActivityListsChangesAndLogonsNewestFirst(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	env := webtest.Start(t, webtest.Options{TrustedProxies: mustPrefixes(t, "127.0.0.1/32"),
		Configure: func(cfg *web.Config) { cfg.Location = berlin }})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddAccount(t, "neighbour", "neighbour-password")
	step := func() { env.Clock.Advance(time.Second) }
	logon := func(addr, pw string, want int) {
		t.Helper()
		step()
		r := proxied(env, t, addr).Post("/login", url.Values{"account": {ownerName}, "password": {pw}})
		if r.StatusCode != want {
			t.Fatalf("logon from %s: status %d, want %d", addr, r.StatusCode, want)
		}
	}

	owner := proxied(env, t, "42.120.66.7")
	step()
	owner.LogOn(ownerName, ownerPw)
	step()
	if r := saveMask(owner, "42.120.66.0/24", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("mask save: status %d", r.StatusCode)
	}
	step()
	owner.Get("/security/session-duration")
	if r := owner.Post("/security/session-duration", url.Values{"hours": {"8"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("duration save: status %d", r.StatusCode)
	}
	logon("203.0.113.9", ownerPw, http.StatusForbidden)
	logon("42.120.66.8", "not-the-password", http.StatusUnauthorized)
	proxied(env, t, "42.120.66.9").LogOn("neighbour", "neighbour-password")

	r := owner.Get("/security/activity")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("activity: status %d", r.StatusCode)
	}
	want := []activityRow{
		{Kind: "logon", Event: "wrong_password", Actor: ownerName, Source: "42.120.66.8"},
		{Kind: "logon", Event: "blocked", Actor: ownerName, Source: "203.0.113.9"},
		{Kind: "change", Event: "session_duration.update", Actor: "owner demo", Source: "42.120.66.7",
			Old: "48 hours", New: "8 hours"},
		{Kind: "change", Event: "mask.update", Actor: "owner demo", Source: "42.120.66.7",
			Old: "Not set", New: "42.120.66.0/24"},
		{Kind: "logon", Event: "allowed", Actor: ownerName, Source: "42.120.66.7"},
		{Kind: "change", Event: "account.create", Actor: "test", Source: "test", New: ownerName},
	}
	if diff := cmp.Diff(want, activityRows(r)); diff != "" {
		t.Errorf("activity (-want +got):\n%s", diff)
	}
	newest := r.Doc.Find("tr[data-kind] time").First()
	wantTime := env.Clock.Now().In(berlin)
	if got := newest.AttrOr("datetime", ""); got != wantTime.Format(time.RFC3339) {
		t.Errorf("newest datetime = %q, want %q", got, wantTime.Format(time.RFC3339))
	}
	if abbr, _ := wantTime.Zone(); !strings.HasSuffix(newest.Text(), " "+abbr) {
		t.Errorf("newest time %q does not name the zone %s", newest.Text(), abbr)
	}
	if !strings.Contains(r.Body, "Europe/Berlin") {
		t.Error("the page does not say which zone the times are in")
	}
	if sec := owner.Get("/security"); sec.Doc.Find(`a[href="/security/activity"]`).Length() == 0 {
		t.Error("Security Settings does not link to the activity")
	}
}

func TestActivityFilters(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	env.Clock.Advance(time.Second)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	env.Clock.Advance(time.Second)
	other := env.Client(t)
	other.Get("/login")
	other.Post("/login", url.Values{"account": {ownerName}, "password": {"not-the-password"}})

	tests := []struct {
		name       string
		giveQuery  string
		wantStatus int
		wantEvents []string
	}{
		{"everything", "", http.StatusOK, []string{"wrong_password", "allowed", "account.create"}},
		{"changes", "?kind=change", http.StatusOK, []string{"account.create"}},
		{"logons", "?kind=logon", http.StatusOK, []string{"wrong_password", "allowed"}},
		{"one outcome", "?kind=logon&outcome=allowed", http.StatusOK, []string{"allowed"}},
		{"outcome alone means logons", "?outcome=wrong_password", http.StatusOK, []string{"wrong_password"}},
		{"unknown kind", "?kind=everything", http.StatusBadRequest, nil},
		{"unknown outcome", "?outcome=maybe", http.StatusBadRequest, nil},
		{"bad cursor", "?before_logon=-4", http.StatusBadRequest, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := owner.Get("/security/activity" + tt.giveQuery)
			if r.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", r.StatusCode, tt.wantStatus)
			}
			var got []string
			for _, row := range activityRows(r) {
				got = append(got, row.Event)
			}
			if diff := cmp.Diff(tt.wantEvents, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	if r := env.Client(t).Get("/security/activity"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: status %d, want 303", r.StatusCode)
	}
	if r := env.Client(t).Get("/security/activity.csv"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out export: status %d, want 303", r.StatusCode)
	}
}

// fillActivity writes n logon events and an audit event after every tenth,
// a second apart, for account id.
func fillActivity(t *testing.T, env *webtest.Env, id int64, n int) {
	t.Helper()
	ctx := context.Background()
	start := env.Clock.Now().Add(time.Second)
	defer env.Clock.Advance(time.Duration(2*n+2) * time.Second)
	var evs []store.LogonEvent
	for i := range n {
		evs = append(evs, store.LogonEvent{At: start.Add(time.Duration(2*i) * time.Second),
			Kind: store.KindOwner, AccountID: id, AccountName: ownerName, Source: "192.0.2.1",
			Outcome: store.OutcomeBlocked})
		if i%10 == 9 {
			if err := env.Store.AddLogonEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
			evs = nil
			if err := env.Store.AddAudit(ctx, store.AuditEvent{AccountID: id, Action: "test.step",
				At: start.Add(time.Duration(2*i+1) * time.Second), Actor: store.Actor{Name: "test"},
				NewValue: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := env.Store.AddLogonEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
}

func TestActivityPagesWithoutGapsOrRepeats(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	other := env.AddAccount(t, "neighbour", "neighbour-password")
	fillActivity(t, env, acct.ID, 135)
	fillActivity(t, env, other.ID, 40)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw) // one allowed logon, maybe still queued

	tests := []struct {
		name      string
		giveQuery string
		wantRows  int
	}{
		// 135 blocked + 1 allowed logon, 13 test steps + account.create.
		{"everything", "", 150},
		{"changes", "?kind=change", 14},
		{"blocked logons", "?outcome=blocked", 135},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows []activityRow
			var times []string
			pages := 0
			for next := "/security/activity" + tt.giveQuery; next != ""; pages++ {
				r := owner.Get(next)
				if r.StatusCode != http.StatusOK {
					t.Fatalf("page %d (%s): status %d", pages+1, next, r.StatusCode)
				}
				rows = append(rows, activityRows(r)...)
				r.Doc.Find("tr[data-kind] time").Each(func(_ int, s *goquery.Selection) {
					times = append(times, s.AttrOr("datetime", ""))
				})
				next = r.Doc.Find("a[data-older]").AttrOr("href", "")
				if pages > 10 {
					t.Fatal("more than 10 pages: the cursor does not move")
				}
			}
			if len(rows) != tt.wantRows {
				t.Errorf("%d rows over %d pages, want %d", len(rows), pages, tt.wantRows)
			}
			if want := (tt.wantRows + 49) / 50; pages != want {
				t.Errorf("%d pages, want %d", pages, want)
			}
			seen := map[string]bool{}
			for i, tm := range times {
				key := fmt.Sprint(rows[i])
				if seen[key+tm] {
					t.Errorf("row %d repeats: %v at %s", i, rows[i], tm)
				}
				seen[key+tm] = true
				if i > 0 && tm > times[i-1] {
					t.Errorf("row %d (%s) is newer than row %d (%s)", i, tm, i-1, times[i-1])
				}
			}
		})
	}
}

func TestActivityExportCSV(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	env.Clock.Advance(time.Second)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	env.Clock.Advance(time.Second)
	owner.Get("/security/recovery-contact")
	saved := owner.Post("/security/recovery-contact", url.Values{"contact": {"+49 30 1234567"}})
	if saved.StatusCode != http.StatusSeeOther {
		t.Fatalf("contact save: status %d", saved.StatusCode)
	}
	env.Clock.Advance(time.Second)
	tricky := "line one\r\nline \"two\", with a comma"
	if err := env.Store.AddAudit(context.Background(), store.AuditEvent{AccountID: acct.ID,
		Action: "test.note", Actor: store.Actor{Name: "@admin, \"quoted\"", Source: "shell"},
		OldValue: "=HYPERLINK(\"http://example.invalid\")", NewValue: tricky}); err != nil {
		t.Fatal(err)
	}

	r := owner.Get("/security/activity.csv")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("export: status %d", r.StatusCode)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type = %q, want text/csv", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition = %q, want an attachment", cd)
	}
	if !strings.Contains(r.Body, `"line one`+"\r\n"+`line ""two"", with a comma"`) {
		t.Errorf("the value with a line break, quotes and a comma is not quoted per RFC 4180:\n%s", r.Body)
	}
	if !strings.HasPrefix(r.Body, "kind,id,time,event,actor,source,old_value,new_value\r\n") {
		t.Errorf("header row or CRLF missing: %q", r.Body[:min(80, len(r.Body))])
	}
	recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("export does not parse as CSV: %v", err)
	}
	var got [][]string
	for _, rec := range recs[1:] {
		got = append(got, []string{rec[0], rec[3], rec[4], rec[5], rec[6], rec[7]})
	}
	want := [][]string{
		{"change", "test.note", "'@admin, \"quoted\"", "shell", "'=HYPERLINK(\"http://example.invalid\")",
			strings.ReplaceAll(tricky, "\r\n", "\n")}, // a reader turns CRLF inside a field into LF
		{"change", "recovery_contact.update", "owner demo", "127.0.0.1", "", "'+49 30 1234567"},
		{"logon", "allowed", ownerName, "127.0.0.1", "", ""},
		{"change", "account.create", "test", "test", "", ownerName},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("export rows (-want +got):\n%s", diff)
	}
	for _, rec := range recs[1:] {
		if _, err := time.Parse(time.RFC3339, rec[2]); err != nil {
			t.Errorf("time %q is not RFC 3339: %v", rec[2], err)
		}
	}
	if logons := owner.Get("/security/activity.csv?kind=logon"); strings.Count(logons.Body, "\r\n") != 2 {
		t.Errorf("logon export: want a header and one row, got\n%s", logons.Body)
	}
}

func TestLogonEventsPrunedByAge(t *testing.T) {
	env := webtest.Start(t, webtest.Options{Configure: func(cfg *web.Config) {
		cfg.KeepEvents = 24 * time.Hour
		cfg.PruneEvery = 20 * time.Millisecond
	}})
	acct := env.AddAccount(t, ownerName, ownerPw)
	ctx := context.Background()
	now := env.Clock.Now()
	ev := func(age time.Duration) store.LogonEvent {
		return store.LogonEvent{At: now.Add(-age), Kind: store.KindOwner, AccountID: acct.ID,
			AccountName: ownerName, Source: "192.0.2.1", Outcome: store.OutcomeBlocked}
	}
	if err := env.Store.AddLogonEvents(ctx, []store.LogonEvent{ev(48 * time.Hour), ev(25 * time.Hour),
		ev(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.AddAudit(ctx, store.AuditEvent{AccountID: acct.ID, At: now.Add(-400 * 24 * time.Hour),
		Action: "test.old", Actor: store.Actor{Name: "test"}}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		evs, err := env.Store.LogonEvents(ctx, store.LogonFilter{AccountID: acct.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	waitFor(t, "events older than a day pruned", func() bool { return count() == 1 })

	env.Clock.Advance(23*time.Hour + time.Minute)
	waitFor(t, "the last event pruned once the clock moved past its day", func() bool { return count() == 0 })

	audit, err := env.Store.AuditEvents(ctx, store.AuditFilter{AccountID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 2 {
		t.Errorf("audit events after pruning: %d, want 2 (account.create and the old one)", len(audit))
	}
	if !strings.Contains(env.LogText(), "logon_events_pruned") {
		t.Error("pruning was not logged")
	}
}

// waitFor polls cond for up to three seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
