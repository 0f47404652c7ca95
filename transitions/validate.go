package transitions

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/states"
)

// Validate checks every declared flow and returns all problems found,
// joined, or nil.
func Validate() error {
	var errs []error
	for _, f := range All() {
		errs = append(errs, f.Validate())
	}
	return errors.Join(errs...)
}

var (
	stateName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	eventName = regexp.MustCompile(`^[a-z][a-z_]*[a-z]$`)
	// Words that break a Mermaid state id or a sequence participant.
	mermaidReserved = []string{"end", "note", "class", "classDef", "style", "click", "default",
		"state", "direction", "alt", "else", "opt", "loop", "par", "and", "rect", "critical",
		"break", "activate", "deactivate", "participant", "actor", "autonumber", "title"}
)

// ValidStateName reports whether s can be used verbatim as a Mermaid state
// id and a Graphviz node id: letters and digits, starting with a capital,
// never a Mermaid keyword.
func ValidStateName(s states.State) bool {
	return stateName.MatchString(string(s)) && !slices.ContainsFunc(mermaidReserved, func(w string) bool {
		return strings.EqualFold(w, string(s))
	})
}

// Validate checks one flow: names valid, transitions well formed, every
// state reachable from the initial one, a terminal reachable from every
// state (no dead ends), terminals left by no event, every Ratio-calling
// transition handling every error class, guards known, an expired JWT never
// leaving a flow stuck, messages drawable.
func (f *Flow) Validate() error {
	v := &validator{f: f}
	v.check()
	if len(v.errs) == 0 {
		return nil
	}
	return fmt.Errorf("flow %s: %w", f.Kind, errors.Join(v.errs...))
}

type validator struct {
	f    *Flow
	errs []error
}

func (v *validator) errorf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

func (v *validator) check() {
	f := v.f
	if f.Kind == "" || !eventName.MatchString(strings.ReplaceAll(string(f.Kind), "-", "_")) {
		v.errorf("kind %q: want lower-case words joined by hyphens", f.Kind)
	}
	if f.Initial == "" || f.Initial.Terminal() {
		v.errorf("initial state %q: want a non-terminal state", f.Initial)
	}
	v.checkFields("start", f.Start)
	seen := map[string]bool{}
	autos := map[states.State]Event{}
	for i := range f.Transitions {
		t := &f.Transitions[i]
		v.checkTransition(t)
		for _, s := range t.From {
			key := string(s) + "/" + string(t.Event)
			if seen[key] {
				v.errorf("event %s: declared twice from %s", t.Event, s)
			}
			seen[key] = true
			if t.Auto {
				if other, dup := autos[s]; dup {
					v.errorf("state %s: two automatic transitions (%s, %s)", s, other, t.Event)
				}
				autos[s] = t.Event
			}
		}
	}
	v.checkGraph()
	v.checkEndings()
	for _, m := range slices.Concat(f.Opening, f.Closing) {
		v.checkMessage("flow", m)
	}
}

// checkEndings requires, of a flow that declares endings, one for every
// terminal state it can reach, and none for a state it cannot. (A flow
// without endings is valid: its ended views carry no message. The
// project's own flows all declare them; transitions_test checks it.)
func (v *validator) checkEndings() {
	if len(v.f.Endings) == 0 {
		return
	}
	reached := map[states.State]bool{}
	for _, s := range v.f.States() {
		if s.Terminal() {
			reached[s] = true
			if strings.TrimSpace(v.f.Endings[s]) == "" {
				v.errorf("terminal state %s: no ending says what happened and what comes next", s)
			}
		}
	}
	for s := range v.f.Endings {
		if !reached[s] {
			v.errorf("ending for %s: not a terminal state the flow reaches", s)
		}
	}
}

func (v *validator) checkFields(where string, fields []Field) {
	for _, fd := range fields {
		if !slices.Contains(FieldNames(), fd.Name) {
			v.errorf("%s: unknown field %q", where, fd.Name)
		}
	}
}

func (v *validator) checkTransition(t *Transition) {
	where := "event " + string(t.Event)
	if !eventName.MatchString(string(t.Event)) {
		v.errorf("%s: event name must be lower-case words joined by underscores", where)
	}
	if len(t.From) == 0 {
		v.errorf("%s: no source state", where)
	}
	for _, s := range t.From {
		v.checkState(where, s)
		if s.Terminal() {
			v.errorf("%s: leaves terminal state %s", where, s)
		}
	}
	v.checkFields(where, t.Input)
	if t.Auto {
		for _, in := range t.Input {
			if !slices.ContainsFunc(v.f.Start, func(s Field) bool { return s.Name == in.Name }) {
				v.errorf("%s: automatic, but its input %s is not given at the start", where, in.Name)
			}
		}
	}
	if _, found := t.Edge(OK); !found {
		v.errorf("%s: no edge for outcome ok", where)
	}
	outcomes := map[Outcome]bool{}
	for _, e := range t.Edges {
		if outcomes[e.Outcome] {
			v.errorf("%s: outcome %s declared twice", where, e.Outcome)
		}
		outcomes[e.Outcome] = true
		if e.To != Stay {
			v.checkState(where, e.To)
		}
		for _, m := range e.Messages {
			v.checkMessage(where, m)
		}
	}
	for _, m := range t.Messages {
		v.checkMessage(where, m)
	}
	v.checkCall(t, outcomes)
	for _, g := range t.Guards {
		if !slices.Contains(Guards(), g) {
			v.errorf("%s: unknown guard %q", where, g)
		}
	}
	if len(t.Guards) > 0 && !outcomes[Refused] {
		v.errorf("%s: has guards but no edge for outcome refused", where)
	}
}

