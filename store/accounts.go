package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Account is an account owner who logs on to the console.
type Account struct {
	ID           int64
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// Actor says who made a change and from which source address, for the
// audit log. Name reads like "owner demo", "staff support" or "operator root".
type Actor struct {
	Name   string
	Source string
}

// CreateAccount adds an account owner with default settings. It returns
// ErrExists when the name is taken.
func (s *Store) CreateAccount(ctx context.Context, name, passwordHash string, by Actor) (Account, error) {
	now := s.now()
	a := Account{Name: name, PasswordHash: passwordHash, CreatedAt: now}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"INSERT INTO accounts (name, password_hash, created_at) VALUES (?, ?, ?)",
			name, passwordHash, millis(now))
		if err != nil {
			return uniqueErr(err)
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: account id: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_settings (account_id, seq, updated_at)
			VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM account_settings), ?)`,
			a.ID, millis(now)); err != nil {
			return fmt.Errorf("store: create settings: %w", err)
		}
		return addAudit(ctx, tx, AuditEvent{At: now, AccountID: a.ID, Actor: by,
			Action: "account.create", NewValue: name})
	})
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

// Account returns the account with the given id, or ErrNotFound.
func (s *Store) Account(ctx context.Context, id int64) (Account, error) {
	return s.scanAccount(s.queryRow(ctx,
		"SELECT id, name, password_hash, created_at FROM accounts WHERE id = ?", id))
}

// AccountByName returns the account with the given name, or ErrNotFound.
func (s *Store) AccountByName(ctx context.Context, name string) (Account, error) {
	return s.scanAccount(s.queryRow(ctx,
		"SELECT id, name, password_hash, created_at FROM accounts WHERE name = ?", name))
}

func (s *Store) scanAccount(row *sql.Row) (Account, error) {
	var a Account
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &a.PasswordHash, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Account{}, ErrNotFound
		}
		return Account{}, fmt.Errorf("store: account: %w", err)
	}
	a.CreatedAt = fromMillis(created)
	return a, nil
}

// Accounts lists every account by name.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.query(ctx,
		"SELECT id, name, password_hash, created_at FROM accounts ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &a.PasswordHash, &created); err != nil {
			return nil, fmt.Errorf("store: accounts: %w", err)
		}
		a.CreatedAt = fromMillis(created)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: accounts: %w", err)
	}
	return out, nil
}

// SetPassword replaces an account's password hash and ends its sessions
// except the one whose stored token is keepToken ("" ends all of them).
func (s *Store) SetPassword(ctx context.Context, id int64, hash, keepToken string, by Actor) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE accounts SET password_hash = ? WHERE id = ?", hash, id)
		if err != nil {
			return fmt.Errorf("store: set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx,
			"DELETE FROM sessions WHERE kind = ? AND principal_id = ? AND token != ?",
			KindOwner, id, keepToken); err != nil {
			return fmt.Errorf("store: end sessions: %w", err)
		}
		return addAudit(ctx, tx, AuditEvent{At: now, AccountID: id, Actor: by, Action: "password.change"})
	})
	s.sessions.forget("", principalKey{KindOwner, id}, keepToken)
	return err
}

// uniqueErr maps SQLite's unique-constraint failure to ErrExists.
func uniqueErr(err error) error {
	if strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return ErrExists
	}
	return fmt.Errorf("store: insert: %w", err)
}
