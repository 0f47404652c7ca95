package memstore

import (
	"context"
	"slices"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

var _ store.HistoryLister = (*Store)(nil)

// ListHistories implements store.HistoryLister.
func (s *Store) ListHistories(ctx context.Context, q store.Query) (store.HistoryPage, error) {
	after, hasAfter, err := backend.ListToken(q)
	if err != nil {
		return store.HistoryPage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.begin(ctx); err != nil {
		return store.HistoryPage{}, err
	}
	if backend.MatchesNothing(q) {
		return store.HistoryPage{}, nil
	}
	page := s.list(q, after, hasAfter)
	out := store.HistoryPage{NextPageToken: page.NextPageToken, Flows: make([]store.FlowHistory, len(page.Records))}
	for i, r := range page.Records {
		c := r.Clone()
		c.Data, c.Pending = nil, nil
		out.Flows[i] = store.FlowHistory{Record: c, History: slices.Clone(s.flows[r.ID].history)}
	}
	return out, nil
}
