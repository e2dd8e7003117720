package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logonguard/logonguard/internal/cases"
	"github.com/logonguard/logonguard/web/webtest"
)

// Accounts of the address cases: one whose mask holds only an address no
// row wants, one whose mask holds only the row's wanted address, and one
// without a mask that saves masks.
const (
	fencedName  = "fenced"
	fittedName  = "fitted"
	openName    = "open"
	noRowWants  = "198.18.0.1"
	ipCasesFile = "client-ip.tsv"
)

// ipCaseEnv starts a console with the row's trusted proxies and the three
// accounts of the address cases.
func ipCaseEnv(t *testing.T, row cases.Row) *webtest.Env {
	t.Helper()
	opts := webtest.Options{}
	if tr := row.Get("trusted"); tr != "-" {
		opts.TrustedProxies = mustPrefixes(t, tr)
	}
	env := webtest.Start(t, opts)
	setMask(t, env, env.AddAccount(t, fencedName, ownerPw).ID, noRowWants)
	if want := row.Get("want"); want != "none" {
		setMask(t, env, env.AddAccount(t, fittedName, ownerPw).ID, want)
	}
	env.AddAccount(t, openName, ownerPw)
	return env
}

// wantShown is how the pages name the row's wanted address.
func wantShown(row cases.Row) string {
	if row.Get("want") == "none" {
		return "unknown"
	}
	return row.Get("want")
}

// TestClientIPCasesThroughStack sends every row of client-ip.tsv through
// the whole echo stack in-process, from the row's peer, and reads the
// address the mask saw three ways: the blocked page names it, a mask of
// only that address lets the logon in, and the mask form's lockout guard
// sees it as the caller.
func TestClientIPCasesThroughStack(t *testing.T) {
	for _, row := range cases.Read(t, ipCasesFile, "peer", "trusted", "headers", "want", "source") {
		t.Run(row.Get("source"), func(t *testing.T) {
			env := ipCaseEnv(t, row)
			newRowBrowser := func() *browser {
				b := newBrowser(t, env, row.Get("peer"))
				b.header = cases.Headers(t, row.Get("headers"))
				return b
			}

			b := newRowBrowser()
			b.get("/login")
			r := b.post("/login", url.Values{"account": {fencedName}, "password": {ownerPw}})
			checkBlockedAt(t, row, r)

			if row.Get("want") != "none" {
				newRowBrowser().logOn(fittedName, ownerPw)
			}

			owner := newRowBrowser()
			owner.logOn(openName, ownerPw)
			form := owner.get("/security/logon-mask")
			if got := strings.TrimSpace(form.Doc.Find("strong.addr").Text()); got != wantShown(row) {
				t.Errorf("line %d: mask form names the caller %q, want %q", row.Line, got, wantShown(row))
			}
			r = owner.post("/security/logon-mask", url.Values{"mask": {noRowWants}})
			warned := r.Attr(`[data-result="lockout-warning"]`, "data-result")
			if r.StatusCode != http.StatusConflict || len(warned) != 1 {
				t.Errorf("line %d: mask without the caller: status %d, want 409 lockout-warning",
					row.Line, r.StatusCode)
			}
			if row.Get("want") != "none" {
				r = owner.post("/security/logon-mask", url.Values{"mask": {row.Get("want")}})
				if r.StatusCode != http.StatusSeeOther {
					t.Errorf("line %d: mask of only the caller: status %d, want 303", row.Line, r.StatusCode)
				}
			}
		})
	}
}

// checkBlockedAt checks that a logon to the fenced account was blocked and
// that the page named the row's wanted address.
func checkBlockedAt(t *testing.T, row cases.Row, r *webtest.Response) {
	t.Helper()
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("line %d: fenced logon: status %d, want 403", row.Line, r.StatusCode)
	}
	got := strings.TrimSpace(r.Doc.Find(`[data-result="blocked"] .addr`).Text())
	if got != wantShown(row) {
		t.Errorf("line %d: blocked page shows %q, want %q", row.Line, got, wantShown(row))
	}
}

// TestClientIPCasesOverListener sends the rows whose peer is 127.0.0.1
// over a real TCP connection, headers and all.
func TestClientIPCasesOverListener(t *testing.T) {
	n := 0
	for _, row := range cases.Read(t, ipCasesFile, "peer", "trusted", "headers", "want", "source") {
		if row.Get("peer") != "127.0.0.1" {
			continue
		}
		n++
		t.Run(row.Get("source"), func(t *testing.T) {
			env := ipCaseEnv(t, row)
			c := env.Client(t)
			c.Header = cases.Headers(t, row.Get("headers"))
			c.Get("/login")
			r := c.Post("/login", url.Values{"account": {fencedName}, "password": {ownerPw}})
			checkBlockedAt(t, row, r)
			if row.Get("want") != "none" {
				fitted := env.Client(t)
				fitted.Header = c.Header
				fitted.LogOn(fittedName, ownerPw)
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d rows over the listener", n)
	}
}
