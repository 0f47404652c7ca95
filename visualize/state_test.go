package visualize_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// arrowLine is one `From -->|"label"| To` statement of a flowchart, its
// label unescaped, lines separated by "\n".
type arrowLine struct{ from, to, label string }

var arrowRE = regexp.MustCompile(`^(\w+) (?:-->|-\.->|==>)(?:\|"(.*)"\|)? (\w+)$`)

// unflow undoes the escaping of a flowchart label.
var unflow = strings.NewReplacer("<br/>", "\n", "#quot;", `"`, "#lt;", "<", "#gt;", ">", "#59;", ";", "#35;", "#")

func arrowLines(text string) []arrowLine {
	var out []arrowLine
	for _, line := range strings.Split(text, "\n") {
		if m := arrowRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			out = append(out, arrowLine{m[1], m[3], unflow.Replace(m[2])})
		}
	}
	return out
}

// legendLines returns the lines of the Legend node of a complete view.
func legendLines(text string) []string {
	_, rest, ok := strings.Cut(text, `Legend["`)
	if !ok {
		return nil
	}
	legend, _, _ := strings.Cut(rest, `"]`)
	return strings.Split(unflow.Replace(legend), "\n")
}

// TestStateDiagram_DrawsEveryEdge finds each edge of each table that the
// engine can take on the arrow from its source (or from the running
// stand-in) to its destination, on a line of its label that names its
// event and its label or outcome. An edge that keeps the flow in its state
// is in the state's box instead: "↻ event: label", or for an error, the
// box's "⚠ errors: stay" and the legend's line for the state.
func TestStateDiagram_DrawsEveryEdge(t *testing.T) {
	for _, f := range transitions.All() {
		t.Run(string(f.Kind), func(t *testing.T) {
			text := visualize.StateDiagram(f)
			arrows, legend := arrowLines(text), legendLines(text)
			for _, tr := range f.Transitions {
				for _, from := range tr.From {
					for _, e := range tr.Edges {
						if !flow.Possible(tr.Call, len(tr.Guards) > 0, e.Outcome) {
							continue
						}
						if e.Dest(from) == from {
							if !inBox(text, legend, from, &tr, e) {
								t.Errorf("state %s does not say it stays on %s/%s (%q)", from, tr.Event, e.Outcome, e.Label)
							}
							continue
						}
						if !slices.ContainsFunc(arrows, func(a arrowLine) bool { return drawn(a, from, &tr, e) }) {
							t.Errorf("no arrow %s --> %s for %s/%s (%q)", from, e.Dest(from), tr.Event, e.Outcome, e.Label)
						}
					}
				}
			}
		})
	}
}

// edgeText returns how an edge reads: its event (with " (auto)"), its
// label or outcome ("" when it only repeats the event), whether it is an
// error.
func edgeText(tr *transitions.Transition, e transitions.Edge) (head, detail string, isErr bool) {
	isErr = e.Outcome != transitions.OK && e.Outcome != transitions.NewUser && e.Branch == ""
	head = string(tr.Event)
	if tr.Auto {
		head += " (auto)"
	}
	detail = e.Label
	if detail == "" && e.Outcome != transitions.OK {
		detail = string(e.Outcome)
	}
	if detail == strings.ReplaceAll(string(tr.Event), "_", " ") {
		detail = ""
	}
	return head, detail, isErr
}

// inBox reports whether the box of state from in a complete view says the
// edge keeps the flow there.
func inBox(text string, legend []string, from states.State, tr *transitions.Transition, e transitions.Edge) bool {
	_, rest, ok := strings.Cut(text, "\n    "+string(from)+`["`)
	if !ok {
		return false
	}
	box, _, _ := strings.Cut(unflow.Replace(rest), `"]`)
	head, detail, isErr := edgeText(tr, e)
	if !isErr {
		return strings.Contains(box, strings.TrimSuffix(string(tr.Event)+": "+detail, ": "))
	}
	i := slices.IndexFunc(legend, func(l string) bool { return strings.HasPrefix(l, string(from)+": ") })
	return strings.Contains(box, "⚠ errors: stay") && i >= 0 &&
		strings.Contains(legend[i], head+": ") && strings.Contains(legend[i], detail)
}

