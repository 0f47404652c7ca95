package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// Page sizes of List.
const (
	// DefaultListLimit is the page size of a ListQuery without a Limit.
	DefaultListLimit = 20
	// MaxListLimit caps ListQuery.Limit.
	MaxListLimit = 100
)

// ListQuery selects the flows of one subject for List. The zero value
// selects them all, oldest first, DefaultListLimit at a time.
type ListQuery struct {
	// Kind keeps only the flows of this kind; empty keeps every kind.
	Kind transitions.Kind
	// Running keeps only the flows that have not ended: the ones the user
	// may still step, such as a flow left half way when the app closed.
	Running bool
	// Limit is the page size: zero means DefaultListLimit; more than
	// MaxListLimit means MaxListLimit.
	Limit int
	// PageToken continues a previous List with the same query; empty
	// starts with the subject's oldest flow.
	PageToken string
}

// Page is one page of a subject's flows, oldest first.
type Page struct {
	// Flows are the flows' views, as Get returns them.
	Flows []*View `json:"flows"`
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// List returns one page of subject's flows, each as Get would view it: a
// flow found past its deadline is moved to Expired first (and left out
// when q.Running asks for the running flows only). Flows of kinds this
// engine does not run are left out, so a page may hold fewer than
// q.Limit flows while another follows. A page token that no List
// returned is a *ratio.InputError naming "pageToken", and a kind the
// engine does not run is ErrUnknownKind.
func (e *Engine) List(ctx context.Context, subject string, q ListQuery) (*Page, error) {
	if subject == "" {
		return nil, errors.New("flow: List needs a subject")
	}
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	if q.Kind != "" {
		if _, ok := e.flows[q.Kind]; !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownKind, q.Kind)
		}
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultListLimit
	case limit > MaxListLimit:
		limit = MaxListLimit
	}
	sp, err := e.store.List(ctx, store.Query{Kind: string(q.Kind), Subject: subject, Running: q.Running,
		Limit: limit, PageToken: q.PageToken})
	if errors.Is(err, store.ErrInvalidPageToken) {
		return nil, &ratio.InputError{Field: "pageToken", Reason: "not a token a previous list returned"}
	}
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	p := &Page{Flows: make([]*View, 0, len(sp.Records)), NextPageToken: sp.NextPageToken}
	for _, rec := range sp.Records {
		if rec.Subject != subject {
			continue // the store filtered by subject; never show another's flow
		}
		r, err := e.open(rec)
		if errors.Is(err, ErrUnknownKind) {
			continue
		}
		if err != nil {
			return nil, err
		}
		switch err := r.expireIfDue(ctx); {
		case err == nil, errors.Is(err, ErrExpired):
		case errors.Is(err, ErrConcurrentStep):
			// Another step moved the flow first: show it as that step left it.
			if r, err = e.load(ctx, rec.ID, subject); err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
		if q.Running && r.rec.Terminal() {
			continue
		}
		p.Flows = append(p.Flows, r.view())
	}
	return p, nil
}
