package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math/rand/v2"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ratioflow/ratioflow/store"
)

// Statements of the writer's transactions.
const (
	beginTx     = `BEGIN IMMEDIATE` // takes the write lock now, waiting up to busy_timeout
	commitTx    = `COMMIT`
	rollbackTx  = `ROLLBACK`
	savepoint   = `SAVEPOINT request`
	release     = `RELEASE request`
	rollbackReq = `ROLLBACK TO request`
)

// run runs a batch of requests, taken from the queue or the one request
// of a caller that found the connection idle, and answers each of them
// (but those their callers abandoned). It must hold the connection
// (writer.busy).
func (w *writer) run(batch []*request) {
	for len(batch) > 0 {
		c, err := w.connect()
		if err != nil {
			for _, r := range batch {
				if r.take() {
					r.answer(err)
				}
			}
			return
		}
		switch {
		case batch[0].solo: // next takes a solo request alone
			if r := batch[0]; r.take() {
				r.answer(w.check(r.exec(r.ctx, c)))
			}
			batch = nil
		case len(batch) == 1:
			w.alone(c, batch[0])
			batch = nil
		default:
			batch = w.group(c, batch)
		}
	}
}

// alone runs r, the only request of its batch, without the statements
// group adds: a single statement in SQLite's autocommit mode, or a
// transaction of its own when r needs one. So a write that meets no other
// costs what it would cost without group commit.
func (w *writer) alone(c *writeConn, r *request) {
	if !r.take() {
		return
	}
	w.batches.Add(1)
	w.requests.Add(1)
	defer w.committed()
	ctx := context.Background() // see request.ctx
	if !r.tx {
		r.answer(w.check(r.exec(ctx, c)))
		return
	}
	err := c.exec(ctx, beginTx)
	if err == nil {
		if err = r.exec(ctx, c); err == nil {
			err = c.exec(ctx, commitTx)
		}
		if err != nil {
			w.rollback(c)
		}
	}
	r.answer(w.check(err))
}

// group runs reqs in one immediate transaction and commits once. The
// requests run in queue order, so two writes of one flow behave as if they
// were made one after the other, and a request that fails, expectedly (a
// version conflict, a duplicate ID) or not, leaves the other requests'
// writes as they were. No request learns its outcome before the COMMIT: if
// BEGIN or COMMIT fails, every request gets the error, and nothing is
// written.
//
// A clean request (see request.clean) runs as it is: when it refuses a
// write it has written nothing, so the transaction goes on. Any other
// request runs under a savepoint, which is rolled back if the request
// fails. Two statements per request is a third of the cost of a small
// write, which is why clean requests, all Creates and Updates, skip them.
//
// The transaction is lost when a clean request fails otherwise than by a
// refusal (it may have written part of its work), when a savepoint cannot
// be released or rolled back, or when SQLite rolls back the whole
// transaction on some error (I/O, a full disk). Then group rolls back the
// transaction, answers the request that failed, and returns the other
// requests taken so far and those not yet run, for the caller to run again
// in a new transaction, in the same order. Each round answers at least one
// request.
func (w *writer) group(c *writeConn, reqs []*request) (again []*request) {
	ctx := context.Background() // see request.ctx
	if err := w.check(c.exec(ctx, beginTx)); err != nil {
		for _, r := range reqs {
			if r.take() {
				r.answer(err)
			}
		}
		return nil
	}
	ran := w.ran[:0]
	defer func() { clear(ran); w.ran = ran[:0] }()
	for i, r := range reqs {
		if !r.take() {
			continue
		}
		var err error
		if r.clean {
			if r.err = r.exec(ctx, c); r.err != nil && !refused(r.err) {
				err = r.err
			}
		} else if err = c.exec(ctx, savepoint); err == nil {
			if r.err = r.exec(ctx, c); r.err != nil {
				err = c.exec(ctx, rollbackReq)
			}
			if err == nil {
				err = c.exec(ctx, release)
			}
		}
		if err != nil { // the transaction is lost
			w.rollback(c)
			w.lost.Add(1)
			r.answer(w.check(cmp.Or(r.err, err)))
			return append(append([]*request(nil), ran...), reqs[i+1:]...)
		}
		ran = append(ran, r)
	}
	err := w.check(c.exec(ctx, commitTx))
	if err != nil {
		w.rollback(c)
	}
	w.batches.Add(1)
	w.requests.Add(int64(len(ran)))
	w.committed()
	for _, r := range ran {
		r.answer(cmp.Or(err, r.err))
	}
	return nil
}

