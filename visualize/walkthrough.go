package visualize

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// walkThrough writes the prose walk through flow f: its story, step by step
// as the sequence diagram draws it, then the transitions off the story
// (fresh challenges, resent codes, cancel, expiry).
func walkThrough(b *strings.Builder, f *transitions.Flow) {
	path := story(f)
	writePath(b, "", path)
	walked := map[*transitions.Transition]bool{}
	markWalked(path, walked)
	b.WriteString("\nAlso, off the story:\n\n")
	g := newGraph(f)
	for i := range f.Transitions {
		t := &f.Transitions[i]
		if walked[t] {
			continue
		}
		where := "in " + stateList(t.From)
		if g.everyRunning(t.From) {
			where = "in any running state"
		}
		fmt.Fprintf(b, "- `%s` %s%s: %s\n", t.Event, where, stepDetails(t), t.Doc)
	}
}

// writePath writes the steps of a story as a numbered list at an indent.
func writePath(b *strings.Builder, indent string, path []segment) {
	for i, seg := range path {
		switch {
		case seg.t != nil:
			fmt.Fprintf(b, "%s1. `%s` in %s%s: %s", indent, seg.t.Event, seg.from, stepDetails(seg.t), seg.t.Doc)
			if to := stepDest(seg, path[i+1:]); to != "" {
				fmt.Fprintf(b, " → %s", to)
			}
			b.WriteString("\n")
		case len(seg.alts) > 0:
			inner := indent + "   "
			fmt.Fprintf(b, "%s1. Then either:\n", indent)
			for _, alt := range seg.alts {
				fmt.Fprintf(b, "%s- *%s*", inner, alt.label)
				if first := alt.path[0]; first.t == nil && first.e != nil {
					to := first.e.Dest(first.from)
					fmt.Fprintf(b, " (%s → %s)", first.e.Outcome, to)
					if len(alt.path) == 1 {
						b.WriteString(endOfBranch(to))
						continue
					}
				}
				b.WriteString(":\n")
				writePath(b, inner+"  ", alt.path)
			}
		}
	}
}

// endOfBranch ends the line of a branch that takes no further step.
func endOfBranch(to states.State) string {
	if to.Terminal() {
		return ": the flow ends there.\n"
	}
	return ": the story goes on from there as told above.\n"
}

// stepDest is where a story step leads, or "" when alternatives follow.
func stepDest(seg segment, rest []segment) states.State {
	if seg.e != nil {
		return seg.e.Dest(seg.from)
	}
	if len(rest) > 0 && len(rest[0].alts) > 0 {
		return ""
	}
	ok, _ := seg.t.Edge(transitions.OK)
	return ok.Dest(seg.from)
}

// stepDetails says how a transition fires: automatically, the Ratio call it
// makes and with which JWT, its guards.
func stepDetails(t *transitions.Transition) string {
	var d []string
	if t.Auto {
		d = append(d, "automatic")
	}
	if t.Call != transitions.NoCall {
		c := "calls `" + string(t.Call) + "`"
		if t.Bearer {
			c += " with the session's JWT"
		}
		d = append(d, c)
	}
	for _, g := range t.Guards {
		d = append(d, "guard `"+string(g)+"`")
	}
	if len(d) == 0 {
		return ""
	}
	return " (" + strings.Join(d, ", ") + ")"
}

func markWalked(path []segment, walked map[*transitions.Transition]bool) {
	for _, seg := range path {
		if seg.t != nil {
			walked[seg.t] = true
		}
		for _, alt := range seg.alts {
			markWalked(alt.path, walked)
		}
	}
}

func stateList(ss []states.State) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
