package main

import (
	"fmt"
	"runtime/debug"
)

// commit is set at build time by the Makefile (-ldflags -X main.commit=...).
var commit = ""

// versionLine returns the module version and commit.
func versionLine() string {
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && commit == "" {
				commit = s.Value
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf("logonguard %s commit %s", version, commit)
}
