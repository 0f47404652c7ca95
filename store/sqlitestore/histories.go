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
	return backend.ListHistories(q, backend.HistoryQueries{
		Begin:   func() error { return s.begin(ctx) },
		TimeArg: timeArg,
		Flows: func(query string, args []any) ([]*store.Record, error) {
			rows, err := s.read.QueryContext(ctx, query, args...)
			if err != nil {
				return nil, err
			}
			return scanRecords(rows)
		},
		Entries: func(ids []string, add func(string, store.HistoryEntry)) error { return s.readEntries(ctx, ids, add) },
		Fail:    func(err error) error { return s.fail(ctx, "list histories", err) },
	})
}

// readEntries reads the entries of the flows ids.
func (s *Store) readEntries(ctx context.Context, ids []string, add func(string, store.HistoryEntry)) error {
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
		add(id, h)
	}
	return rows.Err()
}
