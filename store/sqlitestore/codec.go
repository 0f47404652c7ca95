package sqlitestore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

// flowCols are the columns scanRecord reads, in order.
const flowCols = `id, kind, graph_version, state, version, subject, data, pending,
	created_at, updated_at, expires_at, ended_at`

// micros is a time as the schema stores it: microseconds since the epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros is a nullable time column's value: NULL for the zero time.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeArg is micros as an argument of backend.ListSQL.
func timeArg(t time.Time) any { return micros(t) }

// fromMicros reads a time column.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// encodePending is the pending column's value: JSON, or NULL for no call.
func encodePending(p *store.PendingCall) (any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode pending call: %w", err)
	}
	return string(b), nil
}

// row holds the column values of a normalised record, as bound to
// statements.
type row struct {
	kind, graphVersion, state, subject string
	data, pending                      any // NULL when empty
	createdAt, updatedAt               int64
	expiresAt, endedAt                 any // NULL when zero
}

// toRow converts a normalised record to column values.
func toRow(rec *store.Record) (row, error) {
	pending, err := encodePending(rec.Pending)
	if err != nil {
		return row{}, err
	}
	var data any
	if len(rec.Data) > 0 {
		data = rec.Data
	}
	return row{
		kind: rec.Kind, graphVersion: rec.GraphVersion, state: string(rec.State), subject: rec.Subject,
		data: data, pending: pending,
		createdAt: micros(rec.CreatedAt), updatedAt: micros(rec.UpdatedAt),
		expiresAt: nullMicros(rec.ExpiresAt), endedAt: nullMicros(rec.EndedAt),
	}, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanRecord reads the columns of flowCols.
func scanRecord(row scanner) (*store.Record, error) {
	var (
		r                store.Record
		state            string
		pending          sql.NullString
		created, updated sql.NullInt64
		expires, endedAt sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.Kind, &r.GraphVersion, &state, &r.Version, &r.Subject, &r.Data, &pending,
		&created, &updated, &expires, &endedAt); err != nil {
		return nil, err
	}
	r.State = states.State(state)
	if pending.Valid {
		r.Pending = new(store.PendingCall)
		if err := json.Unmarshal([]byte(pending.String), r.Pending); err != nil {
			return nil, fmt.Errorf("decode pending call of flow %s: %w", r.ID, err)
		}
		r.Pending.StartedAt = backend.Micro(r.Pending.StartedAt)
	}
	if len(r.Data) == 0 {
		r.Data = nil
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	r.ExpiresAt, r.EndedAt = fromMicros(expires), fromMicros(endedAt)
	return &r, nil
}

// scanRecords reads every row of rows.
func scanRecords(rows *sql.Rows) ([]*store.Record, error) {
	defer rows.Close()
	var recs []*store.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}
