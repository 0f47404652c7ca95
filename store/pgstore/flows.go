package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

// flowCols are the columns scanRecord reads, in order.
const flowCols = `id, kind, graph_version, state, version, subject, data, pending,
	created_at, updated_at, expires_at, ended_at`

const (
	insertFlow = `INSERT INTO flows (id, history_seq, version, kind, graph_version, state, subject, data, pending,
		created_at, updated_at, expires_at, ended_at)
		VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO NOTHING`

	// setFlow is what an update writes. Kind, subject and created_at are
	// fixed by Create.
	setFlow = `graph_version = $3, state = $4, data = $5, pending = $6,
		updated_at = $7, expires_at = $8, ended_at = $9, version = version + 1, claimed_until = NULL`

	// updateFlow is the compare-and-swap.
	updateFlow = `UPDATE flows SET ` + setFlow + ` WHERE id = $1 AND version = $2`

	// The history variants write the flow and its entries in one
	// statement: the INSERT reads the row the CTE wrote, so it inserts
	// nothing when the CTE hit no row. The entries come as one array per
	// column, $13.. for Create and $10.. for Update.
	insertHistory = `INSERT INTO flow_history (flow_id, seq, at, from_state, event, to_state, outcome, call, status, code, duration_ns)
		SELECT f.id, f.base + h.ord, h.at, h.from_state, h.event, h.to_state, h.outcome, h.call, h.status, h.code, h.duration_ns
		FROM f, unnest(%[1]s::timestamptz[], %[2]s::text[], %[3]s::text[], %[4]s::text[], %[5]s::text[], %[6]s::text[],
			%[7]s::integer[], %[8]s::text[], %[9]s::bigint[])
			WITH ORDINALITY AS h (at, from_state, event, to_state, outcome, call, status, code, duration_ns, ord)`
)

var (
	insertFlowHistory = `WITH f AS (` + insertFlow + ` RETURNING id, 0 AS base) ` +
		fmt.Sprintf(insertHistory, "$13", "$14", "$15", "$16", "$17", "$18", "$19", "$20", "$21")
	updateFlowHistory = `WITH f AS (UPDATE flows SET ` + setFlow + `,
		history_seq = history_seq + cardinality($10::timestamptz[])
		WHERE id = $1 AND version = $2
		RETURNING id, history_seq - cardinality($10::timestamptz[]) AS base) ` +
		fmt.Sprintf(insertHistory, "$10", "$11", "$12", "$13", "$14", "$15", "$16", "$17", "$18")
)

// historyArgs returns the entries as one array per column of
// flow_history, from at to duration_ns.
func historyArgs(hs []store.HistoryEntry) []any {
	n := len(hs)
	at := make([]time.Time, n)
	from, event, to := make([]string, n), make([]string, n), make([]string, n)
	outcome, call, code := make([]string, n), make([]string, n), make([]string, n)
	status, duration := make([]int32, n), make([]int64, n)
	for i, h := range hs {
		at[i], from[i], event[i], to[i] = backend.Micro(h.At), string(h.From), h.Event, string(h.To)
		outcome[i], call[i], status[i], code[i], duration[i] = h.Outcome, h.Call, int32(h.Status), h.Code, int64(h.Duration)
	}
	return []any{at, from, event, to, outcome, call, status, code, duration}
}

