package browser_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logonguard/logonguard/web/webtest"
)

// TestRecoveryTicketApprovedThenLogOn: an owner locked out by the mask
// files a recovery ticket from the blocked page; a staff member, in another
// browser, approves it; the owner sees the ticket approved and logs on.
func TestRecoveryTicketApprovedThenLogOn(t *testing.T) {
	owner := ownerTab(t, webtest.Options{})
	env := owner.env
	env.AddStaff(t, "support", "support-password")
	lockOut(t, env, "owner@example.com")

	if s := owner.logOn(ownerName, ownerPw); s != http.StatusForbidden {
		t.Fatalf("logon from outside the mask: status %d, want 403", s)
	}
	if s := owner.click(`[data-result="blocked"] a[href="/recovery"]`); s != http.StatusOK {
		t.Fatalf("recovery form: status %d", s)
	}
	owner.typeInto("#account", ownerName)
	owner.typeInto("#contact", "owner@example.com")
	owner.typeInto("#reason", "Our office moved; the new address is not in the mask.")
	if s := owner.submit("/recovery"); s != http.StatusCreated {
		t.Fatalf("file the ticket: status %d, want 201", s)
	}
	status, ok := owner.doc().Find("[data-status-link]").Attr("href")
	if !ok || !strings.HasPrefix(status, "/recovery/status?ref=") {
		t.Fatalf("no status link on the filed page: %q", status)
	}
	if got := ticketState(owner, status); got != "open" {
		t.Fatalf("new ticket is %q, want open", got)
	}

	staff := newTabOn(t, env, "staff")
	staff.open("/support/login")
	staff.typeInto("#name", "support")
	staff.typeInto("#password", "support-password")
	if s := staff.submit("/support/login"); s != http.StatusOK || staff.path() != "/support/tickets" {
		t.Fatalf("staff logon: status %d at %s", s, staff.path())
	}
	ref := strings.TrimPrefix(status, "/recovery/status?ref=")
	if s := staff.click(`tr[data-state="open"] a`); s != http.StatusOK {
		t.Fatalf("open the ticket: status %d", s)
	}
	if got := staff.doc().Find("h1 code").Text(); got != ref {
		t.Fatalf("staff opened ticket %q, want %q", got, ref)
	}
	staff.typeInto("#verification", "Called back on the recovery contact on file.")
	if s := staff.click(`form[action$="/approve"] button[type="submit"]`); s != http.StatusOK {
		t.Fatalf("approve: status %d", s)
	}
	if got := staff.doc().Find(`[data-result="saved"]`).Text(); !strings.Contains(got, "approved") {
		t.Errorf("approval not confirmed: %q", got)
	}

	if got := ticketState(owner, status); got != "approved" {
		t.Errorf("ticket after approval is %q, want approved", got)
	}
	if s := owner.logOn(ownerName, ownerPw); s != http.StatusOK || owner.path() != "/security" {
		t.Fatalf("logon after approval: status %d at %s, want /security", s, owner.path())
	}
	d := owner.doc()
	if got := d.Find("#mask-h").Parent().Find(".state").Text(); !strings.Contains(got, "Not set") {
		t.Errorf("mask after approval: %q, want Not set", got)
	}
	if got := d.Find(".notice").Text(); !strings.Contains(got, ref) {
		t.Errorf("no notice naming ticket %s on Security Settings: %q", ref, got)
	}
	owner.checkConsole()
	staff.checkConsole()
}

// lockOut saves the example mask, which refuses 127.0.0.1, and a recovery
// contact for the owner, through the plain HTTP client.
func lockOut(t *testing.T, env *webtest.Env, contact string) {
	t.Helper()
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	c.Get("/security/recovery-contact")
	r := c.Post("/security/recovery-contact", url.Values{"contact": {contact}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save the recovery contact: status %d", r.StatusCode)
	}
	saveMaskHTTP(t, env, example)
}

// ticketState opens the ticket's status page and returns its state.
func ticketState(tb *tab, status string) string {
	tb.t.Helper()
	if s := tb.open(status); s != http.StatusOK {
		tb.t.Fatalf("status page: %d", s)
	}
	state, _ := tb.doc().Find("[data-state]").Attr("data-state")
	return state
}
