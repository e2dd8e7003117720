package web_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web/webtest"
)

// browser talks to the console's echo stack in-process, as a browser at a
// chosen TCP peer address would: it keeps cookies and the last CSRF token.
type browser struct {
	t      testing.TB
	h      http.Handler
	remote string // the request's RemoteAddr, "host:port"
	// direct sets req.TLS, as a TLS listener would; https alone only makes
	// the cookie jar treat the console as a secure origin (a TLS proxy).
	direct bool
	https  bool
	header http.Header
	jar    *cookiejar.Jar
	csrf   string
}

// newBrowser returns a browser on env's server whose requests come from peer.
func newBrowser(t testing.TB, env *webtest.Env, peer string) *browser {
	jar, _ := cookiejar.New(nil)
	host := peer
	if strings.Contains(peer, ":") {
		host = "[" + peer + "]"
	}
	return &browser{t: t, h: env.Server.Handler(), remote: host + ":40000", header: http.Header{},
		jar: jar}
}

func (b *browser) base() *url.URL {
	if b.https || b.direct {
		return &url.URL{Scheme: "https", Host: "console.test"}
	}
	return &url.URL{Scheme: "http", Host: "console.test"}
}

func (b *browser) get(path string) *webtest.Response {
	b.t.Helper()
	return b.do(httptest.NewRequest(http.MethodGet, b.base().String()+path, nil))
}

// post sends form with the remembered CSRF token unless form sets _csrf.
func (b *browser) post(path string, form url.Values) *webtest.Response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["_csrf"]; !set {
		if b.csrf == "" {
			b.get("/login")
		}
		form.Set("_csrf", b.csrf)
	}
	return b.postBody(path, strings.NewReader(form.Encode()))
}

func (b *browser) postBody(path string, body io.Reader) *webtest.Response {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodPost, b.base().String()+path, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) do(req *http.Request) *webtest.Response {
	b.t.Helper()
	req.RemoteAddr = b.remote
	if !b.direct {
		req.TLS = nil
	} else if req.TLS == nil {
		req.TLS = &tls.ConnectionState{}
	}
	for k, vs := range b.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for _, ck := range b.jar.Cookies(b.base()) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	resp := rec.Result()
	b.jar.SetCookies(b.base(), resp.Cookies())
	body, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		b.t.Fatal(err)
	}
	if tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok && tok != "" {
		b.csrf = tok
	}
	return &webtest.Response{Response: resp, Body: string(body), Doc: doc}
}

// logOn logs the browser on as an owner and fails the test unless it gets 303.
func (b *browser) logOn(name, pw string) {
	b.t.Helper()
	b.get("/login")
	r := b.post("/login", url.Values{"account": {name}, "password": {pw}})
	if r.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("logon as %s from %s: status %d, want 303\n%s", name, b.remote, r.StatusCode, r.Body)
	}
}

func (b *browser) cookie(name string) *http.Cookie {
	for _, ck := range b.jar.Cookies(b.base()) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// isCSRFRefusal reports whether r is the console's CSRF refusal rather than
// some other 403 (a blocked logon).
func isCSRFRefusal(r *webtest.Response) bool {
	return r.StatusCode == http.StatusForbidden && strings.Contains(r.Body, "Request refused")
}

// dbState reads every table of the console's database, the way a test can
// tell whether a request changed anything. Sessions are read without their
// expiry and data, which a session's own bookkeeping may touch.
func dbState(t testing.TB, env *webtest.Env) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+env.Store.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx,
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'goose%'
		AND name NOT LIKE 'sqlite%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string][]string{}
	for _, tab := range tables {
		q := "SELECT * FROM " + tab
		if tab == "sessions" {
			q = "SELECT token, kind, principal_id, created_at, source FROM sessions"
		}
		out[tab] = tableRows(t, db, q)
	}
	return out
}

