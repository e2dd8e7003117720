// Package webtest starts the real console for tests: a fresh SQLite file,
// the full echo stack on a 127.0.0.1 listener, a clock the test moves, and
// clients that keep cookies and fill in the CSRF token like a browser.
package webtest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that stands at t until moved. A test that
// starts it far from the real time shows that nothing it checks reads
// time.Now behind the clock's back.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Options change the environment Start builds.
type Options struct {
	Demo            bool
	TrustedProxies  []netip.Prefix
	RateLimitExempt []netip.Prefix
	// DBPath, when set, is the database file, so a test can restart on it.
	DBPath string
	// Clock, when set, is reused (for a restart).
	Clock *Clock
	// Configure, when set, may change the web config before the server starts.
	Configure func(*web.Config)
}

// Env is a running console.
type Env struct {
	URL    string
	Store  *store.Store
	Server *web.Server
	Clock  *Clock
	Logs   *strings.Builder
	logMu  sync.Mutex

	stop     func()
	stopOnce sync.Once
}

// FastPassword is the hash cost tests use; real servers use password.Default.
var FastPassword = password.Params{MemoryKiB: 256, Passes: 1, Threads: 1}

// Start builds and serves a console on 127.0.0.1:0; it stops at the end of the test.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	clk := opts.Clock
	if clk == nil {
		clk = &Clock{t: time.Now().UTC().Truncate(time.Second)}
	}
	path := opts.DBPath
	if path == "" {
		path = filepath.Join(t.TempDir(), "lg.db")
	}
	st, err := store.Open(context.Background(), path, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Store: st, Clock: clk, Logs: &strings.Builder{}}
	cfg := web.Config{Demo: opts.Demo, TrustedProxies: opts.TrustedProxies,
		RateLimitExempt: opts.RateLimitExempt, Now: clk.Now, Password: FastPassword,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{env}, nil)), Location: time.UTC}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	srv, err := web.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	env.Server = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	env.URL = "http://" + ln.Addr().String()
	env.stop = func() {
		if err := hs.Close(); err != nil {
			t.Errorf("webtest: close listener: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("webtest: serve: %v", err)
		}
		srv.Close()
		if err := st.Close(); err != nil {
			t.Errorf("webtest: close database: %v", err)
		}
	}
	t.Cleanup(env.Stop)
	return env
}

// Stop stops the server and closes the database; later calls do nothing.
func (e *Env) Stop() { e.stopOnce.Do(e.stop) }

type lockedWriter struct{ env *Env }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.env.logMu.Lock()
	defer w.env.logMu.Unlock()
	return w.env.Logs.Write(p)
}

// LogText returns what the server logged so far.
func (e *Env) LogText() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.Logs.String()
}

// AddAccount creates an account owner with a fast hash.
func (e *Env) AddAccount(t testing.TB, name, pw string) store.Account {
	t.Helper()
	h, err := password.Hash(pw, FastPassword)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Store.CreateAccount(context.Background(), name, h, store.Actor{Name: "test", Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// AddStaff creates a staff member with a fast hash.
func (e *Env) AddStaff(t testing.TB, name, pw string) store.StaffMember {
	t.Helper()
	h, err := password.Hash(pw, FastPassword)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Store.CreateStaff(context.Background(), name, h, store.Actor{Name: "test", Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Client is one browser: a cookie jar and the last CSRF token it saw.
type Client struct {
	t    testing.TB
	env  *Env
	HTTP *http.Client
	// Header is added to every request (e.g. X-Forwarded-For).
	Header http.Header
	csrf   string
}

// Client returns a new client that does not follow redirects.
func (e *Env) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, env: e, Header: http.Header{}, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is a finished response with its body read and parsed.
type Response struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

// Get fetches path and remembers the page's CSRF token.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.env.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// Post posts form fields to path with the remembered CSRF token (unless
// form sets _csrf itself), fetching GET path first when no token is known.
func (c *Client) Post(path string, form url.Values) *Response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["_csrf"]; !set {
		if c.csrf == "" {
			c.Get("/login")
		}
		form.Set("_csrf", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *Client) do(req *http.Request) *Response {
	c.t.Helper()
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if err != nil {
		c.t.Fatal(err)
	}
	if tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok && tok != "" {
		c.csrf = tok
	}
	return &Response{Response: resp, Body: string(b), Doc: doc}
}

// LogOn logs the client on as an owner and fails the test unless it gets 303.
func (c *Client) LogOn(name, pw string) {
	c.t.Helper()
	c.Get("/login")
	r := c.Post("/login", url.Values{"account": {name}, "password": {pw}})
	if r.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("logon as %s: status %d, want 303\n%s", name, r.StatusCode, r.Body)
	}
}

// Cookie returns the client's cookie called name for the server, or nil.
func (c *Client) Cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.env.URL)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// SetCookie hands the client's jar a cookie, as a client that keeps an old one would.
func (c *Client) SetCookie(ck *http.Cookie) {
	u, _ := url.Parse(c.env.URL)
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{ck})
}

// Attr returns the attribute values of every element matching selector.
func (r *Response) Attr(selector, attr string) []string {
	var out []string
	r.Doc.Find(selector).Each(func(_ int, s *goquery.Selection) {
		if v, ok := s.Attr(attr); ok {
			out = append(out, v)
		}
	})
	return out
}

// SetCookieHeader returns the response's Set-Cookie for name, or nil.
func (r *Response) SetCookieHeader(name string) *http.Cookie {
	for _, ck := range r.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}
