package visualize

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// staySummary is the one label a state's loop gives the errors that keep
// the flow where it was; the complete view's legend lists them.
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
// it, the reasons of the branches that are not plain successes, the short
// names of its errors ("⚠ JWT expired") and one "⚠ errors: stay" for the
// errors that keep the flow where it was.
func overviewLabel(a *arrow) string {
	stays, others := a.stays()
	var lines, errs []string
	for _, g := range groups(others) {
		if g.error {
			for _, p := range g.parts {
				errs = appendNew(errs, shortOutcomes[p.e.Outcome])
			}
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
	if len(errs) > 0 {
		lines = append(lines, "⚠ "+strings.Join(errs, ", "))
	}
	if len(stays) > 0 {
		lines = append(lines, staySummary)
	}
	return strings.Join(lines, "\n")
}

// completeLabel is arrow a's label in the complete view: a line per event
// and kind naming each edge ("⚠ submit_otp: wrong OTP, no attempt left"),
// and "⚠ errors: stay" for the errors that keep the flow where it was,
// which the legend lists.
func completeLabel(a *arrow) string {
	stays, others := a.stays()
	var lines []string
	for _, g := range groups(others) {
		var details []string
		for _, p := range g.parts {
			if d := edgeDetail(g.event, p.e); d != "" {
				details = appendNew(details, d)
			}
		}
		lines = append(lines, withDetails(g.head(), details))
	}
	if len(stays) > 0 {
		lines = append(lines, staySummary)
	}
	return strings.Join(lines, "\n")
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
