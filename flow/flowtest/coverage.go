package flowtest

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// Edge identifies one declared edge: a transition from one source state
// and one of its outcomes.
type Edge struct {
	Kind    transitions.Kind
	From    states.State
	Event   transitions.Event
	Outcome transitions.Outcome
}

// String returns a readable form.
func (e Edge) String() string {
	return fmt.Sprintf("%s: %s --%s/%s-->", e.Kind, e.From, e.Event, e.Outcome)
}

// covered records the edges the harnesses of this test binary took.
var covered = struct {
	sync.Mutex
	edges map[Edge]int
}{edges: map[Edge]int{}}

// cover records the edges flow id took, from its history.
func (h *Harness) cover(kind transitions.Kind, id string) {
	hist, err := h.Store.History(context.Background(), id)
	if err != nil {
		h.tb.Errorf("history of %s: %v", id, err)
		return
	}
	covered.Lock()
	defer covered.Unlock()
	for _, e := range hist {
		covered.edges[Edge{Kind: kind, From: e.From, Event: transitions.Event(e.Event), Outcome: transitions.Outcome(e.Outcome)}]++
	}
}

func (h *Harness) coverEdge(e Edge) {
	covered.Lock()
	defer covered.Unlock()
	covered.edges[e]++
}

// Declared returns every edge of the given flows that the engine can take
// (flow.Possible): a table declares an edge for every error class of every
// call, but a wrong code, for one, only follows a code check.
func Declared(flows ...*transitions.Flow) []Edge {
	var out []Edge
	for _, f := range flows {
		for _, t := range f.Transitions {
			for _, s := range t.From {
				for _, e := range t.Edges {
					if !flow.Possible(t.Call, len(t.Guards) > 0, e.Outcome) {
						continue
					}
					out = append(out, Edge{Kind: f.Kind, From: s, Event: t.Event, Outcome: e.Outcome})
				}
			}
		}
	}
	return out
}

// Report says which declared transitions and edges of flows were exercised.
type Report struct {
	// Transitions and Edges count what is declared; the Covered fields what
	// was exercised.
	Transitions, CoveredTransitions int
	Edges, CoveredEdges             int
	// MissingTransitions lists declared (state, event) pairs never fired.
	MissingTransitions []string
	// MissingEdges lists declared edges never taken.
	MissingEdges []Edge
}

// Coverage returns the coverage report of the edges this test binary took.
func Coverage(flows ...*transitions.Flow) Report {
	covered.Lock()
	defer covered.Unlock()
	var r Report
	fired := map[string]bool{}
	for e := range covered.edges {
		fired[string(e.Kind)+" "+string(e.From)+" "+string(e.Event)] = true
	}
	seen := map[string]bool{}
	for _, e := range Declared(flows...) {
		r.Edges++
		if covered.edges[e] > 0 {
			r.CoveredEdges++
		} else {
			r.MissingEdges = append(r.MissingEdges, e)
		}
		key := string(e.Kind) + " " + string(e.From) + " " + string(e.Event)
		if seen[key] {
			continue
		}
		seen[key] = true
		r.Transitions++
		if fired[key] {
			r.CoveredTransitions++
		} else {
			r.MissingTransitions = append(r.MissingTransitions, key)
		}
	}
	slices.Sort(r.MissingTransitions)
	return r
}

// Write prints the report: the totals, then what was never exercised.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "flowtest: transitions exercised %d/%d, edges taken %d/%d (%.0f%%)\n",
		r.CoveredTransitions, r.Transitions, r.CoveredEdges, r.Edges, 100*float64(r.CoveredEdges)/float64(max(r.Edges, 1)))
	if !fullRun() {
		return // a filtered run exercises a part on purpose
	}
	for _, t := range r.MissingTransitions {
		fmt.Fprintf(w, "flowtest: transition never exercised: %s\n", t)
	}
	if testing.Verbose() {
		for _, e := range r.MissingEdges {
			fmt.Fprintf(w, "flowtest: edge never taken: %s\n", e)
		}
	}
}

// Main runs a test binary's tests (call it from TestMain), then prints the
// edge coverage of the given flows (all declared flows when none are
// given). When every test of the binary ran (no -run or -skip filter) and
// passed, a declared transition that no test exercised fails the run.
func Main(m *testing.M, flows ...*transitions.Flow) int {
	code := m.Run()
	if len(flows) == 0 {
		flows = transitions.All()
	}
	r := Coverage(flows...)
	r.Write(os.Stdout)
	if code == 0 && fullRun() && len(r.MissingTransitions) > 0 {
		fmt.Fprintf(os.Stdout, "FAIL: %d declared transitions were never exercised by a table\n", len(r.MissingTransitions))
		return 1
	}
	return code
}

// fullRun reports whether the test binary ran without a filter.
func fullRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && strings.TrimSpace(f.Value.String()) != "" {
			return false
		}
	}
	return !testing.Short()
}
