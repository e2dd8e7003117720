package store

import (
	"context"
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// PasswordChange is one change of an account's password, written by the
// password_changes trigger whichever process set it.
type PasswordChange struct {
	Seq         int64
	AccountID   int64
	AccountName string
}

// PasswordChangesSince returns the password changes after change counter
// seq, oldest first, so a running server can clear the failure counts of
// accounts whose password another process set.
func (s *Store) PasswordChangesSince(ctx context.Context, seq int64) ([]PasswordChange, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT p.seq, p.account_id, a.name
		FROM password_changes p JOIN accounts a ON a.id = p.account_id
		WHERE p.seq > ? ORDER BY p.seq`, seq)
	if err != nil {
		return nil, fmt.Errorf("store: password changes: %w", err)
	}
	defer rows.Close()
	var out []PasswordChange
	for rows.Next() {
		var pc PasswordChange
		if err := rows.Scan(&pc.Seq, &pc.AccountID, &pc.AccountName); err != nil {
			return nil, fmt.Errorf("store: password changes: %w", err)
		}
		out = append(out, pc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: password changes: %w", err)
	}
	return out, nil
}

// PasswordChangeSeq returns the newest password change counter.
func (s *Store) PasswordChangeSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.read.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM password_changes").Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("store: password change seq: %w", err)
	}
	return seq, nil
}

// MaskSaves counts the logon mask changes ever written, by owners, staff
// and operators alike: audit events are never pruned, so the count only
// grows (until a restore).
func (s *Store) MaskSaves(ctx context.Context) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx,
		"SELECT count(*) FROM audit_events WHERE action = ?", fieldMask.action).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: mask saves: %w", err)
	}
	return n, nil
}

// NextLogonEventID returns an id above every written logon event. Events
// still queued get higher ids when written, so "written events below this
// id" are exactly those older than the queue.
func (s *Store) NextLogonEventID(ctx context.Context) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) + 1 FROM logon_events").Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: next logon event id: %w", err)
	}
	return id, nil
}

// IsDatabaseError reports whether err came from SQLite itself (a busy or
// full disk, a corrupt file), rather than from a missing row or bad input.
func IsDatabaseError(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e)
}

// TicketCounts returns how many recovery tickets stand in each state; a
// state without tickets is missing from the map.
func (s *Store) TicketCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT state, count(*) FROM recovery_tickets GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("store: ticket counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("store: ticket counts: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: ticket counts: %w", err)
	}
	return out, nil
}
