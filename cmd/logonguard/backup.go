package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/logonguard/logonguard/store"
)

// backup writes a consistent copy of the database, running server or not,
// and checks the copy before it reports success.
func (env cmdEnv) backup(args []string) error {
	st, rest, err := env.openExisting("backup", args, 1)
	if err != nil {
		return err
	}
	defer st.Close()
	dest := rest[0]
	if err := st.Backup(env.ctx, dest); errors.Is(err, store.ErrExists) {
		return fmt.Errorf("%s exists already; backup never overwrites a file, choose a new name", dest)
	} else if err != nil {
		return err
	}
	if err := store.CheckFile(env.ctx, dest); err != nil {
		return fmt.Errorf("the copy at %s does not check out: %w", dest, err)
	}
	info, err := os.Stat(dest) //nolint:gosec // the operator names the file on their own command line
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "backup of %s written to %s (%d bytes, integrity ok)\n", st.Path(), dest,
		info.Size())
	return nil
}

// restore replaces the database with a backup. It refuses while a server
// (or another restore) holds the database's lock, keeps the data it
// replaces in a file beside it, and audits the restore in the restored
// database under the operating-system user.
func (env cmdEnv) restore(args []string) (err error) {
	db, rest, err := dbArgs("restore", args, 1)
	if err != nil {
		return err
	}
	src := rest[0]
	lock, err := store.LockDatabase(db)
	if errors.Is(err, store.ErrInUse) {
		return fmt.Errorf("the database %s is in use by a running server or restore; stop it first", db)
	} else if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, lock.Release()) }()
	if same, err := sameFile(db, src); err != nil {
		return err
	} else if same {
		return fmt.Errorf("%w: restore: %s is the database itself", errUsage, src)
	}
	if err := store.CheckFile(env.ctx, src); err != nil {
		return fmt.Errorf("refusing to restore from %s: %w", src, err)
	}
	kept, err := env.keepCurrent(db)
	if err != nil {
		return err
	}
	if err := store.Restore(env.ctx, db, src); err != nil {
		return err
	}
	st, err := store.Open(env.ctx, db, nil) // brings an older backup's schema up to date
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.AddAudit(env.ctx, store.AuditEvent{Actor: operator(), Action: "database.restore",
		OldValue: kept, NewValue: src}); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s restored from %s; every session has ended\n", db, src)
	if kept != "" {
		fmt.Fprintf(env.stdout, "the data it replaced is kept in %s\n", kept)
	}
	return nil
}

// keepCurrent backs up the database about to be replaced, if there is one,
// and returns where.
func (env cmdEnv) keepCurrent(db string) (string, error) {
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	st, err := store.Open(env.ctx, db, nil)
	if err != nil {
		return "", err
	}
	defer st.Close()
	kept := db + ".before-restore-" + time.Now().UTC().Format("20060102T150405.000Z")
	if err := st.Backup(env.ctx, kept); err != nil {
		return "", fmt.Errorf("keep the current data before restoring: %w", err)
	}
	return kept, nil
}

// sameFile reports whether a and b name one file; a missing a is not b.
func sameFile(a, b string) (bool, error) {
	ia, err := os.Stat(a)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	ib, err := os.Stat(b)
	if err != nil {
		return false, fmt.Errorf("restore from %s: %w", b, err)
	}
	pa, _ := filepath.Abs(a)
	pb, _ := filepath.Abs(b)
	return os.SameFile(ia, ib) || pa == pb, nil
}