func tableRows(t testing.TB, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%v", vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// waitEvents waits until the event log has written at least n logon events
// of account with outcome, and returns how many there are.
func waitEvents(t testing.TB, env *webtest.Env, account int64, outcome string, n int) int {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		evs, err := env.Store.LogonEvents(context.Background(),
			store.LogonFilter{AccountID: account, Outcome: outcome, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= n || time.Now().After(deadline) {
			return len(evs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits for the event log, which writes queued logon events every
// 50 ms, so a database read sees what the requests so far queued.
func settle() { time.Sleep(200 * time.Millisecond) }

// diffState fails the test when the database changed between two reads.
func diffState(t *testing.T, what string, before, after map[string][]string) {
	t.Helper()
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("%s changed the database (-before +after):\n%s", what, d)
	}
}

// stateForm carries every field some POST route reads, each set to a value
// that would change something if the route accepted the request.
func stateForm() url.Values {
	return url.Values{
		"account": {ownerName}, "password": {ownerPw}, "hours": {"5"},
		"mask": {"198.51.100.0/24"}, "confirm_lockout": {"yes"}, "version": {""},
		"contact": {"owner@example.com"}, "current": {ownerPw}, "new": {"a much better password 7"},
		"source_ip": {"198.51.100.7"}, "ip": {"198.51.100.7"}, "staff": {staffName},
		"verification": {"called back"}, "reason": {"locked out"},
	}
}

const (
	staffName = "support"
	staffPw   = "support-password"
)

// routePaths lists the registered routes of method as requestable paths,
// path parameters filled with 1, the logouts last.
func routePaths(env *webtest.Env, method string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range env.Server.Echo().Routes() {
		if r.Method != method || strings.Contains(r.Path, "*") {
			continue
		}
		segs := strings.Split(r.Path, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") {
				segs[i] = "1"
			}
		}
		p := strings.Join(segs, "/")
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return !strings.HasSuffix(out[i], "logout") && strings.HasSuffix(out[j], "logout")
	})
	return out
}

func hasPath(paths []string, p string) bool {
	for _, q := range paths {
		if q == p {
			return true
		}
	}
	return false
}

// signedIn returns a browser signed in as the owner and, where the staff
// pages exist, as staff too, so every route sees a session to act for.
func signedIn(t *testing.T, env *webtest.Env, peer string) *browser {
	t.Helper()
	b := newBrowser(t, env, peer)
	b.logOn(ownerName, ownerPw)
	if hasPath(routePaths(env, http.MethodPost), "/support/login") {
		b.get("/support/login")
		r := b.post("/support/login", url.Values{"staff": {staffName}, "password": {staffPw}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("staff logon: status %d, want 303", r.StatusCode)
		}
	}
	return b
}

func TestCSRFOnEveryStateChangingRoute(t *testing.T) {
	env := webtest.Start(t, webtest.Options{Demo: true})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, staffName, staffPw)
	posts := routePaths(env, http.MethodPost)
	for _, p := range []string{"/login", "/logout", "/security/logon-mask", "/security/session-duration",
		"/security/sessions/end-others", "/security/password", "/security/recovery-contact"} {
		if !hasPath(posts, p) {
			t.Fatalf("POST %s is not among the routes %v", p, posts)
		}
	}
	victim := signedIn(t, env, "203.0.113.5")
	settle()
	before := dbState(t, env)
	for _, path := range posts {
		for _, give := range []struct {
			name string
			csrf []string // nil: no _csrf field at all
		}{{"absent", nil}, {"empty", []string{""}}, {"forged", []string{"forged-token-0123456789"}},
			{"two", []string{"forged-token-0123456789", "x"}}} {
			form := stateForm()
			if give.csrf != nil {
				form["_csrf"] = give.csrf
			}
			r := victim.postBody(path, strings.NewReader(form.Encode()))
			if !isCSRFRefusal(r) {
				t.Errorf("POST %s with %s _csrf: status %d, want the 403 refusal", path, give.name,
					r.StatusCode)
			}
		}
	}
	settle()
	diffState(t, "refused POSTs", before, dbState(t, env))
	if r := victim.get("/security"); r.StatusCode != http.StatusOK {
		t.Errorf("victim's session after the refused POSTs: status %d, want 200", r.StatusCode)
	}

	// With the page's token every route gets past the check, so the refusals
	// above came from the token and not from a missing route.
	owner := signedIn(t, env, "203.0.113.6")
	owner.get("/security")
	for _, path := range posts {
		if r := owner.post(path, url.Values{}); isCSRFRefusal(r) {
			t.Errorf("POST %s with the page's token: refused as forged", path)
		}
	}
}

// getPaths are the GET routes with the query strings they take.
func getPaths(env *webtest.Env) []string {
	var out []string
	for _, p := range routePaths(env, http.MethodGet) {
		out = append(out, p)
		switch p {
		case "/security/activity", "/security/activity.csv":
			out = append(out, p+"?kind=change", p+"?kind=logon")
		case "/support/tickets":
			out = append(out, p+"?state=open", p+"?state=approved")
		case "/recovery/status":
			out = append(out, p+"?ref=AAAAAAAAAAAAAAAAAAAAAAAA")
		}
	}
	return out
}

func TestGETChangesNothing(t *testing.T) {
	env := webtest.Start(t, webtest.Options{Demo: true})
	acct := env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, staffName, staffPw)
	ctx := context.Background()
	by := store.Actor{Name: "test", Source: "test"}
	if _, _, err := env.Store.UpdateMask(ctx, store.SettingsUpdate{AccountID: acct.ID, By: by},
		"203.0.113.0/24"); err != nil {
		t.Fatal(err)
	}
	// A pending notice is state a careless GET could clear.
	if _, err := env.Store.ClearMask(ctx, acct.ID, by, "Support cleared your logon mask."); err != nil {
		t.Fatal(err)
	}
	b := signedIn(t, env, "203.0.113.5")
	anon := newBrowser(t, env, "198.51.100.9")
	settle()
	before := dbState(t, env)
	paths := getPaths(env)
	for _, path := range paths {
		for _, who := range []*browser{b, anon} {
			if r := who.get(path); r.StatusCode >= 500 {
				t.Errorf("GET %s: status %d", path, r.StatusCode)
			}
		}
	}
	settle()
	diffState(t, fmt.Sprintf("GET of %v", paths), before, dbState(t, env))
}

func TestNoticeStaysUntilDismissed(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	by := store.Actor{Name: "test", Source: "test"}
	const notice = "Support cleared your logon mask."
	if _, err := env.Store.ClearMask(context.Background(), acct.ID, by, notice); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, env, "203.0.113.5")
	b.logOn(ownerName, ownerPw)
	for i := range 2 {
		if r := b.get("/security"); !strings.Contains(r.Doc.Find(".notice").Text(), notice) {
			t.Fatalf("visit %d: notice not shown", i+1)
		}
	}
	if r := b.post("/security/notice/dismiss", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("dismiss: status %d, want 303", r.StatusCode)
	}
	if r := b.get("/security"); r.Doc.Find(".notice").Length() != 0 {
		t.Error("notice still shown after dismissing it")
	}
}
