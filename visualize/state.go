package visualize

import (
	"fmt"

	"github.com/ratioflow/ratioflow/transitions"
)

// StateDiagram returns the complete state diagram of flow f, a Mermaid
// flowchart: a start point into the initial state, a box per state and an
// arrow per pair of states an edge joins.
//
// Every edge the engine can take is drawn. The edges between the same two
// states share one arrow whose label has a line per event ("⚠ submit_otp:
// wrong OTP, no attempt left"); error edges are marked "⚠", drawn dotted and
// red, and automatic transitions "(auto)", drawn thick, their states dashed.
// The errors that keep a flow where it was (a 429, a wrong OTP with
// attempts left) are one "⚠ errors: stay" loop per state, listed by event
// in a legend. Terminal states are green (done) or red (Failed, Expired,
// Canceled). Transitions that fire in every running state, cancel and
// expire, are drawn once from a stand-in "any running state". Outcomes a
// call cannot produce (flow.Possible) are not drawn; the legend says so.
func StateDiagram(f *transitions.Flow) string {
	return NewDrawing(f, Complete).Mermaid(fmt.Sprintf("flow %s (graph %s): every edge.", f.Kind, f.Version()))
}

// OverviewDiagram returns the overview of flow f: the arrows of
// StateDiagram with short labels (the events that walk them, "⚠ JWT
// expired", "⚠ errors: stay"), to read in a documentation column.
func OverviewDiagram(f *transitions.Flow) string {
	return NewDrawing(f, Overview).Mermaid(fmt.Sprintf("flow %s (graph %s): overview.", f.Kind, f.Version()))
}
