package visualize

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// View says how much a state diagram tells.
type View int

const (
	// Overview draws the paths a person walks and where each branch leads,
	// with short labels and one "⚠ errors: stay" loop per state, to read in
	// a documentation column.
	Overview View = iota
	// Complete draws every edge the engine can take: each arrow names its
	// events and outcomes, and a legend lists the errors that stay.
	Complete
)

// The styles of states, by class, in the order they are declared.
var classStyles = []struct{ name, style string }{
	{"start", "fill:#000,stroke:#000,color:#fff"},
	{"auto", "stroke-dasharray:5 5"},
	{"running", "fill:#f4f6f7,stroke:#7f8c8d,font-style:italic,color:#000"},
	{"done", "fill:#d5f5e3,stroke:#1e8449,color:#000"},
	{"failed", "fill:#fde2e2,stroke:#c0392b,color:#000"},
	{"legend", "fill:#fffbea,stroke:#b7950b,color:#000,text-align:left"},
	{"visited", "fill:#d6eaf8,stroke:#2471a3,stroke-width:2px,color:#000"},
	{"current", "fill:#2471a3,stroke:#1b4f72,stroke-width:3px,color:#fff"},
	{"dim", "fill:#fbfcfc,stroke:#d5d8dc,color:#aab0b6"},
}

// Arrow styles: errors red, the path an audit highlights blue and heavy,
// the rest of an audited graph grey.
const (
	errorArrowStyle = "stroke:#c0392b,color:#c0392b"
	PathArrowStyle  = "stroke:#2471a3,stroke-width:4px,color:#1b4f72"
	dimArrowStyle   = "stroke:#d5d8dc,color:#aab0b6"
)

// Drawing is the state diagram of a flow in one view, drawn as a Mermaid
// flowchart: each state a box, each arrow every edge between two states
// (so no state has two loops, which Mermaid would not draw). Callers
// annotate it (audits with the steps taken, statistics with the traffic of
// each edge) before calling Mermaid.
type Drawing struct {
	g    *graph
	view View
	// labels and styles are per arrow, in g.arrows' order; extra arrows
	// (AddArrow) follow.
	labels, styles []string
	// shown says which arrows are drawn: a loop never is (its state's box
	// sums it up), nor, in the overview, an arrow of errors only.
	shown   []bool
	extra   []*arrow
	summary map[states.State][]string
	class   map[states.State]string
	notes   map[states.State][]string
	dim     bool
}

// NewDrawing returns the state diagram of flow f in view v.
func NewDrawing(f *transitions.Flow, v View) *Drawing {
	d := &Drawing{g: newGraph(f), view: v, class: map[states.State]string{}, notes: map[states.State][]string{},
		summary: map[states.State][]string{}}
	for _, a := range d.g.arrows {
		label := overviewLabel(a)
		if v == Complete {
			label = completeLabel(a)
		}
		d.labels = append(d.labels, label)
		d.styles = append(d.styles, "")
		d.shown = append(d.shown, a.from != a.to && (v == Complete || !a.error()))
	}
	for _, s := range d.g.nodes {
		d.summary[s] = d.g.stateSummary(s, v)
		switch {
		case s == running:
			d.class[s] = "running"
		case s == states.Failed || s == states.Expired || s == states.Canceled:
			d.class[s] = "failed"
		case s.Terminal():
			d.class[s] = "done"
		case d.g.auto[s]:
			d.class[s] = "auto"
		}
	}
	return d
}

// Arrows returns how many arrows the drawing has.
func (d *Drawing) Arrows() int { return len(d.labels) }

// Arrow returns the index of the arrow that draws the step of a flow in
// state from that fired event ev with outcome o and reached state to, and
// false when the table declares no such edge (or the engine cannot take it).
func (d *Drawing) Arrow(from states.State, ev transitions.Event, o transitions.Outcome, to states.State) (int, bool) {
	for i, a := range d.g.arrows {
		if a.to != to {
			continue
		}
		for _, p := range a.parts {
			e, ok := p.t.Edge(o)
			if p.t.Event == ev && ok && e.Outcome == p.e.Outcome && (p.from == from || p.from == running && p.t.Fires(from)) {
				return i, true
			}
		}
	}
	return -1, false
}

// AddArrow adds an arrow the table does not declare (a step a flow took on
// another graph version) and returns its index.
func (d *Drawing) AddArrow(from, to states.State, label string) int {
	d.extra = append(d.extra, &arrow{from: from, to: to})
	d.labels = append(d.labels, label)
	d.styles = append(d.styles, "")
	d.shown = append(d.shown, true)
	return len(d.labels) - 1
}

// Label returns the label of arrow i; lines are separated by "\n".
func (d *Drawing) Label(i int) string { return d.labels[i] }

// Loop reports whether arrow i leaves a state for itself: its state's box
// sums it up rather than an arrow (Mermaid places loop labels over other
// labels), so annotate the state (NoteState) instead.
func (d *Drawing) Loop(i int) bool { a := d.arrow(i); return a.from == a.to }

// SetLabel replaces the label of arrow i ("\n" separates lines) and draws
// it, even when the overview would sum it up in its state's box. A loop is
// never drawn: annotate its state instead.
func (d *Drawing) SetLabel(i int, label string) {
	d.labels[i] = label
	d.shown[i] = d.shown[i] || !d.Loop(i)
}

// StyleArrow sets the CSS of arrow i, as Mermaid's linkStyle takes it
// ("stroke:#2471a3,stroke-width:4px"). PathArrowStyle highlights a path.
func (d *Drawing) StyleArrow(i int, css string) { d.styles[i] = css }

