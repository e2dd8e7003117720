package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/clientip"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web/webtest"
)

const (
	ownerName = "demo"
	ownerPw   = "demo-password"
	newPw     = "a-brand-new-passphrase"
)

// runCmd runs a command line as main does, stdin given, and returns what
// it printed.
func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

// mustRun is runCmd for a command that must succeed.
func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := runCmd(t, stdin, args...)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return out
}

// startConsole serves a console on a database file the commands can open.
func startConsole(t *testing.T, trustProxy bool) (*webtest.Env, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "lg.db")
	opts := webtest.Options{DBPath: db}
	if trustProxy {
		p, err := clientip.ParsePrefixes("127.0.0.1/32")
		if err != nil {
			t.Fatal(err)
		}
		opts.TrustedProxies = p
	}
	return webtest.Start(t, opts), db
}

// osUser is the audit name the commands use for the user running the
// tests; it clears SUDO_USER for the test, which would add to it.
func osUser(t *testing.T) string {
	t.Helper()
	t.Setenv("SUDO_USER", "")
	u, err := user.Current()
	if err != nil {
		t.Skip("no current user:", err)
	}
	return "operator " + u.Username
}

func TestOperatorNamesTheSudoUser(t *testing.T) {
	me := osUser(t)
	tests := []struct {
		name     string
		giveSudo string
		want     string
	}{
		{"no sudo", "", me},
		{"sudo by someone", "alice", me + " (sudo by alice)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SUDO_USER", tt.giveSudo)
			if got := operator(); got.Name != tt.want || got.Source != "shell" {
				t.Errorf("operator() = %+v, want name %q from shell", got, tt.want)
			}
		})
	}
}

// logOnFrom tries an owner logon from addr (through the trusted proxy).
func logOnFrom(env *webtest.Env, t *testing.T, addr, pw string) *webtest.Response {
	t.Helper()
	c := env.Client(t)
	c.Header.Set("X-Forwarded-For", addr)
	c.Get("/login")
	return c.Post("/login", url.Values{"account": {ownerName}, "password": {pw}})
}

// within polls cond every 20ms for up to limit and returns how long it
// took to hold, failing the test if it never did. The server's clock moves
// with the wall clock meanwhile, as a real server's would: its caches
// judge their age by it.
func within(t *testing.T, env *webtest.Env, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
		env.Clock.Advance(20 * time.Millisecond)
	}
	return time.Since(start)
}

// lastAudit returns the newest audit event of an account.
func lastAudit(t *testing.T, st *store.Store, accountID int64) store.AuditEvent {
	t.Helper()
	evs, err := st.AuditEvents(context.Background(), store.AuditFilter{AccountID: accountID, Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("audit events: %v %v", evs, err)
	}
	return evs[0]
}

func TestAccountAndStaffList(t *testing.T) {
	env, db := startConsole(t, false)
	acct := env.AddAccount(t, ownerName, ownerPw)
	env.AddAccount(t, "another", "another-password")
	env.AddStaff(t, "support", "support-password")
	u := store.SettingsUpdate{AccountID: acct.ID, By: store.Actor{Name: "test"}}
	if _, _, err := env.Store.UpdateMask(context.Background(), u, "42.120.66.0/24;42.120.74.98"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		giveArgs  []string
		wantLines []string // each line's fields before the creation time
	}{
		{"accounts", []string{"account", "list", "-db", db}, []string{
			"NAME LOGON MASK SESSION DURATION CREATED",
			"another not set 48 hours",
			"demo 2 entries 48 hours",
		}},
		{"staff", []string{"staff", "list", "-db", db}, []string{"NAME CREATED", "support"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustRun(t, "", tt.giveArgs...)
			var got []string
			for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
				f := strings.Fields(line)
				if i > 0 {
					f = f[:len(f)-3] // date, time and zone
				}
				got = append(got, strings.Join(f, " "))
			}
			if diff := cmp.Diff(tt.wantLines, got); diff != "" {
				t.Errorf("output (-want +got):\n%s\n%s", diff, out)
			}
		})
	}
}

