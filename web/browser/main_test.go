package browser_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/logonguard/logonguard/web/webtest"
)

// chromiumPath is Debian's Chromium, which `make test` installs.
const chromiumPath = "/usr/bin/chromium"

// stepTimeout bounds one browser step, so a missing element fails the test
// instead of hanging it.
const stepTimeout = 15 * time.Second

// browserCtx is the one browser every test opens its tab in; nil when the
// browser tests do not run.
var (
	browserCtx context.Context
	noBrowser  string // why the browser did not start
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		noBrowser = "browser tests skipped under -short"
		os.Exit(m.Run())
	}
	os.Exit(runWithBrowser(m))
}

// runWithBrowser starts Chromium with a fresh profile, runs the tests and
// stops it again.
func runWithBrowser(m *testing.M) int {
	if _, err := exec.LookPath(chromiumPath); err != nil {
		noBrowser = chromiumPath + " not found; `make test` installs it"
		return m.Run()
	}
	profile, err := os.MkdirTemp("", "logonguard-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser tests:", err)
		return 1
	}
	defer os.RemoveAll(profile)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		fmt.Fprintln(os.Stderr, "browser tests: start chromium:", err)
		return 1
	}
	browserCtx = ctx
	return m.Run()
}

// tab is one test's browser tab, in a browser context of its own (its own
// cookies), against its own console.
type tab struct {
	t   *testing.T
	ctx context.Context
	env *webtest.Env

	mu      sync.Mutex
	console []string // console and browser log messages
}

// newTab starts a console with opts and opens a tab on it. On failure the
// tab's screenshot and HTML are saved under testdata/artifacts/<test>/.
func newTab(t *testing.T, opts webtest.Options) *tab {
	t.Helper()
	if browserCtx == nil {
		t.Skip(noBrowser)
	}
	return newTabOn(t, webtest.Start(t, opts), "tab")
}

// newTabOn opens another tab, with cookies of its own, on a running
// console: a second person at another computer. name tells the tabs'
// failure artifacts apart.
func newTabOn(t *testing.T, env *webtest.Env, name string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	messages := chromedp.Console(ctx) // also opens the tab, bound to ctx
	tb := &tab{t: t, ctx: ctx, env: env}
	// The console must work without JavaScript: the page's own scripts are
	// off (DevTools, which the tests act through, still runs).
	off := emulation.SetScriptExecutionDisabledParams{Value: true}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, off); err != nil {
		t.Fatalf("turn page scripts off: %v", err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, string(m.Type)+": "+m.Text)
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveArtifacts("failure-" + name)
		}
	})
	return tb
}

// step runs actions with a time limit and fails the test on an error.
func (tb *tab) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// load runs actions that end in a page load (a navigation, a form post)
// and returns the HTTP status of the document that loaded.
func (tb *tab) load(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

// open navigates to path on the console and returns the status.
func (tb *tab) open(path string) int64 {
	tb.t.Helper()
	resp, err := func() (*network.Response, error) {
		ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
		defer cancel()
		return chromedp.Run(ctx, chromedp.NavigateResponse(tb.env.URL+path))
	}()
	if err != nil {
		tb.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// click clicks the element and waits for the page it loads.
func (tb *tab) click(selector string) int64 {
	tb.t.Helper()
	return tb.load("click "+selector, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// submit clicks the submit button of the form posting to action.
func (tb *tab) submit(action string) int64 {
	tb.t.Helper()
	return tb.click(`form[action="` + action + `"] button[type="submit"]`)
}

// typeInto replaces a field's value by typing, as a person would.
func (tb *tab) typeInto(selector, text string) {
	tb.t.Helper()
	// SetValue refuses an empty value and Clear a textarea without text, so
	// the field is emptied through DevTools before the keys go in.
	clear := fmt.Sprintf(`document.querySelector(%q).value = ""`, selector)
	tb.step("type into "+selector,
		chromedp.Evaluate[chromedp.Void](clear),
		chromedp.SendKeys(chromedp.CSS(selector), text))
}

// doc parses the tab's current DOM.
func (tb *tab) doc() *goquery.Document {
	tb.t.Helper()
	html := tb.html()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		tb.t.Fatal(err)
	}
	return d
}

func (tb *tab) html() string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		tb.t.Fatalf("read the page: %v", err)
	}
	return html
}

// path returns the path of the tab's current URL.
func (tb *tab) path() string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		tb.t.Fatalf("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		tb.t.Fatal(err)
	}
	return u.Path
}

// cookie returns the browser's cookie called name for the console, or nil.
func (tb *tab) cookie(name string) *network.Cookie {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	params := network.GetCookiesParams{URLs: []string{tb.env.URL}}
	res, err := chromedp.Call(ctx, network.GetCookies, params)
	if err != nil {
		tb.t.Fatalf("cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// logOn logs on through the logon form and returns the status of the page
// it leads to.
func (tb *tab) logOn(account, pw string) int64 {
	tb.t.Helper()
	if s := tb.open("/login"); s != 200 {
		tb.t.Fatalf("GET /login: status %d", s)
	}
	tb.typeInto("#name", account)
	tb.typeInto("#password", pw)
	return tb.click(`form[action="/login"] button[type="submit"]`)
}

// checkConsole fails the test on any console error, such as a refused
// stylesheet or inline style under the Content-Security-Policy. A 4xx page
// load is logged by the browser too; those the flows expect are skipped.
func (tb *tab) checkConsole() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.console {
		if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") {
			tb.t.Errorf("browser console: %s", m)
		}
	}
}

// artifactDir is testdata/artifacts/<test>/ at the repository root.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	out := filepath.Join(dir, "testdata", "artifacts", name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// saveArtifacts writes a full-page screenshot and the HTML of the tab as
// <name>.png and <name>.html, and names the folder in the test output.
func (tb *tab) saveArtifacts(name string) {
	tb.t.Helper()
	dir := artifactDir(tb.t)
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if png, err := tb.fullPage(ctx); err == nil {
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			tb.t.Log(err)
		}
	} else {
		tb.t.Logf("screenshot: %v", err)
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
		if err := os.WriteFile(filepath.Join(dir, name+".html"), []byte(html), 0o644); err != nil {
			tb.t.Log(err)
		}
	}
	tb.t.Logf("saved %s.png and %s.html in %s", name, name, dir)
}

// runEval evaluates a JavaScript expression in the tab (through DevTools,
// which the page's Content-Security-Policy does not govern).
func runEval[T any](tb *tab, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// fullPage takes a screenshot of the whole page. It grows the viewport to
// the page's height first, so the page is laid out without a scroll bar,
// as a phone shows it, rather than cropped by one.
func (tb *tab) fullPage(ctx context.Context) ([]byte, error) {
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[2]int64](
		`[window.innerWidth, window.innerHeight]`))
	if err != nil {
		return nil, err
	}
	height, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	if err != nil {
		return nil, err
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], max(height, size[1]))); err != nil {
		return nil, err
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return nil, err
	}
	return png, chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]))
}
