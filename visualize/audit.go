package visualize

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// RenderAudit draws the audit view of the persisted flow rec, whose
// declared flow is f: its path over the overview (FormatOverview,
// AuditState) or over the complete view (FormatState, AuditStateView with
// Complete), or the sequence of its steps (FormatSequence, AuditSequence).
// Other formats return an error wrapping ErrUnsupportedFormat.
func RenderAudit(f *transitions.Flow, rec *store.Record, history []store.HistoryEntry, format Format) (string, error) {
	switch format {
	case FormatOverview:
		return AuditState(f, rec, history), nil
	case FormatState:
		return AuditStateView(f, rec, history, Complete), nil
	case FormatSequence:
		return AuditSequence(f, rec, history), nil
	}
	return "", fmt.Errorf("%w %q for an audit view (want overview, state or sequence)", ErrUnsupportedFormat, format)
}

// AuditState returns the overview of flow f with the path the persisted
// flow rec took drawn over it: the states it went through are blue, its
// current state dark blue, and every arrow it took is blue and heavy,
// labelled with the steps that took it in order, their number, time, event
// and outcome ("(3) 09:30:44 ⚠ submit_phone: 409 ALREADY_EXISTS_PHONE"), so
// the steps that left the state unchanged (a 429, a wrong OTP) show in
// the state's box. The rest of the graph is grey. The current state says when
// the flow started and ended. A step the declared table does not have (the
// flow ran on another graph version) is drawn anyway, marked "not in this
// graph".
func AuditState(f *transitions.Flow, rec *store.Record, history []store.HistoryEntry) string {
	return AuditStateView(f, rec, history, Overview)
}

// AuditStateView is AuditState drawn over view v of the flow: Overview, or
// Complete, where every declared edge has its arrow.
func AuditStateView(f *transitions.Flow, rec *store.Record, history []store.HistoryEntry, v View) string {
	d := NewDrawing(f, v)
	full := spansDays(rec, history)
	type taken struct{ text, tokens string }
	steps := map[int][]*taken{}
	var order []int
	for i, h := range history {
		ev, o := transitions.Event(h.Event), transitions.Outcome(h.Outcome)
		text := stepText(f, h)
		j, declared := d.Arrow(h.From, ev, o, h.To)
		if !declared {
			j = d.extraArrow(h.From, h.To)
			text += " (not in this graph)"
		}
		if _, seen := steps[j]; !seen {
			order = append(order, j)
		}
		token := fmt.Sprintf("(%d) %s", stepNumber(i, h), clock(h.At, full))
		if k := slices.IndexFunc(steps[j], func(t *taken) bool { return t.text == text }); k >= 0 {
			steps[j][k].tokens += ", " + token
		} else {
			steps[j] = append(steps[j], &taken{text: text, tokens: token})
		}
	}
	for _, j := range order {
		var label []string
		for _, t := range steps[j] {
			label = append(label, t.tokens+" "+t.text)
		}
		if d.Loop(j) {
			// Steps that kept the flow in its state are said in its box.
			for _, line := range label {
				d.NoteState(d.arrow(j).from, line)
			}
			continue
		}
		d.SetLabel(j, strings.Join(label, "\n"))
		d.StyleArrow(j, PathArrowStyle)
	}
	d.ClassState(f.Initial, "visited")
	for _, h := range history {
		d.ClassState(h.From, "visited")
		d.ClassState(h.To, "visited")
	}
	if rec.State != "" {
		d.ClassState(rec.State, "current")
		for _, line := range auditSummary(f, rec, history) {
			d.NoteState(rec.State, line)
		}
	}
	d.Dim()
	return d.Mermaid(fmt.Sprintf("flow %s (graph %s): audit of flow %s.", f.Kind, f.Version(), rec.ID))
}

// stepText names a step by its event and, unless it succeeded, its
// outcome as the table labels it: "⚠ confirm_phone: 429 back off".
func stepText(f *transitions.Flow, h store.HistoryEntry) string {
	o := transitions.Outcome(h.Outcome)
	if o == transitions.OK || o == transitions.NewUser {
		return h.Event
	}
	detail := h.Outcome
	if t, ok := f.Find(h.From, transitions.Event(h.Event)); ok {
		if e, ok := t.Edge(o); ok && e.Label != "" {
			detail = e.Label
		}
	}
	return "⚠ " + h.Event + ": " + detail
}

