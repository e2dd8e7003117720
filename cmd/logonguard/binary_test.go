package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logonguard/logonguard/store"
)

// testCommit is what the test build stamps in as the commit.
const testCommit = "testcommit"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds logonguard once, as the Makefile does, with a known commit.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		if binDir, buildErr = os.MkdirTemp("", "logonguard-bin-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "logonguard")
		out, err := exec.Command(goTool, "build", "-ldflags", "-X main.commit="+testCommit,
			"-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

// result is a finished run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

func runBinary(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: cmd.ProcessState.ExitCode()}
}

func TestBinaryVersionAndErrors(t *testing.T) {
	tests := []struct {
		name       string
		giveArgs   []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"version", []string{"version"}, 0, "commit " + testCommit, ""},
		{"serve -version", []string{"serve", "-version"}, 0, "commit " + testCommit, ""},
		{"unknown command", []string{"frobnicate"}, 1, "", `logonguard: usage: unknown command "frobnicate"`},
		{"unknown account", []string{"account", "clear-mask", "-db", filepath.Join(t.TempDir(), "none.db"),
			"demo"}, 1, "", "logonguard: no database at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, "", tt.giveArgs...)
			if r.code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", r.code, tt.wantCode, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantStdout) {
				t.Errorf("stdout %q does not contain %q", r.stdout, tt.wantStdout)
			}
			if tt.wantStderr == "" {
				if r.stderr != "" {
					t.Errorf("stderr %q, want none", r.stderr)
				}
				return
			}
			if !strings.HasPrefix(r.stderr, tt.wantStderr) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line starting %q", r.stderr, tt.wantStderr)
			}
		})
	}
}

// jsonLog reads a server's stderr as JSON lines.
type jsonLog struct {
	mu    sync.Mutex
	recs  []map[string]any
	bad   []string
	ready chan struct{}
}

func (l *jsonLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var rec map[string]any
		l.mu.Lock()
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			l.bad = append(l.bad, sc.Text())
		} else {
			l.recs = append(l.recs, rec)
		}
		l.mu.Unlock()
	}
	close(l.ready)
}

// find returns the first record for which match holds.
func (l *jsonLog) find(match func(map[string]any) bool) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, rec := range l.recs {
		if match(rec) {
			return rec
		}
	}
	return nil
}

func (l *jsonLog) waitFor(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if rec := l.find(func(r map[string]any) bool { return r["msg"] == msg }); rec != nil {
			return rec
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %q line in the server's log", msg)
	return nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// browser is a cookie-keeping client of one console.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// logOn posts the logon form as if from addr, in a fresh session, and
// returns the status and the request id.
func (b *browser) logOn(addr, name, pw string) (int, string) {
	b.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.t.Fatal(err)
	}
	b.http.Jar = jar
	req, _ := http.NewRequest(http.MethodGet, b.base+"/login", nil)
	req.Header.Set("X-Forwarded-For", addr)
	page := b.do(req)
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("no _csrf on the logon page:\n%s", page.body)
	}
	form := url.Values{"_csrf": {m[1]}, "account": {name}, "password": {pw}}
	req, _ = http.NewRequest(http.MethodPost, b.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	r := b.do(req)
	return r.status, r.id
}

type page struct {
	status int
	id     string
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: resp.StatusCode, id: resp.Header.Get("X-Request-ID"), body: string(body)}
}

func (b *browser) get(u string) page {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// metricValue finds one sample in Prometheus text, or -1.
func metricValue(text, series string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return "missing"
}

// TestBinaryServeWithOperatorCommands runs the real binary as a server and
// the operator commands as separate processes against it: JSON logs with
// request ids, the metrics listener, a restore refused while it runs, and
// a break-glass clear-mask that lets the owner in within a second.
func TestBinaryServeWithOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "lg.db")
	if r := runBinary(t, "correct-horse-battery\n", "account", "add", "-db", db, "owner"); r.code != 0 {
		t.Fatalf("account add: %q", r.stderr)
	}
	st, err := store.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.AccountByName(context.Background(), "owner")
	if err == nil {
		_, _, err = st.UpdateMask(context.Background(), store.SettingsUpdate{AccountID: acct.ID,
			By: store.Actor{Name: "test"}}, "42.120.66.0/24")
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(binary(t), "serve", "-addr", "127.0.0.1:0", "-db", db, "-log-format", "json",
		"-metrics-addr", "127.0.0.1:0", "-trusted-proxy", "127.0.0.1/32")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &jsonLog{ready: make(chan struct{})}
	go log.read(stderr)
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://" + log.waitFor(t, "serving")["addr"].(string)
	metricsURL := "http://" + log.waitFor(t, "serving_metrics")["addr"].(string) + "/metrics"

	b := newBrowser(t, base)
	blocked, blockedID := b.logOn("203.0.113.9", "owner", "correct-horse-battery")
	allowed, _ := b.logOn("42.120.66.7", "owner", "correct-horse-battery")
	if blocked != http.StatusForbidden || allowed != http.StatusSeeOther {
		t.Fatalf("logons: %d and %d, want 403 and 303", blocked, allowed)
	}
	if r := b.get(base + "/metrics"); r.status != http.StatusNotFound {
		t.Errorf("/metrics on the console's listener: %d, want 404", r.status)
	}
	metrics := b.get(metricsURL).body
	for series, want := range map[string]string{
		`logonguard_logons_total{outcome="allowed"}`:        "1",
		`logonguard_logons_total{outcome="blocked"}`:        "1",
		`logonguard_logons_total{outcome="wrong_password"}`: "0",
		`logonguard_logons_total{outcome="rate_limited"}`:   "0",
		`logonguard_mask_saves_total`:                       "1",
	} {
		if got := metricValue(metrics, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}

	r := runBinary(t, "", "restore", "-db", db, db+".none")
	if r.code == 0 || !strings.Contains(r.stderr, "in use") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("restore while serving: exit %d, stderr %q; want a one-line refusal", r.code, r.stderr)
	}
	if r := runBinary(t, "", "account", "clear-mask", "-db", db, "owner"); r.code != 0 {
		t.Fatalf("clear-mask: %q", r.stderr)
	}
	start := time.Now()
	for {
		if status, _ := b.logOn("203.0.113.9", "owner", "correct-horse-battery"); status == http.StatusSeeOther {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("the owner was still refused a second after clear-mask")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("owner let in %v after clear-mask (separate processes)", time.Since(start))

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-log.ready
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exited with %v after SIGTERM", err)
	}
	if len(log.bad) > 0 {
		t.Errorf("log lines that are not JSON objects: %q", log.bad)
	}
	line := log.find(func(r map[string]any) bool { return r["msg"] == "logon" && r["request_id"] == blockedID })
	if line == nil || line["outcome"] != "blocked" {
		t.Errorf("no blocked logon line with request_id %s: %v", blockedID, line)
	}
}
