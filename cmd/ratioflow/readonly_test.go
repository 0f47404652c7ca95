package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlows_MissingSQLiteFileIsNotCreated runs every flows subcommand on a
// SQLite path that does not exist, as a typo in --store makes one: each
// fails, naming the path, and leaves the directory empty (no database, no
// key file, no WAL).
func TestFlows_MissingSQLiteFileIsNotCreated(t *testing.T) {
	t.Parallel()
	key := map[string]string{"RATIOFLOW_SEAL_KEY": strings.Repeat("ab", 32)}
	for _, args := range [][]string{
		{"list"}, {"list", "--json"}, {"show", "abc"}, {"audit", "abc"}, {"stats"},
		{"sweep"}, {"purge", "--keep-data", "1h"}, {"cancel", "abc"}, {"reseal"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "typo.db")
			for _, env := range []map[string]string{nil, key} {
				r := runCmd(t, context.Background(), env, append(append([]string{"flows"}, args...), "--store", "sqlite:"+path)...)
				if r.code != 1 || !strings.Contains(r.stderr, path+" does not exist") {
					t.Errorf("flows %s on a missing file: exit %d, stderr %q; want 1 and the path", strings.Join(args, " "), r.code, r.stderr)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("flows %s made %d files in the directory, want none (first: %s)", strings.Join(args, " "), len(entries), entries[0].Name())
			}
		})
	}
}
