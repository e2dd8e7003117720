package web_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web"
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

// plant hands the browser a cookie, as an attacker who set it would.
func (b *browser) plant(name, value string) {
	b.jar.SetCookies(b.base(), []*http.Cookie{{Name: name, Value: value, Path: "/"}})
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
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
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
	for _, p := range []string{"/login", "/logout", "/security/logon-mask",
		"/security/session-duration", "/security/sessions/end-others", "/security/password",
		"/security/recovery-contact"} {
		if !hasPath(posts, p) {
			t.Fatalf("POST %s is not among the routes %v", p, posts)
		}
	}
	victim := signedIn(t, env, "203.0.113.5")
	if hasPath(posts, "/recovery") {
		fileOwnerTicket(t, env) // an open ticket, which a forged approval would close
	}
	settle()
	before := dbState(t, env)
	for _, path := range posts {
		for _, give := range []struct {
			name  string
			csrf  []string // nil: no _csrf field at all
			fetch string   // Sec-Fetch-Site, which must not stand in for the token
		}{{"absent", nil, ""}, {"empty", []string{""}, ""},
			{"forged", []string{"forged-token-0123456789"}, ""},
			{"two", []string{"forged-token-0123456789", "x"}, ""},
			{"same-origin fetch, absent", nil, "same-origin"}} {
			form := stateForm()
			if give.csrf != nil {
				form["_csrf"] = give.csrf
			}
			victim.header.Set("Sec-Fetch-Site", give.fetch)
			r := victim.postBody(path, strings.NewReader(form.Encode()))
			victim.header.Del("Sec-Fetch-Site")
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

// fileOwnerTicket files a recovery ticket for the owner from the public form.
func fileOwnerTicket(t *testing.T, env *webtest.Env) {
	t.Helper()
	filer := newBrowser(t, env, "198.51.100.9")
	filer.get("/recovery")
	r := filer.post("/recovery", url.Values{"account": {ownerName},
		"contact": {"owner@example.com"}, "reason": {"locked out"}})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("filing a ticket: status %d", r.StatusCode)
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
	const notice = "Support cleared your logon mask."
	if _, err := env.Store.ClearMask(ctx, acct.ID, by, notice); err != nil {
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

// checkHeaders reports what is missing from a response's security headers.
func checkHeaders(h http.Header) []string {
	var bad []string
	csp := h.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		if name, value, _ := strings.Cut(strings.TrimSpace(d), " "); name != "" {
			directives[name] = value
		}
	}
	script, ok := directives["script-src"]
	if !ok {
		script = directives["default-src"]
	}
	if script != "'none'" && script != "'self'" {
		bad = append(bad, "CSP allows scripts from "+script)
	}
	if strings.Contains(csp, "unsafe-") {
		bad = append(bad, "CSP has an unsafe- source: "+csp)
	}
	if directives["frame-ancestors"] != "'none'" && h.Get("X-Frame-Options") != "DENY" {
		bad = append(bad, "framing not refused")
	}
	switch h.Get("Referrer-Policy") {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		bad = append(bad, "Referrer-Policy "+h.Get("Referrer-Policy"))
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		bad = append(bad, "no nosniff")
	}
	return bad
}

// inlineCode finds inline scripts, styles and event handlers, which the
// CSP would block and so must not be relied on.
func inlineCode(doc *goquery.Document) []string {
	var out []string
	doc.Find("script, style").Each(func(_ int, s *goquery.Selection) {
		out = append(out, goquery.NodeName(s))
	})
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				out = append(out, goquery.NodeName(s)+"["+a.Key+"]")
			}
		}
	})
	return out
}

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	env := webtest.Start(t, webtest.Options{Demo: true})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, staffName, staffPw)
	b := signedIn(t, env, "203.0.113.5")
	anon := newBrowser(t, env, "198.51.100.9")
	pages := map[string]*webtest.Response{}
	for _, path := range getPaths(env) {
		pages["GET "+path] = b.get(path)
		pages["anonymous GET "+path] = anon.get(path)
	}
	pages["404"] = b.get("/no-such-page")
	pages["403 forged"] = b.postBody("/security/session-duration", strings.NewReader("hours=5"))
	pages["413"] = b.post("/login", url.Values{"account": {strings.Repeat("a", 70<<10)}})
	pages["422"] = b.post("/security/session-duration", url.Values{"hours": {"0"}})
	pages["401"] = anon.post("/login", url.Values{"account": {ownerName}, "password": {"wrong one"}})
	for name, r := range pages {
		if bad := checkHeaders(r.Header); len(bad) > 0 {
			t.Errorf("%s (%d): %v", name, r.StatusCode, bad)
		}
		if h := r.Header.Get("Strict-Transport-Security"); h != "" {
			t.Errorf("%s: HSTS over plain HTTP: %q", name, h)
		}
		if bad := inlineCode(r.Doc); len(bad) > 0 {
			t.Errorf("%s: inline code %v", name, bad)
		}
		path := strings.TrimPrefix(strings.TrimPrefix(name, "anonymous "), "GET ")
		if strings.HasPrefix(path, "/security") || strings.HasPrefix(path, "/support") ||
			strings.HasPrefix(path, "/demo") || !strings.HasPrefix(path, "/") {
			if !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("%s: Cache-Control %q, want no-store", name, r.Header.Get("Cache-Control"))
			}
		}
	}
	if _, ok := pages["GET /security"]; !ok || len(pages) < 12 {
		t.Fatalf("only %d pages checked", len(pages))
	}
}