// extraArrow returns the added arrow from one state to another, adding it
// when there is none.
func (d *Drawing) extraArrow(from, to states.State) int {
	for k, a := range d.extra {
		if a.from == from && a.to == to {
			return len(d.g.arrows) + k
		}
	}
	return d.AddArrow(from, to, "")
}

// AuditSequence returns the steps of the persisted flow rec as a sequence
// diagram: for each history entry a note with its number, time, event,
// states, outcome and Ratio call (status, code, duration), then the
// messages of the transition it fired and of the edge its outcome took, as
// declared in flow f. Steps that left the state unchanged (a 429, a wrong
// OTP) appear like any other; a call the table draws no answer for (a
// 429, a 5xx, a wrong code) gets Ratio's answer as recorded, its status
// and code. Notes are wrapped to fit their boxes. Activation marks that the
// recorded path leaves unbalanced (a retry after a 429) are dropped so the diagram stays
// valid, and a step that left the state unchanged ends with the
// activations it began with, so its retry draws like the story. No secret is
// drawn: history entries hold none.
func AuditSequence(f *transitions.Flow, rec *store.Record, history []store.HistoryEntry) string {
	var l lines
	l.add(0, "sequenceDiagram")
	l.add(1, fmt.Sprintf("%%%% Generated by ratioflow's visualize package from the declared table of flow %s (graph %s): audit of flow %s.",
		f.Kind, f.Version(), escape(rec.ID)))
	for _, p := range []transitions.Participant{transitions.User, transitions.Wallet, transitions.Ratio} {
		l.add(1, "participant "+string(p))
	}
	summary := auditSummary(f, rec, history)
	l.add(1, "Note over User,Ratio: "+noteText(summary[0]+", "+summary[1]))
	full := spansDays(rec, history)
	act := activations{}
	for i, h := range history {
		l.add(1, "Note over User,Ratio: "+noteText(stepNote(i, h, full)))
		t, ok := f.Find(h.From, transitions.Event(h.Event))
		if !ok {
			continue
		}
		msgs := slices.Clone(t.Messages)
		if e, ok := t.Edge(transitions.Outcome(h.Outcome)); ok {
			msgs = append(msgs, e.Messages...)
		}
		if h.Call != "" && !answered(msgs) {
			msgs = append(msgs, transitions.Message{From: transitions.Ratio, Arrow: transitions.Sync,
				Act: transitions.Deactivate, To: transitions.Wallet, Text: answer(h)})
		}
		before := maps.Clone(act)
		for _, m := range msgs {
			l.add(1, message(act.apply(m)))
		}
		if h.From == h.To {
			// Back where it was: so is the conversation, for the retry.
			for _, s := range act.restore(before) {
				l.add(1, s)
			}
		}
	}
	l.add(1, "Note over User,Ratio: "+noteText(strings.Join(summary[2:], ", ")))
	return l.String()
}

// noteWidth is how many characters a line of a note over the three
// participants holds, so its text stays in its box.
const noteWidth = 56

// noteText is text escaped for a note and wrapped to fit its box.
func noteText(text string) string {
	lines := strings.Split(wrap(text, noteWidth), "\n")
	for i, l := range lines {
		lines[i] = escape(l)
	}
	return strings.Join(lines, "<br/>")
}

// answered reports whether Ratio answers in msgs after the last request
// made to it.
func answered(msgs []transitions.Message) bool {
	asked := -1
	for i, m := range msgs {
		if m.To == transitions.Ratio {
			asked = i
		}
	}
	return slices.ContainsFunc(msgs[asked+1:], func(m transitions.Message) bool { return m.From == transitions.Ratio })
}

// answer is the text of Ratio's answer to a step's call that the table
// draws no message for: its status and code ("429 TOO_MANY_REQUESTS"), or
// "no answer" when the call failed without one (a timeout).
func answer(h store.HistoryEntry) string {
	if h.Status == 0 {
		return "no answer (" + h.Outcome + ")"
	}
	return strings.TrimSpace(statusText(h.Status) + " " + h.Code)
}

