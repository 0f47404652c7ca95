package main

import (
	"runtime/debug"
	"strings"
)

// version returns ratioflow's version from the build information: the
// module's version ("(devel)" for a build from a work tree), with the VCS
// revision and "-dirty" for uncommitted changes when the build recorded
// them.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" || strings.Contains(v, rev[:min(12, len(rev))]) {
		return v
	}
	return v + " " + rev[:min(12, len(rev))] + dirty
}
