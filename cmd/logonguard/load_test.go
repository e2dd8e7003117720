package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logonguard/logonguard/store"
)

// loadWorkers is the size of the load test's worker pool.
const loadWorkers = 8

// loadOp is one kind of request the load test sends, with the status it
// must get.
type loadOp struct {
	name   string
	weight int
	want   int
}

var loadOps = []loadOp{
	{"page view", 40, http.StatusOK},
	{"logon allowed", 15, http.StatusSeeOther},
	{"logon blocked", 15, http.StatusForbidden},
	{"wrong password", 10, http.StatusUnauthorized},
	{"save", 20, http.StatusSeeOther},
}

// pickOp draws an operation by weight.
func pickOp(rng *rand.Rand) loadOp {
	n := rng.IntN(100)
	for _, op := range loadOps {
		if n < op.weight {
			return op
		}
		n -= op.weight
	}
	return loadOps[0]
}

// loadStats is what one worker measured.
type loadStats struct {
	latency  map[string][]time.Duration // by operation
	statuses map[int]int
	problems []string
	acked    []save // this worker's acknowledged saves, in order
}

func loadDuration(t *testing.T) time.Duration {
	t.Helper()
	s := os.Getenv("LOGONGUARD_LOADTEST_DURATION")
	if s == "" {
		return time.Minute
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("LOGONGUARD_LOADTEST_DURATION=%q is not a duration", s)
	}
	return d
}

// TestLoadMixedTraffic drives the real binary on 127.0.0.1 for a minute
// with a pool of workers: page views, logons allowed, blocked by the mask
// and with a wrong password, and settings saves, the rate limits lifted
// for 127.0.0.1 by -ratelimit-exempt. It wants no 5xx, no unexpected
// answer and no lost save, and reports the request count with p50 and p99.
func TestLoadMixedTraffic(t *testing.T) {
	if os.Getenv("LOGONGUARD_LOADTEST") != "1" {
		t.Skip("set LOGONGUARD_LOADTEST=1 (make loadtest)")
	}
	db := filepath.Join(t.TempDir(), "lg.db")
	addOwner(t, db, procOwner)
	addOwner(t, db, "fenced")
	for w := range loadWorkers {
		addOwner(t, db, fmt.Sprintf("saver%d", w))
	}
	fenceAccount(t, db, "fenced", "198.51.100.0/24")
	p := startProc(t, db, "-ratelimit-exempt", "127.0.0.1/32")

	// The savers log on one after another before the clock starts.
	savers := make([]*formClient, loadWorkers)
	for w := range savers {
		savers[w] = newFormClient(p.base)
		savers[w].mustLogOn(t, fmt.Sprintf("saver%d", w), procPw)
	}
	deadline := time.Now().Add(loadDuration(t))
	stats := make([]*loadStats, loadWorkers)
	var wg sync.WaitGroup
	for w := range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[w] = runLoadWorker(p.base, savers[w], w, deadline)
		}()
	}
	wg.Wait()
	start := deadline.Add(-loadDuration(t))
	elapsed := time.Since(start)
	if err := p.stop(t, 30*time.Second); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
	total := reportLoad(t, stats, elapsed)
	if total < 100 {
		t.Errorf("only %d requests in %v", total, elapsed)
	}
	sqlDB := openDB(t, db)
	integrityOK(t, sqlDB)
	for w, s := range stats {
		checkSaverAudit(t, sqlDB, fmt.Sprintf("saver%d", w), s.acked)
	}
}

// fenceAccount gives an account a mask that refuses 127.0.0.1.
func fenceAccount(t *testing.T, db, name, mask string) {
	t.Helper()
	st, err := store.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.AccountByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	u := store.SettingsUpdate{AccountID: acct.ID, By: store.Actor{Name: "load test", Source: "test"}}
	if _, _, err := st.UpdateMask(context.Background(), u, mask); err != nil {
		t.Fatal(err)
	}
}

