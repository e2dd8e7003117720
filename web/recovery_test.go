package web_test

import (
	"context"
	"github.com/PuerkitoBio/goquery"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web/webtest"
)

// monday10 is a Monday morning years from the real date, so a check that
// read time.Now instead of the server's clock would fail. A ticket filed
// then is due by the end of Thursday.
var monday10 = time.Date(2031, 3, 3, 10, 0, 0, 0, time.UTC)

// contact is the demo owner's recovery contact in these tests.
const contact = "owner@example.com"

var statusLink = regexp.MustCompile(`^/recovery/status\?ref=([A-Za-z0-9_-]{22,})$`)

// startAt starts a console whose clock stands at monday10 unless opts has one.
func startAt(t *testing.T, opts webtest.Options) *webtest.Env {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = webtest.NewClock(monday10)
	}
	return webtest.Start(t, opts)
}

// fileTicket posts the recovery form from c.
func fileTicket(c *webtest.Client, account, contact, reason string) *webtest.Response {
	c.Get("/recovery")
	form := url.Values{"account": {account}, "contact": {contact}, "reason": {reason}}
	return c.Post("/recovery", form)
}

// filedRef checks a 201 answer and returns the reference its status link names.
func filedRef(t *testing.T, r *webtest.Response) string {
	t.Helper()
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("filing: status %d, want 201\n%s", r.StatusCode, r.Body)
	}
	if !hasResult(r, "saved") {
		t.Error("the 201 page has no saved result marker")
	}
	links := r.Attr("a[data-status-link]", "href")
	if len(links) != 1 {
		t.Fatalf("status links on the 201 page: %v, want one", links)
	}
	m := statusLink.FindStringSubmatch(links[0])
	if m == nil {
		t.Fatalf("status link %q does not match %s", links[0], statusLink)
	}
	return m[1]
}

// ticketState reads the state the status page of ref shows.
func ticketState(t *testing.T, c *webtest.Client, ref string) (string, *webtest.Response) {
	t.Helper()
	r := c.Get("/recovery/status?ref=" + ref)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status page of %s: %d, want 200", ref, r.StatusCode)
	}
	states := r.Attr("[data-state]", "data-state")
	if len(states) != 1 {
		t.Fatalf("states on the status page: %v, want one", states)
	}
	return states[0], r
}

