package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/looplab/fsm"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// compiled is a declared flow prepared for the engine: its version and the
// looplab event descriptions built from its table once, in whole and cut
// per source state.
type compiled struct {
	flow    *transitions.Flow
	version string
	events  fsm.Events
	// from holds, for each source state, the events that leave it, with
	// that state as their only source: the rows of the table a step from
	// that state can take.
	from map[states.State]fsm.Events
	// machines holds, for each source state, idle looplab FSMs built from
	// its rows (from), for transit to reuse.
	machines map[states.State]*sync.Pool
	// names holds the looplab event name of each event and outcome.
	names map[eventOutcome]string
	// next holds, for each state that is not terminal, what a view lists
	// as the user's next events: a template view copies.
	next map[states.State][]Next
}

// eventOutcome keys an event and one of its outcomes.
type eventOutcome struct {
	e transitions.Event
	o transitions.Outcome
}

func compile(f *transitions.Flow) *compiled {
	c := &compiled{flow: f, version: f.Version(), events: fsmEvents(f), from: map[states.State]fsm.Events{},
		machines: map[states.State]*sync.Pool{}, names: map[eventOutcome]string{}, next: map[states.State][]Next{}}
	for _, t := range f.Transitions {
		for _, e := range t.Edges {
			c.names[eventOutcome{t.Event, e.Outcome}] = fsmEvent(t.Event, e.Outcome)
		}
	}
	for _, s := range f.States() {
		if !s.Terminal() {
			c.next[s] = nextEvents(f, s)
		}
	}
	for _, e := range c.events {
		for _, src := range e.Src {
			s := states.State(src)
			c.from[s] = append(c.from[s], fsm.EventDesc{Name: e.Name, Src: []string{src}, Dst: e.Dst})
		}
	}
	for s, events := range c.from {
		c.machines[s] = &sync.Pool{New: func() any { return fsm.NewFSM(string(s), events, nil) }}
	}
	return c
}

// fsmEvents turns a table into looplab events: one event per transition
// and outcome, named "event/outcome", from each source to the edge's
// destination (Stay edges become self-loops, grouped per source).
func fsmEvents(f *transitions.Flow) fsm.Events {
	var out fsm.Events
	index := map[string]int{} // name and destination -> position in out
	for _, t := range f.Transitions {
		for _, e := range t.Edges {
			name := fsmEvent(t.Event, e.Outcome)
			for _, s := range t.From {
				dst := string(e.Dest(s))
				key := name + ">" + dst
				if i, ok := index[key]; ok {
					out[i].Src = append(out[i].Src, string(s))
					continue
				}
				index[key] = len(out)
				out = append(out, fsm.EventDesc{Name: name, Src: []string{string(s)}, Dst: dst})
			}
		}
	}
	return out
}

func fsmEvent(e transitions.Event, o transitions.Outcome) string { return string(e) + "/" + string(o) }

// name returns the looplab event name of e's outcome o.
func (c *compiled) name(e transitions.Event, o transitions.Outcome) string {
	if n, ok := c.names[eventOutcome{e, o}]; ok {
		return n
	}
	return fsmEvent(e, o) // undeclared: looplab will refuse it
}

// transit asks a looplab FSM, built from the declared table and set to
// state from, where event's outcome leads. The FSM is the authority on the
// graph: a pair the table does not declare is an error. No callback does
// I/O (the Ratio call is already made), and the context passed to looplab
// is never cancelled: a cancelled context wedges a looplab FSM for good
// (looplab/fsm#115).
//
// The FSM holds the rows of the table that leave from, not the whole
// table: only they can fire in from, and building looplab's maps for the
// whole link table cost ten times the rest of a step. It is taken from a
// pool of idle FSMs of from's rows and set back to from, as building one
// costs more than the rest of transit; it has no callbacks, so nothing of
// one step survives into the next but its state, which SetState resets.
func (c *compiled) transit(ctx context.Context, from states.State, e transitions.Event, o transitions.Outcome) (states.State, error) {
	pool, ok := c.machines[from]
	if !ok { // no row leaves from: any event is undeclared there
		return from, fmt.Errorf("flow %s: %s/%s from %s: %w", c.flow.Kind, e, o, from, fsm.UnknownEventError{Event: fsmEvent(e, o)})
	}
	m := pool.Get().(*fsm.FSM)
	defer pool.Put(m)
	m.SetState(string(from))
	err := m.Event(context.WithoutCancel(ctx), c.name(e, o))
	var same fsm.NoTransitionError
	if err != nil && !errors.As(err, &same) {
		return from, fmt.Errorf("flow %s: %s/%s from %s: %w", c.flow.Kind, e, o, from, err)
	}
	return states.State(m.Current()), nil
}

// migrate brings a record persisted under an earlier graph version to the
// current one, if a migration is declared, or refuses it.
func (c *compiled) migrate(rec *store.Record) error {
	if rec.GraphVersion == c.version {
		return nil
	}
	for _, m := range c.flow.Migrations {
		if m.FromVersion != rec.GraphVersion {
			continue
		}
		if to, ok := m.States[rec.State]; ok {
			rec.State = to
		}
		if !rec.State.Terminal() && !stateIn(c.flow, rec.State) {
			return fmt.Errorf("migration from %s leaves state %s, unknown to graph %s", rec.GraphVersion, rec.State, c.version)
		}
		rec.GraphVersion = c.version
		return nil
	}
	return &GraphChangedError{Kind: c.flow.Kind, Stored: rec.GraphVersion, Current: c.version}
}

func stateIn(f *transitions.Flow, s states.State) bool {
	for _, t := range f.States() {
		if t == s {
			return true
		}
	}
	return false
}

// Flows returns the declared flows the engine runs (Options.Flows, or
// transitions.All()), ordered by kind, for what describes them, such as
// the flow API's OpenAPI document. The tables are the engine's: do not
// change them.
func (e *Engine) Flows() []*transitions.Flow {
	out := make([]*transitions.Flow, 0, len(e.flows))
	for _, c := range e.flows {
		out = append(out, c.flow)
	}
	slices.SortFunc(out, func(a, b *transitions.Flow) int { return strings.Compare(string(a.Kind), string(b.Kind)) })
	return out
}
