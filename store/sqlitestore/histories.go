package sqlitestore

import (
	"context"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

var _ store.HistoryLister = (*Store)(nil)

// ListHistories implements store.HistoryLister in one query: the page of
// List joined with its flows' histories.
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
	defer rows.Close()
	var b backend.Histories
	for rows.Next() {
		var (
			h        store.HistoryEntry
			at, dur  int64
			from, to string
		)
		r, err := scanRecord(entryScanner{rows, []any{&h.Seq, &at, &from, &h.Event, &to, &h.Outcome, &h.Call, &h.Status, &h.Code, &dur}})
		if err != nil {
			return store.HistoryPage{}, s.fail(ctx, "list histories", err)
		}
		h.At, h.From, h.To, h.Duration = time.UnixMicro(at).UTC(), states.State(from), states.State(to), time.Duration(dur)
		b.Add(r, h)
	}
	if err := rows.Err(); err != nil {
		return store.HistoryPage{}, s.fail(ctx, "list histories", err)
	}
	return b.Page(q), nil
}

// entryScanner scans a row of backend.HistoriesSQL: the record's columns
// into the destinations scanRecord gives, then the entry's into its own.
type entryScanner struct {
	row   scanner
	entry []any
}

func (e entryScanner) Scan(dest ...any) error { return e.row.Scan(append(dest, e.entry...)...) }
