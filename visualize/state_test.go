package visualize_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// arrowLine is one "From --> To: label" statement of a state diagram.
type arrowLine struct{ from, to, label string }

func arrowLines(text string) []arrowLine {
	var out []arrowLine
	for _, line := range strings.Split(text, "\n") {
		from, rest, ok := strings.Cut(strings.TrimSpace(line), " --> ")
		if !ok {
			continue
		}
		to, label, _ := strings.Cut(rest, ": ")
		out = append(out, arrowLine{from, to, label})
	}
	return out
}

// TestStateDiagram_DrawsEveryEdge finds each edge of each table on an arrow
// from its source (or from the running stand-in), to its destination, whose
// label names its event and its label or outcome, marked as an error edge
// or an automatic transition when it is one.
func TestStateDiagram_DrawsEveryEdge(t *testing.T) {
	for _, f := range transitions.All() {
		t.Run(string(f.Kind), func(t *testing.T) {
			arrows := arrowLines(visualize.StateDiagram(f))
			for _, tr := range f.Transitions {
				for _, from := range tr.From {
					for _, e := range tr.Edges {
						if !slices.ContainsFunc(arrows, func(a arrowLine) bool { return drawn(a, from, &tr, e) }) {
							t.Errorf("no arrow %s --> %s for %s/%s (%q)", from, e.Dest(from), tr.Event, e.Outcome, e.Label)
						}
					}
				}
			}
		})
	}
}

func drawn(a arrowLine, from states.State, tr *transitions.Transition, e transitions.Edge) bool {
	if a.from != string(from) && a.from != "Running" || a.to != string(e.Dest(from)) {
		return false
	}
	if a.from == "Running" && (e.To == transitions.Stay || !slices.Contains(tr.From, from)) {
		return false
	}
	head := string(tr.Event)
	if tr.Auto {
		head += " (auto)"
	}
	if e.Outcome != transitions.OK && e.Outcome != transitions.NewUser {
		head = "⚠ " + head
	}
	if a.label != head && !strings.HasPrefix(a.label, head+": ") {
		return false
	}
	detail := e.Label
	if detail == "" && e.Outcome != transitions.OK {
		detail = string(e.Outcome)
	}
	return detail == "" || detail == strings.ReplaceAll(string(tr.Event), "_", " ") ||
		slices.Contains(strings.Split(strings.TrimPrefix(a.label, head+": "), " / "), detail)
}

func TestStateDiagram_Shape(t *testing.T) {
	for _, f := range transitions.All() {
		t.Run(string(f.Kind), func(t *testing.T) {
			text := visualize.StateDiagram(f)
			if again := visualize.StateDiagram(f); again != text {
				t.Fatal("StateDiagram is not deterministic")
			}
			if !strings.HasPrefix(text, "stateDiagram-v2\n") {
				t.Errorf("StateDiagram starts %q, want stateDiagram-v2", strings.SplitN(text, "\n", 2)[0])
			}
			arrows := arrowLines(text)
			if first := arrows[0]; first.from != "[*]" || first.to != string(f.Initial) {
				t.Errorf("first arrow = %v, want [*] --> %s", first, f.Initial)
			}
			var ends, sources []string
			for _, a := range arrows[1:] {
				if a.to == "[*]" {
					ends = append(ends, a.from)
				} else if a.from != "Running" {
					sources = append(sources, a.from)
				}
			}
			var terminals []string
			for _, s := range f.States() {
				if s.Terminal() {
					terminals = append(terminals, string(s))
				}
			}
			if !slices.Equal(ends, terminals) {
				t.Errorf("states out to [*] = %v, want the terminals %v", ends, terminals)
			}
			if !slices.IsSorted(sources) {
				t.Errorf("arrows are not sorted by source: %v", sources)
			}
			for _, a := range arrows {
				if strings.ContainsAny(a.label, ";#") {
					t.Errorf("label %q holds ; or #, which Mermaid reads as a separator or an entity", a.label)
				}
			}
		})
	}
}

// TestStateDiagram_EscapesLabels draws a table whose labels hold what
// Mermaid would misread.
func TestStateDiagram_EscapesLabels(t *testing.T) {
	f := &transitions.Flow{Kind: "escape", Initial: states.New, Transitions: []transitions.Transition{{
		Event: transitions.SubmitPhone, From: []states.State{states.New},
		Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.SmsSent, Label: "a;b #1\nc"}},
	}}}
	got := visualize.StateDiagram(f)
	want := "New --> SmsSent: submit_phone: a#59;b #35;1 c\n"
	if !strings.Contains(got, want) {
		t.Errorf("StateDiagram =\n%s\nwant it to hold %q", got, want)
	}
}
