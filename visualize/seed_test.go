package visualize_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// statements splits a Mermaid text into its statements: each line trimmed,
// empty lines dropped. Indentation and blank lines are all it ignores.
func statements(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if s := strings.TrimSpace(line); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestSequenceDiagram_ReproducesSeed holds the link flow's sequence diagram
// against the spec's (seeds/000, copied verbatim into testdata): the same
// statements in the same order, only indentation and blank lines may differ.
func TestSequenceDiagram_ReproducesSeed(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed-000-link.sequence.mmd")
	if err != nil {
		t.Fatal(err)
	}
	want := statements(string(seed))
	got := statements(visualize.SequenceDiagram(transitions.Link))
	for i := 0; i < max(len(want), len(got)); i++ {
		w, g := "(end of diagram)", "(end of diagram)"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Fatalf("statement %d differs from the seed's diagram:\nwant: %s\ngot:  %s", i+1, w, g)
		}
	}
}

// TestStatements checks that the comparison above can fail: it keeps
// everything but indentation and blank lines.
func TestStatements(t *testing.T) {
	a := statements("sequenceDiagram\n    A->>+B: x\n\n  alt y\n    B->>A: z\n  end\n")
	b := statements("sequenceDiagram\nA->>+B: x\nalt y\nB->>A: z\nend")
	if strings.Join(a, "|") != strings.Join(b, "|") {
		t.Errorf("statements differ only by indentation: %q vs %q", a, b)
	}
	for _, changed := range []string{
		"sequenceDiagram\nA->>B: x\nalt y\nB->>A: z\nend",   // activation mark
		"sequenceDiagram\nA-->>+B: x\nalt y\nB->>A: z\nend", // arrow kind
		"sequenceDiagram\nA->>+B: x\nalt Y\nB->>A: z\nend",  // alt label
		"sequenceDiagram\nalt y\nA->>+B: x\nB->>A: z\nend",  // order
	} {
		if strings.Join(statements(changed), "|") == strings.Join(a, "|") {
			t.Errorf("statements(%q) equals the original", changed)
		}
	}
}
