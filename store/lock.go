package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Lock is an exclusive hold on a database file: `serve` keeps one for as
// long as it runs and `restore` takes one before replacing the data, so a
// restore never pulls the data from under a running server. The lock is
// the operating system's, on a file beside the database (PATH.lock); it
// ends with the process, crash or not, so no stale lock needs cleaning up.
type Lock struct{ f *os.File }

// LockFile returns the lock file's path for the database at path. Symbolic
// links are resolved first, so two spellings of one database share a lock.
func LockFile(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real + ".lock"
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(dir, filepath.Base(path)) + ".lock"
	}
	return path + ".lock"
}

// LockDatabase takes the lock on the database at path without waiting. It
// returns ErrInUse when another holder has it.
func LockDatabase(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: create directory: %w", err)
	}
	f, err := os.OpenFile(LockFile(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up. The lock file stays: removing it would let a
// second process lock a new file while a first still holds the old one.
func (l *Lock) Release() error {
	if err := unlockFile(l.f); err != nil {
		return errors.Join(err, l.f.Close())
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("store: close lock file: %w", err)
	}
	return nil
}
