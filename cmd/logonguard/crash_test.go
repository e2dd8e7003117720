package main

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The owner the crash, stop and load tests create with `account add`.
const (
	procOwner = "owner"
	procPw    = "correct-horse-battery"
)

// proc is a running `logonguard serve` process.
type proc struct {
	cmd    *exec.Cmd
	base   string
	log    *jsonLog
	exited chan struct{}
	err    error // Wait's answer, once exited is closed
}

// startProc runs the real binary's serve on a free 127.0.0.1 port with db
// and waits until it listens.
func startProc(t *testing.T, db string, flags ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-log-format", "json"},
		flags...)
	cmd := exec.Command(binary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: &jsonLog{ready: make(chan struct{})}, exited: make(chan struct{})}
	go p.log.read(stderr)
	go func() {
		<-p.log.ready // Wait closes the pipe: read it all first
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	p.base = "http://" + p.log.waitFor(t, "serving")["addr"].(string)
	return p
}

// kill ends the process with SIGKILL, as a power cut or the OOM killer
// would, and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop sends SIGTERM and returns the exit error, failing after timeout.
func (p *proc) stop(t *testing.T, timeout time.Duration) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("serve still running %v after SIGTERM", timeout)
		return nil
	}
}

// addOwner creates an account with `account add`, the password on stdin.
func addOwner(t *testing.T, db, name string) {
	t.Helper()
	if r := runBinary(t, procPw+"\n", "account", "add", "-db", db, name); r.code != 0 {
		t.Fatalf("account add %s: %s", name, r.stderr)
	}
}

var csrfValue = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// formClient is one browser of a console process: cookies and the last
// CSRF token. It is not safe for concurrent use.
type formClient struct {
	base string
	http *http.Client
	csrf string
}

func newFormClient(base string) *formClient {
	jar, _ := cookiejar.New(nil)
	return &formClient{base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches path and keeps the page's token.
func (c *formClient) get(path string) (int, string, error) {
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		return 0, "", err
	}
	return c.read(resp)
}

// post sends form with the kept token.
func (c *formClient) post(path string, form url.Values) (int, string, error) {
	form.Set("_csrf", c.csrf)
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		return 0, "", err
	}
	return c.read(resp)
}

func (c *formClient) read(resp *http.Response) (int, string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	if m := csrfValue.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b), nil
}

// logOn logs on and returns the status.
func (c *formClient) logOn(name, pw string) (int, error) {
	if _, _, err := c.get("/login"); err != nil {
		return 0, err
	}
	status, _, err := c.post("/login", url.Values{"account": {name}, "password": {pw}})
	return status, err
}

func (c *formClient) mustLogOn(t *testing.T, name, pw string) {
	t.Helper()
	if status, err := c.logOn(name, pw); err != nil || status != http.StatusSeeOther {
		t.Fatalf("logon as %s: %d %v, want 303", name, status, err)
	}
}

// save is one settings change and the audit record it must leave.
type save struct {
	path, field, value string
	action             string // the audit action
	audited            string // the audit new_value
}

func hoursSave(h int) save {
	v := strconv.Itoa(h)
	return save{"/security/session-duration", "hours", v, "session_duration.update", v}
}

func maskSave(label string) save {
	v := "127.0.0.1 #" + label
	return save{"/security/logon-mask", "mask", v, "mask.update", v}
}

// send posts the save; ok is true when it got its 303.
func (c *formClient) send(s save) (bool, error) {
	status, body, err := c.post(s.path, url.Values{s.field: {s.value}})
	if err != nil {
		return false, err
	}
	if status != http.StatusSeeOther {
		return false, fmt.Errorf("save %s=%q: status %d\n%s", s.field, s.value, status, body)
	}
	return true, nil
}

// openDB opens a database file the way SQLite recovers it after a crash.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func integrityOK(t *testing.T, db *sql.DB) {
	t.Helper()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
}

// auditSince returns an account's settings audit records after id, in order.
func auditSince(t *testing.T, db *sql.DB, name string, after int64) ([]int64, []save) {
	t.Helper()
	rows, err := db.Query(`SELECT e.id, e.action, e.new_value FROM audit_events e
		JOIN accounts a ON a.id = e.account_id WHERE a.name = ? AND e.id > ?
		AND e.action IN ('mask.update', 'session_duration.update') ORDER BY e.id`, name, after)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	var out []save
	for rows.Next() {
		var id int64
		var s save
		if err := rows.Scan(&id, &s.action, &s.audited); err != nil {
			t.Fatal(err)
		}
		ids, out = append(ids, id), append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids, out
}

func crashRounds(t *testing.T) int {
	t.Helper()
	s := os.Getenv("LOGONGUARD_CRASH_ROUNDS")
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("LOGONGUARD_CRASH_ROUNDS=%q is not a positive number", s)
	}
	return n
}

