package backend

import (
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// HistoriesSQL returns the first query of ListHistories on the SQL stores
// and its arguments: the page of List (see ListSQL), with the columns of
// the stores' flowCols but Data and Pending NULL. The second query reads
// the entries of the flows it returned (see Histories.IDs), one row per
// entry, through the history's primary key (flow_id, seq), ordered by
// flow_id then seq.
func HistoriesSQL(q store.Query, after Cursor, hasAfter bool, timeArg func(time.Time) any) (string, []any) {
	tail, args := ListSQL(q, after, hasAfter, timeArg)
	return `SELECT id, kind, graph_version, state, version, subject, NULL, NULL,
		created_at, updated_at, expires_at, ended_at FROM flows` + tail, args
}

// HistoryCols are the columns of flow_history the second query of
// ListHistories reads, in the order Histories.Entry's destinations take.
const HistoryCols = `flow_id, seq, at, from_state, event, to_state, outcome, call, status, code, duration_ns`

// Histories gathers the results of the two queries of ListHistories into
// a store.HistoryPage.
type Histories struct {
	recs []*store.Record
	hs   [][]store.HistoryEntry
	idx  map[string]int // flow ID to its index in recs
}

// NewHistories returns the histories of the records of the first query.
func NewHistories(recs []*store.Record) *Histories {
	b := &Histories{recs: recs, hs: make([][]store.HistoryEntry, len(recs)), idx: make(map[string]int, len(recs))}
	for i, r := range recs {
		b.idx[r.ID] = i
	}
	return b
}

// IDs returns the IDs of the records of q's page, the argument of the
// second query.
func (b *Histories) IDs(q store.Query) []string {
	ids := make([]string, 0, len(b.recs))
	for _, r := range b.recs[:min(len(b.recs), q.PageSize())] {
		ids = append(ids, r.ID)
	}
	return ids
}

// Add adds entry h of flow id; entries of one flow come in Seq order.
func (b *Histories) Add(id string, h store.HistoryEntry) {
	if i, ok := b.idx[id]; ok {
		b.hs[i] = append(b.hs[i], h)
	}
}

// Page cuts the flows gathered, read with the LIMIT of ListSQL, to the
// page size of q, as Page does for List.
func (b *Histories) Page(q store.Query) store.HistoryPage {
	page := Page(q, b.recs)
	out := store.HistoryPage{NextPageToken: page.NextPageToken, Flows: make([]store.FlowHistory, len(page.Records))}
	for i, r := range page.Records {
		out.Flows[i] = store.FlowHistory{Record: r, History: b.hs[i]}
	}
	return out
}

// HistoryQueries are what ListHistories needs of an SQL store.
type HistoryQueries struct {
	// Begin returns the error that stops a call before it starts.
	Begin func() error
	// TimeArg converts a time to the created_at column's representation.
	TimeArg func(time.Time) any
	// Flows runs the first query, of HistoriesSQL, and returns its records.
	Flows func(query string, args []any) ([]*store.Record, error)
	// Entries reads the entries of the flows ids, ordered by flow_id
	// then seq, and gives each to add.
	Entries func(ids []string, add func(id string, h store.HistoryEntry)) error
	// Fail wraps the error of either query.
	Fail func(err error) error
}

// ListHistories is store.HistoryLister's ListHistories on an SQL store:
// the page of List, then the entries of its flows.
func ListHistories(q store.Query, db HistoryQueries) (store.HistoryPage, error) {
	after, hasAfter, err := ListToken(q)
	if err != nil {
		return store.HistoryPage{}, err
	}
	if err := db.Begin(); err != nil {
		return store.HistoryPage{}, err
	}
	if MatchesNothing(q) {
		return store.HistoryPage{}, nil
	}
	recs, err := db.Flows(HistoriesSQL(q, after, hasAfter, db.TimeArg))
	if err != nil {
		return store.HistoryPage{}, db.Fail(err)
	}
	b := NewHistories(recs)
	if ids := b.IDs(q); len(ids) > 0 {
		if err := db.Entries(ids, b.Add); err != nil {
			return store.HistoryPage{}, db.Fail(err)
		}
	}
	return b.Page(q), nil
}