// staffLogOn returns a client signed in as a staff member.
func staffLogOn(t *testing.T, env *webtest.Env, name, pw string) *webtest.Client {
	t.Helper()
	c := env.Client(t)
	c.Get("/support/login")
	r := c.Post("/support/login", url.Values{"staff": {name}, "password": {pw}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/support/tickets" {
		t.Fatalf("staff logon as %s: status %d location %q, want 303 /support/tickets",
			name, r.StatusCode, r.Header.Get("Location"))
	}
	return c
}

// ticketPath is the staff page of the ticket with reference ref.
func ticketPath(t *testing.T, env *webtest.Env, ref string) string {
	t.Helper()
	tk, err := env.Store.TicketByRef(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return "/support/tickets/" + itoa(tk.ID)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// lockOut saves mask for the signed-in owner, confirming the lockout
// warning, and checks that a new logon from 127.0.0.1 is now refused.
func lockOut(t *testing.T, env *webtest.Env, owner *webtest.Client, mask string) {
	t.Helper()
	r := saveMask(owner, mask, url.Values{"confirm_lockout": {"yes"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("mask save: status %d, want 303", r.StatusCode)
	}
	c := env.Client(t)
	c.Get("/login")
	r = c.Post("/login", url.Values{"account": {ownerName}, "password": {ownerPw}})
	if r.StatusCode != http.StatusForbidden || !hasResult(r, "blocked") {
		t.Fatalf("logon after the lockout: status %d, want 403 blocked", r.StatusCode)
	}
}

// waitLogonEvents waits for the batched logon events of an account to be
// written and returns their outcomes, oldest first.
func waitLogonEvents(t *testing.T, env *webtest.Env, accountID int64, want int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, err := env.Store.LogonEvents(context.Background(), store.LogonFilter{AccountID: accountID})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= want || time.Now().After(deadline) {
			var out []string
			for i := len(evs) - 1; i >= 0; i-- {
				out = append(out, evs[i].Outcome+" "+evs[i].Source)
			}
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRecoveryEndToEnd(t *testing.T) {
	env := startAt(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, staffName, staffPw)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	owner.Get("/security/recovery-contact")
	owner.Post("/security/recovery-contact", url.Values{"contact": {contact}})
	owner.Get("/security/session-duration")
	owner.Post("/security/session-duration", url.Values{"hours": {"7"}})
	lockOut(t, env, owner, example)

	requester := env.Client(t)
	r := fileTicket(requester, ownerName, " Owner@Example.com ", "Office moved; now 127.0.0.1.")
	ref := filedRef(t, r)
	if got := r.Attr("[data-due]", "data-due"); !cmp.Equal(got, []string{"2031-03-06"}) {
		t.Errorf("due date on the 201 page = %v, want [2031-03-06] (Thursday)", got)
	}
	if !strings.Contains(r.Doc.Find("[data-due]").Text(), "Thursday 6 March 2031") {
		t.Errorf("201 page does not name the day: %q", r.Doc.Find("[data-due]").Text())
	}
	if st, _ := ticketState(t, requester, ref); st != "open" {
		t.Errorf("state after filing = %q, want open", st)
	}

	staff := staffLogOn(t, env, staffName, staffPw)
	path := ticketPath(t, env, ref)
	if q := staff.Get("/support/tickets"); len(q.Attr(`a[href="`+path+`"]`, "href")) != 1 {
		t.Errorf("queue does not link the ticket %s", path)
	}
	page := staff.Get(path)
	checkTicketEvidence(t, page)

	r = staff.Post(path+"/approve", url.Values{"verification": {"  "}})
	if r.StatusCode != http.StatusUnprocessableEntity || !hasResult(r, "invalid") {
		t.Fatalf("approve without verification: status %d, want 422 invalid", r.StatusCode)
	}
	r = staff.Post(path+"/approve", url.Values{"verification": {"Called the owner back on file."}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != path {
		t.Fatalf("approve: status %d location %q, want 303 %s", r.StatusCode,
			r.Header.Get("Location"), path)
	}
	page = staff.Get(path)
	state := page.Doc.Find("dd[data-state]").AttrOr("data-state", "")
	if !hasResult(page, "saved") || state != "approved" {
		t.Errorf("ticket page after approval does not say saved and approved")
	}
	if st, _ := ticketState(t, requester, ref); st != "approved" {
		t.Errorf("status page after approval = %q, want approved", st)
	}

	again := env.Client(t)
	again.LogOn(ownerName, ownerPw) // from 127.0.0.1, the address that was blocked
	sec := again.Get("/security")
	notice := sec.Doc.Find(".notice").Text()
	if !strings.Contains(notice, "cleared by support on 3 March 2031") ||
		!strings.Contains(notice, ref) {
		t.Errorf("notice = %q, want the date and ticket %s", notice, ref)
	}
	if got := sec.Attr("[data-entry]", "data-entry"); len(got) != 0 {
		t.Errorf("mask entries after approval: %v, want none", got)
	}
	if got := sec.Attr("[data-hours]", "data-hours"); !cmp.Equal(got, []string{"7"}) {
		t.Errorf("session duration after approval = %v, want [7] as before", got)
	}
	checkRecoveryAudit(t, env, acct.ID)
	if got := waitLogonEvents(t, env, acct.ID, 3); !cmp.Equal(got,
		[]string{"allowed 127.0.0.1", "blocked 127.0.0.1", "allowed 127.0.0.1"}) {
		t.Errorf("logon events = %v, want allowed, blocked, allowed", got)
	}
	staffLine := `kind=staff account=support client_ip=127.0.0.1 outcome=allowed`
	if !strings.Contains(env.LogText(), staffLine) {
		t.Error("the staff logon is not in the log")
	}
}

// checkTicketEvidence checks what the staff page of the locked-out demo
// account's ticket shows.
func checkTicketEvidence(t *testing.T, page *webtest.Response) {
	t.Helper()
	if page.StatusCode != http.StatusOK {
		t.Fatalf("ticket page: status %d", page.StatusCode)
	}
	if len(page.Attr(`[data-account="known"]`, "data-account")) != 1 {
		t.Error("ticket page does not say the account exists")
	}
	if got := page.Attr("[data-match]", "data-match"); !cmp.Equal(got, []string{"matches"}) {
		t.Errorf("contact match = %v, want [matches]", got)
	}
	if !strings.Contains(page.Body, contact) {
		t.Error("ticket page does not show the recovery contact on file")
	}
	wantMask := []string{"42.120.66.0/24", "42.120.74.98"}
	got := page.Doc.Find("[data-ticket-mask] li code").Map(func(_ int, sel *goquery.Selection) string {
		return sel.Text()
	})
	if !cmp.Equal(got, wantMask) {
		t.Errorf("mask on the ticket page = %v", got)
	}
	if got := page.Attr("[data-blocked]", "data-blocked"); !cmp.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("blocked logons = %v, want [127.0.0.1]", got)
	}
	if got := page.Attr("[data-history]", "data-history"); !cmp.Equal(got, []string{"filed"}) {
		t.Errorf("history = %v, want [filed]", got)
	}
	if page.Doc.Find(`form[action="/support/logout"] input[name="_csrf"]`).Length() != 1 {
		t.Error("ticket page's logout form carries no _csrf")
	}
}

// checkRecoveryAudit checks the audit log of the account holds each step.
func checkRecoveryAudit(t *testing.T, env *webtest.Env, accountID int64) {
	t.Helper()
	evs, err := env.Store.AuditEvents(context.Background(), store.AuditFilter{AccountID: accountID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(evs) - 1; i >= 0; i-- {
		got = append(got, evs[i].Actor.Name+": "+evs[i].Action)
	}
	want := []string{"test: account.create", "owner demo: recovery_contact.update",
		"owner demo: session_duration.update", "owner demo: mask.update",
		"recovery request: recovery_ticket.file", "staff support: mask.update",
		"staff support: recovery_ticket.approve"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}

func TestRecoveryRejectAndSecondDecision(t *testing.T) {
	env := startAt(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, staffName, staffPw)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	lockOut(t, env, owner, example)
	requester := env.Client(t)
	ref := filedRef(t, fileTicket(requester, ownerName, "someone@example.net", "let me in"))
	staff := staffLogOn(t, env, staffName, staffPw)
	path := ticketPath(t, env, ref)
	staff.Get(path)

	r := staff.Post(path+"/reject", url.Values{"reason": {""}})
	if r.StatusCode != http.StatusUnprocessableEntity || r.Doc.Find("#reason-error").Length() != 1 {
		t.Fatalf("reject without reason: status %d, want 422 with the field's message", r.StatusCode)
	}
	reason := "The contact does not match the one on file."
	r = staff.Post(path+"/reject", url.Values{"reason": {reason}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: status %d, want 303", r.StatusCode)
	}
	st, page := ticketState(t, requester, ref)
	if st != "rejected" || page.Doc.Find("[data-reason]").Text() != reason {
		t.Errorf("status page = %q with reason %q, want rejected with %q", st,
			page.Doc.Find("[data-reason]").Text(), reason)
	}
	for _, decision := range []string{"/approve", "/reject"} {
		r := staff.Post(path+decision, url.Values{"verification": {"x"}, "reason": {"y"}})
		if r.StatusCode != http.StatusConflict || !hasResult(r, "conflict") {
			t.Errorf("%s on a rejected ticket: status %d, want 409 conflict", decision, r.StatusCode)
		}
	}
	if st, _ := ticketState(t, requester, ref); st != "rejected" {
		t.Errorf("state after the refused decisions = %q, want rejected", st)
	}
	if got := owner.Get("/security").Attr("[data-entry]", "data-entry"); len(got) != 2 {
		t.Errorf("mask after rejection = %v, want it unchanged", got)
	}
}

func TestRecoveryConcurrentDecisionsOneWins(t *testing.T) {
	// Exempt from the filing limits: this test files more than three tickets.
	env := startAt(t, webtest.Options{RateLimitExempt: mustPrefixes(t, "127.0.0.1/32")})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, "alice", staffPw)
	env.AddStaff(t, "bob", staffPw)
	alice := staffLogOn(t, env, "alice", staffPw)
	bob := staffLogOn(t, env, "bob", staffPw)
	for i := range 5 {
		src := env.Client(t)
		ref := filedRef(t, fileTicket(src, ownerName, contact, "round "+itoa(int64(i))))
		path := ticketPath(t, env, ref)
		alice.Get(path)
		bob.Get(path)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		wg.Go(func() {
			codes[0] = alice.Post(path+"/approve", url.Values{"verification": {"called"}}).StatusCode
		})
		wg.Go(func() {
			codes[1] = bob.Post(path+"/reject", url.Values{"reason": {"no proof"}}).StatusCode
		})
		wg.Wait()
		won, lost := 0, 0
		for _, c := range codes {
			switch c {
			case http.StatusSeeOther:
				won++
			case http.StatusConflict:
				lost++
			}
		}
		if won != 1 || lost != 1 {
			t.Errorf("round %d: statuses %v, want one 303 and one 409", i, codes)
		}
	}
}

func TestRecoverySameAnswerForUnknownAccount(t *testing.T) {
	env := startAt(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, staffName, staffPw)
	var filed, status []string
	var refs []string
	for _, name := range []string{ownerName, "nobody"} {
		c := env.Client(t)
		r := fileTicket(c, name, contact, "locked out")
		ref := filedRef(t, r)
		refs = append(refs, ref)
		filed = append(filed, strings.ReplaceAll(mainText(r), ref, "REF"))
		_, s := ticketState(t, c, ref)
		status = append(status, strings.ReplaceAll(mainText(s), ref, "REF"))
	}
	if filed[0] != filed[1] {
		t.Errorf("201 pages differ:\n%s\n---\n%s", filed[0], filed[1])
	}
	if status[0] != status[1] {
		t.Errorf("status pages differ:\n%s\n---\n%s", status[0], status[1])
	}
	staff := staffLogOn(t, env, staffName, staffPw)
	path := ticketPath(t, env, refs[1])
	page := staff.Get(path)
	if len(page.Attr(`[data-account="unknown"]`, "data-account")) != 1 {
		t.Error("staff page does not mark the ticket for an unknown account")
	}
	if page.Doc.Find(`form[action="`+path+`/approve"]`).Length() != 0 {
		t.Error("staff page offers to approve a ticket for no account")
	}
	r := staff.Post(path+"/approve", url.Values{"verification": {"called"}})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("approve for an unknown account: status %d, want 422", r.StatusCode)
	}
}

// hasResult reports whether r states the outcome kind in one data-result marker.
func hasResult(r *webtest.Response, kind string) bool {
	return len(r.Attr(`[data-result="`+kind+`"]`, "data-result")) == 1
}

// mainText is the page's main element as HTML, without the CSRF token.
func mainText(r *webtest.Response) string {
	h, _ := r.Doc.Find("main").Html()
	return h
}

func TestRecoveryStatusUnknownRef(t *testing.T) {
	env := startAt(t, webtest.Options{})
	c := env.Client(t)
	unknown := strings.Repeat("A", 24)
	for _, ref := range []string{"", "short", unknown, "bad+chars/" + unknown} {
		r := c.Get("/recovery/status?ref=" + url.QueryEscape(ref))
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("ref %q: status %d, want 404", ref, r.StatusCode)
		}
	}
}

func TestRecoveryFormValidation(t *testing.T) {
	env := startAt(t, webtest.Options{})
	tests := []struct {
		name        string
		giveAccount string
		giveContact string
		giveReason  string
		wantField   string
	}{
		{"account missing", "", contact, "r", "account"},
		{"contact missing", ownerName, "  ", "r", "contact"},
		{"reason missing", ownerName, contact, "", "reason"},
		{"account too long", strings.Repeat("a", 65), contact, "r", "account"},
		{"control character in account", "de\x1bmo", contact, "r", "account"},
		{"line break in contact", ownerName, "a@b.example\nBcc: x", "r", "contact"},
		{"NUL in reason", ownerName, contact, "lost\x00", "reason"},
		{"reason too long", ownerName, contact, strings.Repeat("r", 2001), "reason"},
	}
	c := env.Client(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fileTicket(c, tt.giveAccount, tt.giveContact, tt.giveReason)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.StatusCode)
			}
			if !hasResult(r, "invalid") {
				t.Error("no invalid result marker")
			}
			if got := r.Attr(`[aria-invalid="true"]`, "name"); !cmp.Equal(got, []string{tt.wantField}) {
				t.Errorf("fields marked = %v, want [%s]", got, tt.wantField)
			}
			if r.Doc.Find("#"+tt.wantField+"-error").Text() == "" {
				t.Errorf("no message for %s", tt.wantField)
			}
			kept, _ := r.Doc.Find("input#account").Attr("value")
			if kept != strings.ToValidUTF8(tt.giveAccount, "") && tt.wantField != "account" {
				t.Errorf("account input not kept: %q", kept)
			}
		})
	}
	all, err := env.Store.Tickets(context.Background(), store.TicketFilter{})
	if err != nil || len(all) != 0 {
		t.Errorf("refused requests stored %d tickets (err %v), want none", len(all), err)
	}
}

func TestRecoveryFloodLimited(t *testing.T) {
	env := startAt(t, webtest.Options{TrustedProxies: mustPrefixes(t, "127.0.0.1/32")})
	ctx := context.Background()
	// One source, many names: five tickets, then 429.
	c := env.Client(t)
	c.Header.Set("X-Forwarded-For", "198.51.100.7")
	var codes []int
	for i := range 8 {
		r := fileTicket(c, "name"+itoa(int64(i)), contact, "flood")
		codes = append(codes, r.StatusCode)
		if r.StatusCode == http.StatusTooManyRequests && r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	want := []int{201, 201, 201, 201, 201, 429, 429, 429}
	if !cmp.Equal(codes, want) {
		t.Errorf("statuses from one source = %v, want %v", codes, want)
	}
	// One name (in any case), many sources: three tickets, then 429.
	codes = nil
	for i, name := range []string{"victim", "Victim", "victim ", "VICTIM", "victim"} {
		c := env.Client(t)
		c.Header.Set("X-Forwarded-For", "203.0.113."+itoa(int64(i+1)))
		codes = append(codes, fileTicket(c, name, contact, "flood").StatusCode)
	}
	if want := []int{201, 201, 201, 429, 429}; !cmp.Equal(codes, want) {
		t.Errorf("statuses for one name = %v, want %v", codes, want)
	}
	// A concurrent flood from a fresh source gets no further than five.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			c := env.Client(t)
			c.Header.Set("X-Forwarded-For", "192.0.2.9")
			fileTicket(c, "parallel"+itoa(int64(i)), contact, "flood")
		})
	}
	wg.Wait()
	all, err := env.Store.Tickets(ctx, store.TicketFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5+3+5 {
		t.Errorf("tickets stored = %d, want 13: no more than the limits", len(all))
	}
	if !strings.Contains(env.LogText(), "recovery_rate_limited") {
		t.Error("the refused flood is not logged")
	}
	// An hour on, the source may file again.
	env.Clock.Advance(time.Hour + time.Second)
	if r := fileTicket(c, "later", contact, "again"); r.StatusCode != http.StatusCreated {
		t.Errorf("an hour later: status %d, want 201", r.StatusCode)
	}
}

func TestRecoveryExemptSourceNotLimited(t *testing.T) {
	env := startAt(t, webtest.Options{RateLimitExempt: mustPrefixes(t, "127.0.0.1/32")})
	c := env.Client(t)
	for i := range 8 {
		r := fileTicket(c, ownerName, contact, "load test "+itoa(int64(i)))
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("ticket %d from an exempt source: status %d, want 201", i+1, r.StatusCode)
		}
	}
}

func TestRecoveryDueDates(t *testing.T) {
	tests := []struct {
		name      string
		giveFiled time.Time
		wantDue   string
	}{
		{"Monday morning", monday10, "2031-03-06"},
		{"Friday evening", time.Date(2031, 3, 7, 17, 30, 0, 0, time.UTC), "2031-03-13"},
		{"Saturday", time.Date(2031, 3, 8, 9, 0, 0, 0, time.UTC), "2031-03-13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startAt(t, webtest.Options{Clock: webtest.NewClock(tt.giveFiled)})
			r := fileTicket(env.Client(t), ownerName, contact, "due")
			filedRef(t, r)
			if got := r.Attr("[data-due]", "data-due"); !cmp.Equal(got, []string{tt.wantDue}) {
				t.Errorf("due = %v, want [%s]", got, tt.wantDue)
			}
		})
	}
}
