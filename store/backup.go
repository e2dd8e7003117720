package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
)

// Backup writes a consistent copy of the database to dest with VACUUM INTO,
// which reads one snapshot while writers go on. The copy is written to a
// temporary file beside dest, synced, and only then linked to dest, so dest
// is either complete or absent, and a dest that exists is never replaced:
// Backup returns ErrExists for it. The copy is readable by its owner only,
// since it holds password hashes.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("store: backup to %s: %w", dest, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := s.vacuumInto(ctx, tmpName); err != nil {
		return err
	}
	if err := syncFile(tmpName); err != nil {
		return err
	}
	// Link, unlike rename, fails when dest appeared meanwhile.
	if err := os.Link(tmpName, dest); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: backup to %s: %w", dest, ErrExists)
	} else if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return syncFile(filepath.Dir(dest))
}

// vacuumInto runs VACUUM INTO on a connection of its own: the read pool is
// query-only, which SQLite counts VACUUM INTO against, and the write
// connection would hold up every writer of this process meanwhile.
func (s *Store) vacuumInto(ctx context.Context, dest string) error {
	db, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path) //nolint:gosec // the backup's own file or its directory
	if err != nil {
		return fmt.Errorf("store: sync: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: sync %s: %w", path, err)
	}
	return nil
}

// CheckFile opens the SQLite file at path read-only and reports whether it
// is a whole Logon Guard database: PRAGMA integrity_check answers ok and
// the accounts and settings tables exist. It changes nothing in the file.
func CheckFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: check %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", readOnlyURI(path))
	if err != nil {
		return fmt.Errorf("store: check %s: %w", path, err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("store: check %s: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("store: check %s: integrity check says %q", path, result)
	}
	var tables int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table'
		AND name IN ('accounts', 'account_settings', 'goose_db_version')`).Scan(&tables)
	if err != nil {
		return fmt.Errorf("store: check %s: %w", path, err)
	}
	if tables != 3 {
		return fmt.Errorf("store: check %s: not a Logon Guard database", path)
	}
	return nil
}

// readOnlyURI opens a file without ever writing to it.
func readOnlyURI(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(10000)"
}

// restorer is the modernc driver connection's restore entry point.
type restorer interface {
	NewRestore(srcURI string) (*sqlite.Backup, error)
}

// Restore replaces the contents of the database at path with those of the
// file src through SQLite's online backup API, which writes the pages under
// SQLite's own locks, so its write-ahead log stays consistent. It then ends
// every session the copy holds: a backup from before a password change
// must not bring back the sessions that change ended. The caller must hold
// the database's Lock: Restore does not check for a server. Bring the
// schema up to date afterwards by opening the database.
func Restore(ctx context.Context, path, src string) error {
	if err := CheckFile(ctx, src); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		r, ok := dc.(restorer)
		if !ok {
			return errors.New("store: restore: the SQLite driver offers no backup API")
		}
		b, err := r.NewRestore(readOnlyURI(src))
		if err != nil {
			return err
		}
		if _, err := b.Step(-1); err != nil {
			return errors.Join(err, b.Finish())
		}
		return b.Finish()
	})
	if err != nil {
		return fmt.Errorf("store: restore from %s: %w", src, err)
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM sessions"); err != nil {
		return fmt.Errorf("store: restore: end sessions: %w", err)
	}
	return nil
}