// TestCrashLosesNoAcknowledgedSave streams settings saves at the real
// binary, kills it with SIGKILL at a random moment, restarts it, and checks
// that every save that got its 303 is in the database and its audit log,
// and that the file is intact. It repeats LOGONGUARD_CRASH_ROUNDS times on
// one database.
func TestCrashLosesNoAcknowledgedSave(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary and kills it")
	}
	rounds := crashRounds(t)
	db := filepath.Join(t.TempDir(), "lg.db")
	addOwner(t, db, procOwner)
	var lastAudit int64
	var hours int // the duration saves cycle through 1..72, each unlike the last
	totalAcked, inflightLanded := 0, 0
	for round := range rounds {
		p := startProc(t, db)
		c := newFormClient(p.base)
		c.mustLogOn(t, procOwner, procPw)
		killAfter := time.Duration(100+rand.IntN(1100)) * time.Millisecond
		var killed atomic.Bool
		timer := time.AfterFunc(killAfter, func() { killed.Store(true); p.kill() })
		var acked []save
		var inflight *save
		for i := 0; ; i++ {
			s := maskSave(fmt.Sprintf("round%d-save%d", round, i))
			if i%2 == 0 {
				hours = hours%72 + 1
				s = hoursSave(hours)
			}
			ok, err := c.send(s)
			if ok {
				acked = append(acked, s)
				continue
			}
			if !killed.Load() {
				t.Fatalf("round %d: %v", round, err)
			}
			inflight = &s // killed while this save was under way
			break
		}
		timer.Stop()
		<-p.exited

		sqlDB := openDB(t, db)
		integrityOK(t, sqlDB)
		ids, got := auditSince(t, sqlDB, procOwner, lastAudit)
		landed := checkAcked(t, round, acked, inflight, got)
		if landed {
			inflightLanded++
		}
		checkCurrent(t, sqlDB, procOwner, acked, inflight, landed)
		sqlDB.Close()
		if len(ids) > 0 {
			lastAudit = ids[len(ids)-1]
		}
		totalAcked += len(acked)
		t.Logf("round %d: killed after %v, %d saves acknowledged, the one under way landed: %v",
			round, killAfter, len(acked), landed)
	}
	t.Logf("%d rounds, %d acknowledged saves, 0 lost; %d saves under way at the kill landed anyway",
		rounds, totalAcked, inflightLanded)
	restartShowsLast(t, db)
}

// checkAcked compares a round's audit records with its acknowledged
// saves: the same, in order, and at most the save under way at the kill
// after them. It reports whether that save landed.
func checkAcked(t *testing.T, round int, acked []save, inflight *save, got []save) bool {
	t.Helper()
	want := make([]save, 0, len(acked))
	for _, s := range acked {
		want = append(want, save{action: s.action, audited: s.audited})
	}
	landed := false
	if len(got) == len(want)+1 && inflight != nil {
		last := got[len(got)-1]
		if last.action == inflight.action && last.audited == inflight.audited {
			got, landed = got[:len(got)-1], true
		}
	}
	if len(got) != len(want) {
		t.Fatalf("round %d: %d audit records for %d acknowledged saves", round, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("round %d: audit record %d is %+v, want %+v", round, i, got[i], want[i])
		}
	}
	return landed
}

// checkCurrent checks that an account's settings hold the last
// acknowledged value of each kind, or the save under way when it landed.
func checkCurrent(t *testing.T, db *sql.DB, name string, acked []save, inflight *save,
	landed bool) {
	t.Helper()
	all := acked
	if landed {
		all = append(all[:len(all):len(all)], *inflight)
	}
	var hours, mask string
	err := db.QueryRow(`SELECT s.session_hours, s.mask FROM account_settings s
		JOIN accounts a ON a.id = s.account_id WHERE a.name = ?`, name).Scan(&hours, &mask)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{"session_duration.update": hours, "mask.update": mask}
	for i := len(all) - 1; i >= 0; i-- {
		if want, ok := got[all[i].action]; ok {
			if want != all[i].audited {
				t.Errorf("%s: %s holds %q, want the last acknowledged %q", name, all[i].action,
					want, all[i].audited)
			}
			delete(got, all[i].action)
		}
	}
}