func TestAccountSetPasswordWhileServing(t *testing.T) {
	me := osUser(t)
	env, db := startConsole(t, true)
	acct := env.AddAccount(t, ownerName, ownerPw)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	// Ten wrong passwords from ten addresses exhaust the account's limit,
	// so even the right password gets 429 from an eleventh address.
	for i := 1; i <= 10; i++ {
		r := logOnFrom(env, t, fmt.Sprintf("198.51.100.%d", i), "wrong-password")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d", i, r.StatusCode)
		}
	}
	if r := logOnFrom(env, t, "198.51.100.11", ownerPw); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after ten failures: status %d, want 429", r.StatusCode)
	}

	if _, err := runCmd(t, "short\n", "account", "set-password", "-db", db, ownerName); err == nil {
		t.Error("a weak password was accepted")
	}
	out := mustRun(t, newPw+"\n", "account", "set-password", "-db", db, ownerName)
	if !strings.Contains(out, "password of account demo set") {
		t.Errorf("output: %q", out)
	}
	took := within(t, env, time.Second, "the failure count cleared", func() bool {
		return logOnFrom(env, t, "198.51.100.12", newPw).StatusCode == http.StatusSeeOther
	})
	within(t, env, time.Second, "the open session ended", func() bool {
		return owner.Get("/security").StatusCode == http.StatusSeeOther
	})
	if r := logOnFrom(env, t, "198.51.100.13", ownerPw); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: status %d, want 401", r.StatusCode)
	}
	ev := lastAudit(t, env.Store, acct.ID)
	if ev.Action != "password.change" || ev.Actor.Name != me || ev.Actor.Source != "shell" {
		t.Errorf("audit event: %+v", ev)
	}
	t.Logf("new password accepted by the running server after %v", took)
}

func TestAccountClearMaskWhileServing(t *testing.T) {
	me := osUser(t)
	env, db := startConsole(t, false)
	acct := env.AddAccount(t, ownerName, ownerPw)
	owner := env.Client(t)
	owner.LogOn(ownerName, ownerPw)
	owner.Get("/security/logon-mask")
	r := owner.Post("/security/logon-mask", url.Values{"mask": {"203.0.113.0/24"}, "confirm_lockout": {"yes"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("mask save: status %d", r.StatusCode)
	}
	if r := logOnFrom(env, t, "127.0.0.1", ownerPw); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logon outside the mask: status %d, want 403", r.StatusCode)
	}

	out := mustRun(t, "", "account", "clear-mask", "-db", db, ownerName)
	if !strings.Contains(out, "logon mask of account demo cleared") {
		t.Errorf("output: %q", out)
	}
	took := within(t, env, time.Second, "the owner can log on again", func() bool {
		return logOnFrom(env, t, "127.0.0.1", ownerPw).StatusCode == http.StatusSeeOther
	})
	t.Logf("owner let in %v after clear-mask", took)

	ev := lastAudit(t, env.Store, acct.ID)
	want := store.AuditEvent{Action: "mask.update", Actor: store.Actor{Name: me, Source: "shell"},
		OldValue: "203.0.113.0/24", NewValue: ""}
	ev.ID, ev.At, ev.AccountID = 0, time.Time{}, 0
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("audit event (-want +got):\n%s", diff)
	}
	if n := owner.Get("/security").Doc.Find(".notice").Text(); !strings.Contains(n, me) {
		t.Errorf("Security Settings notice %q does not name the operator", n)
	}
	again := mustRun(t, "", "account", "clear-mask", "-db", db, ownerName)
	if !strings.Contains(again, "nothing changed") {
		t.Errorf("second clear-mask: %q", again)
	}
}

func TestStaffRemoveWhileServing(t *testing.T) {
	env, db := startConsole(t, false)
	env.AddStaff(t, "support", "support-password")
	env.AddStaff(t, "other", "other-password")
	staff := env.Client(t)
	staff.Get("/support/login")
	r := staff.Post("/support/login", url.Values{"staff": {"support"}, "password": {"support-password"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff logon: status %d", r.StatusCode)
	}
	if r := staff.Get("/support/tickets"); r.StatusCode != http.StatusOK {
		t.Fatalf("tickets before removal: status %d", r.StatusCode)
	}
	out := mustRun(t, "", "staff", "remove", "-db", db, "support")
	if !strings.Contains(out, "staff support removed") {
		t.Errorf("output: %q", out)
	}
	took := within(t, env, time.Second, "the removed staff member refused", func() bool {
		r := staff.Get("/support/tickets")
		return r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/support/login"
	})
	t.Logf("removed staff refused %v after the command", took)
	list := mustRun(t, "", "staff", "list", "-db", db)
	if strings.Contains(list, "support") || !strings.Contains(list, "other") {
		t.Errorf("staff list after removal:\n%s", list)
	}
}

// tableCounts counts rows of a database file, read-only.
func tableCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int64{}
	for _, tbl := range []string{"accounts", "account_settings", "audit_events", "logon_events", "sessions"} {
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM " + tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[tbl] = n
	}
	var torn int64
	if err := db.QueryRow(`SELECT count(*) FROM account_settings s WHERE s.version - 1 !=
		(SELECT count(*) FROM audit_events e WHERE e.account_id = s.account_id
		AND e.action IN ('mask.update', 'session_duration.update', 'recovery_contact.update'))`).Scan(&torn); err != nil {
		t.Fatal(err)
	}
	out["torn"] = torn
	return out
}

// loadConsole keeps owners logging on and saving settings over HTTP until
// stop closes; it returns how many requests were answered.
func loadConsole(t *testing.T, env *webtest.Env, stop <-chan struct{}) func() int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := range 4 {
		name := fmt.Sprintf("owner%d", w)
		env.AddAccount(t, name, name+"-password")
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := env.Client(t)
			c.LogOn(name, name+"-password")
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c.Get("/security/session-duration")
				c.Post("/security/session-duration", url.Values{"hours": {fmt.Sprint(1 + i%72)}})
				c.Post("/login", url.Values{"account": {name}, "password": {"wrong"}})
				mu.Lock()
				total += 3
				mu.Unlock()
			}
		}()
	}
	return func() int { wg.Wait(); return total }
}

