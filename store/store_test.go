package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testClock is a clock tests move by hand.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func openTest(t *testing.T) (*Store, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "lg.db"), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, clk
}

func TestUpdateMaskVersionAndAudit(t *testing.T) {
	ctx := context.Background()
	st, _ := openTest(t)
	by := Actor{Name: "owner demo", Source: "127.0.0.1"}
	a, err := st.CreateAccount(ctx, "demo", "hash", by)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAccount(ctx, "demo", "hash", by); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: got %v, want ErrExists", err)
	}
	before, err := st.Settings(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if before.SessionHours != DefaultSessionHours || before.Mask != "" {
		t.Fatalf("defaults: got %+v", before)
	}
	u := SettingsUpdate{AccountID: a.ID, Version: before.Version, By: by}
	after, changed, err := st.UpdateMask(ctx, u, "42.120.66.0/24")
	if err != nil || !changed {
		t.Fatalf("update: changed=%v err=%v", changed, err)
	}
	if after.Version != before.Version+1 || after.Seq <= before.Seq {
		t.Fatalf("version/seq not bumped: before %+v after %+v", before, after)
	}
	// The old version now conflicts and writes nothing.
	if _, _, err := st.UpdateMask(ctx, u, "198.51.100.7"); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale version: got %v, want ErrConflict", err)
	}
	// The same mask again writes nothing and no audit event.
	u.Version = after.Version
	if _, changed, err := st.UpdateMask(ctx, u, "42.120.66.0/24"); err != nil || changed {
		t.Fatalf("unchanged save: changed=%v err=%v", changed, err)
	}
	evs, err := st.AuditEvents(ctx, AuditFilter{AccountID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Action+":"+ev.OldValue+">"+ev.NewValue)
	}
	want := []string{"mask.update:>42.120.66.0/24", "account.create:>demo"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}
}

func TestSessionsExpireByClock(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	ss := st.Sessions()
	values := map[string]any{SessionAccountID: int64(7), SessionCreated: clk.t, SessionSource: "127.0.0.1"}
	b, err := SessionCodec{}.Encode(clk.t.Add(time.Hour), values)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.CommitCtx(ctx, "tok", b, clk.t.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, found, err := ss.FindCtx(ctx, "tok"); err != nil || !found {
		t.Fatalf("find before expiry: found=%v err=%v", found, err)
	}
	open, err := st.OpenSessions(ctx, KindOwner, 7)
	if err != nil || len(open) != 1 || open[0].Source != "127.0.0.1" {
		t.Fatalf("open sessions: %+v %v", open, err)
	}
	clk.t = clk.t.Add(time.Hour)
	if _, found, _ := ss.FindCtx(ctx, "tok"); found {
		t.Fatal("session found at its expiry")
	}
}

func TestSessionCodecRoundTrip(t *testing.T) {
	deadline := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	values := map[string]any{"a": int64(-5), "b": "x y", "c": true, "d": deadline}
	b, err := SessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	gotDeadline, got, err := SessionCodec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !gotDeadline.Equal(deadline) {
		t.Errorf("deadline: got %v, want %v", gotDeadline, deadline)
	}
	if diff := cmp.Diff(values, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	for i := range b {
		if _, _, err := (SessionCodec{}).Decode(b[:i]); err == nil {
			t.Fatalf("truncated at %d: no error", i)
		}
	}
	if _, err := (SessionCodec{}).Encode(deadline, map[string]any{"f": 1.5}); err == nil {
		t.Error("float value: no error")
	}
}

func TestEventLogShowsQueuedEvents(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	l := st.StartEventLog(time.Hour) // never flushes on its own during the test
	l.Add(LogonEvent{At: clk.t, Kind: KindOwner, AccountID: 3, AccountName: "x", Source: "1.2.3.4",
		Outcome: OutcomeBlocked})
	got, err := l.Recent(ctx, LogonFilter{AccountID: 3})
	if err != nil || len(got) != 1 {
		t.Fatalf("queued event not shown: %+v %v", got, err)
	}
	l.Close()
	written, err := st.LogonEvents(ctx, LogonFilter{AccountID: 3})
	if err != nil || len(written) != 1 || written[0].Outcome != OutcomeBlocked {
		t.Fatalf("event not flushed on close: %+v %v", written, err)
	}
	n, err := st.PruneLogonEvents(ctx, clk.t.Add(time.Millisecond))
	if err != nil || n != 1 {
		t.Fatalf("prune: n=%d err=%v", n, err)
	}
}