// restartShowsLast starts the server once more and checks that the page
// shows what the database holds, then stops it gracefully.
func restartShowsLast(t *testing.T, db string) {
	t.Helper()
	var hours string
	sqlDB := openDB(t, db)
	if err := sqlDB.QueryRow("SELECT session_hours FROM account_settings").Scan(&hours); err != nil {
		t.Fatal(err)
	}
	sqlDB.Close()
	p := startProc(t, db)
	c := newFormClient(p.base)
	c.mustLogOn(t, procOwner, procPw)
	_, body, err := c.get("/security")
	if err != nil || !strings.Contains(body, `data-hours="`+hours+`"`) {
		t.Errorf("after the last restart the page does not show %s hours (%v)", hours, err)
	}
	if err := p.stop(t, 20*time.Second); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}

// logonAnswer is what one logon got.
type logonAnswer struct {
	status int
	err    error
}

// logonsUnderWay starts n wrong-password logons at once, each from a
// client that already has the form, and returns a function that waits for
// their answers.
func logonsUnderWay(t *testing.T, p *proc, n int) func() []logonAnswer {
	t.Helper()
	answers := make([]logonAnswer, n)
	var wg sync.WaitGroup
	for i := range n {
		c := newFormClient(p.base)
		if _, _, err := c.get("/login"); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i].status, _, answers[i].err = c.post("/login",
				url.Values{"account": {procOwner}, "password": {"not the password"}})
		}()
	}
	return func() []logonAnswer {
		wg.Wait()
		return answers
	}
}

// TestGracefulStopFinishesAndFlushes sends SIGTERM while logons are under
// way: each gets its answer, the logon events queued just before the
// signal are in the database after the exit, and the database is closed
// cleanly (no write-ahead log left behind).
func TestGracefulStopFinishesAndFlushes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	db := filepath.Join(t.TempDir(), "lg.db")
	addOwner(t, db, procOwner)
	p := startProc(t, db, "-ratelimit-exempt", "127.0.0.1/32")
	const n = 16
	wait := logonsUnderWay(t, p, n)
	// Each check takes tens of milliseconds on a bounded number of slots,
	// so most of the sixteen are still waiting when the signal comes.
	time.Sleep(40 * time.Millisecond)
	if err := p.stop(t, 30*time.Second); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
	got := 0
	for _, a := range wait() {
		switch {
		case a.err != nil:
			t.Errorf("a logon under way at SIGTERM got no answer: %v", a.err)
		case a.status != http.StatusUnauthorized:
			t.Errorf("logon under way at SIGTERM: status %d, want 401", a.status)
		default:
			got++
		}
	}
	if _, err := os.Stat(db + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write-ahead log left after a graceful stop: %v", err)
	}
	sqlDB := openDB(t, db)
	integrityOK(t, sqlDB)
	var events int
	if err := sqlDB.QueryRow(`SELECT count(*) FROM logon_events WHERE outcome = 'wrong_password'`).
		Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != n {
		t.Errorf("%d wrong_password events in the database, want %d (answered: %d)", events, n, got)
	}
	if p.log.find(func(r map[string]any) bool { return r["msg"] == "stopping" }) == nil {
		t.Error("no stopping line in the log")
	}
}

// TestGracefulStopFlushesQueuedEvents sends SIGTERM right after a few
// logons were answered, on connections already closed, so nothing holds
// the shutdown open and the events are still queued for their batch: they
// must be in the database after the exit.
func TestGracefulStopFlushesQueuedEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	db := filepath.Join(t.TempDir(), "lg.db")
	addOwner(t, db, procOwner)
	// A batch is written every 50 ms, so one stop might fall just after
	// one; three in a row are unlikely to.
	const stops, n = 3, 3
	for range stops {
		p := startProc(t, db, "-ratelimit-exempt", "127.0.0.1/32")
		for range n {
			c := newFormClient(p.base)
			c.http.Transport = &http.Transport{DisableKeepAlives: true}
			if status, err := c.logOn("nobody", "not the password"); err != nil ||
				status != http.StatusUnauthorized {
				t.Fatalf("logon: %d %v, want 401", status, err)
			}
		}
		if err := p.stop(t, 30*time.Second); err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	}
	var events int
	if err := openDB(t, db).QueryRow(`SELECT count(*) FROM logon_events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != stops*n {
		t.Errorf("%d logon events in the database, want %d", events, stops*n)
	}
}
