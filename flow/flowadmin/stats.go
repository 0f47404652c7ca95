package flowadmin

import (
	"net/http"
	"time"

	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// Stats are the figures of the stored flows, per kind.
type Stats struct {
	// CreatedAfter is the since bound; absent: every flow.
	CreatedAfter time.Time `json:"createdAfter,omitzero"`
	// StateTTL is how long a running flow may go without a step before it
	// counts as abandoned: the engine's.
	StateTTL string       `json:"stateTTL"`
	Kinds    []*KindStats `json:"kinds"`
}

// KindStats are the figures of one kind (package flow/flowstats) and its
// diagram with the traffic drawn on it, in Mermaid.
type KindStats struct {
	*flowstats.Stats
	Diagram string `json:"diagram"`
}

var statsParams = []string{"kind", "since", "view"}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) {
	params, p := query(r.URL.RawQuery, statsParams)
	if p != nil {
		h.problem(w, r, p)
		return
	}
	var q store.Query
	if p := h.kindParam(params, &q.Kind); p != nil {
		h.problem(w, r, p)
		return
	}
	since, p := durationParam(params, "since")
	if p != nil {
		h.problem(w, r, p)
		return
	}
	view := visualize.Overview
	switch params["view"] {
	case "", "overview":
	case "state":
		view = visualize.Complete
	default:
		h.problem(w, r, invalid("view", "overview or state"))
		return
	}
	now := h.now()
	if since > 0 {
		q.CreatedAfter = now.Add(-since)
	}
	ttl := h.engine.Policy().StateTTL
	all, err := flowstats.Read(r.Context(), h.store, q, flowstats.Options{StateTTL: ttl, Now: func() time.Time { return now }})
	if err != nil {
		h.problem(w, r, classify(err))
		return
	}
	out := Stats{CreatedAfter: q.CreatedAfter, StateTTL: ttl.String(), Kinds: []*KindStats{}}
	for _, s := range all {
		k := &KindStats{Stats: s}
		if f, ok := h.flows[transitions.Kind(s.Kind)]; ok {
			k.Diagram = visualize.StatsState(f, s, view)
		}
		out.Kinds = append(out.Kinds, k)
	}
	writeJSON(w, http.StatusOK, out)
}