// tlsMode is how a request reached the console.
type tlsMode struct {
	name    string
	trusted string // -trusted-proxy
	peer    string
	direct  bool   // TLS terminated by the console itself
	proto   string // X-Forwarded-Proto sent, "" for none
	want    bool   // HSTS and Secure cookies expected
}

var tlsModes = []tlsMode{
	{name: "plain", peer: "203.0.113.5"},
	{name: "direct TLS", peer: "203.0.113.5", direct: true, want: true},
	{name: "trusted proxy https", trusted: "127.0.0.1/32", peer: "127.0.0.1", proto: "https",
		want: true},
	{name: "trusted proxy HTTPS list", trusted: "127.0.0.1/32", peer: "127.0.0.1",
		proto: "http, HTTPS", want: true},
	{name: "trusted proxy http", trusted: "127.0.0.1/32", peer: "127.0.0.1", proto: "http"},
	{name: "untrusted peer says https", peer: "203.0.113.5", proto: "https"},
	{name: "untrusted loopback says https", trusted: "10.0.0.0/8", peer: "127.0.0.1", proto: "https"},
}

func TestHSTSAndSecureCookiesOnlyOverTLS(t *testing.T) {
	for _, m := range tlsModes {
		t.Run(m.name, func(t *testing.T) {
			opts := webtest.Options{}
			if m.trusted != "" {
				opts.TrustedProxies = mustPrefixes(t, m.trusted)
			}
			env := webtest.Start(t, opts)
			env.AddAccount(t, ownerName, ownerPw)
			b := newBrowser(t, env, m.peer)
			b.direct, b.https = m.direct, m.want
			if m.proto != "" {
				b.header.Set("X-Forwarded-Proto", m.proto)
			}
			b.header.Set("X-Forwarded-For", "42.120.66.7")
			r := b.get("/login")
			if got := r.Header.Get("Strict-Transport-Security") != ""; got != m.want {
				t.Errorf("HSTS sent: %v, want %v", got, m.want)
			}
			checkCookie(t, "_csrf", r.SetCookieHeader("_csrf"), m.want, http.SameSiteStrictMode)
			r = b.post("/login", url.Values{"account": {ownerName}, "password": {ownerPw}})
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("logon: status %d", r.StatusCode)
			}
			checkCookie(t, "lg_session", r.SetCookieHeader("lg_session"), m.want, http.SameSiteLaxMode)
			r = b.post("/logout", nil)
			checkCookie(t, "lg_session on logout", r.SetCookieHeader("lg_session"), m.want,
				http.SameSiteLaxMode)
		})
	}
}

func checkCookie(t *testing.T, what string, ck *http.Cookie, secure bool, same http.SameSite) {
	t.Helper()
	if ck == nil {
		t.Errorf("%s: no cookie set", what)
		return
	}
	if !ck.HttpOnly || ck.SameSite != same || ck.Path != "/" || ck.Secure != secure {
		t.Errorf("%s: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want true %v / %v", what,
			ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure, same, secure)
	}
}

// TestTLSListener checks the same over a real TLS connection.
func TestTLSListener(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	ts := httptest.NewTLSServer(env.Server.Handler())
	defer ts.Close()
	client := ts.Client()
	client.Jar, _ = cookiejar.New(nil)
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	resp, err := client.Get(ts.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
	tok, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	resp, err = client.PostForm(ts.URL+"/login",
		url.Values{"account": {ownerName}, "password": {ownerPw}, "_csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := &webtest.Response{Response: resp}
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logon over TLS: status %d", resp.StatusCode)
	}
	checkCookie(t, "lg_session", r.SetCookieHeader("lg_session"), true, http.SameSiteLaxMode)
}

func TestSessionFixation(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)

	// A token planted before logon is never the one after, and opens nothing.
	victim := newBrowser(t, env, "203.0.113.5")
	planted := "attacker-chosen-token-value-0000000000000"
	victim.plant("lg_session", planted)
	victim.logOn(ownerName, ownerPw)
	if got := victim.cookie("lg_session"); got == nil || got.Value == planted {
		t.Fatalf("session token after logon = %v, want a new one", got)
	}
	attacker := newBrowser(t, env, "198.51.100.7")
	attacker.plant("lg_session", planted)
	if r := attacker.get("/security"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("planted token after the victim's logon: status %d, want 303", r.StatusCode)
	}

	// A token the server issued (an open session) is renewed by the next
	// logon too, and the old one stops working.
	before := victim.cookie("lg_session").Value
	victim.logOn(ownerName, ownerPw)
	after := victim.cookie("lg_session").Value
	if after == before {
		t.Fatal("a second logon kept the session token")
	}
	attacker.plant("lg_session", before)
	if r := attacker.get("/security"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("token from before the second logon: status %d, want 303", r.StatusCode)
	}
	if r := victim.get("/security"); r.StatusCode != http.StatusOK {
		t.Errorf("renewed session: status %d, want 200", r.StatusCode)
	}
}

// logonFrom posts one logon from peer and returns the response.
func logonFrom(t testing.TB, env *webtest.Env, peer, name, pw string) *webtest.Response {
	t.Helper()
	b := newBrowser(t, env, peer)
	b.get("/login")
	return b.post("/login", url.Values{"account": {name}, "password": {pw}})
}

// want429 checks a rate-limited answer: 429 at once, with Retry-After.
func want429(t *testing.T, what string, r *webtest.Response) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s: status %d, want 429", what, r.StatusCode)
	}
	if s := r.Header.Get("Retry-After"); s == "" || s == "0" || strings.HasPrefix(s, "-") {
		t.Errorf("%s: Retry-After %q", what, s)
	}
}