// checkCall checks the edges a transition declares against its call.
func (v *validator) checkCall(t *Transition, outcomes map[Outcome]bool) {
	where := "event " + string(t.Event)
	if t.Call == NoCall {
		if t.Bearer {
			v.errorf("%s: carries a JWT but makes no call", where)
		}
		for o := range outcomes {
			if o != OK && o != Refused {
				v.errorf("%s: makes no call, so outcome %s cannot happen", where, o)
			}
		}
		return
	}
	if !slices.Contains(Calls(), t.Call) {
		v.errorf("%s: unknown call %q", where, t.Call)
	}
	for _, c := range ErrorClasses() {
		if !outcomes[c] {
			v.errorf("%s: call %s does not handle error class %s", where, t.Call, c)
		}
	}
	otp := t.Call == CallAuthenticateSMS || t.Call == CallAuthenticateEmail
	if otp && !outcomes[AttemptsExhausted] {
		v.errorf("%s: verifies a one-time code but has no edge for %s", where, AttemptsExhausted)
	}
	if !otp && outcomes[AttemptsExhausted] {
		v.errorf("%s: outcome %s only follows a one-time code", where, AttemptsExhausted)
	}
	if e, _ := t.Edge(ExpiredJWT); t.Bearer && e.To == Stay {
		v.errorf("%s: carries a JWT, so an expired one must lead somewhere (it stays)", where)
	}
	if outcomes[NewUser] && t.Call != CallAuthenticateWallet && t.Call != CallAuthenticateSMS &&
		t.Call != CallAuthenticateEmail {
		v.errorf("%s: outcome %s only follows an authentication", where, NewUser)
	}
}

func (v *validator) checkState(where string, s states.State) {
	if !s.Known() {
		v.errorf("%s: unknown state %q", where, s)
	}
	if !ValidStateName(s) {
		v.errorf("%s: state %q is not a valid Mermaid identifier", where, s)
	}
}

func (v *validator) checkMessage(where string, m Message) {
	parts := []Participant{User, Wallet, Ratio}
	if !slices.Contains(parts, m.From) || !slices.Contains(parts, m.To) {
		v.errorf("%s: message %q between unknown participants %s and %s", where, m.Text, m.From, m.To)
	}
	if m.Arrow != Sync && m.Arrow != Async {
		v.errorf("%s: message %q has unknown arrow %q", where, m.Text, m.Arrow)
	}
	if m.Act != Keep && m.Act != Activate && m.Act != Deactivate {
		v.errorf("%s: message %q has unknown activation %q", where, m.Text, m.Act)
	}
	if strings.TrimSpace(m.Text) == "" || strings.ContainsAny(m.Text, ";#\n\r") {
		v.errorf("%s: message text %q must be one line without ; or #", where, m.Text)
	}
}

// checkGraph checks reachability: every state is reachable from the initial
// one, and a terminal state is reachable from every state.
func (v *validator) checkGraph() {
	f := v.f
	succ := map[states.State][]states.State{}
	for _, t := range f.Transitions {
		for _, s := range t.From {
			for _, e := range t.Edges {
				succ[s] = append(succ[s], e.Dest(s))
			}
		}
	}
	reached := reach(f.Initial, succ)
	for _, s := range f.States() {
		if !reached[s] {
			v.errorf("state %s: not reachable from %s", s, f.Initial)
			continue
		}
		if s.Terminal() {
			continue
		}
		ends := reach(s, succ)
		if !slices.ContainsFunc(f.States(), func(t states.State) bool { return ends[t] && t.Terminal() }) {
			v.errorf("state %s: dead end, no terminal state reachable", s)
		}
		if !slices.ContainsFunc(f.Transitions, func(t Transition) bool { return t.Event == Cancel && t.Fires(s) }) {
			v.errorf("state %s: cannot be canceled", s)
		}
		if !slices.ContainsFunc(f.Transitions, func(t Transition) bool { return t.Event == Expire && t.Fires(s) }) {
			v.errorf("state %s: cannot expire", s)
		}
	}
}

func reach(from states.State, succ map[states.State][]states.State) map[states.State]bool {
	seen := map[states.State]bool{from: true}
	queue := []states.State{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, n := range succ[s] {
			if !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	return seen
}