func drawn(a arrowLine, from states.State, tr *transitions.Transition, e transitions.Edge) bool {
	if a.from != string(from) && a.from != "Running" || a.to != string(e.Dest(from)) {
		return false
	}
	if a.from == "Running" && !slices.Contains(tr.From, from) {
		return false
	}
	head, detail, isErr := edgeText(tr, e)
	if isErr {
		head = "⚠ " + head
	}
	for _, line := range strings.Split(a.label, "\n") {
		// A line names one event or several that read the same:
		// "⚠ submit_otp, resend_otp: JWT expired: new challenge".
		heads, rest, _ := strings.Cut(line, ": ")
		mark, heads := "", heads
		if strings.HasPrefix(heads, "⚠ ") {
			mark, heads = "⚠ ", strings.TrimPrefix(heads, "⚠ ")
		}
		for _, h := range strings.Split(heads, ", ") {
			if mark+h == head && (detail == "" || strings.Contains(rest, detail)) {
				return true
			}
		}
	}
	return false
}

// TestStateDiagram_Shape checks each view is a deterministic flowchart from
// a start point into the initial state, with at most one arrow between two
// states (so at most one loop on each), no ';' or '#' in a label, and
// every state of the flow declared.
func TestStateDiagram_Shape(t *testing.T) {
	for _, f := range transitions.All() {
		for _, draw := range []func(*transitions.Flow) string{visualize.StateDiagram, visualize.OverviewDiagram} {
			text := draw(f)
			if again := draw(f); again != text {
				t.Fatalf("%s: the diagram is not deterministic", f.Kind)
			}
			if !strings.HasPrefix(text, "flowchart TD\n") && !strings.Contains(text, "\n---\nflowchart TD\n") {
				t.Errorf("%s: diagram is not a flowchart:\n%s", f.Kind, text)
			}
			arrows := arrowLines(text)
			if first := arrows[0]; first.from != "Begin" || first.to != string(f.Initial) {
				t.Errorf("%s: first arrow = %v, want Begin --> %s", f.Kind, first, f.Initial)
			}
			seen := map[[2]string]bool{}
			for _, a := range arrows {
				if seen[[2]string{a.from, a.to}] {
					t.Errorf("%s: two arrows %s --> %s", f.Kind, a.from, a.to)
				}
				seen[[2]string{a.from, a.to}] = true
				if strings.ContainsAny(a.label, ";#") {
					t.Errorf("%s: label %q holds ; or #, which Mermaid reads as a separator or an entity", f.Kind, a.label)
				}
			}
			for _, s := range f.States() {
				if !strings.Contains(text, "\n    "+string(s)+`["`) && !strings.Contains(text, "\n    "+string(s)+`(["`) {
					t.Errorf("%s: state %s is not declared", f.Kind, s)
				}
			}
		}
	}
}

// TestOverviewDiagram_SummarisesErrors checks the overview's labels stay
// short and its errors are summed up in each state's box: one "⚠ errors:
// stay", where the others lead, and no outcome a call cannot produce (the
// wallet challenge checks no code).
func TestOverviewDiagram_SummarisesErrors(t *testing.T) {
	text := visualize.OverviewDiagram(transitions.Link)
	for _, want := range []string{
		`New["New<br/>⚠ errors: stay<br/>⚠ 400 → Failed"]`,
		`WalletAuthed -->|"submit_phone: 409 ALREADY_EXISTS_PHONE"| PhoneConflict`,
		`SmsSent["SmsSent<br/>↻ resend_otp<br/>⚠ errors: stay<br/>⚠ JWT expired → New<br/>⚠ no attempt left → Failed"]`,
		`SmsFirstSent -->|"submit_otp: phone has no Ratio user"| Failed`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("overview lacks %s:\n%s", want, text)
		}
	}
	for _, a := range arrowLines(text) {
		if strings.Contains(a.label, "⚠") || a.from == a.to {
			t.Errorf("overview draws the error or loop %v; the state's box sums it up", a)
		}
		if n := len(a.label); n > 60 {
			t.Errorf("overview label %q is %d bytes long, want at most 60", a.label, n)
		}
	}
	complete := visualize.StateDiagram(transitions.Link)
	for _, l := range legendLines(complete) {
		if strings.HasPrefix(l, "New: ") && strings.Contains(l, "wrong OTP") {
			t.Errorf("legend line %q warns of a wrong OTP on the wallet challenge, which checks no code", l)
		}
	}
}

// TestStateDiagram_EscapesLabels draws a table whose labels hold what
// Mermaid would misread.
func TestStateDiagram_EscapesLabels(t *testing.T) {
	f := &transitions.Flow{Kind: "escape", Initial: states.New, Transitions: []transitions.Transition{{
		Event: transitions.SubmitPhone, From: []states.State{states.New},
		Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.SmsSent, Label: "a;b #1\nc \"d\" <e>"}},
	}}}
	got := visualize.StateDiagram(f)
	want := `New -->|"submit_phone: a#59;b #35;1<br/>c #quot;d#quot; #lt;e#gt;"| SmsSent` + "\n"
	if !strings.Contains(got, want) {
		t.Errorf("StateDiagram =\n%s\nwant it to hold %q", got, want)
	}
}
