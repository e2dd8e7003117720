//go:build !unix

package store

import "os"

// lockFile does nothing where flock(2) does not exist: there, restore
// cannot tell whether a server runs, and the operator must stop it first.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
