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
	// updateFlow is the compare-and-swap, for a flow the writer has no
	// hint of: it returns the flow's new last history Seq. Kind, subject
	// and created_at are fixed by Create. Its parameters, and those of
	// the narrow updates, are the update arguments (see argID).
	updateFlow = `UPDATE flows SET graph_version = $3, state = $4, data = $5, pending = $6,
		updated_at = $7, expires_at = $8, ended_at = $9,
		version = version + 1, history_seq = history_seq + $10, claimed_until = NULL
		WHERE id = $1 AND version = $2
		RETURNING history_seq`
	insertEntry = `INSERT INTO flow_history (flow_id, seq, at, from_state, event, to_state, outcome, call, status, code, duration_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

	existsFlow = `SELECT EXISTS (SELECT 1 FROM flows WHERE id = $1)`
)

// Update arguments: the values of the parameters of updateFlow and of the
// narrow updates, by index. The writer sets argSeq from its hint.
const (
	argID = iota
	argVersion
	argGraphVersion
	argState
	argData
	argPending
	argUpdatedAt
	argExpiresAt
	argEndedAt
	argEntries // how many history entries the update appends
	argSeq     // the hinted history Seq of the version replaced
	numArgs
)

// The indexed columns an update may change, as bits of a change set: the
// index of the narrow update that sets them in narrowUpdates.
const (
	setState      = 1 << iota // flows_state
	setExpiresAt              // flows_expiry
	setEndedAt                // flows_expiry and flows_running (their WHERE), flows_ended
	numChangeSets = 1 << iota
)

// narrowUpdates are the compare-and-swap for a flow the writer holds a
// hint of, by change set. SQLite rewrites the entries of every index on
// a column that the SET list names, whatever the value, so each names
// only the indexed columns of its change set: the others keep their
// stored values, which its WHERE clause checks against the update's
// (equal to the hint's). It also checks the hinted history Seq, so that
// when it hits a row, the flow's last Seq was the hint's and the update
// needs no RETURNING to number its entries. If the hint was wrong, it
// hits no row and update runs updateFlow.
var narrowUpdates = func() (qs [numChangeSets]string) {
	cols := []struct {
		bit             int
		col, param, cmp string
	}{
		{setState, "state", "$4", "="},
		{setExpiresAt, "expires_at", "$8", "IS"},
		{setEndedAt, "ended_at", "$9", "IS"},
	}
	for set := range qs {
		list := "graph_version = $3, data = $5, pending = $6, updated_at = $7"
		where := "id = $1 AND version = $2 AND history_seq = $11"
		for _, c := range cols {
			if set&c.bit != 0 {
				list += ", " + c.col + " = " + c.param
			} else {
				where += " AND " + c.col + " " + c.cmp + " " + c.param
			}
		}
		qs[set] = "UPDATE flows SET " + list +
			", version = $2 + 1, history_seq = $11 + $10, claimed_until = NULL WHERE " + where
	}
	return qs
}()

// changes returns the change set of an update from h to the record it
// writes, whose hint (but the Seq) is to.
func (h hint) changes(to hint) int {
	var set int
	if h.state != to.state {
		set |= setState
	}
	if h.expiresAt != to.expiresAt {
		set |= setExpiresAt
	}
	if h.endedAt != to.endedAt {
		set |= setEndedAt
	}
	return set
}

// remember records h as the hint of flow id after the writer wrote it;
// a terminal flow is rarely written again, so it is forgotten instead.
func (c *writeConn) remember(id string, h hint) {
	if h.endedAt != nil {
		c.hints.drop(id)
		return
	}
	c.hints.set(id, h)
}

// errNoRow reports that a write matched no row.
var errNoRow = errors.New("no row")

// Create implements store.Store. The writer inserts the record, and its
// history entries if any, in the transaction of its batch.
func (s *Store) Create(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := backend.CheckCreate(rec); err != nil {
		return err
	}
	r := backend.Record(rec)
	hs := backend.Entries(history, 0)
	c, err := toRow(r)
	if err != nil {
		return s.fail(ctx, "create flow "+r.ID, err)
	}
	args := []any{r.ID, int64(len(hs)), c.kind, c.graphVersion, c.state, c.subject,
		c.data, c.pending, c.createdAt, c.updatedAt, c.expiresAt, c.endedAt}
	h := hint{version: 1, seq: int64(len(hs)), state: c.state, expiresAt: c.expiresAt, endedAt: c.endedAt}
	err = s.w.do(newRequest(ctx, len(hs) > 0, func(ctx context.Context, c *writeConn) error {
		return c.create(ctx, r.ID, args, hs, h)
	}).refusesFirst())
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
// entries hs, and remembers h, its hint. It returns errNoRow, having
// written nothing, if the ID is taken; any other error may leave a
// partial write, which the caller must undo.
func (c *writeConn) create(ctx context.Context, id string, args []any, hs []store.HistoryEntry, h hint) error {
	if err := hitOne(c.execResult(ctx, insertFlow, args...)); err != nil {
		return err
	}
	if err := c.insertEntries(ctx, id, hs); err != nil {
		return err
	}
	c.remember(id, h)
	return nil
}

// Update implements store.Store. The writer runs the compare-and-swap, and
// inserts the history entries if any, in the transaction of its batch.
func (s *Store) Update(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := backend.NoSuchID("update flow", rec.ID); err != nil {
		return err
	}
	r := backend.Record(rec)
	op := "update flow " + r.ID
	c, err := toRow(r)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	args := make([]any, numArgs)
	args[argID], args[argVersion], args[argGraphVersion], args[argState] = r.ID, r.Version, c.graphVersion, c.state
	args[argData], args[argPending], args[argUpdatedAt] = c.data, c.pending, c.updatedAt
	args[argExpiresAt], args[argEndedAt], args[argEntries] = c.expiresAt, c.endedAt, int64(len(history))
	h := hint{version: r.Version + 1, state: c.state, expiresAt: c.expiresAt, endedAt: c.endedAt}
	err = s.w.do(newRequest(ctx, len(history) > 0, func(ctx context.Context, c *writeConn) error {
		return c.update(ctx, r.ID, args, history, h)
	}).refusesFirst())
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%s: %w", op, err)
	case err != nil:
		return s.fail(ctx, op, err)
	}
	rec.Version++
	return nil
}

// update writes flow id, args being the update arguments, if its version
// matches, with the entries of history numbered after the flow's last,
// and remembers to, the hint of what it wrote (its Seq set here). With a
// hint of the version replaced, it runs the narrow update of the
// columns that change; without one, or if the narrow update hits no row
// (the hint was wrong), updateFlow. If neither hits the row, update has
// written nothing and returns store.ErrConflict or store.ErrNotFound; any
// other error may leave a partial write, which the caller must undo.
func (c *writeConn) update(ctx context.Context, id string, args []any, history []store.HistoryEntry, to hint) error {
	n := int64(len(history))
	var last int64 // the flow's last Seq after the update
	hit := false
	if h, ok := c.hints.get(id); ok && h.version == to.version-1 {
		args[argSeq] = h.seq
		switch err := hitOne(c.execResult(ctx, narrowUpdates[h.changes(to)], args...)); {
		case err == nil:
			hit, last = true, h.seq+n
		case !errors.Is(err, errNoRow):
			return err
		default:
			c.hints.drop(id) // another process wrote the flow, or it was purged
		}
	}
	if !hit {
		switch err := c.scan(ctx, updateFlow, args, &last); {
		case errors.Is(err, sql.ErrNoRows):
			return c.missing(ctx, id)
		case err != nil:
			return err
		}
	}
	if err := c.insertEntries(ctx, id, backend.Entries(history, last-n)); err != nil {
		return err
	}
	to.seq = last
	c.remember(id, to)
	return nil
}

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
	if err := backend.NoSuchID("get flow", id); err != nil {
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
	if err := backend.NoSuchID("history of flow", id); err != nil {
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
