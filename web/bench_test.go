package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web"
	"github.com/logonguard/logonguard/web/webtest"
)

// benchClients is how many keep-alive clients the listener benchmarks run.
const benchClients = 8

// benchEnv starts a console for benchmarks: rate limits out of the way,
// logs discarded, real argon2id cost, and a constant page on the same echo
// instance (through the same global middleware) as the bare baseline.
func benchEnv(b *testing.B) *webtest.Env {
	b.Helper()
	env := webtest.Start(b, webtest.Options{
		RateLimitExempt: mustPrefixesTB(b, "127.0.0.0/8"),
		Configure: func(cfg *web.Config) {
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			cfg.Password = password.Default
		},
	})
	env.Server.Echo().GET("/bench/bare", func(c echo.Context) error {
		return c.HTML(http.StatusOK, "<!DOCTYPE html><p>ok</p>")
	})
	h, err := password.Hash(ownerPw, password.Default)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := env.Store.CreateAccount(context.Background(), ownerName, h,
		store.Actor{Name: "bench", Source: "bench"}); err != nil {
		b.Fatal(err)
	}
	return env
}

// loggedOn returns the cookie header of a fresh owner session.
func loggedOn(b *testing.B, env *webtest.Env) string {
	b.Helper()
	c := env.Client(b)
	c.LogOn(ownerName, ownerPw)
	return "lg_session=" + c.Cookie("lg_session").Value
}

// runClients sends b.N requests from benchClients keep-alive clients and
// fails the benchmark on any response whose status is not want.
func runClients(b *testing.B, want int, newReq func(client int) *http.Request) {
	b.Helper()
	var next atomic.Int64
	var bad atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			defer client.CloseIdleConnections()
			for next.Add(1) <= int64(b.N) {
				resp, err := client.Do(newReq(i))
				if err != nil {
					bad.Add(1)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					bad.Add(1)
					continue
				}
				if resp.StatusCode != want {
					if bad.Add(1) == 1 {
						b.Logf("first bad status: %d", resp.StatusCode)
					}
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if n := bad.Load(); n > 0 {
		b.Fatalf("%d of %d responses were not %d", n, b.N, want)
	}
}

func benchGet(url, cookie string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return req
}

func BenchmarkBareEcho(b *testing.B) {
	env := benchEnv(b)
	runClients(b, http.StatusOK, func(int) *http.Request { return benchGet(env.URL+"/bench/bare", "") })
}

func BenchmarkSecurityPage(b *testing.B) {
	env := benchEnv(b)
	cookie := loggedOn(b, env)
	runClients(b, http.StatusOK, func(int) *http.Request { return benchGet(env.URL+"/security", cookie) })
}

// logonForm is one client's logon request body and cookies, CSRF included.
type logonForm struct {
	body   string
	cookie string
}

func logonForms(b *testing.B, env *webtest.Env, pw string) []logonForm {
	b.Helper()
	forms := make([]logonForm, benchClients)
	for i := range forms {
		c := env.Client(b)
		r := c.Get("/login")
		tok, _ := r.Doc.Find(`input[name="_csrf"]`).Attr("value")
		forms[i] = logonForm{
			body:   url.Values{"_csrf": {tok}, "account": {ownerName}, "password": {pw}}.Encode(),
			cookie: "_csrf=" + c.Cookie("_csrf").Value,
		}
	}
	return forms
}

func (f logonForm) request(base string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(f.body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", f.cookie)
	return req
}

func BenchmarkLogonBlocked(b *testing.B) {
	env := benchEnv(b)
	c := env.Client(b)
	c.LogOn(ownerName, ownerPw)
	saveMask(c, "198.51.100.0/24", url.Values{"confirm_lockout": {"yes"}})
	forms := logonForms(b, env, ownerPw)
	runClients(b, http.StatusForbidden, func(i int) *http.Request { return forms[i].request(env.URL) })
}

func BenchmarkLogonAllowed(b *testing.B) {
	env := benchEnv(b)
	forms := logonForms(b, env, ownerPw)
	runClients(b, http.StatusSeeOther, func(i int) *http.Request { return forms[i].request(env.URL) })
}

// serveInProcess runs b.N requests through the echo stack in one goroutine.
func serveInProcess(b *testing.B, h http.Handler, want int, newReq func() *http.Request) {
	b.Helper()
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq())
		if rec.Code != want {
			b.Fatalf("status %d, want %d", rec.Code, want)
		}
	}
}

func inProcessReq(path, cookie string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return req
}

func BenchmarkBareEchoInProcess(b *testing.B) {
	env := benchEnv(b)
	serveInProcess(b, env.Server.Handler(), http.StatusOK,
		func() *http.Request { return inProcessReq("/bench/bare", "") })
}

func BenchmarkSecurityPageInProcess(b *testing.B) {
	env := benchEnv(b)
	cookie := loggedOn(b, env)
	serveInProcess(b, env.Server.Handler(), http.StatusOK,
		func() *http.Request { return inProcessReq("/security", cookie) })
}
