package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Session value keys the codec and the sessions table understand.
const (
	SessionAccountID = "account_id"
	SessionStaffID   = "staff_id"
	SessionCreated   = "created"
	SessionSource    = "source"
)

// SessionStore keeps scs sessions in the sessions table. Tokens arrive
// hashed (scs HashTokenInStore), so a copy of the database opens no session.
// It implements scs.CtxStore.
type SessionStore struct{ st *Store }

// Sessions returns the scs store on this database.
func (s *Store) Sessions() *SessionStore { return &SessionStore{st: s} }

// HashToken returns the form in which a session cookie's token is stored,
// the same that scs uses with HashTokenInStore.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// FindCtx returns a session's data when it exists and has not expired.
func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	now := ss.st.now()
	if data, found, ok := ss.st.sessions.find(token, now); ok {
		return data, found, nil
	}
	var data []byte
	var expiry, id int64
	var kind string
	err := ss.st.queryRow(ctx,
		"SELECT data, expiry, kind, principal_id FROM sessions WHERE token = ? AND expiry > ?",
		token, millis(now)).Scan(&data, &expiry, &kind, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	ss.st.sessions.put(token, cachedSession{data: data, expiry: fromMillis(expiry),
		principal: principalKey{kind, id}, loaded: time.Now()})
	return data, true, nil
}

type existingKey struct{}

// ExistingSession marks ctx for committing a session that was loaded from
// the store. Such a commit only updates the session's row and fails with
// ErrNotFound when the row is gone, so a request that was under way when
// its session was ended (all other sessions, a new password) cannot write
// the session back.
func ExistingSession(ctx context.Context) context.Context {
	return context.WithValue(ctx, existingKey{}, true)
}

// CommitCtx writes a session with its expiry. The principal, start time and
// source address are read from the encoded values into their own columns.
func (ss *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, values, err := SessionCodec{}.Decode(b)
	if err != nil {
		return err
	}
	kind, id := principal(values)
	created, _ := values[SessionCreated].(time.Time)
	source, _ := values[SessionSource].(string)
	if existing, _ := ctx.Value(existingKey{}).(bool); existing {
		res, err := ss.st.write.ExecContext(ctx, `UPDATE sessions SET data = ?, expiry = ?,
			kind = ?, principal_id = ?, created_at = ?, source = ? WHERE token = ?`,
			b, millis(expiry), kind, id, millis(created), source, token)
		if err != nil {
			return fmt.Errorf("store: commit session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: commit session: %w", ErrNotFound)
		}
	} else if _, err := ss.st.write.ExecContext(ctx, `INSERT INTO sessions
		(token, data, expiry, kind, principal_id, created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry,
		kind = excluded.kind, principal_id = excluded.principal_id,
		created_at = excluded.created_at, source = excluded.source`,
		token, b, millis(expiry), kind, id, millis(created), source); err != nil {
		return fmt.Errorf("store: commit session: %w", err)
	}
	ss.st.sessions.put(token, cachedSession{data: b, expiry: expiry, principal: principalKey{kind, id},
		loaded: time.Now()})
	return nil
}

func principal(values map[string]any) (string, int64) {
	if id, ok := values[SessionAccountID].(int64); ok {
		return KindOwner, id
	}
	if id, ok := values[SessionStaffID].(int64); ok {
		return KindStaff, id
	}
	return "anonymous", 0
}

// DeleteCtx removes a session; a missing one is no error.
func (ss *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	ss.st.sessions.forget(token, principalKey{}, "")
	if _, err := ss.st.write.ExecContext(ctx, "DELETE FROM sessions WHERE token = ?", token); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Find implements scs.Store.
func (ss *SessionStore) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (ss *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (ss *SessionStore) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}

// SessionInfo describes one open session for the owner's list.
type SessionInfo struct {
	Token     string // the stored (hashed) token
	CreatedAt time.Time
	Expiry    time.Time
	Source    string
}

// OpenSessions lists a principal's unexpired sessions, newest first.
func (s *Store) OpenSessions(ctx context.Context, kind string, id int64) ([]SessionInfo, error) {
	now := s.now()
	if list, ok := s.sessions.openList(principalKey{kind, id}, now); ok {
		return list, nil
	}
	rows, err := s.query(ctx, `SELECT token, created_at, expiry, source FROM sessions
		WHERE kind = ? AND principal_id = ? AND expiry > ? ORDER BY created_at DESC`,
		kind, id, millis(now))
	if err != nil {
		return nil, fmt.Errorf("store: open sessions: %w", err)
	}
	defer rows.Close()
	var out []SessionInfo
	for rows.Next() {
		var si SessionInfo
		var created, expiry int64
		if err := rows.Scan(&si.Token, &created, &expiry, &si.Source); err != nil {
			return nil, fmt.Errorf("store: open sessions: %w", err)
		}
		si.CreatedAt, si.Expiry = fromMillis(created), fromMillis(expiry)
		out = append(out, si)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: open sessions: %w", err)
	}
	s.sessions.putOpenList(principalKey{kind, id}, out)
	return out, nil
}

// EndSessions ends a principal's sessions except the one stored as
// keepToken ("" ends all). It returns how many it ended.
func (s *Store) EndSessions(ctx context.Context, kind string, id int64, keepToken string) (int64, error) {
	s.sessions.forget("", principalKey{kind, id}, keepToken)
	res, err := s.write.ExecContext(ctx,
		"DELETE FROM sessions WHERE kind = ? AND principal_id = ? AND token != ?", kind, id, keepToken)
	if err != nil {
		return 0, fmt.Errorf("store: end sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	// Forget again: a concurrent read may have cached a row just before the delete.
	s.sessions.forget("", principalKey{kind, id}, keepToken)
	return n, nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.write.ExecContext(ctx, "DELETE FROM sessions WHERE expiry <= ?", millis(s.now()))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