func TestLogonRateLimitPerAccount(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	for i := range 10 {
		r := logonFrom(t, env, fmt.Sprintf("203.0.113.%d", i+1), ownerName, "wrong password")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want 401", i+1, r.StatusCode)
		}
	}
	// The eleventh, from yet another source and with the right password.
	r := logonFrom(t, env, "203.0.113.50", ownerName, ownerPw)
	want429(t, "right password after 10 failures", r)
	// An unknown name has its own count, so it still gets 401.
	if r := logonFrom(t, env, "203.0.113.51", "nobody", "x"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown account from a fresh source: status %d, want 401", r.StatusCode)
	}
	if n := waitEvents(t, env, acct.ID, store.OutcomeRateLimited, 1); n != 1 {
		t.Errorf("rate_limited events: %d, want 1", n)
	}
	if n := waitEvents(t, env, acct.ID, store.OutcomeWrongPassword, 10); n != 10 {
		t.Errorf("wrong_password events: %d, want 10", n)
	}
	// The window refills: after 15 minutes the owner logs on again.
	env.Clock.Advance(15 * time.Minute)
	if r = logonFrom(t, env, "203.0.113.52", ownerName, ownerPw); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after the window: status %d, want 303", r.StatusCode)
	}
}

func TestLogonRateLimitPerSource(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	const attacker = "198.51.100.7"
	for i := range 10 {
		r := logonFrom(t, env, attacker, fmt.Sprintf("guess%d", i), "wrong password")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unknown account %d: status %d, want 401", i+1, r.StatusCode)
		}
	}
	want429(t, "11th failure from one source", logonFrom(t, env, attacker, ownerName, ownerPw))
	if r := logonFrom(t, env, "203.0.113.5", ownerName, ownerPw); r.StatusCode != http.StatusSeeOther {
		t.Errorf("owner from another source: status %d, want 303", r.StatusCode)
	}
	if n := waitEvents(t, env, acct.ID, store.OutcomeRateLimited, 1); n != 1 {
		t.Errorf("rate_limited events on the account: %d, want 1", n)
	}
}

func TestBlockedLogonsLimitedPerSourceOnly(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	setMask(t, env, acct.ID, "203.0.113.0/24")
	const attacker = "198.51.100.7"
	for i := range 60 {
		r := logonFrom(t, env, attacker, ownerName, "any password")
		if r.StatusCode != http.StatusForbidden {
			t.Fatalf("blocked logon %d: status %d, want 403", i+1, r.StatusCode)
		}
	}
	want429(t, "61st blocked logon from one source", logonFrom(t, env, attacker, ownerName, ownerPw))
	// Refusals from outside never lock the owner out.
	if r := logonFrom(t, env, "203.0.113.5", ownerName, ownerPw); r.StatusCode != http.StatusSeeOther {
		t.Errorf("owner inside the mask: status %d, want 303", r.StatusCode)
	}
	if n := waitEvents(t, env, acct.ID, store.OutcomeBlocked, 60); n != 60 {
		t.Errorf("blocked events: %d, want 60", n)
	}
	if n := waitEvents(t, env, acct.ID, store.OutcomeRateLimited, 1); n != 1 {
		t.Errorf("rate_limited events: %d, want 1", n)
	}
}

// setMask stores a mask for an account directly, as an operator would.
func setMask(t testing.TB, env *webtest.Env, id int64, mask string) {
	t.Helper()
	u := store.SettingsUpdate{AccountID: id, By: store.Actor{Name: "test", Source: "test"}}
	if _, _, err := env.Store.UpdateMask(context.Background(), u, mask); err != nil {
		t.Fatal(err)
	}
}

