package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

const (
	insertFlow = `INSERT INTO flows (id, history_seq, version, kind, graph_version, state, subject, data, pending,
		created_at, updated_at, expires_at, ended_at)
		VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO NOTHING`
	// updateFlow is the compare-and-swap. Kind, subject and created_at are
	// fixed by Create.
	updateFlow = `UPDATE flows SET graph_version = $3, state = $4, data = $5, pending = $6,
		updated_at = $7, expires_at = $8, ended_at = $9,
		version = version + 1, history_seq = history_seq + $10, claimed_until = NULL
		WHERE id = $1 AND version = $2`
	// updateKeepDeadline is updateFlow for a record whose expires_at and
	// ended_at are unchanged, which is most updates: SQLite rewrites the
	// entries of every index on a column that the SET list names, whatever
	// the value, and leaving these two out spares the write of the expiry
	// index (a fifth of a small update). If they did change, it hits no row
	// and update runs updateFlow.
	updateKeepDeadline = `UPDATE flows SET graph_version = $3, state = $4, data = $5, pending = $6,
		updated_at = $7,
		version = version + 1, history_seq = history_seq + $10, claimed_until = NULL
		WHERE id = $1 AND version = $2 AND expires_at IS $8 AND ended_at IS $9`
	insertEntry = `INSERT INTO flow_history (flow_id, seq, at, from_state, event, to_state, outcome, call, status, code, duration_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

	existsFlow = `SELECT EXISTS (SELECT 1 FROM flows WHERE id = $1)`
)

// errNoRow reports that a write matched no row.
var errNoRow = errors.New("no row")

// Create implements store.Store. The writer inserts the record, and its
// history entries if any, in the transaction of its batch.
func (s *Store) Create(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	r := backend.Record(rec)
	hs := backend.Entries(history, 0)
	c, err := toRow(r)
	if err != nil {
		return s.fail(ctx, "create flow "+r.ID, err)
	}
	args := []any{r.ID, len(hs), c.kind, c.graphVersion, c.state, c.subject,
		c.data, c.pending, c.createdAt, c.updatedAt, c.expiresAt, c.endedAt}
	err = s.w.do(newRequest(ctx, len(hs) > 0, func(ctx context.Context, c *writeConn) error {
		return c.create(ctx, r.ID, args, hs)
	}))
	switch {
	case errors.Is(err, errNoRow):
		return fmt.Errorf("create flow %s: %w", r.ID, store.ErrAlreadyExists)
	case err != nil:
		return s.fail(ctx, "create flow "+r.ID, err)
	}
	rec.Version = 1
	return nil
}

// create inserts flow id, args being insertFlow's, with its numbered
// entries hs. It returns errNoRow, having written nothing, if the ID is
// taken.
func (c *writeConn) create(ctx context.Context, id string, args []any, hs []store.HistoryEntry) error {
	if err := hitOne(c.execResult(ctx, insertFlow, args...)); err != nil {
		return err
	}
	return c.insertEntries(ctx, id, hs)
}

// Update implements store.Store. The writer runs the compare-and-swap, and
// inserts the history entries if any, in the transaction of its batch.
func (s *Store) Update(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	r := backend.Record(rec)
	op := "update flow " + r.ID
	c, err := toRow(r)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	args := []any{r.ID, r.Version, c.graphVersion, c.state, c.data, c.pending,
		c.updatedAt, c.expiresAt, c.endedAt, len(history)}
	err = s.w.do(newRequest(ctx, len(history) > 0, func(ctx context.Context, c *writeConn) error {
		return c.update(ctx, r.ID, args, history)
	}))
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%s: %w", op, err)
	case err != nil:
		return s.fail(ctx, op, err)
	}
	rec.Version++
	return nil
}

// update writes flow id, args being updateFlow's, if its version matches,
// with the entries of history numbered after the flow's last. It tries
// updateKeepDeadline, then updateFlow: one statement when the deadline and
// the end are unchanged, two (the first writing nothing) when they change.
// If neither hits the row, update has written nothing and returns
// store.ErrConflict or store.ErrNotFound.
func (c *writeConn) update(ctx context.Context, id string, args []any, history []store.HistoryEntry) error {
	if len(history) == 0 {
		err := hitOne(c.execResult(ctx, updateKeepDeadline, args...))
		if errors.Is(err, errNoRow) {
			err = hitOne(c.execResult(ctx, updateFlow, args...))
		}
		if errors.Is(err, errNoRow) {
			return c.missing(ctx, id)
		}
		return err
	}
	var last int64
	err := c.scan(ctx, updateKeepDeadline+returningSeq, args, &last)
	if errors.Is(err, sql.ErrNoRows) {
		err = c.scan(ctx, updateFlow+returningSeq, args, &last)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return c.missing(ctx, id)
	case err != nil:
		return err
	}
	return c.insertEntries(ctx, id, backend.Entries(history, last-int64(len(history))))
}

// returningSeq makes an update return the flow's new last history Seq.
const returningSeq = " RETURNING history_seq"

// scan runs query, which returns one row, into dest; sql.ErrNoRows if it
// returns none.
func (c *writeConn) scan(ctx context.Context, query string, args []any, dest ...any) error {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// hitOne returns errNoRow unless the statement affected a row.
func hitOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = errNoRow
	}
	return err
}

// insertEntries inserts the numbered history entries hs of flow id.
func (c *writeConn) insertEntries(ctx context.Context, id string, hs []store.HistoryEntry) error {
	for _, h := range hs {
		if err := c.exec(ctx, insertEntry, id, h.Seq, micros(h.At), string(h.From), h.Event, string(h.To),
			h.Outcome, h.Call, h.Status, h.Code, int64(h.Duration)); err != nil {
			return fmt.Errorf("insert history entry %d: %w", h.Seq, err)
		}
	}
	return nil
}

// missing tells why a compare-and-swap write of flow id hit no row:
// store.ErrConflict if the flow is stored, store.ErrNotFound if not.
func (c *writeConn) missing(ctx context.Context, id string) error {
	var ok bool
	if err := c.scan(ctx, existsFlow, []any{id}, &ok); err != nil {
		return err
	}
	if !ok {
		return store.ErrNotFound
	}
	return store.ErrConflict
}

// exists reports whether flow id is stored.
func (s *Store) exists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.read.QueryRowContext(ctx, existsFlow, id).Scan(&ok)
	return ok, err
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id string) (*store.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	get, err := s.prepare(ctx, `SELECT `+flowCols+` FROM flows WHERE id = $1`)
	if err != nil {
		return nil, s.fail(ctx, "get flow "+id, err)
	}
	r, err := scanRecord(get.QueryRowContext(ctx, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	op := "history of flow " + id
	rows, err := s.read.QueryContext(ctx, `SELECT seq, at, from_state, event, to_state, outcome, call, status, code, duration_ns
		FROM flow_history WHERE flow_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	defer rows.Close()
	var hs []store.HistoryEntry
	for rows.Next() {
		var (
			h        store.HistoryEntry
			at, dur  int64
			from, to string
		)
		if err := rows.Scan(&h.Seq, &at, &from, &h.Event, &to, &h.Outcome, &h.Call, &h.Status, &h.Code, &dur); err != nil {
			return nil, s.fail(ctx, op, err)
		}
		h.At, h.From, h.To, h.Duration = time.UnixMicro(at).UTC(), states.State(from), states.State(to), time.Duration(dur)
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
