package flowadmin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// Page sizes of the list.
const (
	// DefaultLimit is the page size of a list without a limit.
	DefaultLimit = 50
	// MaxLimit caps the page size.
	MaxLimit = store.MaxPageSize
)

// Record is what the API shows of a stored flow's record: everything but
// its sealed data.
type Record struct {
	ID           string       `json:"id"`
	Kind         string       `json:"kind"`
	State        states.State `json:"state"`
	Terminal     bool         `json:"terminal"`
	Subject      string       `json:"subject"`
	Version      int64        `json:"version"`
	GraphVersion string       `json:"graphVersion"`
	CreatedAt    time.Time    `json:"createdAt"`
	UpdatedAt    time.Time    `json:"updatedAt"`
	ExpiresAt    time.Time    `json:"expiresAt,omitzero"`
	EndedAt      time.Time    `json:"endedAt,omitzero"`
	// Pending is the Ratio call in flight, if any (its idempotency key
	// left out).
	Pending *Pending `json:"pending,omitempty"`
	// DataDropped says a retention policy dropped the flow's sealed data.
	DataDropped bool `json:"dataDropped,omitempty"`
}

// Pending is a Ratio call a step recorded before making it.
type Pending struct {
	Call      string    `json:"call"`
	Event     string    `json:"event"`
	StartedAt time.Time `json:"startedAt"`
}

// NewRecord returns what the API shows of rec.
func NewRecord(rec *store.Record) Record {
	r := Record{ID: rec.ID, Kind: rec.Kind, State: rec.State, Terminal: rec.Terminal(), Subject: rec.Subject,
		Version: rec.Version, GraphVersion: rec.GraphVersion, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
		ExpiresAt: rec.ExpiresAt, EndedAt: rec.EndedAt, DataDropped: rec.Terminal() && rec.Data == nil}
	if p := rec.Pending; p != nil {
		r.Pending = &Pending{Call: p.Call, Event: p.Event, StartedAt: p.StartedAt}
	}
	return r
}

// List is one page of flows, newest first unless the list asked for the
// oldest first (order=oldest).
type List struct {
	Flows []Record `json:"flows"`
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// Step is one entry of a flow's timeline, from its audit history.
type Step struct {
	Seq     int64        `json:"seq"`
	At      time.Time    `json:"at"`
	From    states.State `json:"from"`
	To      states.State `json:"to"`
	Event   string       `json:"event"`
	Outcome string       `json:"outcome"`
	// Call is the Ratio operation made, Status and Code its error answer.
	Call   string `json:"call,omitempty"`
	Status int    `json:"status,omitempty"`
	Code   string `json:"code,omitempty"`
	// DurationMs is how long the Ratio call took, in milliseconds.
	DurationMs float64 `json:"durationMs,omitempty"`
}

// Diagrams are a flow's audit diagrams, in Mermaid (package visualize):
// the path taken over the overview, over every edge, and the sequence of
// its steps.
type Diagrams struct {
	Overview string `json:"overview"`
	State    string `json:"state"`
	Sequence string `json:"sequence"`
}

// Flow is one flow as the console shows it.
type Flow struct {
	Record Record `json:"record"`
	// View is what the flow's frontend sees (masks only), without the
	// challenge; nil when it cannot be read, and ViewNote says why.
	View     *flow.View `json:"view,omitempty"`
	ViewNote string     `json:"viewNote,omitempty"`
	Title    string     `json:"title,omitempty"`
	Timeline []Step     `json:"timeline"`
	// Diagrams is nil for a kind the engine does not run.
	Diagrams *Diagrams `json:"diagrams,omitempty"`
}

// listParams are the query parameters of the list.
var listParams = []string{"kind", "state", "subject", "running", "olderThan", "newerThan", "order", "limit", "pageToken"}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q, p := h.listQuery(r.URL.RawQuery)
	if p != nil {
		h.problem(w, r, p)
		return
	}
	page, err := h.store.List(r.Context(), q)
	if errors.Is(err, store.ErrInvalidPageToken) {
		h.problem(w, r, invalid("pageToken", "not a token a previous list in this order returned"))
		return
	}
	if err != nil {
		h.problem(w, r, classify(err))
		return
	}
	out := List{Flows: make([]Record, 0, len(page.Records)), NextPageToken: page.NextPageToken}
	for _, rec := range page.Records {
		out.Flows = append(out.Flows, NewRecord(rec))
	}
	writeJSON(w, http.StatusOK, out)
}

// query parses a raw query string, refusing a malformed pair, a
// parameter not in allowed and a repeated one.
func query(raw string, allowed []string) (map[string]string, *problem) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, invalid("query", "not a well-formed query string")
	}
	out := map[string]string{}
	for k, vs := range vals {
		switch {
		case !slices.Contains(allowed, k):
			return nil, invalid(k, "not a parameter of this path (parameters: "+strings.Join(allowed, ", ")+")")
		case len(vs) > 1:
			return nil, invalid(k, "given more than once")
		}
		out[k] = vs[0]
	}
	return out, nil
}