func TestNewPasswordClearsFailureCount(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	owner := newBrowser(t, env, "203.0.113.5")
	owner.logOn(ownerName, ownerPw)
	for i := range 10 {
		logonFrom(t, env, fmt.Sprintf("198.51.100.%d", i+1), ownerName, "wrong password")
	}
	want429(t, "after 10 failures", logonFrom(t, env, "203.0.113.6", ownerName, ownerPw))
	const newPw = "a much better password 7"
	owner.get("/security/password")
	r := owner.post("/security/password", url.Values{"current": {ownerPw}, "new": {newPw}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: status %d\n%s", r.StatusCode, r.Body)
	}
	if r := logonFrom(t, env, "203.0.113.7", ownerName, newPw); r.StatusCode != http.StatusSeeOther {
		t.Errorf("new password after the change: status %d, want 303", r.StatusCode)
	}
}

// realCostEnv starts a console that hashes at the production cost, with
// the owner's password hashed the same way.
func realCostEnv(t *testing.T, opts webtest.Options) (*webtest.Env, store.Account) {
	t.Helper()
	// A long wait for a hash slot, so a busy test machine answers slowly
	// rather than with 503.
	opts.Configure = func(c *web.Config) { c.Password, c.HashWait = password.Default, time.Minute }
	env := webtest.Start(t, opts)
	h, err := password.Hash(ownerPw, password.Default)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := env.Store.CreateAccount(context.Background(), ownerName, h,
		store.Actor{Name: "test", Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return env, acct
}

// timedLogon posts one logon from peer and returns the response and how
// long the server took to answer it.
func timedLogon(t testing.TB, env *webtest.Env, peer, name, pw string) (*webtest.Response,
	time.Duration) {
	t.Helper()
	b := newBrowser(t, env, peer)
	b.get("/login")
	start := time.Now()
	r := b.post("/login", url.Values{"account": {name}, "password": {pw}})
	return r, time.Since(start)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func TestRateLimitAnswersAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes at the production cost")
	}
	env, _ := realCostEnv(t, webtest.Options{})
	var wrong, limited []time.Duration
	for i := range 10 {
		r, d := timedLogon(t, env, fmt.Sprintf("203.0.113.%d", i+1), ownerName, "wrong password")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d", i+1, r.StatusCode)
		}
		wrong = append(wrong, d)
	}
	for i := range 10 {
		r, d := timedLogon(t, env, fmt.Sprintf("198.51.100.%d", i+1), ownerName, ownerPw)
		want429(t, "limited logon", r)
		limited = append(limited, d)
	}
	t.Logf("median wrong password %v, median 429 %v", median(wrong), median(limited))
	if median(limited)*5 > median(wrong) {
		t.Errorf("429 median %v is not far below a password check's %v: the request is held",
			median(limited), median(wrong))
	}
}

func TestConcurrentGuessesStayWithinLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes at the production cost")
	}
	env, acct := realCostEnv(t, webtest.Options{})
	const n = 30
	codes := make(chan int, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			b := newBrowser(t, env, fmt.Sprintf("203.0.113.%d", i+1))
			b.get("/login")
			<-start
			codes <- b.post("/login", url.Values{"account": {ownerName}, "password": {"guess"}}).StatusCode
		}()
	}
	close(start)
	count := map[int]int{}
	for range n {
		count[<-codes]++
	}
	t.Logf("answers to %d concurrent guesses: %v", n, count)
	if count[http.StatusUnauthorized] > 10 {
		t.Errorf("%d guesses were checked, want at most 10 per account", count[http.StatusUnauthorized])
	}
	// Guesses beyond the room get 503 (busy: the ten under way may yet
	// succeed) or, once ten have failed, 429.
	if count[http.StatusUnauthorized]+count[http.StatusTooManyRequests]+count[http.StatusServiceUnavailable] != n {
		t.Errorf("answers %v, want only 401, 429 and 503", count)
	}
	if got := waitEvents(t, env, acct.ID, "", n); got != n {
		t.Errorf("logon events: %d, want %d", got, n)
	}
}

func TestUnknownAccountTakesAsLongAsWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes at the production cost")
	}
	env, _ := realCostEnv(t, webtest.Options{RateLimitExempt: mustPrefixes(t, "0.0.0.0/0,::/0")})
	// A busy machine can skew one run's medians; a real difference, such
	// as an unknown account skipping the hash, skews every run.
	var ratios []string
	for range 3 {
		ratio := timingRatio(t, env)
		ratios = append(ratios, fmt.Sprintf("%.3f", ratio))
		if ratio <= 1.2 && ratio >= 1/1.2 {
			t.Logf("ratio unknown/wrong %s", strings.Join(ratios, ", then "))
			return
		}
	}
	t.Errorf("ratios unknown/wrong %v, each outside 1/1.2 .. 1.2", ratios)
}

// timingRatio measures wrong passwords and unknown accounts in one run, in
// pairs of random order, and returns the ratio of their medians.
func timingRatio(t *testing.T, env *webtest.Env) float64 {
	t.Helper()
	var wrong, unknown []time.Duration
	for i := range 34 {
		first, second := ownerName, "nobody-here"
		if rand.IntN(2) == 0 {
			first, second = second, first
		}
		r1, d1 := timedLogon(t, env, "203.0.113.5", first, "wrong password")
		r2, d2 := timedLogon(t, env, "203.0.113.5", second, "wrong password")
		if r1.StatusCode != http.StatusUnauthorized || r2.StatusCode != http.StatusUnauthorized {
			t.Fatalf("statuses %d and %d, want 401 for both", r1.StatusCode, r2.StatusCode)
		}
		if r1.Doc.Find(".result").Text() != r2.Doc.Find(".result").Text() {
			t.Fatal("the two refusals read differently")
		}
		if first != ownerName {
			d1, d2 = d2, d1
		}
		if i >= 3 { // the first rounds warm caches
			wrong, unknown = append(wrong, d1), append(unknown, d2)
		}
	}
	mw, mu := median(wrong), median(unknown)
	t.Logf("median wrong password %v, unknown account %v", mw, mu)
	return float64(mu) / float64(mw)
}