// activations counts how many times each participant is active, as Mermaid
// does; deactivating an inactive participant is a parse error.
type activations map[transitions.Participant]int

// apply returns m with its activation mark, or without it when the
// recorded path leaves nothing to deactivate.
func (a activations) apply(m transitions.Message) transitions.Message {
	switch m.Act {
	case transitions.Activate:
		a[m.To]++
	case transitions.Deactivate:
		// Mermaid deactivates the sender of a "-" message.
		if a[m.From] == 0 {
			m.Act = transitions.Keep
		} else {
			a[m.From]--
		}
	}
	return m
}

// restore returns the activate and deactivate statements that bring a
// back to the counts of before, and applies them.
func (a activations) restore(before activations) []string {
	var out []string
	for _, p := range []transitions.Participant{transitions.User, transitions.Wallet, transitions.Ratio} {
		for ; a[p] > before[p]; a[p]-- {
			out = append(out, "deactivate "+string(p))
		}
		for ; a[p] < before[p]; a[p]++ {
			out = append(out, "activate "+string(p))
		}
	}
	return out
}

// stepNote describes one history entry.
func stepNote(i int, h store.HistoryEntry, full bool) string {
	where := "from " + string(h.From) + " to " + string(h.To)
	if h.From == h.To {
		where = "in " + string(h.From) + ", stayed"
	}
	var call []string
	for _, s := range []string{h.Call, statusText(h.Status), h.Code} {
		if s != "" {
			call = append(call, s)
		}
	}
	if h.Duration > 0 {
		call = append(call, "in "+callTime(h.Duration))
	}
	detail := ""
	if len(call) > 0 {
		detail = " (" + strings.Join(call, " ") + ")"
	}
	return fmt.Sprintf("(%d) %s %s %s: %s%s", stepNumber(i, h), clock(h.At, full), h.Event, where, h.Outcome, detail)
}

func statusText(status int) string {
	if status == 0 {
		return ""
	}
	return fmt.Sprint(status)
}

// auditSummary says which flow rec is and where it stands, one line each:
// its ID and kind, when it started, where it is or ended, and the graph
// version when it differs from f's.
func auditSummary(f *transitions.Flow, rec *store.Record, history []store.HistoryEntry) []string {
	started := rec.CreatedAt
	if started.IsZero() && len(history) > 0 {
		started = history[0].At
	}
	out := []string{
		fmt.Sprintf("flow %s (%s)", rec.ID, rec.Kind),
		"started " + started.UTC().Format("2006-01-02 15:04:05 UTC"),
	}
	full := spansDays(rec, history)
	switch {
	case rec.Terminal():
		out = append(out, fmt.Sprintf("ended in %s at %s", rec.State, clock(rec.EndedAt, full)))
	case !rec.ExpiresAt.IsZero():
		out = append(out, fmt.Sprintf("in %s, expires at %s", rec.State, clock(rec.ExpiresAt, full)))
	default:
		out = append(out, "in "+string(rec.State))
	}
	if rec.GraphVersion != "" && rec.GraphVersion != f.Version() {
		out = append(out, fmt.Sprintf("started on graph %s, drawn on %s", rec.GraphVersion, f.Version()))
	}
	return out
}

// stepNumber is the entry's Seq, or its position when the store set none.
func stepNumber(i int, h store.HistoryEntry) int64 {
	if h.Seq > 0 {
		return h.Seq
	}
	return int64(i + 1)
}

// clock formats a step's time in UTC: the time of day, with the date when
// the flow spans more than one day.
func clock(t time.Time, full bool) string {
	if full {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	return t.UTC().Format("15:04:05")
}

// spansDays reports whether the times of a flow fall on more than one day.
func spansDays(rec *store.Record, history []store.HistoryEntry) bool {
	times := []time.Time{rec.CreatedAt, rec.EndedAt, rec.ExpiresAt}
	for _, h := range history {
		times = append(times, h.At)
	}
	day := ""
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		d := t.UTC().Format(time.DateOnly)
		if day != "" && d != day {
			return true
		}
		day = d
	}
	return false
}

// callTime prints how long a Ratio call took, to a precision that still
// says something for the sub-millisecond calls of a local sandbox.
func callTime(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
