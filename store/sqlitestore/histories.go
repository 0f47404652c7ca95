package sqlitestore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

var _ store.HistoryLister = (*Store)(nil)

// listEntries reads the entries of the flows whose IDs $1 lists as a
// JSON array.
const listEntries = `SELECT ` + backend.HistoryCols + ` FROM flow_history
	WHERE flow_id IN (SELECT value FROM json_each($1)) ORDER BY flow_id, seq`

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
	query, args := backend.HistoriesSQL(q, after, hasAfter, timeArg)
	rows, err := s.read.QueryContext(ctx, query, args...)
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
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := s.read.QueryContext(ctx, listEntries, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, from, to string
			h            store.HistoryEntry
			at, dur      int64
		)
		if err := rows.Scan(&id, &h.Seq, &at, &from, &h.Event, &to, &h.Outcome, &h.Call, &h.Status, &h.Code, &dur); err != nil {
			return err
		}
		h.At, h.From, h.To, h.Duration = time.UnixMicro(at).UTC(), states.State(from), states.State(to), time.Duration(dur)
		b.Add(id, h)
	}
	return rows.Err()
}
