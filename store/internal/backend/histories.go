package backend

import (
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// HistoriesSQL returns the query of ListHistories on the SQL stores and its
// arguments: the page of List (see ListSQL) joined with the history of each
// of its flows, one row per entry (a flow without history gives one row
// whose seq is 0), ordered as List orders the records, then by seq. Its
// columns are those of the stores' flowCols, with Data and Pending NULL,
// then HistoryCols. It reads each flow's entries through the history's
// primary key (flow_id, seq).
func HistoriesSQL(q store.Query, after Cursor, hasAfter bool, timeArg func(time.Time) any) (string, []any) {
	tail, args := ListSQL(q, after, hasAfter, timeArg)
	return `WITH f AS (
			SELECT id, kind, graph_version, state, version, subject, created_at, updated_at, expires_at, ended_at
			FROM flows` + tail + `)
		SELECT f.id, f.kind, f.graph_version, f.state, f.version, f.subject, NULL, NULL,
			f.created_at, f.updated_at, f.expires_at, f.ended_at,
			COALESCE(h.seq, 0), COALESCE(h.at, f.created_at), COALESCE(h.from_state, ''), COALESCE(h.event, ''),
			COALESCE(h.to_state, ''), COALESCE(h.outcome, ''), COALESCE(h.call, ''), COALESCE(h.status, 0),
			COALESCE(h.code, ''), COALESCE(h.duration_ns, 0)
		FROM f LEFT JOIN flow_history h ON h.flow_id = f.id
		ORDER BY f.created_at, f.id, h.seq`, args
}

// Histories gathers the rows of HistoriesSQL into a store.HistoryPage.
type Histories struct {
	recs []*store.Record
	hs   [][]store.HistoryEntry
}

// Add adds one row: rec is the row's record, h its entry (Seq 0 for none).
// Rows of one flow come together, so a record with the ID of the previous
// row's only adds its entry.
func (b *Histories) Add(rec *store.Record, h store.HistoryEntry) {
	if n := len(b.recs); n == 0 || b.recs[n-1].ID != rec.ID {
		b.recs = append(b.recs, rec)
		b.hs = append(b.hs, nil)
	}
	if h.Seq > 0 {
		b.hs[len(b.hs)-1] = append(b.hs[len(b.hs)-1], h)
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
