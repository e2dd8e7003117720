package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DefaultSessionHours is the session duration of a new account.
const DefaultSessionHours = 48

// Settings are an account's security settings.
type Settings struct {
	AccountID       int64
	AccountName     string
	Mask            string // canonical mask text; "" means no restriction
	SessionHours    int
	RecoveryContact string
	// Notice is shown to the owner once on Security Settings, e.g. after
	// support cleared the mask.
	Notice    string
	Version   int64
	Seq       int64
	UpdatedAt time.Time
}

// settingsSelect reads settings rows with their account's name.
const settingsSelect = `SELECT s.account_id, a.name, s.mask, s.session_hours, s.recovery_contact,
	s.notice, s.version, s.seq, s.updated_at
	FROM account_settings s JOIN accounts a ON a.id = s.account_id `

func scanSettings(sc interface{ Scan(...any) error }) (Settings, error) {
	var st Settings
	var updated int64
	err := sc.Scan(&st.AccountID, &st.AccountName, &st.Mask, &st.SessionHours, &st.RecoveryContact, &st.Notice,
		&st.Version, &st.Seq, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Settings{}, ErrNotFound
	}
	if err != nil {
		return Settings{}, fmt.Errorf("store: settings: %w", err)
	}
	st.UpdatedAt = fromMillis(updated)
	return st, nil
}

// Settings returns an account's settings, or ErrNotFound.
func (s *Store) Settings(ctx context.Context, accountID int64) (Settings, error) {
	return scanSettings(s.queryRow(ctx,
		settingsSelect+"WHERE s.account_id = ?", accountID))
}

// SettingsChangedSince returns the settings rows written after change
// counter seq, in order, so a running server can refresh what another
// process changed.
func (s *Store) SettingsChangedSince(ctx context.Context, seq int64) ([]Settings, error) {
	rows, err := s.query(ctx,
		settingsSelect+"WHERE s.seq > ? ORDER BY s.seq", seq)
	if err != nil {
		return nil, fmt.Errorf("store: changed settings: %w", err)
	}
	defer rows.Close()
	var out []Settings
	for rows.Next() {
		st, err := scanSettings(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: changed settings: %w", err)
	}
	return out, nil
}

// SettingsSeq returns the newest settings change counter.
func (s *Store) SettingsSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.queryRow(ctx, "SELECT coalesce(max(seq), 0) FROM account_settings").Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("store: settings seq: %w", err)
	}
	return seq, nil
}

// SettingsUpdate is one change to one settings field.
type SettingsUpdate struct {
	AccountID int64
	// Version, when not zero, must equal the current version or the update
	// fails with ErrConflict and nothing is written.
	Version int64
	By      Actor
}

// UpdateMask stores a new canonical mask. It reports whether anything
// changed: an unchanged mask writes nothing and no audit event.
func (s *Store) UpdateMask(ctx context.Context, u SettingsUpdate, mask string) (Settings, bool, error) {
	return s.updateField(ctx, u, fieldMask, mask)
}

// UpdateSessionHours stores a new session duration in hours (1 to 72).
func (s *Store) UpdateSessionHours(ctx context.Context, u SettingsUpdate, hours int) (Settings, bool, error) {
	return s.updateField(ctx, u, fieldSessionHours, fmt.Sprint(hours))
}

// UpdateRecoveryContact stores the address support staff check a recovery
// ticket against.
func (s *Store) UpdateRecoveryContact(ctx context.Context, u SettingsUpdate, contact string) (Settings, bool, error) {
	return s.updateField(ctx, u, fieldRecoveryContact, contact)
}

// field names one settings column and the audit action that changes it.
type field struct {
	column, action string
	value          func(Settings) string
}

var (
	fieldMask         = field{"mask", "mask.update", func(st Settings) string { return st.Mask }}
	fieldSessionHours = field{"session_hours", "session_duration.update",
		func(st Settings) string { return fmt.Sprint(st.SessionHours) }}
	fieldRecoveryContact = field{"recovery_contact", "recovery_contact.update",
		func(st Settings) string { return st.RecoveryContact }}
)

