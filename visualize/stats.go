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
	taken := map[int][]named{} // the edges taken, by arrow
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
		taken[i] = addNamed(taken[i], edgeName(es), es.Times)
	}
	var busiest int64
	for _, ns := range taken {
		busiest = max(busiest, sum(ns))
	}
	for i := range d.Arrows() {
		ns, ok := taken[i]
		switch {
		case !ok && d.Label(i) == "": // summed up in its state's box, and not taken
		case !ok:
			d.StyleArrow(i, dimArrowStyle)
		case d.Loop(i):
			// A state's box sums its loops up: so do the figures, by edge.
			for _, n := range ns {
				d.NoteState(d.arrow(i).from, "↻ "+n.name+": "+count(n.times, "step"))
			}
			if d.Label(i) != "" {
				d.StyleArrow(i, statsArrowStyle(d.arrow(i).error(), sum(ns), busiest))
			}
		default:
			label := d.Label(i)
			if label == "" {
				for _, n := range ns {
					label = strings.TrimPrefix(label+", "+n.name, ", ")
				}
			}
			d.SetLabel(i, label+"\n"+count(sum(ns), "step"))
			d.StyleArrow(i, statsArrowStyle(d.arrow(i).error(), sum(ns), busiest))
		}
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

// named is how many steps took the edges of one name.
type named struct {
	name  string
	times int64
}

// addNamed adds times steps of name to ns.
func addNamed(ns []named, name string, times int64) []named {
	for i := range ns {
		if ns[i].name == name {
			ns[i].times += times
			return ns
		}
	}
	return append(ns, named{name, times})
}

// sum is the steps of ns.
func sum(ns []named) int64 {
	var n int64
	for _, x := range ns {
		n += x.times
	}
	return n
}

// statsArrowStyle is the style of an arrow taken n times, the busiest
// busiest times: red for errors, blue otherwise, the heavier the busier.
func statsArrowStyle(error bool, n, busiest int64) string {
	color := "#2471a3"
	if error {
		color = "#c0392b"
	}
	width := statsMinWidth + (statsMaxWidth-statsMinWidth)*float64(n)/float64(busiest)
	return fmt.Sprintf("stroke:%s,stroke-width:%.1fpx,color:%s", color, width, color)
}

// edgeName names an edge taken: "⚠ 429 back off", "resend_otp".
func edgeName(es flowstats.EdgeStats) string {
	switch {
	case es.Outcome == transitions.OK || es.Outcome == transitions.NewUser:
		return string(es.Event)
	case es.Label != "":
		return "⚠ " + es.Label
	}
	return "⚠ " + string(es.Outcome)
}

// stateFigures are the lines under a state's name in a stats view.
func stateFigures(s *flowstats.Stats, st flowstats.StateStats) []string {
	if st.State.Terminal() {
		c := s.Ended(flowstats.Ending(st.State))
		return []string{fmt.Sprintf("%s (%.1f%%)", count(c.Flows, "flow"), 100*c.Share)}
	}
	var lines []string
	if st.Stays > 0 {
		lines = append(lines, fmt.Sprintf("%s, median %s", count(st.Stays, "stay"), flowstats.Round(st.Median)))
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
	return st.Stays+st.Expired+st.Canceled+st.Failed+st.Abandoned+st.Running > 0 || st.State == states.New && s.Flows > 0
}

// count is "1 step", "2 steps".
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
