package sqlitestore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/ratioflow/ratioflow/store"
)

// maxBatch caps the requests that one transaction commits. With 16
// writers a batch rarely holds more than 16; the cap bounds how long one
// transaction holds SQLite's write lock (and keeps other processes
// waiting) when many more queue.
const maxBatch = 128

// A request is one write waiting for the writer: a Create, an Update, a
// ClaimExpired, one statement of a Purge, or a Migrate.
type request struct {
	// ctx is the caller's. The writer checks it when it takes the request,
	// but runs batched statements with a context that is never cancelled:
	// SQLite's interrupt would stop whatever the connection is running,
	// another request's statements included.
	ctx context.Context
	// exec runs the request's statements on the write connection; in a
	// batch, inside the batch's transaction. It returns errNoRow, or a
	// sentinel of package store, for a write refused as the contract says.
	exec func(ctx context.Context, c *writeConn) error
	// tx means exec runs several writing statements, which need a
	// transaction when the request is alone: a write with history.
	tx bool
	// solo requests (Migrate) run alone, with their own transactions and
	// the caller's context.
	solo bool

	state atomic.Int32  // queued, taken or abandoned
	err   error         // the answer, set before done is closed
	done  chan struct{} // closed by whoever answers
}

// States of a request. A request leaves queued exactly once: taken by the
// writer, which then always answers it, or abandoned by its caller (or by
// the writer for it) when its context ends first.
const (
	queued int32 = iota
	taken
	abandoned
)

// newRequest returns a request that runs exec for a caller with context
// ctx; tx says whether exec needs a transaction when it runs alone.
func newRequest(ctx context.Context, tx bool, exec func(context.Context, *writeConn) error) *request {
	return &request{ctx: ctx, tx: tx, exec: exec, done: make(chan struct{})}
}

// take moves a request the writer is about to run from queued to taken
// and reports whether the writer should run it. A request whose context
// has ended is answered with ctx.Err() instead; one its caller abandoned
// is skipped. A request taken before (a batch run again) stays taken.
func (r *request) take() bool {
	switch r.state.Load() {
	case taken:
		return true
	case abandoned:
		return false
	}
	if err := r.ctx.Err(); err != nil {
		if r.state.CompareAndSwap(queued, abandoned) {
			r.answer(err)
		}
		return false
	}
	return r.state.CompareAndSwap(queued, taken)
}

// answer gives the request its result and wakes its caller.
func (r *request) answer(err error) {
	r.err = err
	close(r.done)
}

// writer is the goroutine that owns the write connection, and its queue.
// Callers enqueue requests and wait; the writer takes every request queued
// (up to maxBatch), runs them in one transaction and commits once: group
// commit. See run.
type writer struct {
	db *sql.DB // the write pool of one connection, which conn holds

	mu     sync.Mutex // guards queue and closed
	queue  []*request
	closed bool // Close was called: no more requests

	wake chan struct{} // capacity 1: the queue grew, or Close was called
	done chan struct{} // closed when the writer goroutine has returned

	// Owned by the writer goroutine.
	conn *writeConn // nil until the first request, and after it broke
	ran  []*request // group's scratch space

	// batches and requests count the transactions the writer ran and the
	// requests they held, for the tests and the benchmarks.
	batches, requests atomic.Int64
}

// newWriter starts the writer of db, which must have one connection. It
// connects on the first request.
func newWriter(db *sql.DB) *writer {
	w := &writer{db: db, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.loop()
	return w
}

// do enqueues r and waits for its answer. If r's context ends while r is
// still queued, do abandons r, which then writes nothing, and returns
// ctx.Err(); once the writer has taken r, do waits for r's outcome, so
// that an error always means that nothing was written. After close, do
// returns store.ErrClosed.
func (w *writer) do(r *request) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return store.ErrClosed
	}
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	select {
	case <-r.done:
		return r.err
	case <-r.ctx.Done():
		if r.state.CompareAndSwap(queued, abandoned) {
			return r.ctx.Err()
		}
		<-r.done // taken (or answered) meanwhile: its outcome decides
		return r.err
	}
}

// close stops accepting requests, lets the writer run those already
// queued, and waits for the writer goroutine to return, having released
// its connection.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
}

// loop is the writer goroutine: it runs the queue's requests, batch by
// batch, until close is called and the queue is empty.
func (w *writer) loop() {
	defer close(w.done)
	defer w.disconnect()
	var batch []*request
	for {
		var closed bool
		batch, closed = w.next(batch[:0])
		if len(batch) == 0 {
			if closed {
				return
			}
			<-w.wake
			continue
		}
		w.run(batch)
		clear(batch) // drop the references to answered requests
	}
}

// next moves the requests queued now into batch, up to maxBatch, and
// reports whether close was called. A solo request is taken alone.
func (w *writer) next(batch []*request) ([]*request, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for n < len(w.queue) && n < maxBatch {
		if w.queue[n].solo {
			if n == 0 {
				n = 1
			}
			break
		}
		n++
	}
	batch = append(batch, w.queue[:n]...)
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	return batch, w.closed
}
