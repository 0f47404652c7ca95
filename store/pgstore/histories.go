package pgstore

import (
	"context"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

var _ store.HistoryLister = (*Store)(nil)

// listEntries reads the entries of the flows whose IDs the array $1 lists.
const listEntries = `SELECT ` + backend.HistoryCols + ` FROM flow_history
	WHERE flow_id = ANY($1::text[]) ORDER BY flow_id, seq`

// ListHistories implements store.HistoryLister in two queries: the page
// of List, then the entries of its flows.
func (s *Store) ListHistories(ctx context.Context, q store.Query) (store.HistoryPage, error) {
	after, hasAfter, err := backend.ParseToken(q.PageToken)
	if err != nil {
		return store.HistoryPage{}, err
	}
	if err := s.begin(ctx); err != nil {
		return store.HistoryPage{}, err
	}
	if backend.MatchesNothing(q) {
		return store.HistoryPage{}, nil
	}
	query, args := backend.HistoriesSQL(q, after, hasAfter, func(t time.Time) any { return t })
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return store.HistoryPage{}, s.fail(ctx, "list histories", err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return store.HistoryPage{}, s.fail(ctx, "list histories", err)
	}
	b := backend.NewHistories(recs)
	if err := s.readEntries(ctx, b, b.IDs(q)); err != nil {
		return store.HistoryPage{}, s.fail(ctx, "list histories", err)
	}
	return b.Page(q), nil
}

// readEntries adds the entries of the flows ids to b.
func (s *Store) readEntries(ctx context.Context, b *backend.Histories, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.pool.Query(ctx, listEntries, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, from, to string
			h            store.HistoryEntry
			dur          int64
		)
		if err := rows.Scan(&id, &h.Seq, &h.At, &from, &h.Event, &to, &h.Outcome, &h.Call, &h.Status, &h.Code, &dur); err != nil {
			return err
		}
		h.At, h.From, h.To, h.Duration = h.At.UTC(), states.State(from), states.State(to), time.Duration(dur)
		b.Add(id, h)
	}
	return rows.Err()
}