// refused reports whether err is a write refused as the contract says: a
// version conflict, an unknown flow, a duplicate ID. A clean request
// returns these only when it has written nothing.
func refused(err error) bool {
	return errors.Is(err, errNoRow) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)
}

// connect returns the write connection, connecting first if needed.
//
// Connecting runs the pragmas of the DSN, and the first ever switch of a new
// file to WAL needs the database to itself: SQLite answers SQLITE_BUSY to
// the other processes opening it at that moment, without consulting the
// busy handler. connect waits for it as the busy handler would, up to the
// same busy timeout.
func (w *writer) connect() (*writeConn, error) {
	if w.conn != nil {
		return w.conn, nil
	}
	var (
		conn *sql.Conn
		err  error
	)
	for deadline := time.Now().Add(busyTimeout); ; {
		conn, err = w.db.Conn(context.Background())
		if err == nil || !busy(err) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	w.conn = &writeConn{conn: conn, stmts: make(map[string]*sql.Stmt), hints: make(hints)}
	return w.conn, nil
}

// busyTimeout is how long a writer waits for another process's lock, as
// the DSN's busy_timeout pragma tells SQLite.
const busyTimeout = 5 * time.Second

// busy reports whether err is SQLite's "database is locked".
func busy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

// check returns err, and drops the write connection if err says that it
// broke; the next batch connects again.
func (w *writer) check(err error) error {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		w.discard()
	}
	return err
}

// rollback rolls back the transaction of a write that failed, and forgets
// the hints, which may be of writes it undoes. If that fails too (SQLite
// may have rolled back already, on some errors), it drops the connection,
// which ends any transaction still open, so that the next batch starts
// clean.
func (w *writer) rollback(c *writeConn) {
	c.hints.clear() // some may be of writes rolled back
	if err := c.exec(context.Background(), rollbackTx); err != nil {
		w.discard()
	}
}

// discard drops a write connection that broke, or whose transaction could
// not be rolled back: database/sql closes a connection whose Raw callback
// returns driver.ErrBadConn, where Close alone would return it to the pool
// with whatever transaction it still had open. The next batch connects
// again.
func (w *writer) discard() {
	if w.conn != nil {
		w.conn.close(true)
		w.conn = nil
	}
}

// disconnect closes the write connection's statements and returns the
// connection to the write pool.
func (w *writer) disconnect() {
	if w.conn != nil {
		w.conn.close(false)
		w.conn = nil
	}
}

// writeConn is the write connection with the statements prepared on it,
// and the hints of the flows written on it. Only whoever holds the
// connection (writer.busy) uses it.
type writeConn struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt // by query
	hints hints                // taken in transactions committed or still open
}

// stmt returns query prepared on the connection, preparing it on first
// use: parsing a statement costs as much as a small write.
func (c *writeConn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// exec runs query, which returns no rows.
func (c *writeConn) exec(ctx context.Context, query string, args ...any) error {
	_, err := c.execResult(ctx, query, args...)
	return err
}

// execResult runs query and returns its result.
func (c *writeConn) execResult(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// close closes the statements, then the connection if broken (so that
// database/sql does not keep it: see writer.discard), else returns it to
// its pool. The statements go first: the driver cannot finalize a
// statement of a connection already closed.
func (c *writeConn) close(broken bool) error {
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	if broken {
		_ = c.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	if err := c.conn.Close(); err != nil && !errors.Is(err, sql.ErrConnDone) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
