package visualize

import (
	"cmp"
	"slices"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// running is the stand-in state that transitions firing in every running
// (non-terminal) state, cancel and expire, are drawn from once instead of
// from each state. TestRunning_IsNoState checks no state is named so.
const running states.State = "Running"

// runningLabel is how the stand-in reads in a diagram.
const runningLabel = "any running state"

// part is one declared edge drawn on an arrow: edge e of transition t,
// taken from state from (the running stand-in for all running states).
type part struct {
	from states.State
	t    *transitions.Transition
	e    transitions.Edge
}

// error reports whether the part is drawn as an error: an error outcome
// that is not a branch of the flow's story (Ratio's 409 on the phone is).
func (p part) error() bool { return isError(p.e.Outcome) && p.e.Branch == "" }

// stays reports whether the part is an error that leaves the flow where it
// was: those are summarised once per state ("⚠ errors: stay").
func (p part) stays() bool { return p.error() && p.e.Dest(p.from) == p.from }

// arrow is one arrow of a state diagram: every edge between one source and
// one destination, whatever its event, so no two arrows join the same
// states and no state carries more than one loop.
type arrow struct {
	from, to states.State
	parts    []part
}

// error reports whether every part of the arrow is an error.
func (a *arrow) error() bool {
	return len(a.parts) > 0 && !slices.ContainsFunc(a.parts, func(p part) bool { return !p.error() })
}

// isError reports whether an outcome is an error: anything but a success.
func isError(o transitions.Outcome) bool {
	return o != transitions.OK && o != transitions.NewUser
}

// possible reports whether the engine can reach edge e of t: a wrong OTP
// only follows a code check, a refusal only a guard (flow.Possible). The
// tables declare every error class on every call; the diagrams draw only
// the edges a flow can take.
func possible(t *transitions.Transition, e transitions.Edge) bool {
	return flow.Possible(t.Call, len(t.Guards) > 0, e.Outcome)
}

// graph is a flow's state graph as its diagrams draw it.
type graph struct {
	f *transitions.Flow
	// arrows are in story order: by the rank of their source, then their
	// destination (see rank), with the arrows from the running stand-in last.
	arrows []*arrow
	// nodes are the states in story order, the running stand-in last.
	nodes []states.State
	rank  map[states.State]int
	// runningStates are the flow's non-terminal states, sorted; collapsed
	// says some arrows leave from the running stand-in for all of them.
	runningStates []states.State
	collapsed     bool
	// auto marks the states an automatic transition leaves.
	auto map[states.State]bool
	// hidden are the declared edges the engine cannot reach, not drawn.
	hidden []part
}

// newGraph builds the graph of f from its table.
func newGraph(f *transitions.Flow) *graph {
	g := &graph{f: f, auto: map[states.State]bool{}}
	for _, s := range f.States() {
		if !s.Terminal() {
			g.runningStates = append(g.runningStates, s)
		}
	}
	for i := range f.Transitions {
		t := &f.Transitions[i]
		from := t.From
		if g.everyRunning(t.From) {
			from = []states.State{running}
			g.collapsed = true
		}
		for _, s := range from {
			g.auto[s] = g.auto[s] || t.Auto
			for _, e := range t.Edges {
				g.add(part{from: s, t: t, e: e})
			}
		}
	}
	g.order()
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

// add puts part p on the arrow between its states, or sets it aside when
// the engine cannot reach it.
func (g *graph) add(p part) {
	if !possible(p.t, p.e) {
		g.hidden = append(g.hidden, p)
		return
	}
	to := p.e.Dest(p.from)
	for _, a := range g.arrows {
		if a.from == p.from && a.to == to {
			a.parts = append(a.parts, p)
			return
		}
	}
	g.arrows = append(g.arrows, &arrow{from: p.from, to: to, parts: []part{p}})
}

// order ranks the states by a breadth-first walk from the initial state
// along success edges first, then error edges, and sorts the nodes and
// arrows by it: the layout then reads top to bottom as a person walks.
func (g *graph) order() {
	g.rank = map[states.State]int{}
	queue := []states.State{g.f.Initial}
	g.rank[g.f.Initial] = 0
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, errs := range []bool{false, true} {
			for _, a := range g.arrows {
				if _, seen := g.rank[a.to]; a.from == s && a.error() == errs && !seen {
					g.rank[a.to] = len(g.rank)
					queue = append(queue, a.to)
				}
			}
		}
	}
	last := len(g.f.States()) + 1
	for _, s := range append(g.f.States(), running) {
		if _, ok := g.rank[s]; !ok && (s != running || g.collapsed) {
			g.rank[s] = last
			last++
		}
	}
	for s := range g.rank {
		g.nodes = append(g.nodes, s)
	}
	byRank := func(a, b states.State) int { return cmp.Compare(g.rank[a], g.rank[b]) }
	slices.SortFunc(g.nodes, byRank)
	slices.SortFunc(g.arrows, func(a, b *arrow) int {
		return cmp.Or(byRank(a.from, b.from), byRank(a.to, b.to))
	})
}

// stays returns the parts of arrow a that are errors leaving the flow
// where it was, and the others.
func (a *arrow) stays() (stays, others []part) {
	for _, p := range a.parts {
		if p.stays() {
			stays = append(stays, p)
		} else {
			others = append(others, p)
		}
	}
	return stays, others
}
