// Package flowstats counts the traffic of every edge of ratioflow's flows
// from their audit histories: how many flows took each edge, where flows
// stop (expired, canceled, failed, or abandoned: still running but idle for
// longer than a state lives), the share that reach each ending, and the
// median time spent in each state.
//
// Edges are those of the declared tables of package transitions (from,
// event, outcome, to), so the figures can be drawn on a flow's diagram
// (package visualize). A Collector takes one flow's record and history at
// a time and keeps only counters per kind, state and edge: its memory is
// bounded by the size of the graphs, never by the number of flows. Read
// feeds it a store's histories, a page at a time (store.ListHistories),
// reading each history entry once.
package flowstats

import (
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// Ending is how a flow ended: the name of its terminal state, or Running or
// Abandoned for a flow that has not ended.
type Ending string

// The endings of flows that have not ended.
const (
	// Running is a flow whose last step is recent: its user may go on.
	Running Ending = "running"
	// Abandoned is a flow whose last step is older than the state's
	// lifetime (Options.StateTTL): its user left, and the sweeper will
	// expire it.
	Abandoned Ending = "abandoned"
)

// Edge identifies an edge of a flow's graph as the tables declare it: the
// state it leaves, the event, the outcome and the state it reaches (for an
// edge that stays, the state it leaves).
type Edge struct {
	From    states.State        `json:"from"`
	Event   transitions.Event   `json:"event"`
	Outcome transitions.Outcome `json:"outcome"`
	To      states.State        `json:"to"`
}

// Stats are the figures of the flows of one kind.
type Stats struct {
	// Kind is the flows' kind.
	Kind transitions.Kind `json:"kind"`
	// Flows counts the flows read; Finished those that reached a terminal
	// state other than Failed, Expired and Canceled (see Finished).
	Flows    int64 `json:"flows"`
	Finished int64 `json:"finished"`
	// Ends counts the flows by how they ended: every terminal state of the
	// kind's graph, then Running and Abandoned.
	Ends []Count `json:"ends"`
	// Edges has every edge the table declares, in table order, then those
	// the histories took that it does not declare (from an earlier version
	// of the graph, or a reconciled step).
	Edges []EdgeStats `json:"edges"`
	// States has every state of the graph, in the order of states.All.
	States []StateStats `json:"states"`
}

// Count is how many flows, of those counted, ended one way, and their share.
type Count struct {
	Ending Ending `json:"ending"`
	Flows  int64  `json:"flows"`
	// Share is Flows over the flows counted, from 0 to 1.
	Share float64 `json:"share"`
}

// EdgeStats is the traffic of one edge.
type EdgeStats struct {
	Edge
	// Label is the table's label of the edge, if any.
	Label string `json:"label,omitempty"`
	// Call is the Ratio operation the edge's transition makes, if any.
	Call transitions.Call `json:"call,omitempty"`
	// Declared says the kind's table declares the edge.
	Declared bool `json:"declared"`
	// Times counts the steps that took the edge; Flows the flows that took
	// it at least once.
	Times int64 `json:"times"`
	Flows int64 `json:"flows"`
	// Finished counts the flows that took the edge and then finished.
	Finished int64 `json:"finished"`
	// Ends tells how the flows that took the edge ended, most first; the
	// shares are of Flows. Empty when no flow took it.
	Ends []Count `json:"ends,omitempty"`
}

// StateStats are the figures of one state.
type StateStats struct {
	State states.State `json:"state"`
	// Stays counts the stays in the state that ended: a stay runs from the
	// step that entered the state (or the flow's start) to the step that
	// left it; steps that stay in the state do not end it. The stays of
	// flows still in the state are not counted.
	Stays int64 `json:"stays"`
	// Median is the median time of those stays (the lower median), within
	// MedianError of the exact value.
	Median time.Duration `json:"medianNanoseconds"`
	// Where flows stopped in this state: expired, canceled, failed (the
	// flow was in this state when it reached the terminal state of that
	// name), abandoned, or running still.
	Expired   int64 `json:"expired"`
	Canceled  int64 `json:"canceled"`
	Failed    int64 `json:"failed"`
	Abandoned int64 `json:"abandoned"`
	Running   int64 `json:"running"`
}

// Edge returns the figures of edge e, and whether s has it.
func (s *Stats) Edge(e Edge) (EdgeStats, bool) {
	for _, es := range s.Edges {
		if es.Edge == e {
			return es, true
		}
	}
	return EdgeStats{}, false
}

// Ended returns the count of ending e among all the flows.
func (s *Stats) Ended(e Ending) Count {
	for _, c := range s.Ends {
		if c.Ending == e {
			return c
		}
	}
	return Count{Ending: e}
}

// Finished reports whether a flow that ended so succeeded: it reached a
// terminal state other than Failed, Expired and Canceled.
func Finished(e Ending) bool {
	s := states.State(e)
	return s.Terminal() && s != states.Failed && s != states.Expired && s != states.Canceled
}

// finished sums the counts of the endings that are Finished.
func finished(cs []Count) int64 {
	var n int64
	for _, c := range cs {
		if Finished(c.Ending) {
			n += c.Flows
		}
	}
	return n
}

// Round rounds a median to two significant digits (1.2s, 340ms, 16m0s):
// the median is only within 1% of the exact value, so more digits would
// show the approximation rather than the data.
func Round(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for d/unit >= 100 {
		unit *= 10
	}
	return d.Round(unit)
}
