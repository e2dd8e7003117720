package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/recovery"
)

var testQuota = TicketQuota{PerSource: 5, PerName: 3, Window: time.Hour}

// newTicket is a filing for name from source, due a day after clk's time.
func newTicket(t *testing.T, clk *testClock, name, source string) NewTicket {
	t.Helper()
	ref, err := recovery.NewRef()
	if err != nil {
		t.Fatal(err)
	}
	return NewTicket{Ref: ref, AccountName: name, NameKey: recovery.NameKey(name),
		Contact: "owner@example.com", Reason: "new office address", Source: source, SourceKey: source,
		DueAt: clk.t.Add(24 * time.Hour), DueDate: "2026-03-05"}
}

func TestCreateTicketBindsAccount(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	a, err := st.CreateAccount(ctx, "demo", "hash", Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		giveName    string
		wantAccount int64
	}{
		{"known account", "demo", a.ID},
		{"unknown name kept", "nobody", 0},
		{"names are exact", "Demo", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nt := newTicket(t, clk, tt.giveName, "198.51.100.7")
			made, err := st.CreateTicket(ctx, nt, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.TicketByRef(ctx, nt.Ref)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(made, got); diff != "" {
				t.Errorf("stored ticket differs from the one returned (-made +stored):\n%s", diff)
			}
			if got.AccountID != tt.wantAccount || got.State != recovery.Open ||
				got.AccountName != tt.giveName {
				t.Errorf("ticket = %+v, want account %d, open", got, tt.wantAccount)
			}
			byID, err := st.Ticket(ctx, got.ID)
			if err != nil || byID.Ref != nt.Ref {
				t.Errorf("Ticket(%d) = %+v, %v", got.ID, byID, err)
			}
		})
	}
	if _, err := st.TicketByRef(ctx, "no-such-reference-000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown ref: got %v, want ErrNotFound", err)
	}
	evs, err := st.AuditEvents(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var filed int
	for _, ev := range evs {
		if ev.Action == "recovery_ticket.file" {
			filed++
		}
	}
	if filed != len(tests) {
		t.Errorf("audit events for filings: %d, want %d", filed, len(tests))
	}
}