// nullTime is a nullable time column's value: NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// nullData is the data column's value: NULL when empty.
func nullData(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Create implements store.Store in one statement.
func (s *Store) Create(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := backend.CheckCreate(rec); err != nil {
		return err
	}
	r := backend.Record(rec)
	pending, err := backend.PendingJSON(r.Pending)
	if err != nil {
		return err
	}
	args := []any{r.ID, len(history), r.Kind, r.GraphVersion, string(r.State), r.Subject, nullData(r.Data), pending,
		r.CreatedAt, r.UpdatedAt, nullTime(r.ExpiresAt), nullTime(r.EndedAt)}
	query, want := insertFlow, int64(1)
	if len(history) > 0 {
		query, want = insertFlowHistory, int64(len(history))
		args = append(args, historyArgs(history)...)
	}
	rows, err := s.writes.run(ctx, r.ID, query, args...)
	switch {
	case err != nil:
		return s.fail(ctx, "create flow "+r.ID, err)
	case rows != want:
		return fmt.Errorf("create flow %s: %w", r.ID, store.ErrAlreadyExists)
	}
	rec.Version = 1
	return nil
}

// Update implements store.Store in one statement, with or without history.
func (s *Store) Update(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := backend.NoSuchID("update flow", rec.ID); err != nil {
		return err
	}
	r := backend.Record(rec)
	pending, err := backend.PendingJSON(r.Pending)
	if err != nil {
		return err
	}
	args := []any{r.ID, r.Version, r.GraphVersion, string(r.State), nullData(r.Data), pending,
		r.UpdatedAt, nullTime(r.ExpiresAt), nullTime(r.EndedAt)}
	query, want := updateFlow, int64(1)
	if len(history) > 0 {
		query, want = updateFlowHistory, int64(len(history))
		args = append(args, historyArgs(history)...)
	}
	rows, err := s.writes.run(ctx, r.ID, query, args...)
	switch {
	case err != nil:
		return s.fail(ctx, "update flow "+r.ID, err)
	case rows != want:
		return s.missing(ctx, "update flow "+r.ID, r.ID)
	}
	rec.Version++
	return nil
}

// missing tells why a compare-and-swap write of flow id hit no row.
func (s *Store) missing(ctx context.Context, op, id string) error {
	ok, err := s.exists(ctx, id)
	switch {
	case err != nil:
		return s.fail(ctx, op, err)
	case !ok:
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, store.ErrConflict)
}

// exists reports whether flow id is stored.
func (s *Store) exists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM flows WHERE id = $1)`, id).Scan(&ok)
	return ok, err
}

// scanRecord reads the columns of flowCols.
func scanRecord(row pgx.Row) (*store.Record, error) {
	var (
		r                store.Record
		state            string
		pending          []byte
		expires, endedAt *time.Time
	)
	if err := row.Scan(&r.ID, &r.Kind, &r.GraphVersion, &state, &r.Version, &r.Subject, &r.Data, &pending,
		&r.CreatedAt, &r.UpdatedAt, &expires, &endedAt); err != nil {
		return nil, err
	}
	r.State = states.State(state)
	if len(r.Data) == 0 {
		r.Data = nil
	}
	var err error
	if r.Pending, err = backend.ParsePending(pending); err != nil {
		return nil, fmt.Errorf("flow %s: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if expires != nil {
		r.ExpiresAt = expires.UTC()
	}
	if endedAt != nil {
		r.EndedAt = endedAt.UTC()
	}
	return &r, nil
}

// scanRecords reads every row of rows.
func scanRecords(rows pgx.Rows) ([]*store.Record, error) {
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

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id string) (*store.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := backend.NoSuchID("get flow", id); err != nil {
		return nil, err
	}
	r, err := scanRecord(s.pool.QueryRow(ctx, `SELECT `+flowCols+` FROM flows WHERE id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("get flow %s: %w", id, store.ErrNotFound)
	case err != nil:
		return nil, s.fail(ctx, "get flow "+id, err)
	}
	return r, nil
}

// History implements store.Store.
func (s *Store) History(ctx context.Context, id string) ([]store.HistoryEntry, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := backend.NoSuchID("history of flow", id); err != nil {
		return nil, err
	}
	op := "history of flow " + id
	rows, err := s.pool.Query(ctx, `SELECT seq, at, from_state, event, to_state, outcome, call, status, code, duration_ns
		FROM flow_history WHERE flow_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	var hs []store.HistoryEntry
	for rows.Next() {
		var (
			h        store.HistoryEntry
			from, to string
			dur      int64
		)
		if err := rows.Scan(&h.Seq, &h.At, &from, &h.Event, &to, &h.Outcome, &h.Call, &h.Status, &h.Code, &dur); err != nil {
			rows.Close()
			return nil, s.fail(ctx, op, err)
		}
		h.At, h.From, h.To, h.Duration = h.At.UTC(), states.State(from), states.State(to), time.Duration(dur)
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	if len(hs) == 0 { // no history, or no flow?
		if ok, err := s.exists(ctx, id); err != nil {
			return nil, s.fail(ctx, op, err)
		} else if !ok {
			return nil, fmt.Errorf("%s: %w", op, store.ErrNotFound)
		}
	}
	return hs, nil
}