// ClassState draws state s in one of the classes: "visited" or "current"
// (an audit's path), "done", "failed", "dim".
func (d *Drawing) ClassState(s states.State, class string) { d.class[s] = class }

// NoteState adds a line under the name of state s.
func (d *Drawing) NoteState(s states.State, line string) { d.notes[s] = append(d.notes[s], line) }

// Dim draws grey every arrow that has no style of its own and every state
// not classed visited or current, so an annotated path stands out while
// the rest of the graph stays in view.
func (d *Drawing) Dim() { d.dim = true }

// Legend returns the lines of the complete view's legend.
func (d *Drawing) Legend() []string { return d.g.legend() }

// arrow returns arrow i, declared or added.
func (d *Drawing) arrow(i int) *arrow {
	if i < len(d.g.arrows) {
		return d.g.arrows[i]
	}
	return d.extra[i-len(d.g.arrows)]
}

// Mermaid returns the drawing as a Mermaid flowchart, top to bottom; about
// is said in its header comment.
func (d *Drawing) Mermaid(about string) string {
	var l lines
	if d.view == Complete {
		// The complete view may be wider than a column: its labels and
		// legend wrap less.
		l.add(0, "---")
		l.add(0, "config:")
		l.add(1, "flowchart:")
		l.add(2, "wrappingWidth: 400")
		l.add(0, "---")
	}
	l.add(0, "flowchart TD")
	l.add(1, "%% Generated by ratioflow's visualize package from the declared table of "+escape(about))
	nodes := d.nodes()
	l.add(1, `Begin(("start"))`)
	for _, s := range nodes {
		l.add(1, d.node(s))
	}
	legend := d.view == Complete && len(d.g.legend()) > 0
	if legend {
		l.add(1, `Legend["`+flowText(strings.Join(d.g.legend(), "\n"))+`"]`)
	}
	l.add(1, "Begin --> "+string(d.g.f.Initial))
	for i := range d.labels {
		if a := d.arrow(i); d.shown[i] {
			l.add(1, fmt.Sprintf("%s %s|\"%s\"| %s", a.from, d.link(i), flowText(d.labels[i]), a.to))
		}
	}
	d.classes(&l, nodes, legend)
	d.linkStyles(&l)
	return l.String()
}

// nodes returns the states drawn: the graph's and any an added arrow names.
func (d *Drawing) nodes() []states.State {
	nodes := slices.Clone(d.g.nodes)
	for _, a := range d.extra {
		for _, s := range []states.State{a.from, a.to} {
			if !slices.Contains(nodes, s) {
				nodes = append(nodes, s)
			}
		}
	}
	return nodes
}

// node declares state s: a box, rounded at the ends for terminal states,
// with its notes under its name.
func (d *Drawing) node(s states.State) string {
	text := strings.Join(slices.Concat([]string{stateLabel(s)}, d.summary[s], d.notes[s]), "\n")
	if s.Terminal() || s == running {
		return fmt.Sprintf(`%s(["%s"])`, s, flowText(text))
	}
	return fmt.Sprintf(`%s["%s"]`, s, flowText(text))
}

// link is the arrow's line: thick for automatic transitions, dotted for
// errors, plain otherwise.
func (d *Drawing) link(i int) string {
	a := d.arrow(i)
	switch {
	case len(a.parts) > 0 && a.error():
		return "-.->"
	case len(a.parts) > 0 && a.parts[0].t.Auto:
		return "==>"
	}
	return "-->"
}

// classes writes the class definitions used and each state's class.
func (d *Drawing) classes(l *lines, nodes []states.State, legend bool) {
	class := maps.Clone(d.class)
	class["Begin"] = "start"
	if legend {
		class["Legend"] = "legend"
	}
	if d.dim {
		for _, s := range nodes {
			if c := class[s]; c != "visited" && c != "current" {
				class[s] = "dim"
			}
		}
	}
	used := slices.Collect(maps.Values(class))
	for _, c := range classStyles {
		if slices.Contains(used, c.name) {
			l.add(1, "classDef "+c.name+" "+c.style)
		}
	}
	for _, c := range classStyles {
		var members []string
		for _, s := range slices.Sorted(maps.Keys(class)) {
			if class[s] == c.name {
				members = append(members, string(s))
			}
		}
		if len(members) > 0 {
			l.add(1, "class "+strings.Join(members, ",")+" "+c.name)
		}
	}
}

// linkStyles writes the arrows' styles, one linkStyle per style. Mermaid
// numbers the links drawn from 0, the one from Begin first.
func (d *Drawing) linkStyles(l *lines) {
	byStyle := map[string][]string{}
	link := 0
	for i := range d.labels {
		if !d.shown[i] {
			continue
		}
		link++
		style := d.styles[i]
		switch {
		case style != "":
		case d.dim:
			style = dimArrowStyle
		case d.arrow(i).error():
			style = errorArrowStyle
		default:
			continue
		}
		byStyle[style] = append(byStyle[style], fmt.Sprint(link))
	}
	for _, style := range slices.Sorted(maps.Keys(byStyle)) {
		l.add(1, "linkStyle "+strings.Join(byStyle[style], ",")+" "+style)
	}
}

// flowText makes text safe in a quoted flowchart label: Mermaid's entity
// codes for what it would misread, and "<br/>" between lines.
func flowText(text string) string {
	parts := strings.Split(text, "\n")
	for i, p := range parts {
		parts[i] = strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(escape(p))
	}
	return strings.Join(parts, "<br/>")
}