func isMaskPath(p string) bool { return strings.HasPrefix(p, "/security/logon-mask") }

func TestBodyLimits(t *testing.T) {
	env := webtest.Start(t, webtest.Options{Demo: true})
	env.AddAccount(t, ownerName, ownerPw)
	env.AddStaff(t, staffName, staffPw)
	b := signedIn(t, env, "203.0.113.5")
	b.get("/security")
	settle()
	before := dbState(t, env)
	big := stateForm()
	big.Set("_csrf", b.csrf)
	big.Set("padding", strings.Repeat("x", 65<<10))
	n := 0
	for _, path := range routePaths(env, http.MethodPost) {
		if isMaskPath(path) {
			continue
		}
		n++
		r := b.postBody(path, strings.NewReader(big.Encode()))
		if r.StatusCode != http.StatusRequestEntityTooLarge ||
			!strings.Contains(r.Doc.Find("h1").Text(), "too large") {
			t.Errorf("POST %s with 65 KiB: status %d %q, want 413 Request too large", path,
				r.StatusCode, r.Doc.Find("h1").Text())
		}
	}
	settle()
	diffState(t, "oversized POSTs", before, dbState(t, env))
	if n < 6 {
		t.Fatalf("only %d routes checked", n)
	}
}

// bigMask is a mask text of about size bytes, of distinct valid entries.
func bigMask(size int) string {
	var sb strings.Builder
	for i := 0; sb.Len() < size; i++ {
		fmt.Fprintf(&sb, "10.%d.%d.%d;", i>>16&255, i>>8&255, i&255)
	}
	return sb.String()
}

func TestMaskRoutesTakeLargeBodies(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	b := newBrowser(t, env, "10.0.0.1")
	b.logOn(ownerName, ownerPw)
	for _, tt := range []struct {
		name       string
		path       string
		field      string
		size       int
		wantStatus int
		wantError  string
	}{
		{"600 KiB mask", "/security/logon-mask", "mask", 600 << 10, 422, "too-many"},
		{"2 MiB mask", "/security/logon-mask", "mask", 2 << 20, 422, "too-many"},
		{"600 KiB draft", "/security/logon-mask/check", "mask", 600 << 10, 422, "too-many"},
		{"5 MiB mask", "/security/logon-mask", "mask", 5 << 20, 413, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b.get("/security/logon-mask")
			r := b.post(tt.path, url.Values{tt.field: {bigMask(tt.size)}, "ip": {"10.0.0.1"}})
			if r.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", r.StatusCode, tt.wantStatus)
			}
			if tt.wantError == "" {
				return
			}
			if got := r.Attr("[data-error]", "data-error"); !cmp.Equal(got, []string{tt.wantError}) {
				t.Errorf("data-error = %v, want [%s]", got, tt.wantError)
			}
		})
	}
	if r := b.get("/security"); len(r.Attr("[data-entry]", "data-entry")) != 0 {
		t.Error("a refused mask was saved")
	}
}

func TestChunkedBodyCapped(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	page := c.Get("/security/session-duration")
	tok, _ := page.Doc.Find(`input[name="_csrf"]`).Attr("value")
	form := url.Values{"_csrf": {tok}, "hours": {"5"}, "padding": {strings.Repeat("x", 100<<10)}}
	// A reader without a length makes the client send the body chunked.
	body := io.MultiReader(strings.NewReader(form.Encode()))
	req, err := http.NewRequest(http.MethodPost, env.URL+"/security/session-duration", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 100 KiB: status %d, want 413", resp.StatusCode)
	}
	if got := c.Get("/security").Attr("[data-hours]", "data-hours"); !cmp.Equal(got, []string{"48"}) {
		t.Errorf("duration after the refused POST: %v, want [48]", got)
	}
	r := c.Post("/security/session-duration", url.Values{"hours": {"5"}, "x": {"%zz"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("well-formed POST: status %d, want 303", r.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, env.URL+"/security/session-duration",
		strings.NewReader("_csrf="+tok+"&hours=7&bad=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err = c.HTTP.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed form: status %d, want 400", resp.StatusCode)
	}
}

func TestLogonFieldsRefusedClearly(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	for _, tt := range []struct {
		name     string
		giveName string
		givePw   string
		wantWord string // a word the message must hold
	}{
		{"name of 65 characters", strings.Repeat("a", 65), ownerPw, "64 characters"},
		{"NUL in the name", "de\x00mo", ownerPw, "control characters"},
		{"line feed in the name", "demo\n", ownerPw, "control characters"},
		{"escape in the name", "\x1b[31mdemo", ownerPw, "control characters"},
		{"DEL in the name", "de\x7fmo", ownerPw, "control characters"},
		{"blank before the name", " demo", ownerPw, "blanks"},
		{"password of 257 characters", ownerName, strings.Repeat("p", 257), "256 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := logonFrom(t, env, "203.0.113.5", tt.giveName, tt.givePw)
			if r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401 (the contract's code) with a message", r.StatusCode)
			}
			msg := r.Doc.Find(`[data-result="invalid"]`).Text()
			if !strings.Contains(msg, tt.wantWord) {
				t.Errorf("message %q does not say %q", msg, tt.wantWord)
			}
		})
	}
	// None of them counted against the source or tested a password.
	for range 5 {
		logonFrom(t, env, "203.0.113.5", strings.Repeat("a", 65), "x")
	}
	if r := logonFrom(t, env, "203.0.113.5", ownerName, ownerPw); r.StatusCode != http.StatusSeeOther {
		t.Errorf("right logon after the refusals: status %d, want 303", r.StatusCode)
	}
}

func TestContactFieldRefusedClearly(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	b := newBrowser(t, env, "203.0.113.5")
	b.logOn(ownerName, ownerPw)
	for _, give := range []string{strings.Repeat("a", 250) + "@example.com",
		"owner@example.com\r\nBcc: x@y", "+49 30\x00 1234567"} {
		b.get("/security/recovery-contact")
		r := b.post("/security/recovery-contact", url.Values{"contact": {give}})
		msg := r.Doc.Find(`[data-result="invalid"]`).Text()
		if r.StatusCode != http.StatusUnprocessableEntity || msg == "" {
			t.Errorf("contact %q: status %d, want 422 with a message", give, r.StatusCode)
		}
	}
}

// sessionRows returns the Login Status card's open sessions, each row's
// cells joined by " | ".
func sessionRows(r *webtest.Response) []string {
	var out []string
	r.Doc.Find("[data-session]").Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(_ int, td *goquery.Selection) {
			cells = append(cells, strings.Join(strings.Fields(td.Text()), " "))
		})
		out = append(out, strings.Join(cells, " | "))
	})
	return out
}

