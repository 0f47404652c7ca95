package visualize

import (
	"fmt"
	"strings"

	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// The width of the arrows of a stats view, from the least taken to the
// busiest, in pixels.
const (
	statsMinWidth = 1.5
	statsMaxWidth = 8.0
)

// StatsState returns the diagram of flow f in view v with the traffic s
// counted (see package flow/flowstats) drawn on it: each arrow taken says
// how many steps took it, and is the heavier the busier it is (errors in
// red, the rest in blue); each state says how many stays ended in it and
// their median time, how many flows stopped in it and how; each terminal
// state how many flows ended there and their share. Arrows and states no
// flow reached are grey. A step the declared table does not have is drawn
// anyway, marked "not in this graph".
func StatsState(f *transitions.Flow, s *flowstats.Stats, v View) string {
	d := NewDrawing(f, v)
	steps := map[int]int64{}
	for _, es := range s.Edges {
		if es.Times == 0 {
			continue
		}
		i, ok := d.Arrow(es.From, es.Event, es.Outcome, es.To)
		if !ok {
			i = d.extraArrow(es.From, es.To)
			if d.Label(i) == "" {
				d.SetLabel(i, "not in this graph")
			}
		}
		steps[i] += es.Times
	}
	var busiest int64
	for _, n := range steps {
		busiest = max(busiest, n)
	}
	for i := range d.Arrows() {
		n, ok := steps[i]
		if !ok {
			d.StyleArrow(i, dimArrowStyle)
			continue
		}
		if d.Loop(i) {
			// Steps that kept the flow in its state are said in its box.
			d.NoteState(d.arrow(i).from, "↻ "+count(n, "step")+" stayed")
			continue
		}
		d.SetLabel(i, d.Label(i)+"\n"+count(n, "step"))
		color := "#2471a3"
		if a := d.arrow(i); a.error() {
			color = "#c0392b"
		}
		width := statsMinWidth + (statsMaxWidth-statsMinWidth)*float64(n)/float64(busiest)
		d.StyleArrow(i, fmt.Sprintf("stroke:%s,stroke-width:%.1fpx,color:%s", color, width, color))
	}
	for _, st := range s.States {
		for _, line := range stateFigures(s, st) {
			d.NoteState(st.State, line)
		}
		if !reached(s, st) {
			d.ClassState(st.State, "dim")
		}
	}
	return d.Mermaid(fmt.Sprintf("flow %s (graph %s): traffic of %s.", f.Kind, f.Version(), count(s.Flows, "flow")))
}

// stateFigures are the lines under a state's name in a stats view.
func stateFigures(s *flowstats.Stats, st flowstats.StateStats) []string {
	if st.State.Terminal() {
		c := s.Ended(flowstats.Ending(st.State))
		return []string{fmt.Sprintf("%s (%.1f%%)", count(c.Flows, "flow"), 100*c.Share)}
	}
	var lines []string
	if st.Visits > 0 {
		lines = append(lines, fmt.Sprintf("%s, median %s", count(st.Visits, "stay"), flowstats.Round(st.Median)))
	}
	var stops []string
	for _, stop := range []struct {
		n    int64
		what string
	}{{st.Expired, "expired"}, {st.Canceled, "canceled"}, {st.Failed, "failed"}, {st.Abandoned, "abandoned"}, {st.Running, "running"}} {
		if stop.n > 0 {
			stops = append(stops, fmt.Sprintf("%d %s", stop.n, stop.what))
		}
	}
	if len(stops) > 0 {
		lines = append(lines, "stopped: "+strings.Join(stops, ", "))
	}
	return lines
}

// reached reports whether any flow was in state st.
func reached(s *flowstats.Stats, st flowstats.StateStats) bool {
	if st.State.Terminal() {
		return s.Ended(flowstats.Ending(st.State)).Flows > 0
	}
	return st.Visits+st.Expired+st.Canceled+st.Failed+st.Abandoned+st.Running > 0 || st.State == states.New && s.Flows > 0
}

// count is "1 step", "2 steps".
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