func TestBackupWhileServingUnderLoad(t *testing.T) {
	env, db := startConsole(t, false)
	// Bulk so the copy takes long enough for writes to land during it.
	old := make([]store.LogonEvent, 100_000)
	for i := range old {
		old[i] = store.LogonEvent{At: env.Clock.Now(), Kind: store.KindOwner, AccountName: "x",
			Source: "192.0.2.1", Outcome: store.OutcomeBlocked}
	}
	if err := env.Store.AddLogonEvents(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	wait := loadConsole(t, env, stop)
	time.Sleep(200 * time.Millisecond)
	before := tableCounts(t, db)
	dest := filepath.Join(t.TempDir(), "backup.db")
	out := mustRun(t, "", "backup", "-db", db, dest)
	after := tableCounts(t, db)
	close(stop)
	requests := wait()

	if !strings.Contains(out, "integrity ok") {
		t.Errorf("output: %q", out)
	}
	if err := store.CheckFile(context.Background(), dest); err != nil {
		t.Fatal(err)
	}
	got := tableCounts(t, dest)
	for _, tbl := range []string{"audit_events", "logon_events", "account_settings"} {
		if got[tbl] < before[tbl] || got[tbl] > after[tbl] {
			t.Errorf("%s: %d in the copy, want between %d and %d", tbl, got[tbl], before[tbl], after[tbl])
		}
	}
	if got["torn"] != 0 {
		t.Errorf("%d accounts whose settings version and audit events disagree in the copy", got["torn"])
	}
	if after["audit_events"] == before["audit_events"] {
		t.Error("no settings were saved during the backup: the load proves nothing")
	}
	if _, err := runCmd(t, "", "backup", "-db", db, dest); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second backup to the same file: %v, want a refusal", err)
	}
	t.Logf("%d requests answered; audit events %d before, %d in the copy, %d after", requests,
		before["audit_events"], got["audit_events"], after["audit_events"])
}

func TestCommandErrors(t *testing.T) {
	env, db := startConsole(t, false)
	env.AddAccount(t, ownerName, ownerPw)
	existing := filepath.Join(t.TempDir(), "existing.db")
	if err := os.WriteFile(existing, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	tests := []struct {
		name     string
		giveArgs []string
		wantErr  string
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"account alone", []string{"account"}, "usage"},
		{"unknown account command", []string{"account", "rename"}, `unknown account command "rename"`},
		{"unknown staff command", []string{"staff", "fire"}, `unknown staff command "fire"`},
		{"unknown flag", []string{"account", "list", "-bogus"}, "bogus"},
		{"extra argument", []string{"account", "list", "-db", db, "extra"}, "takes -db FILE and 0"},
		{"missing name", []string{"account", "clear-mask", "-db", db}, "takes -db FILE and 1"},
		{"missing database", []string{"account", "list", "-db", missing}, "no database at"},
		{"unknown account", []string{"account", "clear-mask", "-db", db, "nobody"}, `no account named "nobody"`},
		{"unknown account password", []string{"account", "set-password", "-db", db, "nobody"},
			`no account named "nobody"`},
		{"unknown staff", []string{"staff", "remove", "-db", db, "nobody"}, `no staff member named "nobody"`},
		{"backup over a file", []string{"backup", "-db", db, existing}, "exists already"},
		{"restore from nothing", []string{"restore", "-db", db, missing}, "missing.db"},
		{"restore from junk", []string{"restore", "-db", db, existing}, "refusing to restore"},
		{"restore onto itself", []string{"restore", "-db", db, db}, "is the database itself"},
		{"bad serve flag", []string{"serve", "-keep-events", "soon"}, "-keep-events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCmd(t, "", tt.giveArgs...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if line := oneLine(err.Error()); strings.ContainsAny(line, "\r\n") {
				t.Errorf("error is not one line: %q", line)
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a command created the missing database %s", missing)
	}
}