// listQuery reads the list's filters into a store query.
func (h *Handler) listQuery(raw string) (store.Query, *problem) {
	var q store.Query
	params, p := query(raw, listParams)
	if p != nil {
		return q, p
	}
	if p := h.kindParam(params, &q.Kind); p != nil {
		return q, p
	}
	if s := params["state"]; s != "" {
		if !slices.Contains(states.All(), states.State(s)) {
			return q, invalid("state", "no such state")
		}
		q.State = states.State(s)
	}
	if s, ok := params["subject"]; ok {
		if err := store.CheckSubject(s); s == "" || err != nil {
			return q, invalid("subject", "not a subject a flow can have")
		}
		q.Subject = s
	}
	switch params["running"] {
	case "", "false":
	case "true":
		q.Running = true
	default:
		return q, invalid("running", "true or false")
	}
	now := h.now()
	for name, bound := range map[string]*time.Time{"olderThan": &q.CreatedBefore, "newerThan": &q.CreatedAfter} {
		d, p := durationParam(params, name)
		if p != nil {
			return q, p
		}
		if d > 0 {
			*bound = now.Add(-d)
		}
	}
	switch params["order"] {
	case "", "newest":
		q.Descending = true // an operator looks for the flow that is stuck now
	case "oldest":
	default:
		return q, invalid("order", "newest or oldest")
	}
	q.Limit = DefaultLimit
	if s, ok := params["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, invalid("limit", "an integer from 1 to "+strconv.Itoa(MaxLimit))
		}
		q.Limit = n
	}
	if s, ok := params["pageToken"]; ok {
		if s == "" {
			return q, invalid("pageToken", "empty")
		}
		q.PageToken = s
	}
	return q, nil
}

// kindParam reads the kind parameter, which must be a kind the engine runs.
func (h *Handler) kindParam(params map[string]string, kind *string) *problem {
	k := params["kind"]
	if k == "" {
		return nil
	}
	if _, ok := h.flows[transitions.Kind(k)]; !ok {
		return invalid("kind", "not a kind this engine runs")
	}
	*kind = k
	return nil
}

// durationParam reads a positive duration such as 90s, 10m or 24h.
func durationParam(params map[string]string, name string) (time.Duration, *problem) {
	s, ok := params[name]
	if !ok {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, invalid(name, "a positive duration such as 90s, 10m or 24h")
	}
	return d, nil
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery != "" {
		h.problem(w, r, invalid("query", "this path takes no parameters"))
		return
	}
	f, err := h.flow(r.Context(), r.PathValue("id"))
	if err != nil {
		h.problem(w, r, classify(err))
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// flow reads flow id: its record, its view, its timeline, its diagrams.
// It never changes the flow: the view of one past its deadline is not
// read, since reading it would expire it.
func (h *Handler) flow(ctx context.Context, id string) (*Flow, error) {
	if store.CheckID(id) != nil {
		return nil, store.ErrNotFound
	}
	rec, err := h.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	hist, err := h.store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &Flow{Record: NewRecord(rec), Timeline: make([]Step, 0, len(hist))}
	for _, e := range hist {
		out.Timeline = append(out.Timeline, Step{Seq: e.Seq, At: e.At, From: e.From, To: e.To, Event: e.Event,
			Outcome: e.Outcome, Call: e.Call, Status: e.Status, Code: e.Code,
			DurationMs: float64(e.Duration.Microseconds()) / 1000})
	}
	f, ok := h.flows[transitions.Kind(rec.Kind)]
	if !ok {
		out.ViewNote = "this engine does not run flows of kind " + rec.Kind
		return out, nil
	}
	out.Title = f.Title
	out.Diagrams = &Diagrams{Overview: visualize.AuditState(f, rec, hist),
		State: visualize.AuditStateView(f, rec, hist, visualize.Complete), Sequence: visualize.AuditSequence(f, rec, hist)}
	switch {
	case !rec.Terminal() && !h.now().Before(rec.ExpiresAt) && !rec.ExpiresAt.IsZero():
		out.ViewNote = "the flow is past its deadline: the sweeper, its next step or resume expires it"
	case rec.Data == nil && rec.Terminal():
		out.ViewNote = "a retention policy dropped the flow's data"
	default:
		v, err := h.engine.Get(ctx, id, rec.Subject)
		switch {
		case errors.Is(err, flow.ErrSealed):
			out.ViewNote = "the seal keys do not open this flow's data"
		case err != nil:
			return nil, err
		default:
			out.View = adminView(v)
		}
	}
	return out, nil
}

// adminView is v without its challenge: an operator has no use for the
// text a wallet signs.
func adminView(v *flow.View) *flow.View {
	c := *v
	c.Challenge, c.ChallengeExpiresAt = "", nil
	return &c
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	h.act(w, r, "cancel", func(ctx context.Context, id, subject string) (*flow.View, error) {
		return h.engine.Cancel(ctx, id, subject)
	})
}

func (h *Handler) resume(w http.ResponseWriter, r *http.Request) {
	h.act(w, r, "resume", func(ctx context.Context, id, subject string) (*flow.View, error) {
		return h.engine.Resume(ctx, id, subject)
	})
}

// act runs one engine call on flow id as its subject, logs it, and answers
// the flow as it is then.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, name string, do func(context.Context, string, string) (*flow.View, error)) {
	id := r.PathValue("id")
	if r.URL.RawQuery != "" {
		h.problem(w, r, invalid("query", "this path takes no parameters"))
		return
	}
	if store.CheckID(id) != nil {
		h.problem(w, r, classify(store.ErrNotFound))
		return
	}
	rec, err := h.store.Get(r.Context(), id)
	if err != nil {
		h.problem(w, r, classify(err))
		return
	}
	v, err := do(r.Context(), id, rec.Subject)
	if h.Logger != nil {
		attrs := []slog.Attr{slog.String("flow", id), slog.String("kind", rec.Kind), slog.String("from", string(rec.State))}
		if v != nil {
			attrs = append(attrs, slog.String("to", string(v.State)))
		}
		if err != nil {
			attrs = append(attrs, slog.String("err", err.Error()))
		}
		h.Logger.LogAttrs(r.Context(), slog.LevelInfo, "admin "+name, attrs...)
	}
	if err != nil {
		h.problem(w, r, classify(err))
		return
	}
	f, err := h.flow(r.Context(), id)
	if err != nil {
		h.problem(w, r, classify(err))
		return
	}
	writeJSON(w, http.StatusOK, f)
}
