package visualize

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// staySummary is how a state's box sums up the errors that keep the flow
// where it was; the complete view's legend lists them.
const staySummary = "⚠ errors: stay"

// shortOutcomes name an error outcome in an overview.
var shortOutcomes = map[transitions.Outcome]string{
	transitions.Conflict:          "409",
	transitions.RateLimited:       "429",
	transitions.InvalidOTP:        "wrong OTP",
	transitions.ExpiredJWT:        "JWT expired",
	transitions.InvalidInput:      "400",
	transitions.Transient:         "5xx",
	transitions.AttemptsExhausted: "no attempt left",
	transitions.Refused:           "refused",
}

// group is the parts of one arrow that share an event and a kind (error or
// not), as one line of its label names them.
type group struct {
	event transitions.Event
	auto  bool
	error bool
	parts []part
}

// groups splits parts by event and kind, in the order they come.
func groups(parts []part) []*group {
	var out []*group
	for _, p := range parts {
		i := slices.IndexFunc(out, func(g *group) bool { return g.event == p.t.Event && g.error == p.error() })
		if i < 0 {
			out = append(out, &group{event: p.t.Event, auto: p.t.Auto, error: p.error()})
			i = len(out) - 1
		}
		out[i].parts = append(out[i].parts, p)
	}
	return out
}

// head is the start of a group's line: "⚠ " for errors, the event, and
// " (auto)" for automatic transitions.
func (g *group) head() string {
	h := string(g.event)
	if g.auto {
		h += " (auto)"
	}
	if g.error {
		h = "⚠ " + h
	}
	return h
}

// overviewLabel is arrow a's label in the overview: the events that walk
// it and the reasons of the branches that are not plain successes. Its
// errors are summarised in its source's box (stateSummary).
func overviewLabel(a *arrow) string {
	var lines []string
	for _, g := range groups(a.parts) {
		if g.error {
			continue
		}
		var why []string
		for _, p := range g.parts {
			if p.e.Outcome != transitions.OK && p.e.Label != "" {
				why = appendNew(why, p.e.Label)
			}
		}
		lines = append(lines, withDetails(g.head(), why))
	}
	return strings.Join(lines, "\n")
}

// completeLabel is arrow a's label in the complete view: a line per event
// and kind naming each edge ("⚠ submit_otp: wrong OTP, no attempt left");
// events whose edges read the same share a line ("⚠ submit_otp,
// resend_otp: JWT expired: new challenge").
func completeLabel(a *arrow) string {
	type line struct{ heads, details string }
	var lines []line
	for _, g := range groups(a.parts) {
		var details []string
		for _, p := range g.parts {
			if d := edgeDetail(g.event, p.e); d != "" {
				details = appendNew(details, d)
			}
		}
		l := line{heads: g.head(), details: strings.Join(details, ", ")}
		i := slices.IndexFunc(lines, func(o line) bool {
			return o.details == l.details && strings.HasPrefix(o.heads, "⚠ ") == g.error
		})
		if i < 0 {
			lines = append(lines, l)
			continue
		}
		lines[i].heads += ", " + strings.TrimPrefix(l.heads, "⚠ ")
	}
	var out []string
	for _, l := range lines {
		out = append(out, strings.TrimSuffix(l.heads+": "+l.details, ": "))
	}
	return strings.Join(out, "\n")
}

// stateSummary is what the box of state s says under its name about the
// edges that are not arrows of view v: the events that keep the flow there
// ("↻ resend_otp"), one "⚠ errors: stay" for the errors that do, and in
// the overview where the other errors lead ("⚠ JWT expired → New").
func (g *graph) stateSummary(s states.State, v View) []string {
	var loops, elsewhere []string
	stay := false
	for _, a := range g.arrows {
		if a.from != s {
			continue
		}
		for _, p := range a.parts {
			switch {
			case p.stays():
				stay = true
			case a.to == s && v == Overview:
				loops = appendNew(loops, string(p.t.Event))
			case a.to == s:
				loops = appendNew(loops, withDetails(string(p.t.Event), []string{edgeDetail(p.t.Event, p.e)}))
			case p.error() && v == Overview:
				elsewhere = appendNew(elsewhere, fmt.Sprintf("⚠ %s → %s", shortOutcomes[p.e.Outcome], a.to))
			}
		}
	}
	var out []string
	if len(loops) > 0 {
		out = append(out, "↻ "+strings.Join(loops, ", "))
	}
	if stay {
		out = append(out, staySummary)
	}
	return append(out, mergeTargets(elsewhere)...)
}

// mergeTargets joins the summaries that lead to the same state:
// "⚠ 409 → Failed", "⚠ 400 → Failed" read "⚠ 409, 400 → Failed".
func mergeTargets(lines []string) []string {
	var out []string
	for _, l := range lines {
		what, to, _ := strings.Cut(l, " → ")
		i := slices.IndexFunc(out, func(o string) bool { return strings.HasSuffix(o, " → "+to) })
		if i < 0 {
			out = append(out, l)
			continue
		}
		out[i] = strings.TrimSuffix(out[i], " → "+to) + ", " + strings.TrimPrefix(what, "⚠ ") + " → " + to
	}
	return out
}

// legend lists, per state, the errors that keep the flow there, by event,
// and says which declared outcomes are not drawn.
func (g *graph) legend() []string {
	out := []string{staySummary + ": the flow stays where it was, and the user retries:"}
	for _, a := range g.arrows {
		stays, _ := a.stays()
		if len(stays) == 0 {
			continue
		}
		var byEvent []string
		for _, gr := range groups(stays) {
			var details []string
			for _, p := range gr.parts {
				details = appendNew(details, edgeDetail(gr.event, p.e))
			}
			byEvent = append(byEvent, strings.TrimPrefix(withDetails(gr.head(), details), "⚠ "))
		}
		out = append(out, fmt.Sprintf("%s: %s", a.from, strings.Join(byEvent, "; ")))
	}
	if len(out) == 1 {
		out = nil
	}
	if len(g.hidden) > 0 {
		out = append(out, "Not drawn: the outcomes a call cannot produce (a wrong OTP where no code is checked).")
	}
	return out
}

// withDetails is head followed by ": " and the details, if any.
func withDetails(head string, details []string) string {
	details = slices.DeleteFunc(slices.Clone(details), func(d string) bool { return d == "" })
	if len(details) == 0 {
		return head
	}
	return head + ": " + strings.Join(details, ", ")
}

// appendNew appends s to list unless it is empty or already there.
func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// edgeDetail names an edge after its event: its label, else its outcome
// unless OK. A label that only repeats the event ("cancel") is left out.
func edgeDetail(ev transitions.Event, e transitions.Edge) string {
	switch {
	case e.Label != "" && e.Label != strings.ReplaceAll(string(ev), "_", " "):
		return e.Label
	case e.Label == "" && e.Outcome != transitions.OK:
		return string(e.Outcome)
	}
	return ""
}

// stateLabel is how a state reads in a diagram.
func stateLabel(s states.State) string {
	if s == running {
		return runningLabel
	}
	return string(s)
}