func TestCreateTicketQuota(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	start := clk.t
	file := func(name, source string) error {
		nt := newTicket(t, clk, name, source)
		if err := st.CheckTicketQuota(ctx, nt, testQuota); err != nil {
			return err
		}
		_, err := st.CreateTicket(ctx, nt, &testQuota)
		return err
	}
	// Three for one name (in any case) from three sources, then the fourth is refused.
	for i, name := range []string{"demo", "Demo", " DEMO"} {
		clk.t = start.Add(time.Duration(i) * time.Minute)
		if err := file(name, fmt.Sprintf("203.0.113.%d", i)); err != nil {
			t.Fatalf("filing %d for demo: %v", i+1, err)
		}
	}
	var qe *QuotaError
	if err := file("demo", "203.0.113.99"); !errors.As(err, &qe) || qe.By != "account" {
		t.Fatalf("fourth filing for demo: got %v, want a per-account QuotaError", err)
	}
	if want := start.Add(time.Hour); !qe.RetryAt.Equal(want) {
		t.Errorf("RetryAt = %v, want %v (the oldest filing plus an hour)", qe.RetryAt, want)
	}
	// Five from one source under different names, then the sixth is refused.
	for i := range 5 {
		if err := file(fmt.Sprintf("name%d", i), "192.0.2.1"); err != nil {
			t.Fatalf("filing %d from 192.0.2.1: %v", i+1, err)
		}
	}
	if err := file("name9", "192.0.2.1"); !errors.As(err, &qe) || qe.By != "source" {
		t.Fatalf("sixth filing from 192.0.2.1: got %v, want a per-source QuotaError", err)
	}
	// The window slides: an hour after the first demo filing, one more is taken.
	clk.t = start.Add(time.Hour + time.Millisecond)
	if err := file("demo", "203.0.113.50"); err != nil {
		t.Errorf("filing after the window moved: %v", err)
	}
	if err := file("demo", "203.0.113.51"); !errors.As(err, &qe) {
		t.Errorf("second filing after the window moved: got %v, want QuotaError", err)
	}
	all, err := st.Tickets(ctx, TicketFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3+5+1 {
		t.Errorf("tickets stored: %d, want 9", len(all))
	}
}

func TestTicketsOrderAndFilter(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	mk := func(name string, filedAfter, dueAfter time.Duration) int64 {
		clk.t = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Add(filedAfter)
		nt := newTicket(t, clk, name, "198.51.100.7")
		nt.DueAt = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC).Add(dueAfter)
		tk, err := st.CreateTicket(ctx, nt, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	late := mk("late", 0, 48*time.Hour)
	second := mk("second", time.Hour, 0)
	first := mk("first", 0, 0)
	if _, _, err := st.DecideTicket(ctx, TicketDecision{ID: second, To: recovery.Rejected,
		Note: "no proof", By: Actor{Name: "staff a"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		giveState recovery.State
		want      []int64
	}{
		{"every state by due then filing", "", []int64{first, second, late}},
		{"open", recovery.Open, []int64{first, late}},
		{"rejected", recovery.Rejected, []int64{second}},
		{"approved", recovery.Approved, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := st.Tickets(ctx, TicketFilter{State: tt.giveState})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, tk := range list {
				got = append(got, tk.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ticket ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideTicket(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	by := Actor{Name: "owner demo", Source: "42.120.66.7"}
	a, err := st.CreateAccount(ctx, "demo", "hash", by)
	if err != nil {
		t.Fatal(err)
	}
	u := SettingsUpdate{AccountID: a.ID, By: by}
	if _, _, err := st.UpdateSessionHours(ctx, u, 7); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.UpdateMask(ctx, u, "42.120.66.0/24"); err != nil {
		t.Fatal(err)
	}
	approve := func(id int64) (Ticket, Settings, error) {
		return st.DecideTicket(ctx, TicketDecision{ID: id, To: recovery.Approved, Note: "called back",
			By: Actor{Name: "staff support", Source: "127.0.0.1"}, Notice: "cleared by support"})
	}
	orphan, err := st.CreateTicket(ctx, newTicket(t, clk, "nobody", "198.51.100.7"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := approve(orphan.ID); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("approving a ticket for no account: got %v, want ErrNoAccount", err)
	}
	if got, _ := st.Ticket(ctx, orphan.ID); got.State != recovery.Open {
		t.Errorf("refused approval changed the ticket: %q", got.State)
	}

	tk, err := st.CreateTicket(ctx, newTicket(t, clk, "demo", "198.51.100.7"), nil)
	if err != nil {
		t.Fatal(err)
	}
	done, set, err := approve(tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != recovery.Approved || done.DecidedBy != "staff support" ||
		done.Note != "called back" || !done.DecidedAt.Equal(clk.t) {
		t.Errorf("decided ticket = %+v", done)
	}
	if set.Mask != "" || set.SessionHours != 7 || set.Notice != "cleared by support" {
		t.Errorf("settings after approval = %+v, want no mask, 7 hours, the notice", set)
	}
	if _, _, err := approve(tk.ID); !errors.Is(err, ErrDecided) {
		t.Errorf("second approval: got %v, want ErrDecided", err)
	}
	_, _, err = st.DecideTicket(ctx, TicketDecision{ID: tk.ID, To: recovery.Rejected, Note: "x"})
	if !errors.Is(err, ErrDecided) {
		t.Errorf("rejecting an approved ticket: got %v, want ErrDecided", err)
	}
	if _, _, err := approve(999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown ticket: got %v, want ErrNotFound", err)
	}
	evs, err := st.AuditEvents(ctx, AuditFilter{AccountID: a.ID, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Actor.Name+" "+ev.Action)
	}
	want := []string{"staff support recovery_ticket.approve", "staff support mask.update",
		"recovery request recovery_ticket.file"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}
}

func TestDecideTicketRace(t *testing.T) {
	ctx := context.Background()
	st, clk := openTest(t)
	if _, err := st.CreateAccount(ctx, "demo", "hash", Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	tk, err := st.CreateTicket(ctx, newTicket(t, clk, "demo", "198.51.100.7"), nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			to := recovery.Approved
			if i%2 == 1 {
				to = recovery.Rejected
			}
			_, _, errs[i] = st.DecideTicket(ctx, TicketDecision{ID: tk.ID, To: to, Note: "n",
				By: Actor{Name: fmt.Sprintf("staff s%d", i)}})
		})
	}
	wg.Wait()
	var won int
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrDecided):
			t.Errorf("decision %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Errorf("decisions that won: %d, want exactly 1", won)
	}
}
