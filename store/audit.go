package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditEvent is one recorded change: who, when, from where, old and new value.
type AuditEvent struct {
	ID        int64
	At        time.Time
	AccountID int64 // 0 when the change concerns no account
	Actor     Actor
	Action    string
	OldValue  string
	NewValue  string
}

func addAudit(ctx context.Context, tx *sql.Tx, ev AuditEvent) error {
	var account any
	if ev.AccountID != 0 {
		account = ev.AccountID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events
		(at, account_id, actor, source, action, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		millis(ev.At), account, ev.Actor.Name, ev.Actor.Source, ev.Action, ev.OldValue, ev.NewValue)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AddAudit records an audit event on its own.
func (s *Store) AddAudit(ctx context.Context, ev AuditEvent) error {
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return addAudit(ctx, tx, ev) })
}

// AuditFilter selects audit events.
type AuditFilter struct {
	AccountID int64 // 0 for every account
	Before    int64 // only events with a smaller id; 0 for the newest
	Limit     int
}

// AuditEvents returns audit events, newest first.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT id, at, coalesce(account_id, 0), actor, source, action, old_value, new_value
		FROM audit_events WHERE (? = 0 OR account_id = ?) AND (? = 0 OR id < ?)
		ORDER BY id DESC LIMIT ?`
	rows, err := s.query(ctx, q, f.AccountID, f.AccountID, f.Before, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var ev AuditEvent
		var at int64
		if err := rows.Scan(&ev.ID, &at, &ev.AccountID, &ev.Actor.Name, &ev.Actor.Source,
			&ev.Action, &ev.OldValue, &ev.NewValue); err != nil {
			return nil, fmt.Errorf("store: audit events: %w", err)
		}
		ev.At = fromMillis(at)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	return out, nil
}
