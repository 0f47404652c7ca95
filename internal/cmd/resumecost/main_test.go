package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/internal/pgtest"
)

// TestRun_SQLite seeds two small stores, measures them once and checks
// that every measure has its figures and every statement its plan, with
// no table read whole. It checks no timing: performance targets live in
// the command's output.
func TestRun_SQLite(t *testing.T) {
	got := runSmall(t, "")
	checkOutput(t, got, "SQLite")
	if plans := got[strings.Index(got, "SQLite query plans"):]; strings.Contains(plans, "READS A TABLE WHOLE") {
		t.Errorf("a SQLite statement reads a table whole:\n%s", plans)
	}
}

// TestRun_PostgreSQL does the same on PostgreSQL, where the planner
// chooses by the tables' size: 300 flows are too few to ask for indexes.
func TestRun_PostgreSQL(t *testing.T) {
	checkOutput(t, runSmall(t, pgtest.DSN(t)), "PostgreSQL")
}

// runSmall runs the command on stores of 100 and 300 flows, on SQLite and
// on the PostgreSQL of dsn if not empty, and returns what it printed.
func runSmall(t *testing.T, dsn string) string {
	t.Helper()
	args := []string{"-sizes", "100,300", "-rounds", "1", "-samples", "3", "-batch", "1", "-dir", t.TempDir(),
		"-sqlite=" + strconv.FormatBool(dsn == ""), "-postgres", dsn, "-sql"}
	var out bytes.Buffer
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
	return out.String()
}

func checkOutput(t *testing.T, got, db string) {
	t.Helper()
	for _, m := range measureNames {
		for _, n := range []string{"100", "300"} {
			if !regexp.MustCompile(`\| ` + regexp.QuoteMeta(m) + ` +\| ` + n + ` +\| [0-9.]+ +\| [0-9.]+ `).MatchString(got) {
				t.Errorf("%s: no figures for %q at %s flows in:\n%s", db, m, n, got)
			}
		}
	}
	for _, want := range []string{db + " query plans at 300 flows", db + " disk size", "SELECT id, kind", "claimed_until"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

func TestParse_RejectsBadSizes(t *testing.T) {
	for _, args := range [][]string{{"-sizes", "10"}, {"-sizes", "1000,x"}, {"-rounds", "0"}} {
		if _, err := parse(args, io.Discard); err == nil {
			t.Errorf("parse(%q) = nil error, want one", args)
		}
	}
}
