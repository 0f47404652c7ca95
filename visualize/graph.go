package visualize

import (
	"cmp"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// running is the stand-in state that transitions firing in every running
// (non-terminal) state, cancel and expire, are drawn from once instead of
// from each state. TestRunning_IsNoState checks no state is named so.
const running states.State = "Running"

// runningLabel is how the stand-in reads in a diagram.
const runningLabel = "any running state"

// arrow is one arrow of a state diagram: the edges of one transition that
// share a source, a destination and a kind, error or not. Merging them keeps
// a state with five ways to stay put (409, 429, wrong OTP, 400, 5xx) legible
// while every outcome is still named in the label.
type arrow struct {
	from, to states.State
	event    transitions.Event
	auto     bool
	error    bool
	edges    []transitions.Edge
	// steps prefixes the label in an audit view: the steps that took it.
	steps string
}

// label is the arrow's text: "⚠ " for error edges, the event, " (auto)" for
// automatic transitions, then the edges' labels ("submit_phone: 409
// ALREADY_EXISTS_PHONE").
func (a arrow) label() string {
	var b strings.Builder
	if a.steps != "" {
		b.WriteString(a.steps + " ")
	}
	if a.error {
		b.WriteString("⚠ ")
	}
	b.WriteString(string(a.event))
	if a.auto {
		b.WriteString(" (auto)")
	}
	var details []string
	for _, e := range a.edges {
		if d := edgeDetail(a.event, e); d != "" {
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		b.WriteString(": " + strings.Join(details, " / "))
	}
	return b.String()
}

// edgeDetail names an edge after its event: its label, else its outcome
// unless OK. A label that only repeats the event ("cancel") is left out.
func edgeDetail(ev transitions.Event, e transitions.Edge) string {
	switch {
	case e.Label != "" && e.Label != strings.ReplaceAll(string(ev), "_", " "):
		return e.Label
	case e.Label == "" && e.Outcome != transitions.OK:
		return string(e.Outcome)
	}
	return ""
}

// isError reports whether an outcome is an error: anything but a success.
func isError(o transitions.Outcome) bool {
	return o != transitions.OK && o != transitions.NewUser
}

// The classes of states, drawn with these styles, in this order.
var classStyles = []struct{ name, style string }{
	{"auto", "stroke-dasharray:5 5"},
	{"running", "fill:#f4f6f7,stroke:#7f8c8d,font-style:italic,color:#000"},
	{"done", "fill:#d5f5e3,stroke:#1e8449,color:#000"},
	{"failed", "fill:#fde2e2,stroke:#c0392b,color:#000"},
	{"visited", "fill:#d6eaf8,stroke:#2471a3,stroke-width:2px,color:#000"},
	{"current", "fill:#2471a3,stroke:#1b4f72,stroke-width:3px,color:#fff"},
}

// graph is a flow's state graph as the state diagram and DOT draw it.
type graph struct {
	f *transitions.Flow
	// arrows are sorted: by source, event, destination, with the arrows
	// from the running stand-in last.
	arrows []arrow
	// runningStates are the flow's non-terminal states, sorted; collapsed
	// says some arrows leave from the running stand-in for all of them.
	runningStates []states.State
	collapsed     bool
	terminals     []states.State
	// class is each state's class name (see classStyles), if any.
	class map[states.State]string
	// notes are drawn right of a state (audit views), one line each.
	notes map[states.State][]string
}

// newGraph builds the graph of f from its table.
func newGraph(f *transitions.Flow) *graph {
	g := &graph{f: f, class: map[states.State]string{}, notes: map[states.State][]string{}}
	for _, s := range f.States() {
		switch {
		case s == states.Failed || s == states.Expired || s == states.Canceled:
			g.terminals = append(g.terminals, s)
			g.class[s] = "failed"
		case s.Terminal():
			g.terminals = append(g.terminals, s)
			g.class[s] = "done"
		default:
			g.runningStates = append(g.runningStates, s)
		}
	}
	for i := range f.Transitions {
		t := &f.Transitions[i]
		from := t.From
		if g.everyRunning(t.From) {
			from = []states.State{running}
			g.collapsed = true
			g.class[running] = "running"
		}
		for _, s := range from {
			if t.Auto {
				g.class[s] = "auto"
			}
			for _, e := range t.Edges {
				g.addEdge(s, t, e)
			}
		}
	}
	slices.SortFunc(g.arrows, compareArrows)
	return g
}

// everyRunning reports whether from lists every running state of the flow
// (and more than one), so its arrows are drawn once from the stand-in.
func (g *graph) everyRunning(from []states.State) bool {
	if len(g.runningStates) < 2 {
		return false
	}
	for _, s := range g.runningStates {
		if !slices.Contains(from, s) {
			return false
		}
	}
	return true
}

// addEdge merges edge e of t, taken from state from, into its arrow.
func (g *graph) addEdge(from states.State, t *transitions.Transition, e transitions.Edge) {
	a := arrow{from: from, to: e.Dest(from), event: t.Event, auto: t.Auto, error: isError(e.Outcome)}
	for i := range g.arrows {
		b := &g.arrows[i]
		if b.from == a.from && b.to == a.to && b.event == a.event && b.error == a.error {
			b.edges = append(b.edges, e)
			return
		}
	}
	a.edges = []transitions.Edge{e}
	g.arrows = append(g.arrows, a)
}

func compareArrows(a, b arrow) int {
	return cmp.Or(
		cmp.Compare(boolInt(a.from == running), boolInt(b.from == running)),
		cmp.Compare(a.from, b.from),
		cmp.Compare(a.event, b.event),
		cmp.Compare(a.to, b.to),
		cmp.Compare(boolInt(a.error), boolInt(b.error)),
		cmp.Compare(a.steps, b.steps),
	)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
