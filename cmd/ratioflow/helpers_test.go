package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain runs the command itself when a test re-executes the test
// binary as ratioflow (the bench kill test does).
func TestMain(m *testing.M) {
	if os.Getenv("RATIOFLOW_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// result is what one run of the command printed and its exit status, as
// main would print and return them.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

// runCmd runs the command with args and an environment made of env only.
func runCmd(tb testing.TB, ctx context.Context, env map[string]string, args ...string) result {
	tb.Helper()
	return runCmdIn(tb, ctx, env, "", args...)
}

// runCmdIn is runCmd with stdin.
func runCmdIn(tb testing.TB, ctx context.Context, env map[string]string, stdin string, args ...string) result {
	tb.Helper()
	var out, errb bytes.Buffer
	err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	code := exitCode(err)
	if code != 0 {
		errb.WriteString(errorLine(err) + "\n")
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code, err: err}
}

// mustRun runs the command and fails the test unless it exits 0.
func mustRun(tb testing.TB, env map[string]string, args ...string) string {
	tb.Helper()
	r := runCmd(tb, context.Background(), env, args...)
	if r.code != 0 {
		tb.Fatalf("ratioflow %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// sqliteStore returns a store URL of a new SQLite file in a temporary
// directory.
func sqliteStore(tb testing.TB) string {
	return "sqlite:" + filepath.Join(tb.TempDir(), "flows.db")
}

// existingStore returns the store URL of an empty SQLite database, made
// as the demo or serve would make it, for the flows commands to open.
func existingStore(tb testing.TB) string {
	tb.Helper()
	url := sqliteStore(tb)
	st, err := openStore(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
	return url
}

// lastJSON decodes the last line of out into v.
func lastJSON(tb testing.TB, out string, v any) {
	tb.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		tb.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
}

// started runs the command in the background until the test ends, and
// returns the lines of its stdout as they come, and a function that
// stops it and returns its error.
// getenvFree reads env, where a serve the test starts listens for admins
// on a free port unless env says otherwise: tests run side by side.
func getenvFree(env map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok || k != "RATIOFLOW_ADMIN_ADDR" {
			return v
		}
		return "127.0.0.1:0"
	}
}

func started(tb testing.TB, env map[string]string, args ...string) (<-chan string, func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	lines := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, getenvFree(env), strings.NewReader(""), pw, io.Discard)
		pw.Close()
		done <- err
	}()
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads any more
			}
		}
	}()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				tb.Errorf("ratioflow %s did not stop within 15s of its context's end", strings.Join(args, " "))
			}
		})
		return err
	}
	tb.Cleanup(func() { stop() })
	return lines, stop
}

// waitLine returns the text after prefix of the first line that has it.
func waitLine(tb testing.TB, lines <-chan string, prefix string) string {
	tb.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				tb.Fatalf("output ended without a line %q", prefix)
			}
			if i := strings.Index(l, prefix); i >= 0 {
				return strings.TrimSpace(l[i+len(prefix):])
			}
		case <-timeout:
			tb.Fatalf("no line %q within 15s", prefix)
		}
	}
}
