package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/web/webtest"
)

// seed bulk-inserts n accounts (all with one precomputed hash, the given
// mask) and one open session each, straight into the schema: creating them
// one transaction at a time would take minutes.
func seed(b *testing.B, path string, n int, mask string) {
	b.Helper()
	hash, err := password.Hash("seeded-password", webtest.FastPassword)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	stmts := []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		 INSERT INTO accounts (name, password_hash, created_at) SELECT 'seeded' || i, ?, 0 FROM n`,
		`INSERT INTO account_settings (account_id, mask, seq, updated_at)
		 SELECT id, ?, id, 0 FROM accounts WHERE name LIKE 'seeded%'`,
		`INSERT INTO sessions (token, data, expiry, kind, principal_id, created_at, source)
		 SELECT 'seeded-token-' || id, x'00', 9000000000000, 'owner', id, 0, '198.51.100.1'
		 FROM accounts WHERE name LIKE 'seeded%'`,
	}
	args := [][]any{{n, hash}, {mask}, nil}
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args[i]...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSecurityPageScale shows the page's cost against the number of
// accounts and sessions in the database. It runs in `make bench-full`
// (LOGONGUARD_BENCH_FULL=1): the three databases are built first, then
// measured in five interleaved rounds, so drift on a noisy machine falls on
// every size alike.
func BenchmarkSecurityPageScale(b *testing.B) {
	if os.Getenv("LOGONGUARD_BENCH_FULL") == "" {
		b.Skip("set LOGONGUARD_BENCH_FULL=1 (make bench-full)")
	}
	type sized struct {
		name   string
		h      http.Handler
		cookie string
	}
	var envs []sized
	for _, n := range []int{10, 10_000, 100_000} {
		path := filepath.Join(b.TempDir(), "lg.db")
		env := webtest.Start(b, webtest.Options{DBPath: path})
		seed(b, path, n, "")
		env.AddAccount(b, ownerName, ownerPw)
		c := env.Client(b)
		c.LogOn(ownerName, ownerPw)
		envs = append(envs, sized{"accounts=" + strconv.Itoa(n), env.Server.Handler(),
			"lg_session=" + c.Cookie("lg_session").Value})
	}
	for range 5 {
		for _, e := range envs {
			b.Run(e.name, func(b *testing.B) {
				serveInProcess(b, e.h, http.StatusOK,
					func() *http.Request { return inProcessReq("/security", e.cookie) })
			})
		}
	}
}

// BenchmarkServerMemory holds 10,000 accounts with 10 mask entries each
// and 10,000 open sessions, loads every account's match table through a
// refused logon, and reports the heap and resident memory that costs.
func BenchmarkServerMemory(b *testing.B) {
	const accounts, entries = 10_000, 10
	var parts []string
	for i := range entries {
		parts = append(parts, fmt.Sprintf("203.0.%d.0/24", i))
	}
	for range b.N {
		path := filepath.Join(b.TempDir(), "lg.db")
		env := webtest.Start(b, webtest.Options{DBPath: path, RateLimitExempt: mustPrefixesTB(b, "127.0.0.0/8")})
		seed(b, path, accounts, strings.Join(parts, ";"))
		h := env.Server.Handler()
		before := heapInUse()
		for i := 1; i <= accounts; i++ {
			// The CSRF check refuses these before the mask; set a token pair.
			form := url.Values{"_csrf": {"t"}, "account": {"seeded" + strconv.Itoa(i)}, "password": {"x"}}
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", "_csrf=t")
			req.RemoteAddr = "127.0.0.1:40000"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusForbidden {
				b.Fatalf("logon to seeded%d: status %d, want 403", i, rec.Code)
			}
		}
		grown := heapInUse() - before
		b.ReportMetric(float64(grown)/float64(accounts*entries), "heapB/entry")
		b.ReportMetric(float64(grown)/float64(accounts), "heapB/account")
		b.ReportMetric(rssMiB(), "rssMiB")
		env.Stop()
	}
}

func heapInUse() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse)
}

// rssMiB reads this process's resident memory from /proc.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
