// Package store keeps Logon Guard's data in one SQLite file: accounts and
// their settings, staff, sessions, logon events and the audit log.
//
// A Store holds two pools on the same file: one writer connection, whose
// transactions take the write lock at BEGIN, and a pool of read-only
// connections, so page reads never queue behind a write. The mask is kept as
// canonical text; store never parses it.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Errors callers test for with errors.Is.
var (
	// ErrNotFound means no row matched the name or id asked for.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means the settings changed since the version the caller read.
	ErrConflict = errors.New("store: version conflict")
	// ErrExists means a row with that unique name exists already.
	ErrExists = errors.New("store: already exists")
	// ErrInUse means another process holds the database open.
	ErrInUse = errors.New("store: database in use")
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite database behind Logon Guard. It is safe for
// concurrent use.
type Store struct {
	write *sql.DB
	read  *sql.DB
	path  string
	now   func() time.Time
	// stmts caches prepared read statements by their SQL text: preparing
	// was most of a primary-key probe's cost.
	stmts sync.Map
	// sessions caches session reads; every session write passes through it.
	sessions *sessionCache
}

// Open opens (creating where needed) the database file at path, brings its
// schema up to date and returns a Store using now as its clock.
func Open(ctx context.Context, path string, now func() time.Time) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create directory: %w", err)
		}
	}
	// The file holds password hashes: create it readable by its owner only
	// (SQLite gives its -wal and -shm files the same mode).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // the operator names the database file
	if err != nil {
		return nil, fmt.Errorf("store: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("store: create database file: %w", err)
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	// One writer: SQLite allows one at a time, and a single connection turns
	// contention into a queue instead of "database is locked" errors.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := migrate(ctx, write); err != nil {
		return nil, errors.Join(err, write.Close())
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open: %w", err), write.Close())
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
	read.SetMaxIdleConns(max(4, runtime.NumCPU()*2))
	if now == nil {
		now = time.Now
	}
	return &Store{write: write, read: read, path: path, now: now, sessions: newSessionCache()}, nil
}

// dsn builds the connection string. WAL lets readers run beside the writer;
// synchronous=FULL makes every acknowledged change survive a power cut, not
// just a crash of the process, which matters more here than write speed:
// settings changes are rare and logon events are batched.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	s.stmts.Range(func(_, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(append(errs, s.read.Close(), s.write.Close())...)
}

// stmt returns the prepared read statement for q, preparing it once.
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.read.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	if prev, loaded := s.stmts.LoadOrStore(q, st); loaded {
		// Another caller prepared the same query first; theirs serves.
		defer st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// queryRow runs a one-row read through a prepared statement.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, q) //nolint:sqlclosecheck // kept for the Store's life
	if err != nil {
		// The unprepared query reports the same error through Scan.
		return s.read.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a read through a prepared statement.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, q) //nolint:sqlclosecheck // kept for the Store's life
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.queryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// inTx runs fn in one write transaction, committing when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// millis turns a time into the integer column form used throughout the schema.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis is the inverse of millis.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms) }