func TestOwnerSeesAndEndsOtherSessions(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	here := newBrowser(t, env, "203.0.113.5")
	here.logOn(ownerName, ownerPw)
	env.Clock.Advance(time.Minute)
	there := newBrowser(t, env, "2001:db8::7")
	there.logOn(ownerName, ownerPw)

	r := here.get("/security")
	rows := sessionRows(r)
	now := env.Clock.Now().UTC()
	want := []string{ // newest first: started | from | expires
		fmt.Sprintf("%s | 2001:db8::7 | %s", now.Format("2006-01-02 15:04 MST"),
			now.Add(48*time.Hour).Format("2006-01-02 15:04 MST")),
		fmt.Sprintf("%s this session | 203.0.113.5 | %s",
			now.Add(-time.Minute).Format("2006-01-02 15:04 MST"),
			now.Add(47*time.Hour+59*time.Minute).Format("2006-01-02 15:04 MST")),
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("open sessions (-want +got):\n%s", d)
	}
	if r := here.post("/security/sessions/end-others", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("end others: status %d", r.StatusCode)
	}
	if r := there.get("/security"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("ended session: status %d, want 303 to /login", r.StatusCode)
	}
	r = here.get("/security")
	if r.StatusCode != http.StatusOK || len(sessionRows(r)) != 1 {
		t.Errorf("own session after ending others: status %d, rows %v", r.StatusCode, sessionRows(r))
	}
	evs, err := env.Store.AuditEvents(context.Background(), store.AuditFilter{AccountID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || evs[0].Action != "sessions.end_others" {
		t.Errorf("newest audit event %v, want sessions.end_others", evs)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	here := newBrowser(t, env, "203.0.113.5")
	here.logOn(ownerName, ownerPw)
	there := newBrowser(t, env, "198.51.100.7")
	there.logOn(ownerName, ownerPw)
	const newPw = "a much better password 7"
	here.get("/security/password")
	r := here.post("/security/password", url.Values{"current": {"not it"}, "new": {newPw}})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong current password: status %d, want 422", r.StatusCode)
	}
	if r := there.get("/security"); r.StatusCode != http.StatusOK {
		t.Fatalf("a refused change ended the other session: status %d", r.StatusCode)
	}
	r = here.post("/security/password", url.Values{"current": {ownerPw}, "new": {newPw}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: status %d", r.StatusCode)
	}
	if r := there.get("/security"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("other session after the change: status %d, want 303", r.StatusCode)
	}
	if r := here.get("/security"); r.StatusCode != http.StatusOK {
		t.Errorf("own session after the change: status %d, want 200", r.StatusCode)
	}
	r = logonFrom(t, env, "203.0.113.9", ownerName, ownerPw)
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: status %d, want 401", r.StatusCode)
	}
}

func TestMaskSaveOffersToEndSessionsOutside(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	owner := newBrowser(t, env, "203.0.113.5")
	owner.logOn(ownerName, ownerPw)
	outside := newBrowser(t, env, "198.51.100.7")
	outside.logOn(ownerName, ownerPw)
	inside := newBrowser(t, env, "203.0.113.6")
	inside.logOn(ownerName, ownerPw)
	if r := owner.get("/security"); r.Doc.Find(".blocked-sessions").Length() != 0 {
		t.Fatal("offer shown before any mask")
	}

	owner.get("/security/logon-mask")
	r := owner.post("/security/logon-mask", url.Values{"mask": {"203.0.113.0/24"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("mask save: status %d", r.StatusCode)
	}
	r = owner.get("/security")
	offer := r.Doc.Find(".blocked-sessions")
	if offer.Length() != 1 || !strings.Contains(offer.Text(), "1 other open session") {
		t.Fatalf("no offer to end the session outside the mask: %q", offer.Text())
	}
	if offer.Find(`form[action="/security/sessions/end-blocked"] input[name="_csrf"]`).Length() != 1 {
		t.Fatal("the offer has no form with a token")
	}
	if r := owner.post("/security/sessions/end-blocked", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("end blocked: status %d", r.StatusCode)
	}
	for _, tt := range []struct {
		name string
		b    *browser
		want int
	}{{"outside", outside, http.StatusSeeOther}, {"inside", inside, http.StatusOK},
		{"owner", owner, http.StatusOK}} {
		if r := tt.b.get("/security"); r.StatusCode != tt.want {
			t.Errorf("%s session: status %d, want %d", tt.name, r.StatusCode, tt.want)
		}
	}
	if r := owner.get("/security"); r.Doc.Find(".blocked-sessions").Length() != 0 {
		t.Error("offer still shown with no session outside the mask")
	}
}

// maskVersion returns the version the mask form carries.
func maskVersion(t testing.TB, r *webtest.Response) string {
	t.Helper()
	v, ok := r.Doc.Find(`form[action="/security/logon-mask"] input[name="version"]`).Attr("value")
	if !ok || v == "" {
		t.Fatal("the mask form carries no version")
	}
	return v
}

func savedEntries(b *browser) []string {
	return b.get("/security").Attr("[data-entry]", "data-entry")
}

func TestTwoTabsEditingTheMask(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	b := newBrowser(t, env, "203.0.113.5")
	b.logOn(ownerName, ownerPw)
	// Two tabs open the form before either saves.
	v1 := maskVersion(t, b.get("/security/logon-mask"))
	if v2 := maskVersion(t, b.get("/security/logon-mask")); v2 != v1 {
		t.Fatalf("two reads of the form carry %s and %s", v1, v2)
	}
	r := b.post("/security/logon-mask", url.Values{"mask": {"203.0.113.0/24"}, "version": {v1}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("tab one: status %d, want 303", r.StatusCode)
	}
	const mine = "198.51.100.0/24;203.0.113.5"
	for _, give := range []string{mine, "not a mask"} { // the version is checked first
		r = b.post("/security/logon-mask", url.Values{"mask": {give}, "version": {v1}})
		got := r.Attr("[data-result]", "data-result")
		if r.StatusCode != http.StatusConflict || !cmp.Equal(got, []string{"conflict"}) {
			t.Fatalf("tab two with %q: status %d, want 409 conflict", give, r.StatusCode)
		}
	}
	r = b.post("/security/logon-mask", url.Values{"mask": {mine}, "version": {v1}})
	conflict := r.Doc.Find(`[data-result="conflict"]`)
	if got := strings.TrimSpace(conflict.Find("pre").Text()); got != "203.0.113.0/24" {
		t.Errorf("conflict shows the saved mask as %q", got)
	}
	if got := r.Doc.Find("textarea#mask").Text(); got != mine {
		t.Errorf("conflict lost tab two's text: %q", got)
	}
	v2 := maskVersion(t, r)
	if v2 == v1 || !strings.Contains(conflict.Text(), "version "+v1) ||
		!strings.Contains(conflict.Text(), "version "+v2) {
		t.Errorf("conflict does not name both versions %s and %s: %q", v1, v2, conflict.Text())
	}
	if got := savedEntries(b); !cmp.Equal(got, []string{"203.0.113.0/24"}) {
		t.Fatalf("after the conflicts the saved mask is %v", got)
	}
	// Saving again from the conflict page, on purpose, goes through.
	r = b.post("/security/logon-mask", url.Values{"mask": {mine}, "version": {v2}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("deliberate second save: status %d, want 303", r.StatusCode)
	}
	if got := savedEntries(b); !cmp.Equal(got, []string{"198.51.100.0/24", "203.0.113.5"}) {
		t.Errorf("saved mask %v", got)
	}
}

func TestConcurrentSavesOfOneVersion(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	const tabs = 12
	var bs []*browser
	var version string
	for range tabs {
		b := newBrowser(t, env, "203.0.113.5")
		b.logOn(ownerName, ownerPw)
		version = maskVersion(t, b.get("/security/logon-mask"))
		bs = append(bs, b)
	}
	answers := make(chan string, tabs)
	start := make(chan struct{})
	for i, b := range bs {
		go func() {
			form := url.Values{"mask": {fmt.Sprintf("203.0.113.5;198.51.100.%d", i+1)},
				"version": {version}, "_csrf": {b.csrf}}
			<-start
			r := b.postBody("/security/logon-mask", strings.NewReader(form.Encode()))
			answers <- fmt.Sprint(r.StatusCode, r.Attr("[data-result]", "data-result"))
		}()
	}
	close(start)
	count := map[string]int{}
	for range tabs {
		count[<-answers]++
	}
	if count["303 []"] != 1 || count["409 [conflict]"] != tabs-1 {
		t.Errorf("answers %v, want one 303 and %d 409", count, tabs-1)
	}
	evs, err := env.Store.AuditEvents(context.Background(), store.AuditFilter{AccountID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}
	saves := 0
	for _, ev := range evs {
		if ev.Action == "mask.update" {
			saves++
		}
	}
	if saves != 1 {
		t.Errorf("%d mask saves audited, want 1", saves)
	}
}

// writerAnswer is one response of the concurrent writers test.
type writerAnswer struct {
	what   string
	status int
	body   string
}

// writerStep posts worker w's step i: a duration, mask or contact save,
// or a wrong password, and returns the response.
func writerStep(t *testing.T, env *webtest.Env, c *webtest.Client, name string,
	w, i int) *webtest.Response {
	switch i % 4 {
	case 0:
		hours := fmt.Sprint(1 + (w+i)%72)
		return c.Post("/security/session-duration", url.Values{"hours": {hours}})
	case 1:
		mask := fmt.Sprintf("127.0.0.1;198.51.100.%d", i)
		return c.Post("/security/logon-mask", url.Values{"mask": {mask}})
	case 2:
		contact := fmt.Sprintf("o%d@example.com", i)
		return c.Post("/security/recovery-contact", url.Values{"contact": {contact}})
	}
	return env.Client(t).Post("/login", url.Values{"account": {name}, "password": {"wrong one"}})
}

// operatorWrites writes session durations from another store on the same
// file, as operator commands would, until stop closes; it sends its first
// error, or nil, on the returned channel.
func operatorWrites(other *store.Store, ids []int64, stop <-chan struct{}) <-chan error {
	errs := make(chan error, 1)
	go func() {
		by := store.Actor{Name: "operator test", Source: "shell"}
		for i := 0; ; i++ {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			u := store.SettingsUpdate{AccountID: ids[i%len(ids)], By: by}
			if _, _, err := other.UpdateSessionHours(context.Background(), u, 1+i%72); err != nil {
				errs <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return errs
}

func TestConcurrentWritersNeverShowLocked(t *testing.T) {
	env := webtest.Start(t, webtest.Options{RateLimitExempt: mustPrefixes(t, "127.0.0.1/32")})
	var ids []int64
	for i := range 4 {
		ids = append(ids, env.AddAccount(t, fmt.Sprintf("owner%d", i), ownerPw).ID)
	}
	other, err := store.Open(context.Background(), env.Store.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	stop := make(chan struct{})
	otherErrs := operatorWrites(other, ids, stop)

	const workers, steps = 16, 15
	answers := make(chan writerAnswer, workers*steps)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := env.Client(t)
			name := fmt.Sprintf("owner%d", w%4)
			c.LogOn(name, ownerPw)
			for i := range steps {
				r := writerStep(t, env, c, name, w, i)
				answers <- writerAnswer{fmt.Sprintf("worker %d step %d", w, i), r.StatusCode, r.Body}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-otherErrs; err != nil {
		t.Errorf("the second writer: %v", err)
	}
	close(answers)
	n := 0
	for a := range answers {
		n++
		if a.status >= 500 || strings.Contains(a.body, "database is locked") ||
			strings.Contains(a.body, "SQLITE_BUSY") {
			t.Errorf("%s: status %d", a.what, a.status)
		}
	}
	if n != workers*steps {
		t.Errorf("%d answers, want %d", n, workers*steps)
	}
	logs := env.LogText()
	if strings.Contains(logs, "database is locked") || strings.Contains(logs, "SQLITE_BUSY") {
		t.Errorf("the server logged a locked database:\n%s", logs)
	}
}

func TestEndedSessionStaysEndedUnderRequests(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	owner := newBrowser(t, env, "203.0.113.5")
	owner.logOn(ownerName, ownerPw)
	survived := 0
	const trials = 20
	pw, next := ownerPw, "a much better password 7"
	for trial := range trials {
		if trial == 3 {
			next = "another good password 8"
		}
		// Each save the other session posts rewrites its session, to carry
		// the page's notice: the writes must not bring it back once ended.
		other := newBrowser(t, env, "198.51.100.7")
		other.logOn(ownerName, pw)
		other.get("/security/session-duration")
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			form := url.Values{"hours": {"8"}, "_csrf": {other.csrf}}.Encode()
			for {
				select {
				case <-stop:
					return
				default:
				}
				other.postBody("/security/session-duration", strings.NewReader(form))
			}
		}()
		time.Sleep(5 * time.Millisecond)
		var r *webtest.Response
		if trial%2 == 0 {
			r = owner.post("/security/sessions/end-others", nil)
		} else {
			r = owner.post("/security/password", url.Values{"current": {pw}, "new": {next}})
			pw, next = next, pw
		}
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("trial %d: status %d", trial, r.StatusCode)
		}
		time.Sleep(5 * time.Millisecond)
		close(stop)
		<-done
		if r := other.get("/security"); r.StatusCode == http.StatusOK {
			survived++
		}
	}
	if survived > 0 {
		t.Errorf("%d of %d ended sessions came back through their own requests", survived, trials)
	}
}
