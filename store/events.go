package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Logon outcomes, as recorded and as counted in metrics.
const (
	OutcomeAllowed       = "allowed"
	OutcomeBlocked       = "blocked"
	OutcomeWrongPassword = "wrong_password"
	OutcomeRateLimited   = "rate_limited"
)

// Kinds of principal a session or logon event belongs to.
const (
	KindOwner = "owner"
	KindStaff = "staff"
)

// LogonEvent is one logon attempt.
type LogonEvent struct {
	ID          int64 // 0 while the event still waits in the queue
	At          time.Time
	Kind        string
	AccountID   int64 // 0 when the name matched no account
	AccountName string
	Source      string
	Outcome     string
}

// EventLog writes logon events in batches from one goroutine, so a logon
// never waits for its own event's write. Events are flushed at least every
// flush interval and on Close; until then Recent still shows them. A crash
// loses at most the events of the last interval.
type EventLog struct {
	st       *Store
	mu       sync.Mutex
	queued   []LogonEvent // not yet picked up by the writer
	inflight []LogonEvent // being written now
	limit    int
	stop     chan struct{}
	done     chan struct{}
	dropped  int64
}

// maxQueued bounds the queue so a flood of refused logons cannot grow
// memory without end while the disk is slow.
const maxQueued = 100_000

// StartEventLog starts the batch writer, flushing every interval.
func (s *Store) StartEventLog(interval time.Duration) *EventLog {
	l := &EventLog{st: s, limit: maxQueued, stop: make(chan struct{}), done: make(chan struct{})}
	go l.run(interval)
	return l
}

// Add queues an event. It never blocks on the database.
func (l *EventLog) Add(ev LogonEvent) {
	if ev.At.IsZero() {
		ev.At = l.st.now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queued) >= l.limit {
		l.dropped++
		return
	}
	l.queued = append(l.queued, ev)
}

// Dropped returns how many events were refused because the queue was full.
func (l *EventLog) Dropped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

func (l *EventLog) run(interval time.Duration) {
	defer close(l.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.flush()
		case <-l.stop:
			l.flush()
			return
		}
	}
}

// Flush writes every queued event now.
func (l *EventLog) flush() {
	l.mu.Lock()
	batch := l.queued
	l.queued = nil
	l.inflight = batch
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	// A failed batch is retried on the next tick; it stays visible meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := l.st.AddLogonEvents(ctx, batch)
	l.mu.Lock()
	l.inflight = nil
	if err != nil {
		l.queued = append(batch, l.queued...)
	}
	l.mu.Unlock()
}

// Close flushes what is queued and stops the writer.
func (l *EventLog) Close() {
	close(l.stop)
	<-l.done
}

// AddLogonEvents writes events in one transaction.
func (s *Store) AddLogonEvents(ctx context.Context, evs []LogonEvent) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO logon_events
			(at, kind, account_id, account_name, source, outcome) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("store: logon events: %w", err)
		}
		defer stmt.Close()
		for _, ev := range evs {
			var account any
			if ev.AccountID != 0 {
				account = ev.AccountID
			}
			if _, err := stmt.ExecContext(ctx, millis(ev.At), ev.Kind, account, ev.AccountName,
				ev.Source, ev.Outcome); err != nil {
				return fmt.Errorf("store: logon events: %w", err)
			}
		}
		return nil
	})
}

// LogonFilter selects logon events.
type LogonFilter struct {
	AccountID int64  // required
	Outcome   string // "" for any
	Before    int64  // only events with a smaller id; 0 for the newest
	Limit     int
}

// LogonEvents returns an account's written logon events, newest first.
func (s *Store) LogonEvents(ctx context.Context, f LogonFilter) ([]LogonEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := s.query(ctx, `SELECT id, at, kind, coalesce(account_id, 0),
		account_name, source, outcome FROM logon_events
		WHERE account_id = ? AND (? = '' OR outcome = ?) AND (? = 0 OR id < ?)
		ORDER BY id DESC LIMIT ?`,
		f.AccountID, f.Outcome, f.Outcome, f.Before, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: logon events: %w", err)
	}
	defer rows.Close()
	var out []LogonEvent
	for rows.Next() {
		var ev LogonEvent
		var at int64
		if err := rows.Scan(&ev.ID, &at, &ev.Kind, &ev.AccountID, &ev.AccountName, &ev.Source,
			&ev.Outcome); err != nil {
			return nil, fmt.Errorf("store: logon events: %w", err)
		}
		ev.At = fromMillis(at)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: logon events: %w", err)
	}
	return out, nil
}

// Recent returns an account's newest logon events, the queued ones
// included, newest first. Only the first page (Before == 0) shows queued ones.
func (l *EventLog) Recent(ctx context.Context, f LogonFilter) ([]LogonEvent, error) {
	var pending []LogonEvent
	if f.Before == 0 {
		l.mu.Lock()
		for _, batch := range [][]LogonEvent{l.queued, l.inflight} {
			for _, ev := range batch {
				if ev.AccountID == f.AccountID && (f.Outcome == "" || ev.Outcome == f.Outcome) {
					pending = append(pending, ev)
				}
			}
		}
		l.mu.Unlock()
	}
	written, err := l.st.LogonEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	// An in-flight event may be written already; drop what the query saw.
	out := slices.DeleteFunc(pending, func(p LogonEvent) bool {
		return slices.ContainsFunc(written, func(w LogonEvent) bool {
			return w.At.Equal(p.At) && w.Source == p.Source && w.Outcome == p.Outcome
		})
	})
	// Queued events are in arrival order; reversed, events of the same
	// instant stay newest first through the stable sort.
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b LogonEvent) int { return b.At.Compare(a.At) })
	out = append(out, written...)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// PruneLogonEvents deletes logon events older than before; audit events
// are kept. It returns how many it deleted.
func (s *Store) PruneLogonEvents(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM logon_events WHERE at < ?", millis(before))
		if err != nil {
			return fmt.Errorf("store: prune logon events: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