func (s *Store) updateField(ctx context.Context, u SettingsUpdate, f field, value string) (Settings, bool, error) {
	var st Settings
	var changed bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		st, changed, err = updateFieldTx(ctx, tx, s.now(), u, f, value)
		return err
	})
	return st, changed, err
}

// updateFieldTx checks the version, writes the field and its audit event in
// tx, and returns the settings as they now stand.
func updateFieldTx(ctx context.Context, tx *sql.Tx, now time.Time, u SettingsUpdate, f field,
	value string) (Settings, bool, error) {
	cur, err := scanSettings(tx.QueryRowContext(ctx,
		settingsSelect+"WHERE s.account_id = ?", u.AccountID))
	if err != nil {
		return Settings{}, false, err
	}
	if u.Version != 0 && u.Version != cur.Version {
		return cur, false, ErrConflict
	}
	old := f.value(cur)
	if old == value {
		return cur, false, nil
	}
	// The column name comes from the fixed field table above, never from input.
	_, err = tx.ExecContext(ctx, "UPDATE account_settings SET "+f.column+ //nolint:gosec // see above
		` = ?, version = version + 1, updated_at = ?,
		seq = (SELECT coalesce(max(seq), 0) + 1 FROM account_settings)
		WHERE account_id = ?`, value, millis(now), u.AccountID)
	if err != nil {
		return Settings{}, false, fmt.Errorf("store: update %s: %w", f.column, err)
	}
	ev := AuditEvent{At: now, AccountID: u.AccountID, Actor: u.By, Action: f.action,
		OldValue: old, NewValue: value}
	if err := addAudit(ctx, tx, ev); err != nil {
		return Settings{}, false, err
	}
	st, err := scanSettings(tx.QueryRowContext(ctx,
		settingsSelect+"WHERE s.account_id = ?", u.AccountID))
	return st, true, err
}

// ClearMask removes every IP allowlist setting of an account in one
// transaction, audited, and leaves notice for the owner's next visit. The
// session duration is left as it was.
func (s *Store) ClearMask(ctx context.Context, accountID int64, by Actor, notice string) (Settings, error) {
	var st Settings
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		st, err = ClearMaskTx(ctx, tx, s.now(), accountID, by, notice)
		return err
	})
	return st, err
}

// ClearMaskTx is ClearMask inside a caller's transaction, for changes such
// as a ticket approval that must land together with the cleared mask.
func ClearMaskTx(ctx context.Context, tx *sql.Tx, now time.Time, accountID int64, by Actor,
	notice string) (Settings, error) {
	u := SettingsUpdate{AccountID: accountID, By: by}
	st, _, err := updateFieldTx(ctx, tx, now, u, fieldMask, "")
	if err != nil {
		return Settings{}, err
	}
	if notice == "" {
		return st, nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE account_settings SET notice = ?,
		seq = (SELECT coalesce(max(seq), 0) + 1 FROM account_settings) WHERE account_id = ?`,
		notice, accountID)
	if err != nil {
		return Settings{}, fmt.Errorf("store: set notice: %w", err)
	}
	st.Notice = notice
	return st, nil
}

// DismissNotice clears the one-time notice once the owner has seen it.
func (s *Store) DismissNotice(ctx context.Context, accountID int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE account_settings SET notice = '',
			seq = (SELECT coalesce(max(seq), 0) + 1 FROM account_settings)
			WHERE account_id = ? AND notice != ''`, accountID)
		if err != nil {
			return fmt.Errorf("store: dismiss notice: %w", err)
		}
		return nil
	})
}

// ResetSettings puts an account back to no mask and the default session
// duration, audited; the demo uses it.
func (s *Store) ResetSettings(ctx context.Context, accountID int64, by Actor) (Settings, error) {
	var st Settings
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u := SettingsUpdate{AccountID: accountID, By: by}
		var err error
		if st, _, err = updateFieldTx(ctx, tx, s.now(), u, fieldMask, ""); err != nil {
			return err
		}
		st, _, err = updateFieldTx(ctx, tx, s.now(), u, fieldSessionHours, fmt.Sprint(DefaultSessionHours))
		return err
	})
	return st, err
}
