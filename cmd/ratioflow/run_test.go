package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/ratio/ratiotest"
)

// TestRun runs the command through run, as main does, for every
// subcommand's help, usage errors, failures and quick successes. The
// longer successes (demo, flows, serve, bench) have tests of their own.
func TestRun(t *testing.T) {
	t.Parallel()
	notSandbox := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notSandbox.Close)
	sandbox := ratiotest.NewServer(t)
	store := existingStore(t)
	missing := sqliteStore(t)
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		// Help: exit 0, usage on stdout.
		{name: "help", args: []string{"--help"}, wantStdout: []string{"Commands:", "demo", "bench", "RATIOFLOW_SEAL_KEY"}},
		{name: "help word", args: []string{"help"}, wantStdout: []string{"Usage:"}},
		{name: "demo help", args: []string{"demo", "--help"}, wantStdout: []string{"ratioflow demo", "-flow", "-json"}},
		{name: "sandbox help", args: []string{"sandbox", "-h"}, wantStdout: []string{"ratioflow sandbox", "-addr", "-allow-remote"}},
		{name: "serve help", args: []string{"serve", "--help"}, wantStdout: []string{"X-Ratioflow-Subject", "-addr", "-store"}},
		{name: "diagram help", args: []string{"diagram", "--help"}, wantStdout: []string{"-format", "-out"}},
		{name: "flows help", args: []string{"flows", "--help"}, wantStdout: []string{"list", "sweep"}},
		{name: "flows list help", args: []string{"flows", "list", "--help"}, wantStdout: []string{"-older-than", "-kind"}},
		{name: "flows show help", args: []string{"flows", "show", "--help"}, wantStdout: []string{"flows show ID"}},
		{name: "flows audit help", args: []string{"flows", "audit", "--help"}, wantStdout: []string{"-format"}},
		{name: "flows resume help", args: []string{"flows", "resume", "--help"}, wantStdout: []string{"-ratio"}},
		{name: "flows cancel help", args: []string{"flows", "cancel", "--help"}, wantStdout: []string{"Canceled"}},
		{name: "flows sweep help", args: []string{"flows", "sweep", "--help"}, wantStdout: []string{"-limit"}},
		{name: "flows purge help", args: []string{"flows", "purge", "--help"}, wantStdout: []string{"-keep-data", "-keep-history", "never touched"}},
		{name: "serve help names retention", args: []string{"serve", "--help"}, wantStdout: []string{"-keep-data", "-keep-history"}},
		{name: "wallet help", args: []string{"wallet", "--help"}, wantStdout: []string{"personal_sign", "never for funds"}},
		{name: "wallet sign help", args: []string{"wallet", "sign", "--help"}, wantStdout: []string{"-key", "RATIOFLOW_WALLET_KEY"}},
		{name: "bench help", args: []string{"bench", "--help"}, wantStdout: []string{"-concurrency", "-resume", "engine_to_raw"}},

		// Bad usage: exit 2, one error line and where to look.
		{name: "no command", args: nil, wantCode: 2, wantStderr: []string{"error: no command given"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantStderr: []string{`unknown command "frobnicate"`}},
		{name: "unknown flag", args: []string{"demo", "--frob"}, wantCode: 2,
			wantStderr: []string{"flag provided but not defined: -frob", "ratioflow demo --help"}},
		{name: "unexpected argument", args: []string{"demo", "extra"}, wantCode: 2, wantStderr: []string{`unexpected argument "extra"`}},
		{name: "bad demo flow", args: []string{"demo", "--flow", "teleport"}, wantCode: 2,
			wantStderr: []string{`--flow "teleport": no such flow`, "link-factors-first"}},
		{name: "bad diagram flow", args: []string{"diagram", "--flow", "teleport"}, wantCode: 2, wantStderr: []string{"all"}},
		{name: "bad diagram format", args: []string{"diagram", "--format", "png"}, wantCode: 2, wantStderr: []string{`--format "png"`}},
		{name: "bad bench flow", args: []string{"bench", "--flow", "teleport"}, wantCode: 2, wantStderr: []string{"no such flow"}},
		{name: "bench without flows", args: []string{"bench", "--flows", "0"}, wantCode: 2, wantStderr: []string{"--flows must be at least 1"}},
		{name: "bench without replicas", args: []string{"bench", "--replicas", "0"}, wantCode: 2, wantStderr: []string{"--replicas must be from 1 to 16"}},
		{name: "bench without a pool", args: []string{"bench", "--pool-max", "0"}, wantCode: 2, wantStderr: []string{"--pool-max must be at least 1"}},
		{name: "serve without a pool", args: []string{"serve", "--sandbox", "--pool-max", "0"}, wantCode: 2, wantStderr: []string{"--pool-max must be at least 1"}},
		{name: "bench --durable --resume", args: []string{"bench", "--durable", "--resume"}, wantCode: 2, wantStderr: []string{"--durable measures a new run"}},
		{name: "bench with too many replicas", args: []string{"bench", "--replicas", "17"}, wantCode: 2, wantStderr: []string{"--replicas must be from 1 to 16"}},
		{name: "bench negative latency", args: []string{"bench", "--latency", "-1s"}, wantCode: 2, wantStderr: []string{"--latency must not be negative"}},
		{name: "sandbox negative latency", args: []string{"sandbox", "--latency", "-5ms"}, wantCode: 2, wantStderr: []string{"--latency must not be negative"}},
		{name: "wallet without subcommand", args: []string{"wallet"}, wantCode: 2, wantStderr: []string{"new or sign"}},
		{name: "unknown wallet subcommand", args: []string{"wallet", "mint"}, wantCode: 2, wantStderr: []string{`"mint"`}},
		{name: "wallet new with an argument", args: []string{"wallet", "new", "x"}, wantCode: 2, wantStderr: []string{`unexpected argument "x"`}},
		{name: "wallet sign without key", args: []string{"wallet", "sign", "hello"}, wantCode: 2,
			wantStderr: []string{"give --key KEY (or set RATIOFLOW_WALLET_KEY)"}},
		{name: "wallet sign without message", args: []string{"wallet", "sign", "--key", strings.Repeat("ab", 32)}, wantCode: 2,
			wantStderr: []string{"missing the message"}},
		{name: "wallet sign unquoted message", args: []string{"wallet", "sign", "--key", strings.Repeat("ab", 32), "Signing", "in"}, wantCode: 2,
			wantStderr: []string{`unexpected argument "in"`, "quote the message"}},
		{name: "wallet sign short key", args: []string{"wallet", "sign", "--key", "0xabcd", "hello"}, wantCode: 2,
			wantStderr: []string{"--key: the key must be 64 hex digits", "got 4 characters"}},
		{name: "wallet sign zero key", args: []string{"wallet", "sign", "hello"}, env: map[string]string{"RATIOFLOW_WALLET_KEY": strings.Repeat("0", 64)},
			wantCode: 2, wantStderr: []string{"not a valid secp256k1 key"}},
		{name: "flows without subcommand", args: []string{"flows"}, wantCode: 2, wantStderr: []string{"list, show, audit"}},
		{name: "unknown flows subcommand", args: []string{"flows", "burn"}, wantCode: 2, wantStderr: []string{`"burn"`}},
		{name: "show without ID", args: []string{"flows", "show", "--store", store}, wantCode: 2, wantStderr: []string{"missing the flow ID"}},
		{name: "show with two IDs", args: []string{"flows", "show", "a", "b"}, wantCode: 2, wantStderr: []string{`unexpected argument "b"`}},
		{name: "audit bad format", args: []string{"flows", "audit", "abc", "--format", "dot"}, wantCode: 2, wantStderr: []string{`--format "dot"`}},
		{name: "list bad state", args: []string{"flows", "list", "--state", "Asleep"}, wantCode: 2, wantStderr: []string{"no such state"}},
		{name: "list bad kind", args: []string{"flows", "list", "--kind", "teleport"}, wantCode: 2, wantStderr: []string{"no such flow"}},
		{name: "list bad duration", args: []string{"flows", "list", "--older-than", "soon"}, wantCode: 2, wantStderr: []string{"invalid value"}},
		{name: "purge without a policy", args: []string{"flows", "purge", "--store", store}, wantCode: 2,
			wantStderr: []string{"give --keep-data, --keep-history or both"}},
		{name: "purge negative", args: []string{"flows", "purge", "--keep-data", "-1h"}, wantCode: 2,
			wantStderr: []string{"--keep-data must not be negative"}},
		{name: "serve negative retention", args: []string{"serve", "--keep-history", "-1s"}, wantCode: 2,
			wantStderr: []string{"--keep-history must not be negative"}},
		{name: "sandbox on every interface", args: []string{"sandbox", "--addr", "0.0.0.0:8547"}, wantCode: 2,
			wantStderr: []string{"reachable from other hosts", "--allow-remote"}},
		{name: "serve help names the admin listener", args: []string{"serve", "--help"}, wantStdout: []string{"-admin-addr", "-admin-token", "-mermaid-js", "/console/"}},
		{name: "serve admin on another host without a token", args: []string{"serve", "--sandbox", "--admin-addr", "0.0.0.0:8081"}, wantCode: 2,
			wantStderr: []string{`--admin-addr "0.0.0.0:8081" is reachable from other hosts: give --admin-token (or RATIOFLOW_ADMIN_TOKEN)`}},
		{name: "serve admin on the public address", args: []string{"serve", "--sandbox", "--addr", "127.0.0.1:9000", "--admin-addr", "127.0.0.1:9000"},
			wantCode: 2, wantStderr: []string{"needs an address of its own"}},
		{name: "serve bad admin address", args: []string{"serve", "--sandbox", "--admin-addr", "nonsense"}, wantCode: 2,
			wantStderr: []string{`--admin-addr "nonsense"`, "--admin-addr off"}},
		{name: "serve a missing mermaid copy", args: []string{"serve", "--sandbox", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
			"--store", "memory:", "--mermaid-js", "/nonexistent/mermaid.min.js"}, wantCode: 2,
			wantStderr: []string{`--mermaid-js "/nonexistent/mermaid.min.js": neither an http(s) URL nor a readable file`}},
		{name: "serve on a host name", args: []string{"serve", "--addr", "example.com:80"}, wantCode: 2, wantStderr: []string{"--allow-remote"}},
		{name: "serve without a pending timeout", args: []string{"serve", "--pending-timeout", "0s"}, wantCode: 2,
			wantStderr: []string{"--pending-timeout must be positive"}},
		{name: "serve bad address", args: []string{"serve", "--addr", "nonsense"}, wantCode: 2, wantStderr: []string{`--addr "nonsense"`}},
		{name: "serve without a Ratio", args: []string{"serve", "--store", store}, wantCode: 2,
			wantStderr: []string{"which Ratio? give --ratio URL (or RATIO_BASE_URL), or --sandbox"}},
		{name: "serve with two Ratios", args: []string{"serve", "--sandbox", "--ratio", sandbox.URL}, wantCode: 2,
			wantStderr: []string{"--sandbox and --ratio (or RATIO_BASE_URL) both name a Ratio"}},
		{name: "serve without a store", args: []string{"serve", "--ratio", sandbox.URL}, wantCode: 2,
			wantStderr: []string{"give --store URL (or RATIOFLOW_STORE)"}},
		{name: "serve flag from the environment", args: []string{"serve", "--sandbox"},
			env: map[string]string{"RATIOFLOW_ADDR": "nonsense"}, wantCode: 2, wantStderr: []string{`--addr "nonsense"`}},
		{name: "serve bad flag in the environment", args: []string{"serve", "--sandbox"},
			env: map[string]string{"RATIOFLOW_SWEEP": "often"}, wantCode: 2, wantStderr: []string{`RATIOFLOW_SWEEP="often"`}},
		{name: "serve the command line wins", args: []string{"serve", "--sandbox", "--log-format", "yaml"},
			env: map[string]string{"RATIOFLOW_LOG_FORMAT": "json"}, wantCode: 2, wantStderr: []string{`--log-format "yaml"`}},
		{name: "serve real Ratio without a seal key", args: []string{"serve", "--store", store, "--ratio", notSandbox.URL},
			env: map[string]string{"RATIO_CLIENT_ID": "id", "RATIO_CLIENT_SECRET": "secret"}, wantCode: 1,
			wantStderr: []string{"serving the real Ratio needs RATIOFLOW_SEAL_KEYS (or RATIOFLOW_SEAL_KEY) in the environment"}},

		{name: "unknown store scheme", args: []string{"flows", "list", "--store", "mysql://db/flows"}, wantCode: 2,
			wantStderr: []string{`error: open store: unsupported store URL scheme "mysql"`}},
		{name: "store URL without scheme", args: []string{"flows", "list", "--store", "nonsense"}, wantCode: 2,
			wantStderr: []string{`store URL "nonsense" has no scheme`}},
		{name: "store URL from the environment", args: []string{"flows", "stats"}, env: map[string]string{"RATIOFLOW_STORE": "sqlite:"},
			wantCode: 2, wantStderr: []string{"store URL sqlite: needs a file path"}},
		{name: "demo on a malformed store", args: []string{"demo", "--store", "nonsense"}, wantCode: 2, wantStderr: []string{"has no scheme"}},
		{name: "bench on a malformed store", args: []string{"bench", "--store", "memory:x"}, wantCode: 2, wantStderr: []string{"memory: takes no path"}},
		{name: "serve on a malformed store", args: []string{"serve", "--sandbox", "--store", "nonsense"}, wantCode: 2,
			wantStderr: []string{"has no scheme"}},
		{name: "sweep on a malformed store", args: []string{"flows", "sweep", "--store", "nonsense"}, wantCode: 2,
			wantStderr: []string{"has no scheme"}},

		// Failures: exit 1, one line.
		{name: "list a missing sqlite file", args: []string{"flows", "list", "--store", missing}, wantCode: 1,
			wantStderr: []string{"the SQLite file " + strings.TrimPrefix(missing, "sqlite:") + " does not exist"}},
		{name: "show from a missing sqlite file", args: []string{"flows", "show", "abc", "--store", missing}, wantCode: 1,
			wantStderr: []string{"does not exist"}},
		{name: "unreachable postgres", args: []string{"flows", "list", "--store", "postgres://nobody:hunter2@127.0.0.1:1/flows?connect_timeout=2"},
			wantCode: 1, wantStderr: []string{"error: open store:"}},
		{name: "missing sqlite directory", args: []string{"flows", "list", "--store", "sqlite:/nonexistent/dir/flows.db"}, wantCode: 1,
			wantStderr: []string{"does not exist"}},
		{name: "unknown flow", args: []string{"flows", "show", "0123456789abcdef", "--store", store}, wantCode: 1,
			wantStderr: []string{"error: no flow 0123456789abcdef in " + store}},
		{name: "unknown flow to audit", args: []string{"flows", "audit", "0123", "--store", store}, wantCode: 1, wantStderr: []string{"no flow 0123"}},
		{name: "bad seal key", args: []string{"demo", "--store", "memory:"}, env: map[string]string{"RATIOFLOW_SEAL_KEY": "not-a-key"},
			wantCode: 1, wantStderr: []string{"error: RATIOFLOW_SEAL_KEY: the key must be 64 hex digits"}},
		{name: "short seal key", args: []string{"flows", "sweep", "--store", store}, env: map[string]string{"RATIOFLOW_SEAL_KEY": "abcd"},
			wantCode: 1, wantStderr: []string{"RATIOFLOW_SEAL_KEY: the key must be"}},
		{name: "bad seal keyring", args: []string{"flows", "sweep", "--store", store},
			env: map[string]string{"RATIOFLOW_SEAL_KEYS": "k1:" + strings.Repeat("ab", 32) + ",k0:abcd"}, wantCode: 1,
			wantStderr: []string{`error: RATIOFLOW_SEAL_KEYS: pair 2 (id "k0"): the key must be 64 hex digits`}},
		{name: "both seal key variables", args: []string{"flows", "sweep", "--store", store},
			env:      map[string]string{"RATIOFLOW_SEAL_KEYS": "k1:" + strings.Repeat("ab", 32), "RATIOFLOW_SEAL_KEY": strings.Repeat("ab", 32)},
			wantCode: 1, wantStderr: []string{"error: RATIOFLOW_SEAL_KEYS: RATIOFLOW_SEAL_KEY is set too: keep RATIOFLOW_SEAL_KEYS only"}},
		{name: "no seal key for memory", args: []string{"flows", "sweep", "--store", "memory:"}, wantCode: 1,
			wantStderr: []string{"RATIOFLOW_SEAL_KEYS (or RATIOFLOW_SEAL_KEY) is not set"}},
		{name: "no seal key for postgres", args: []string{"flows", "cancel", "abc", "--store", "postgres://127.0.0.1:1/x?connect_timeout=1"},
			wantCode: 1, wantStderr: []string{"error:"}},
		{name: "resume without Ratio", args: []string{"flows", "resume", "abc", "--store", store}, wantCode: 1,
			wantStderr: []string{"resume calls Ratio", "in-process sandbox cannot be resumed"}},
		{name: "Ratio unreachable", args: []string{"demo", "--store", "memory:", "--ratio", "http://127.0.0.1:1"}, wantCode: 1,
			wantStderr: []string{"error: Ratio at http://127.0.0.1:1 does not answer"}},
		{name: "Ratio without credentials", args: []string{"demo", "--store", "memory:", "--ratio", notSandbox.URL}, wantCode: 1,
			wantStderr: []string{"is not a sandbox", "RATIO_CLIENT_ID"}},
		{name: "bench against Ratio", args: []string{"bench", "--store", "memory:", "--ratio", notSandbox.URL},
			env: map[string]string{"RATIO_CLIENT_ID": "id", "RATIO_CLIENT_SECRET": "secret"}, wantCode: 1,
			wantStderr: []string{"bench runs against a sandbox only"}},
		{name: "bench resume without sandbox", args: []string{"bench", "--resume", "--store", store}, wantCode: 1,
			wantStderr: []string{"needs the sandbox the killed run used"}},
		{name: "bench resume on memory", args: []string{"bench", "--resume", "--store", "memory:", "--ratio", sandbox.URL}, wantCode: 1,
			wantStderr: []string{"needs the durable store"}},
		{name: "bench resume without key", args: []string{"bench", "--resume", "--store", "postgres://127.0.0.1:1/x", "--ratio", sandbox.URL},
			wantCode: 1, wantStderr: []string{"error:"}},

		{name: "bench resume on a missing store", args: []string{"bench", "--resume", "--store", missing, "--ratio", sandbox.URL},
			wantCode: 1, wantStderr: []string{"does not exist"}},

		// Quick successes.
		{name: "bench resume with nothing to resume", args: []string{"bench", "--resume", "--store", store, "--ratio", sandbox.URL},
			env: map[string]string{"RATIOFLOW_SEAL_KEY": strings.Repeat("ab", 32)}, wantStdout: []string{"nothing to resume: no bench-1 flow in " + store}},
		{name: "diagram", args: []string{"diagram"}, wantStdout: []string{"flowchart TD", "PhoneConflict"}},
		{name: "diagram sequence", args: []string{"diagram", "--flow", "signup", "--format", "sequence"},
			wantStdout: []string{"sequenceDiagram", "Create user"}},
		{name: "diagram dot", args: []string{"diagram", "--flow", "signin", "--format", "dot"}, wantStdout: []string{"digraph"}},
		{name: "diagram all", args: []string{"diagram", "--flow", "all", "--format", "all"},
			wantStdout: []string{"%% link.state.mmd", "// signup.dot", "%% link-factors-first.sequence.mmd"}},
		{name: "list an empty store", args: []string{"flows", "list", "--store", store}, wantStdout: []string{"ID", "0 flows"}},
		{name: "list from the environment", args: []string{"flows", "list", "--json"}, env: map[string]string{"RATIOFLOW_STORE": "memory:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, context.Background(), tt.env, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("ratioflow %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if tt.wantCode == 1 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("a failure should print one line on stderr, got:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "hunter2") {
				t.Errorf("stderr repeats the password of the store URL: %s", r.stderr)
			}
		})
	}
}

func TestDiagram_Out(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := mustRun(t, nil, "diagram", "--flow", "all", "--format", "all", "--out", dir)
	files := strings.Fields(out)
	if len(files) != 16 {
		t.Fatalf("diagram --out wrote %d files, want 16 (4 flows, 4 formats):\n%s", len(files), out)
	}
	out = mustRun(t, nil, "diagram", "--flow", "link", "--format", "dot", "--out", dir)
	if !strings.HasSuffix(strings.TrimSpace(out), "link.dot") {
		t.Errorf("diagram --out printed %q, want the path of link.dot", out)
	}
}
