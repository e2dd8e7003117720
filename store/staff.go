package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StaffMember is a support person who reviews recovery tickets.
type StaffMember struct {
	ID           int64
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// CreateStaff adds a staff member, or returns ErrExists.
func (s *Store) CreateStaff(ctx context.Context, name, passwordHash string, by Actor) (StaffMember, error) {
	now := s.now()
	m := StaffMember{Name: name, PasswordHash: passwordHash, CreatedAt: now}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"INSERT INTO staff (name, password_hash, created_at) VALUES (?, ?, ?)",
			name, passwordHash, millis(now))
		if err != nil {
			return uniqueErr(err)
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: staff id: %w", err)
		}
		return addAudit(ctx, tx, AuditEvent{At: now, Actor: by, Action: "staff.create", NewValue: name})
	})
	if err != nil {
		return StaffMember{}, err
	}
	return m, nil
}

// Staff returns the staff member with the given id, or ErrNotFound.
func (s *Store) Staff(ctx context.Context, id int64) (StaffMember, error) {
	return scanStaff(s.queryRow(ctx,
		"SELECT id, name, password_hash, created_at FROM staff WHERE id = ?", id))
}

// StaffByName returns the staff member with the given name, or ErrNotFound.
func (s *Store) StaffByName(ctx context.Context, name string) (StaffMember, error) {
	return scanStaff(s.queryRow(ctx,
		"SELECT id, name, password_hash, created_at FROM staff WHERE name = ?", name))
}

func scanStaff(sc interface{ Scan(...any) error }) (StaffMember, error) {
	var m StaffMember
	var created int64
	err := sc.Scan(&m.ID, &m.Name, &m.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return StaffMember{}, ErrNotFound
	}
	if err != nil {
		return StaffMember{}, fmt.Errorf("store: staff: %w", err)
	}
	m.CreatedAt = fromMillis(created)
	return m, nil
}

// StaffList lists every staff member by name.
func (s *Store) StaffList(ctx context.Context) ([]StaffMember, error) {
	rows, err := s.query(ctx, "SELECT id, name, password_hash, created_at FROM staff ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: staff list: %w", err)
	}
	defer rows.Close()
	var out []StaffMember
	for rows.Next() {
		m, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: staff list: %w", err)
	}
	return out, nil
}

// RemoveStaff deletes a staff member and ends their sessions in one
// transaction, or returns ErrNotFound.
func (s *Store) RemoveStaff(ctx context.Context, name string, by Actor) error {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT id FROM staff WHERE name = ?", name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: remove staff: %w", err)
		}
		if _, err := tx.ExecContext(ctx,
			"DELETE FROM sessions WHERE kind = ? AND principal_id = ?", KindStaff, id); err != nil {
			return fmt.Errorf("store: remove staff: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM staff WHERE id = ?", id); err != nil {
			return fmt.Errorf("store: remove staff: %w", err)
		}
		return addAudit(ctx, tx, AuditEvent{At: s.now(), Actor: by, Action: "staff.remove", OldValue: name})
	})
	if id != 0 {
		s.sessions.forget("", principalKey{KindStaff, id}, "")
	}
	return err
}
