package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countRows returns each table's row count in the database file at path.
func countRows(t *testing.T, path string, tables ...string) map[string]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", readOnlyURI(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int64{}
	for _, tbl := range tables {
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM " + tbl).Scan(&n); err != nil {
			t.Fatalf("count %s in %s: %v", tbl, path, err)
		}
		out[tbl] = n
	}
	return out
}

// unauditedVersions lists accounts whose settings version does not match
// their audited settings changes: each change bumps the version and writes
// one audit event in the same transaction, so a torn copy would show here.
func unauditedVersions(t *testing.T, path string) []int64 {
	t.Helper()
	db, err := sql.Open("sqlite", readOnlyURI(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT s.account_id FROM account_settings s
		WHERE s.version - 1 != (SELECT count(*) FROM audit_events e WHERE e.account_id = s.account_id
			AND e.action IN ('mask.update', 'session_duration.update', 'recovery_contact.update'))`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var bad []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return bad
}

// writeLoad keeps writing settings changes and logon events until stop
// closes, and returns how many writes succeeded.
func writeLoad(t *testing.T, st *Store, ids []int64, stop <-chan struct{}) func() int64 {
	var wg sync.WaitGroup
	var writes atomic.Int64
	ctx := context.Background()
	for w, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := SettingsUpdate{AccountID: id, By: Actor{Name: "load", Source: "test"}}
				if _, _, err := st.UpdateSessionHours(ctx, u, 1+i%72); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				ev := LogonEvent{At: time.Now(), Kind: KindOwner, AccountID: id, AccountName: "load",
					Source: "192.0.2.1", Outcome: OutcomeAllowed}
				if err := st.AddLogonEvents(ctx, []LogonEvent{ev, ev, ev}); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				writes.Add(2)
			}
		}()
	}
	return func() int64 { wg.Wait(); return writes.Load() }
}

func TestBackupUnderWriteLoad(t *testing.T) {
	ctx := context.Background()
	st, _ := openTest(t)
	var ids []int64
	for i := range 4 {
		a, err := st.CreateAccount(ctx, fmt.Sprintf("owner%d", i), "hash", Actor{Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	// Enough rows that the copy takes a while and the writers overlap it.
	old := make([]LogonEvent, 150_000)
	for i := range old {
		old[i] = LogonEvent{At: time.Now(), Kind: KindOwner, AccountID: ids[i%4], AccountName: "old",
			Source: "198.51.100.7", Outcome: OutcomeBlocked}
	}
	if err := st.AddLogonEvents(ctx, old); err != nil {
		t.Fatal(err)
	}
	tables := []string{"accounts", "account_settings", "audit_events", "logon_events"}
	stop := make(chan struct{})
	wait := writeLoad(t, st, ids, stop)
	time.Sleep(100 * time.Millisecond) // let the writers get going
	before := countRows(t, st.Path(), tables...)
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := st.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	after := countRows(t, st.Path(), tables...)
	close(stop)
	writes := wait()

	if err := CheckFile(ctx, dest); err != nil {
		t.Fatalf("copy: %v", err)
	}
	got := countRows(t, dest, tables...)
	if got["accounts"] != 4 || got["account_settings"] != 4 {
		t.Errorf("copy has %d accounts and %d settings rows, want 4 and 4",
			got["accounts"], got["account_settings"])
	}
	for _, tbl := range []string{"audit_events", "logon_events"} {
		if got[tbl] < before[tbl] || got[tbl] > after[tbl] {
			t.Errorf("copy has %d %s, want between %d (before) and %d (after)", got[tbl], tbl,
				before[tbl], after[tbl])
		}
	}
	if (got["logon_events"]-int64(len(old)))%3 != 0 {
		t.Errorf("copy has %d logon events: a batch of 3 was torn", got["logon_events"])
	}
	if bad := unauditedVersions(t, dest); len(bad) > 0 {
		t.Errorf("accounts %v: settings version and audit events disagree in the copy", bad)
	}
	if writes == 0 || after["logon_events"] == before["logon_events"] {
		t.Errorf("no writes during the backup (%d writes in all): the test proves nothing", writes)
	}
	info, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("copy mode %v: readable by others", perm)
	}
	t.Logf("%d writes; logon events %d before, %d in the copy, %d after",
		writes, before["logon_events"], got["logon_events"], after["logon_events"])
}

func TestBackupRefusesExistingFile(t *testing.T) {
	ctx := context.Background()
	st, _ := openTest(t)
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(dest, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := st.Backup(ctx, dest); !errors.Is(err, ErrExists) {
		t.Fatalf("backup over a file: got %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "keep me" {
		t.Errorf("existing file changed to %q", b)
	}
	left, err := filepath.Glob(filepath.Join(filepath.Dir(dest), ".copy.db.tmp-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("temporary files left: %v %v", left, err)
	}
}

func TestRestoreReplacesData(t *testing.T) {
	ctx := context.Background()
	st, _ := openTest(t)
	kept, err := st.CreateAccount(ctx, "kept", "hash", Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := SessionCodec{}.Encode(st.now().Add(time.Hour), map[string]any{SessionAccountID: kept.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Sessions().Commit("old-token", codec, st.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := st.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAccount(ctx, "after-backup", "hash", Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	path := st.Path()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	if err := Restore(ctx, path, filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("restore from a missing file succeeded")
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, []byte("not a database at all, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Restore(ctx, path, junk); err == nil {
		t.Error("restore from a text file succeeded")
	}
	if err := Restore(ctx, path, dest); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	accounts, err := again.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range accounts {
		names = append(names, a.Name)
	}
	if diff := cmp.Diff([]string{"kept"}, names); diff != "" {
		t.Errorf("accounts after restore (-want +got):\n%s", diff)
	}
	var sessions int
	if err := again.read.QueryRowContext(ctx, "SELECT count(*) FROM sessions").Scan(&sessions); err != nil ||
		sessions != 0 {
		t.Errorf("sessions after restore: %d %v, want none", sessions, err)
	}
}

func TestLockDatabaseIsExclusive(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lg.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	alias := filepath.Join(dir, "alias.db")
	if err := os.Symlink(path, alias); err != nil {
		t.Fatal(err)
	}
	first, err := LockDatabase(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, alias, filepath.Join(dir, ".", "lg.db")} {
		if _, err := LockDatabase(p); !errors.Is(err, ErrInUse) {
			t.Fatalf("second lock through %s: got %v, want ErrInUse", p, err)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	second, err := LockDatabase(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if err := second.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordChangesAreRecordedByTrigger(t *testing.T) {
	ctx := context.Background()
	st, _ := openTest(t)
	by := Actor{Name: "test"}
	a, err := st.CreateAccount(ctx, "demo", "hash-1", by)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateAccount(ctx, "other", "hash-1", by)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := st.PasswordChangeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		id   int64
		hash string
	}{{a.ID, "hash-2"}, {b.ID, "hash-2"}, {a.ID, "hash-3"}} {
		if err := st.SetPassword(ctx, step.id, step.hash, "", by); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.PasswordChangesSince(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pc := range got {
		names = append(names, pc.AccountName)
	}
	if diff := cmp.Diff([]string{"demo", "other", "demo"}, names); diff != "" {
		t.Errorf("password changes (-want +got):\n%s", diff)
	}
	last, err := st.PasswordChangesSince(ctx, got[len(got)-1].Seq)
	if err != nil || len(last) != 0 {
		t.Errorf("changes after the newest: %v, %v", last, err)
	}
}

func TestIsDatabaseError(t *testing.T) {
	ctx := context.Background()
	st, _ := openTest(t)
	_, err := st.read.ExecContext(ctx, "INSERT INTO staff (name) VALUES ('x')")
	tests := []struct {
		name string
		give error
		want bool
	}{
		{"sqlite error, wrapped", fmt.Errorf("store: thing: %w", err), true},
		{"not found", ErrNotFound, false},
		{"plain", errors.New("other"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsDatabaseError(tt.give); got != tt.want {
				t.Errorf("IsDatabaseError(%v) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}
