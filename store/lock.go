package store

import (
	"fmt"
	"os"
)

// Lock is an exclusive hold on a database file: `serve` keeps one for as
// long as it runs and `restore` takes one before replacing the data, so a
// restore never pulls the data from under a running server. The lock is
// the operating system's, on a file beside the database (PATH.lock); it
// ends with the process, crash or not, so no stale lock needs cleaning up.
type Lock struct{ f *os.File }

// LockFile returns the lock file's path for the database at path.
func LockFile(path string) string { return path + ".lock" }

// LockDatabase takes the lock on the database at path without waiting. It
// returns ErrInUse when another holder has it.
func LockDatabase(path string) (*Lock, error) {
	f, err := os.OpenFile(LockFile(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up. The lock file stays: removing it would let a
// second process lock a new file while a first still holds the old one.
func (l *Lock) Release() error {
	if err := unlockFile(l.f); err != nil {
		l.f.Close()
		return err
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("store: close lock file: %w", err)
	}
	return nil
}
