package web

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
)

func TestActivityCursorPassesQueuedEvents(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "lg.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(Config{Password: password.Params{MemoryKiB: 256, Passes: 1, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// An event log that never flushes on its own keeps the queued events queued.
	fast := s.events
	s.events = st.StartEventLog(time.Hour)
	fast.Close()

	acct, err := st.CreateAccount(ctx, "demo", "hash", store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	ev := func(i int) store.LogonEvent {
		return store.LogonEvent{At: base.Add(time.Duration(i) * time.Second), Kind: store.KindOwner,
			AccountID: acct.ID, AccountName: "demo", Source: "192.0.2.1", Outcome: store.OutcomeBlocked}
	}
	var written []store.LogonEvent
	for i := range 8 {
		written = append(written, ev(i))
	}
	if err := st.AddLogonEvents(ctx, written); err != nil {
		t.Fatal(err)
	}
	for i := 8; i < 11; i++ {
		s.events.Add(ev(i))
	}

	// Pages of 3: the three queued events, then the written ones by id.
	q := activityQuery{kind: kindLogon}
	var pages [][]int64
	for range 5 {
		items, next, more, err := s.activity(ctx, acct.ID, q, 3)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, it := range items {
			ids = append(ids, it.logon.ID)
		}
		pages = append(pages, ids)
		if !more {
			break
		}
		q = next
	}
	want := [][]int64{{0, 0, 0}, {8, 7, 6}, {5, 4, 3}, {2, 1}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("logon ids by page, 0 for queued (-want +got):\n%s", diff)
	}
}
