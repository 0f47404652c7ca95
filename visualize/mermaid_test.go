package visualize_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// installCommand installs the Mermaid parser the tests run (from the module's root).
const installCommand = "npm ci --prefix visualize/mermaidcheck"

// parsed is what mermaidcheck/check.mjs --json reports for one file.
type parsed struct {
	File     string   `json:"file"`
	Type     string   `json:"type"`
	Error    string   `json:"error"`
	States   []string `json:"states"`
	Actors   []string `json:"actors"`
	Messages int      `json:"messages"`
}

// mermaidParse writes each diagram to a temporary directory and parses them
// all with the real Mermaid parser, in one node process. It skips the test
// when node or the parser's node_modules are missing, unless CI=true: .ci/run
// installs them, so there a missing parser is a failure.
func mermaidParse(tb testing.TB, diagrams map[string]string) (map[string]parsed, error) {
	tb.Helper()
	missing := func(what string) {
		tb.Helper()
		msg := what + "; install the Mermaid parser with: " + installCommand
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat("mermaidcheck/node_modules/mermaid/package.json"); err != nil {
		missing("visualize/mermaidcheck/node_modules is not installed")
	}
	dir := tb.TempDir()
	args := []string{"mermaidcheck/check.mjs", "--json"}
	for name, text := range diagrams {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
		args = append(args, path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var results []parsed
	if err := json.Unmarshal(out, &results); err != nil {
		tb.Fatalf("node %s: %v, %v\n%s%s", strings.Join(args, " "), runErr, err, out, stderr.String())
	}
	byName := map[string]parsed{}
	for _, r := range results {
		byName[filepath.Base(r.File)] = r
	}
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		tb.Fatalf("node: %v\n%s", runErr, stderr.String())
	}
	return byName, runErr
}

// TestMermaidParses parses every diagram the project generates with the real
// Mermaid parser, and checks that Mermaid understood what was meant: the
// flow's states in a state diagram, the three participants and every
// message in a sequence diagram.
func TestMermaidParses(t *testing.T) {
	diagrams := allDiagrams(t)
	for name := range diagrams {
		if strings.HasSuffix(name, ".dot") {
			delete(diagrams, name)
		}
	}
	results, _ := mermaidParse(t, diagrams)
	for name, text := range diagrams {
		r, ok := results[name]
		switch {
		case !ok:
			t.Errorf("%s: not checked", name)
		case r.Error != "":
			t.Errorf("%s does not parse: %s\n%s", name, r.Error, text)
		case strings.HasSuffix(name, ".state.mmd"), strings.HasSuffix(name, ".overview.mmd"):
			want := wantStates(t, name)
			got := slices.Sorted(slices.Values(r.States))
			if !slices.Equal(got, want) {
				t.Errorf("%s: Mermaid sees states %v, want %v", name, got, want)
			}
		case strings.HasSuffix(name, ".sequence.mmd"):
			if want := []string{"User", "Wallet", "Ratio"}; !slices.Equal(r.Actors, want) {
				t.Errorf("%s: Mermaid sees participants %v, want %v", name, r.Actors, want)
			}
			if want := strings.Count(text, "->>"); r.Messages != want {
				t.Errorf("%s: Mermaid sees %d messages, want %d", name, r.Messages, want)
			}
		}
	}
}

// wantStates is the sorted node ids a state diagram file should declare:
// its flow's states, the start point, the running stand-in and, in a
// complete view, the legend.
func wantStates(tb testing.TB, name string) []string {
	tb.Helper()
	kind, view, _ := strings.Cut(strings.TrimPrefix(name, "audit-"), ".")
	kind = strings.TrimSuffix(kind, "-running") // audit-link-running.overview.mmd
	f, ok := transitions.Lookup(transitions.Kind(kind))
	if !ok {
		tb.Fatalf("%s: no flow %q", name, kind)
	}
	want := []string{"Begin", "Running"}
	if view == "state.mmd" {
		want = append(want, "Legend")
	}
	for _, s := range f.States() {
		want = append(want, string(s))
	}
	slices.Sort(want)
	return want
}

// TestMermaidCheck_RejectsBrokenDiagrams proves the check can fail: the
// mistakes a generator could make are refused by the parser, with the file
// named in the report.
func TestMermaidCheck_RejectsBrokenDiagrams(t *testing.T) {
	broken := map[string]string{
		"hyphen.state.mmd":  "stateDiagram-v2\n    [*] --> sms-sent\n",
		"keyword.state.mmd": "stateDiagram-v2\n    [*] --> note\n",
		"deactivate.sequence.mmd": "sequenceDiagram\n    User->>+Wallet: Open Ratio\n" +
			"    Ratio->>-Wallet: Return JWT\n",
		"unclosed.sequence.mmd": "sequenceDiagram\n    alt x\n    User->>Wallet: y\n",
	}
	results, err := mermaidParse(t, broken)
	if err == nil {
		t.Errorf("check.mjs exited 0 on broken diagrams, want 1")
	}
	for name := range broken {
		if results[name].Error == "" {
			t.Errorf("%s parsed, want a parse error", name)
		}
	}
	if got := results["deactivate.sequence.mmd"].Error; !strings.Contains(got, "inactivate an inactive participant") {
		t.Errorf("deactivating an inactive participant: error %q, want Mermaid's activation error", got)
	}
}

func TestRunning_IsNoState(t *testing.T) {
	// The state diagrams draw cancel and expire from a stand-in named
	// Running, a start point named Begin and a legend named Legend.
	for _, id := range []states.State{"Running", "Begin", "Legend"} {
		if slices.Contains(states.All(), id) {
			t.Errorf("a state is named %q, the id of a node the state diagrams draw", id)
		}
	}
}
