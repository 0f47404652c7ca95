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
	insertEntry = `INSERT INTO flow_history (flow_id, seq, at, from_state, event, to_state, outcome, call, status, code, duration_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
)

// errNoRow reports that a write matched no row.
var errNoRow = errors.New("no row")

// Create implements store.Store. Without history entries it is a single
// INSERT statement; with entries, a transaction.
func (s *Store) Create(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	r := backend.Record(rec)
	hs := backend.Entries(history, 0)
	err := s.create(ctx, r, hs)
	switch {
	case errors.Is(err, errNoRow):
		return fmt.Errorf("create flow %s: %w", r.ID, store.ErrAlreadyExists)
	case err != nil:
		return s.fail(ctx, "create flow "+r.ID, err)
	}
	rec.Version = 1
	return nil
}

// create inserts the normalised record r with its numbered entries hs.
func (s *Store) create(ctx context.Context, r *store.Record, hs []store.HistoryEntry) error {
	c, err := toRow(r)
	if err != nil {
		return err
	}
	insert, err := s.prepare(ctx, s.write, insertFlow)
	if err != nil {
		return err
	}
	args := []any{r.ID, len(hs), c.kind, c.graphVersion, c.state, c.subject,
		c.data, c.pending, c.createdAt, c.updatedAt, c.expiresAt, c.endedAt}
	if len(hs) == 0 {
		return hitOne(insert.ExecContext(ctx, args...))
	}
	entries, err := s.prepare(ctx, s.write, insertEntry)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := hitOne(tx.StmtContext(ctx, insert).ExecContext(ctx, args...)); err != nil {
			return err
		}
		return insertEntries(ctx, tx.StmtContext(ctx, entries), r.ID, hs)
	})
}

// Update implements store.Store. Without history entries it is a single
// UPDATE statement; with entries, a transaction.
func (s *Store) Update(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	r := backend.Record(rec)
	err := s.update(ctx, r, history)
	switch {
	case errors.Is(err, errNoRow):
		return s.missing(ctx, "update flow "+r.ID, r.ID)
	case err != nil:
		return s.fail(ctx, "update flow "+r.ID, err)
	}
	rec.Version++
	return nil
}

// update writes the normalised record r if its version matches, with the
// entries of history numbered after the flow's last.
func (s *Store) update(ctx context.Context, r *store.Record, history []store.HistoryEntry) error {
	c, err := toRow(r)
	if err != nil {
		return err
	}
	args := []any{r.ID, r.Version, c.graphVersion, c.state, c.data, c.pending,
		c.updatedAt, c.expiresAt, c.endedAt, len(history)}
	if len(history) == 0 {
		update, err := s.prepare(ctx, s.write, updateFlow)
		if err != nil {
			return err
		}
		return hitOne(update.ExecContext(ctx, args...))
	}
	update, err := s.prepare(ctx, s.write, updateFlow+" RETURNING history_seq")
	if err != nil {
		return err
	}
	entries, err := s.prepare(ctx, s.write, insertEntry)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var last int64
		err := tx.StmtContext(ctx, update).QueryRowContext(ctx, args...).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoRow
		} else if err != nil {
			return err
		}
		return insertEntries(ctx, tx.StmtContext(ctx, entries), r.ID, backend.Entries(history, last-int64(len(history))))
	})
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

// inTx runs fn in an immediate transaction on the write connection and
// commits if fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, rollback(tx))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// insertEntries inserts history entries of flow id with stmt, the
// insertEntry statement of the transaction.
func insertEntries(ctx context.Context, stmt *sql.Stmt, id string, hs []store.HistoryEntry) error {
	for _, h := range hs {
		if _, err := stmt.ExecContext(ctx, id, h.Seq, micros(h.At), string(h.From), h.Event, string(h.To),
			h.Outcome, h.Call, h.Status, h.Code, int64(h.Duration)); err != nil {
			return fmt.Errorf("insert history entry %d: %w", h.Seq, err)
		}
	}
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
	err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM flows WHERE id = $1)`, id).Scan(&ok)
	return ok, err
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id string) (*store.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	get, err := s.prepare(ctx, s.read, `SELECT `+flowCols+` FROM flows WHERE id = $1`)
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