// runLoadWorker sends requests until deadline and measures each one.
func runLoadWorker(base string, saver *formClient, w int, deadline time.Time) *loadStats {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	s := &loadStats{latency: map[string][]time.Duration{}, statuses: map[int]int{}}
	hours := 48
	for i := 0; time.Now().Before(deadline); i++ {
		op := pickOp(rng)
		var do func() (int, error)
		var sv save
		switch op.name {
		case "page view":
			path := []string{"/security", "/security/logon-mask", "/security/session-duration",
				"/security/activity"}[rng.IntN(4)]
			do = func() (int, error) { status, _, err := saver.get(path); return status, err }
		case "logon allowed":
			do = freshLogon(base, procOwner, procPw)
		case "logon blocked":
			do = freshLogon(base, "fenced", procPw)
		case "wrong password":
			do = freshLogon(base, procOwner, "not the password")
		case "save":
			if i%2 == 0 {
				hours = hours%72 + 1
				sv = hoursSave(hours)
			} else {
				sv = maskSave(fmt.Sprintf("w%d-%d", w, i))
			}
			do = func() (int, error) {
				status, _, err := saver.post(sv.path, map[string][]string{sv.field: {sv.value}})
				return status, err
			}
		}
		began := time.Now()
		status, err := do()
		s.latency[op.name] = append(s.latency[op.name], time.Since(began))
		s.statuses[status]++
		switch {
		case err != nil:
			s.problems = append(s.problems, fmt.Sprintf("%s: %v", op.name, err))
		case status != op.want:
			s.problems = append(s.problems, fmt.Sprintf("%s: status %d, want %d", op.name, status, op.want))
		case op.name == "save":
			s.acked = append(s.acked, sv)
		}
	}
	return s
}

// freshLogon logs on in a new browser: the form, then the post. Only the
// post is timed by the caller; the form is fetched first.
func freshLogon(base, name, pw string) func() (int, error) {
	c := newFormClient(base)
	_, _, ferr := c.get("/login")
	return func() (int, error) {
		if ferr != nil {
			return 0, ferr
		}
		status, _, err := c.post("/login", map[string][]string{"account": {name}, "password": {pw}})
		return status, err
	}
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// reportLoad logs the numbers, fails on any problem and returns the
// request count.
func reportLoad(t *testing.T, stats []*loadStats, elapsed time.Duration) int {
	t.Helper()
	var all []time.Duration
	byOp := map[string][]time.Duration{}
	statuses := map[int]int{}
	var problems []string
	for _, s := range stats {
		for op, ds := range s.latency {
			byOp[op] = append(byOp[op], ds...)
			all = append(all, ds...)
		}
		for code, n := range s.statuses {
			statuses[code] += n
		}
		problems = append(problems, s.problems...)
	}
	slices.Sort(all)
	fivexx := 0
	for code, n := range statuses {
		if code >= 500 {
			fivexx += n
		}
	}
	t.Logf("%d requests in %v (%.0f/s) from %d workers: p50 %v, p99 %v, max %v; statuses %v; 5xx %d",
		len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(), len(stats),
		percentile(all, 0.5), percentile(all, 0.99), percentile(all, 1), statuses, fivexx)
	ops := make([]string, 0, len(byOp))
	for op := range byOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		ds := byOp[op]
		slices.Sort(ds)
		t.Logf("  %-15s %6d requests, p50 %v, p99 %v", op, len(ds), percentile(ds, 0.5),
			percentile(ds, 0.99))
	}
	if len(problems) > 0 {
		t.Errorf("%d problems, the first: %s", len(problems),
			strings.Join(problems[:min(len(problems), 10)], "; "))
	}
	return len(all)
}

// checkSaverAudit checks that a worker's account holds its last saves and
// that its audit log holds every acknowledged one, in order.
func checkSaverAudit(t *testing.T, db *sql.DB, name string, acked []save) {
	t.Helper()
	_, got := auditSince(t, db, name, 0)
	if len(got) != len(acked) {
		t.Errorf("%s: %d audit records for %d acknowledged saves", name, len(got), len(acked))
		return
	}
	for i, s := range acked {
		if got[i].action != s.action || got[i].audited != s.audited {
			t.Errorf("%s: audit record %d is %+v, want %s %q", name, i, got[i], s.action, s.audited)
			return
		}
	}
	checkCurrent(t, db, name, acked, nil, false)
}
