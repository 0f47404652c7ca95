package flowstats

import (
	"cmp"
	"slices"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// Options tune a Collector. The zero value is usable.
type Options struct {
	// StateTTL is how long a state lives without a step: a running flow
	// whose last step is older is Abandoned. Zero means the engine's
	// default, flow.DefaultPolicy().StateTTL; give the policy's value when
	// the engine runs with another.
	StateTTL time.Duration
	// Now returns the time the report is made at, read once by
	// NewCollector; nil means time.Now.
	Now func() time.Time
}

// Collector adds flows up, one at a time, into Stats per kind. It is not
// safe for concurrent use.
type Collector struct {
	ttl   time.Duration
	now   time.Time
	kinds map[string]*kindStats
}

// NewCollector returns an empty Collector.
func NewCollector(opts Options) *Collector {
	c := &Collector{ttl: opts.StateTTL, kinds: map[string]*kindStats{}}
	if c.ttl <= 0 {
		c.ttl = flow.DefaultPolicy().StateTTL
	}
	if opts.Now != nil {
		c.now = opts.Now()
	} else {
		c.now = time.Now()
	}
	return c
}

// kindStats are the counters of one kind.
type kindStats struct {
	flow    *transitions.Flow // nil for a kind no table declares
	flows   int64
	ends    map[Ending]int64
	edges   []edgeCounter
	edgeIdx map[Edge]int // an entry's edge, as stored, to its index in edges
	states  map[states.State]*stateCounter
	taken   []int // the edges the flow being added took, reused
}

type edgeCounter struct {
	EdgeStats
	ends map[Ending]int64
	last int64 // the number of the last flow that took it
}

type stateCounter struct {
	StateStats
	stays histogram
}

// Add adds one flow: its record (Kind, State, CreatedAt and EndedAt are
// read) and its whole history, ordered by Seq.
func (c *Collector) Add(rec *store.Record, history []store.HistoryEntry) {
	k := c.kind(rec.Kind)
	k.flows++
	ending, stop := c.ending(rec, history)
	k.ends[ending]++
	k.state(stop).stopped(ending)

	// Walk the stays and the edges.
	k.taken = k.taken[:0]
	enteredAt := rec.CreatedAt
	for _, h := range history {
		i := k.edge(h)
		if e := &k.edges[i]; e.last != k.flows {
			e.last = k.flows
			k.taken = append(k.taken, i)
		}
		k.edges[i].Times++
		if h.To != h.From {
			k.state(h.From).stays.add(h.At.Sub(enteredAt))
			enteredAt = h.At
		}
	}
	for _, i := range k.taken {
		k.edges[i].Flows++
		k.edges[i].ends[ending]++
	}
}

// ending returns how the flow ended and the state it stopped in: for a
// terminal flow, the state its last step left.
func (c *Collector) ending(rec *store.Record, history []store.HistoryEntry) (Ending, states.State) {
	last := rec.CreatedAt
	stop := rec.State
	if n := len(history); n > 0 {
		last = history[n-1].At
		if rec.Terminal() {
			stop = history[n-1].From
		}
	}
	switch {
	case rec.Terminal():
		return Ending(rec.State), stop
	case c.now.Sub(last) > c.ttl:
		return Abandoned, stop
	}
	return Running, stop
}

// stopped counts a flow that stopped in the state with the given ending.
func (s *stateCounter) stopped(e Ending) {
	switch e {
	case Ending(states.Expired):
		s.Expired++
	case Ending(states.Canceled):
		s.Canceled++
	case Ending(states.Failed):
		s.Failed++
	case Abandoned:
		s.Abandoned++
	case Running:
		s.Running++
	}
}

// kind returns the counters of kind, making them with the kind's declared
// edges on first use.
func (c *Collector) kind(kind string) *kindStats {
	if k, ok := c.kinds[kind]; ok {
		return k
	}
	k := &kindStats{ends: map[Ending]int64{}, edgeIdx: map[Edge]int{}, states: map[states.State]*stateCounter{}}
	k.flow, _ = transitions.Lookup(transitions.Kind(kind))
	if k.flow != nil {
		for _, t := range k.flow.Transitions {
			for _, from := range t.From {
				for _, e := range t.Edges {
					k.add(EdgeStats{Edge: Edge{from, t.Event, e.Outcome, e.Dest(from)}, Label: e.Label, Call: t.Call, Declared: true})
				}
			}
		}
		for _, s := range k.flow.States() {
			k.state(s)
		}
	}
	c.kinds[kind] = k
	return k
}

// add appends a new edge.
func (k *kindStats) add(es EdgeStats) int {
	k.edges = append(k.edges, edgeCounter{EdgeStats: es, ends: map[Ending]int64{}})
	k.edgeIdx[es.Edge] = len(k.edges) - 1
	return len(k.edges) - 1
}

// edge returns the index of the edge entry h took. An outcome the
// transition does not declare but treats as another (new_user as ok) is
// the declared edge; an entry no table edge matches is an undeclared edge.
func (k *kindStats) edge(h store.HistoryEntry) int {
	key := Edge{h.From, transitions.Event(h.Event), transitions.Outcome(h.Outcome), h.To}
	if i, ok := k.edgeIdx[key]; ok {
		return i
	}
	if k.flow != nil {
		if t, ok := k.flow.Find(h.From, key.Event); ok {
			if e, ok := t.Edge(key.Outcome); ok && e.Dest(h.From) == h.To {
				if i, ok := k.edgeIdx[Edge{h.From, key.Event, e.Outcome, h.To}]; ok {
					k.edgeIdx[key] = i
					return i
				}
			}
		}
	}
	return k.add(EdgeStats{Edge: key, Call: transitions.Call(h.Call)})
}

// state returns the counters of state s.
func (k *kindStats) state(s states.State) *stateCounter {
	sc, ok := k.states[s]
	if !ok {
		sc = &stateCounter{StateStats: StateStats{State: s}}
		k.states[s] = sc
	}
	return sc
}

// Stats returns the figures of every kind added, sorted by kind.
func (c *Collector) Stats() []*Stats {
	var out []*Stats
	for kind, k := range c.kinds {
		out = append(out, k.stats(transitions.Kind(kind)))
	}
	slices.SortFunc(out, func(a, b *Stats) int { return cmp.Compare(a.Kind, b.Kind) })
	return out
}

// stats returns the figures of k.
func (k *kindStats) stats(kind transitions.Kind) *Stats {
	s := &Stats{Kind: kind, Flows: k.flows, Ends: counts(k.ends, k.flows, k.endings())}
	s.Finished = finished(s.Ends)
	for _, e := range k.edges {
		es := e.EdgeStats
		es.Ends = counts(e.ends, e.Flows, nil)
		es.Finished = finished(es.Ends)
		s.Edges = append(s.Edges, es)
	}
	for _, sc := range k.states {
		st := sc.StateStats
		st.Stays = sc.stays.n
		st.Median = sc.stays.quantile(0.5)
		s.States = append(s.States, st)
	}
	order := states.All()
	slices.SortFunc(s.States, func(a, b StateStats) int {
		return cmp.Compare(slices.Index(order, a.State), slices.Index(order, b.State))
	})
	return s
}

// endings lists the endings every report of k shows, counted or not: the
// graph's terminal states, then Running and Abandoned.
func (k *kindStats) endings() []Ending {
	var out []Ending
	for _, s := range states.All() {
		if _, ok := k.states[s]; ok && s.Terminal() {
			out = append(out, Ending(s))
		}
	}
	return append(out, Running, Abandoned)
}

// counts turns counters into Counts, shares of total: first those of
// always (zero or not), then the others, most first.
func counts(m map[Ending]int64, total int64, always []Ending) []Count {
	share := func(n int64) float64 {
		if total == 0 {
			return 0
		}
		return float64(n) / float64(total)
	}
	var out, rest []Count
	for _, e := range always {
		out = append(out, Count{e, m[e], share(m[e])})
	}
	for e, n := range m {
		if !slices.Contains(always, e) && n > 0 {
			rest = append(rest, Count{e, n, share(n)})
		}
	}
	slices.SortFunc(rest, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Flows, a.Flows), cmp.Compare(a.Ending, b.Ending))
	})
	return append(out, rest...)
}
