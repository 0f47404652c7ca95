package visualize_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// TestDOT_Structure checks the digraph's shape without Graphviz: one
// digraph, every state a quoted node, an edge per arrow of the state
// diagram plus the one from the start point.
func TestDOT_Structure(t *testing.T) {
	for _, f := range transitions.All() {
		t.Run(string(f.Kind), func(t *testing.T) {
			text := visualize.DOT(f)
			if !strings.Contains(text, "\ndigraph \""+string(f.Kind)+"\" {\n") || !strings.HasSuffix(text, "\n}\n") {
				t.Fatalf("DOT is not one digraph named %q:\n%s", f.Kind, text)
			}
			if open, closing := strings.Count(text, "{"), strings.Count(text, "}"); open != closing {
				t.Errorf("DOT has %d { and %d }", open, closing)
			}
			for _, s := range f.States() {
				if !strings.Contains(text, `"`+string(s)+`"`) {
					t.Errorf("DOT does not name state %s", s)
				}
			}
			arrows := 0
			for _, a := range arrowLines(visualize.StateDiagram(f)) {
				if a.to != "[*]" { // terminals are drawn with a double border instead
					arrows++
				}
			}
			if got := strings.Count(text, " -> "); got != arrows {
				t.Errorf("DOT has %d edges, want %d (the state diagram's arrows)", got, arrows)
			}
		})
	}
}

func TestDOT_QuotesLabels(t *testing.T) {
	f := &transitions.Flow{Kind: "quote", Title: `a "title" \ here`, Initial: states.New,
		Transitions: []transitions.Transition{{
			Event: transitions.SubmitPhone, From: []states.State{states.New},
			Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.SmsSent, Label: `say "hi"`}},
		}}}
	text := visualize.DOT(f)
	for _, want := range []string{`label="a \"title\" \\ here"`, `label="submit_phone: say \"hi\""`} {
		if !strings.Contains(text, want) {
			t.Errorf("DOT =\n%s\nwant it to hold %s", text, want)
		}
	}
	runDot(t, text)
}

// TestDOT_Graphviz renders every DOT file with Graphviz when it is
// installed (apt-get install graphviz); the structural test above runs
// without it. Under CI=true a missing Graphviz is a failure: .ci/run
// installs it.
func TestDOT_Graphviz(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		msg := "Graphviz's dot is not installed; install it with: apt-get install -y graphviz"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, f := range transitions.All() {
		runDot(t, visualize.DOT(f))
	}
}

func runDot(tb testing.TB, text string) {
	tb.Helper()
	path, err := exec.LookPath("dot")
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-Tsvg", "-o", "/dev/null")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		tb.Errorf("dot -Tsvg: %v\n%s\n%s", err, out, text)
	}
}
