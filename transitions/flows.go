package transitions

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ratioflow/ratioflow/states"
)

// All returns the four declared flows, sorted by kind.
func All() []*Flow {
	return []*Flow{Link, LinkFactorsFirst, SignIn, SignUp}
}

// Kinds returns the kinds of the declared flows, sorted.
func Kinds() []Kind {
	var ks []Kind
	for _, f := range All() {
		ks = append(ks, f.Kind)
	}
	return ks
}

// Lookup returns the declared flow of the given kind.
func Lookup(kind Kind) (*Flow, bool) {
	for _, f := range All() {
		if f.Kind == kind {
			return f, true
		}
	}
	return nil, false
}

// Calls lists every Ratio operation a table may name.
func Calls() []Call {
	return []Call{CallStartWallet, CallAuthenticateWallet, CallAddWalletToUser, CallSendSMS,
		CallAuthenticateSMS, CallSendEmail, CallAuthenticateEmail, CallCreateUser, CallGetUser,
		CallListWallets}
}

// States returns every state the flow names, sorted by name.
func (f *Flow) States() []states.State {
	set := map[states.State]bool{f.Initial: true}
	for _, t := range f.Transitions {
		for _, s := range t.From {
			set[s] = true
		}
		for _, e := range t.Edges {
			if e.To != Stay {
				set[e.To] = true
			}
		}
	}
	out := make([]states.State, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Permitted returns the transitions that may fire in state s, in table order.
func (f *Flow) Permitted(s states.State) []*Transition {
	var out []*Transition
	for i := range f.Transitions {
		if f.Transitions[i].Fires(s) {
			out = append(out, &f.Transitions[i])
		}
	}
	return out
}

// Find returns the transition of event e that may fire in state s.
func (f *Flow) Find(s states.State, e Event) (*Transition, bool) {
	for i := range f.Transitions {
		t := &f.Transitions[i]
		if t.Event == e && t.Fires(s) {
			return t, true
		}
	}
	return nil, false
}

// Auto returns the automatic transition that fires in state s, if any.
func (f *Flow) Auto(s states.State) (*Transition, bool) {
	for i := range f.Transitions {
		t := &f.Transitions[i]
		if t.Auto && t.Fires(s) {
			return t, true
		}
	}
	return nil, false
}

// Version returns the content hash of the flow's behaviour: its states,
// events, calls, edges, guards, inputs and automatic steps. Messages, labels
// and docs are not part of it, so redrawing a diagram never strands a
// running flow. A flow records the version it started on; the engine
// refuses to resume it under another unless a Migration is declared.
func (f *Flow) Version() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kind=%s initial=%s start=%s\n", f.Kind, f.Initial, fieldList(f.Start))
	lines := make([]string, 0, len(f.Transitions))
	for _, t := range f.Transitions {
		from := slices.Clone(t.From)
		slices.Sort(from)
		var edges []string
		for _, e := range t.Edges {
			edges = append(edges, string(e.Outcome)+">"+string(e.To))
		}
		sort.Strings(edges)
		var guards []string
		for _, g := range t.Guards {
			guards = append(guards, string(g))
		}
		lines = append(lines, fmt.Sprintf("event=%s from=%v input=%s call=%s bearer=%t auto=%t guards=%s edges=%s",
			t.Event, from, fieldList(t.Input), t.Call, t.Bearer, t.Auto,
			strings.Join(guards, ","), strings.Join(edges, ",")))
	}
	sort.Strings(lines)
	b.WriteString(strings.Join(lines, "\n"))
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

func fieldList(fs []Field) string {
	var names []string
	for _, f := range fs {
		n := f.Name
		if f.Optional {
			n += "?"
		}
		if f.Secret {
			n += "!"
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}
