package visualize

import (
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// segment is one piece of a flow's story: a transition fired from a state
// (its messages), the edge drawn after it (its messages), or a block of
// alternatives. A segment may hold t and e together; alts stands alone.
type segment struct {
	from states.State
	t    *transitions.Transition
	e    *transitions.Edge
	alts []alternative
}

// alternative is one branch of an alt block: its label and its story.
type alternative struct {
	label string
	path  []segment
}

// story walks flow f from its initial state along the transitions that
// declare messages, the paths a person walks:
//
//   - in a state, the transitions that tell the story (transitions.Story) and
//     that were not walked yet, in table order; cancel and expire never do.
//     One is walked on; two or more become an alt block, one branch each.
//   - a transition's story edges (transitions.StoryEdges): one is followed
//     to its destination; two or more become an alt block labelled with
//     their Branch, each branch walked on to its end; none continues along
//     the OK edge.
//   - the walk stops at a terminal state or a state already walked.
//
// Automatic transitions are walked like any other. Error edges (429,
// wrong OTP, expiry) carry no messages, so they stay in the state diagram.
func story(f *transitions.Flow) []segment {
	w := &walker{f: f, seen: map[states.State]bool{}, walked: map[*transitions.Transition]bool{}}
	return w.path(f.Initial)
}

type walker struct {
	f      *transitions.Flow
	seen   map[states.State]bool
	walked map[*transitions.Transition]bool
}

// path is the story from state s on.
func (w *walker) path(s states.State) []segment {
	if s.Terminal() || w.seen[s] {
		return nil
	}
	w.seen[s] = true
	var ts []*transitions.Transition
	for _, t := range w.f.Permitted(s) {
		if t.Story() && !w.walked[t] && t.Event != transitions.Cancel && t.Event != transitions.Expire {
			ts = append(ts, t)
		}
	}
	for _, t := range ts {
		w.walked[t] = true
	}
	switch len(ts) {
	case 0:
		return nil
	case 1:
		return w.step(s, ts[0])
	}
	block := segment{from: s}
	for _, t := range ts {
		block.alts = append(block.alts, alternative{label: string(t.Event), path: w.step(s, t)})
	}
	return []segment{block}
}

// step is the story of transition t fired from state s, and what follows.
func (w *walker) step(s states.State, t *transitions.Transition) []segment {
	edges := t.StoryEdges()
	switch len(edges) {
	case 0:
		ok, _ := t.Edge(transitions.OK)
		return append([]segment{{from: s, t: t}}, w.path(ok.Dest(s))...)
	case 1:
		return append([]segment{{from: s, t: t, e: &edges[0]}}, w.path(edges[0].Dest(s))...)
	}
	block := segment{from: s}
	for i := range edges {
		e := &edges[i]
		first := segment{from: s, e: e}
		block.alts = append(block.alts, alternative{
			label: branchLabel(e),
			path:  append([]segment{first}, w.path(e.Dest(s))...),
		})
	}
	return []segment{{from: s, t: t}, block}
}

// branchLabel is an alt/else label: the edge's Branch, else its label, else
// its outcome.
func branchLabel(e *transitions.Edge) string {
	switch {
	case e.Branch != "":
		return e.Branch
	case e.Label != "":
		return e.Label
	}
	return string(e.Outcome)
}
