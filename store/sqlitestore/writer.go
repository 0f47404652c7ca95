package sqlitestore

import (
	"context"
	"database/sql"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ratioflow/ratioflow/store"
)

// maxBatch caps the requests that one transaction commits, which bounds
// how long the writer holds SQLite's write lock (other processes wait for
// it) when many requests queue. 16 writers rarely queue more than 8; with
// 128 writers (BenchmarkUpdateParallel), a cap of 8, 32 and 128 gave
// 63 000, 102 000 and 113 000 updates/s.
const maxBatch = 128

// A request is one write waiting for the writer: a Create, an Update, a
// ClaimExpired, one statement of a Purge, a claim, finish or abandon of
// an idempotency key, or a Migrate.
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
	// clean means that exec, when it refuses a write (see refused), has
	// written nothing: its refusals come before its first write. In a
	// batch, such a request runs without a savepoint; see group.
	clean bool
	// solo requests (Migrate) run alone, with their own transactions and
	// the caller's context.
	solo bool

	state atomic.Int32  // queued, taken or abandoned
	err   error         // the answer, set before done is closed
	done  chan struct{} // closed by whoever answers; nil for a request run inline
}

// States of a request. A request leaves queued exactly once: taken by the
// writer (or by its caller, who runs it inline), which then always answers
// it, or abandoned by its caller (or by the writer for it) when its
// context ends first.
const (
	queued int32 = iota
	taken
	abandoned
)

// newRequest returns a request that runs exec for a caller with context
// ctx; tx says whether exec needs a transaction when it runs alone.
func newRequest(ctx context.Context, tx bool, exec func(context.Context, *writeConn) error) *request {
	return &request{ctx: ctx, tx: tx, exec: exec}
}

// refusesFirst marks r clean (see request.clean) and returns it.
func (r *request) refusesFirst() *request {
	r.clean = true
	return r
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

// answer gives the request its result and wakes its caller, if it waits.
func (r *request) answer(err error) {
	r.err = err
	if r.done != nil {
		close(r.done)
	}
}

// writer is the goroutine that owns the write connection, and its queue.
// Callers enqueue requests and wait; the writer takes every request queued
// (up to maxBatch), runs them in one transaction and commits once: group
// commit. See run.
//
// A caller that finds the connection idle and the queue empty runs its
// request itself, on its own goroutine, with the requests queued while it
// yielded once to the goroutines ready to run: handing a request to the
// writer and back costs two goroutine wake-ups, which on an idle machine
// cost a third of a small write. Requests that arrive once the caller's
// batch has started queue for the writer, which takes them once the
// caller is done.
type writer struct {
	db *sql.DB // the write pool of one connection, which conn holds

	mu     sync.Mutex // guards queue, busy and closed
	queue  []*request
	busy   bool // the connection is in use, by the writer goroutine or a caller
	closed bool // Close was called: no more requests

	wake chan struct{} // capacity 1: the queue grew, busy ended, or Close was called
	done chan struct{} // closed when the writer goroutine has returned

	// committed is called after each write committed (a batch, or a
	// request run alone, or tried: a failed commit costs the
	// checkpointer one needless look); it must not block.
	committed func()

	// Used only while holding busy.
	conn *writeConn // nil until the first request, and after it broke
	ran  []*request // group's scratch space
	// writes counts the requests run inline, and yieldFor how many more
	// yields that find no company join makes before it yields only to
	// probe; see join.
	writes, yieldFor int

	// batches and requests count the transactions the writer committed
	// (or single statements it ran) and the requests they held, and lost
	// the batches' transactions it rolled back to run their requests
	// again, for the tests and the benchmarks.
	batches, requests, lost atomic.Int64
}

// newWriter starts the writer of db, which must have one connection. It
// connects on the first request, and calls committed after each commit.
func newWriter(db *sql.DB, committed func()) *writer {
	w := &writer{db: db, wake: make(chan struct{}, 1), done: make(chan struct{}), committed: committed}
	go w.loop()
	return w
}

// do runs r, at once if the connection is idle and nothing is queued,
// else through the queue, and returns its answer. If r's context ends
// while r is still queued, do abandons r, which then writes nothing, and
// returns ctx.Err(); once the writer has taken r, do waits for r's
// outcome, so that an error always means that nothing was written. After
// close, do returns store.ErrClosed.
func (w *writer) do(r *request) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return store.ErrClosed
	}
	if !w.busy && len(w.queue) == 0 {
		w.busy = true
		w.mu.Unlock()
		r.state.Store(taken)
		w.run(w.join(r))
		w.idle()
		return r.err
	}
	r.done = make(chan struct{})
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	w.signal()
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

// join returns r, a request its caller runs inline, followed by the
// requests queued meanwhile (up to maxBatch in all), which it takes off
// the queue: the caller runs them as one batch. A solo request runs alone,
// and one queued stays queued for the writer.
//
// Before it looks at the queue, join lets the goroutines that are ready to
// run make their writes first (runtime.Gosched), so that the writes of a
// busy process share commits instead of taking turns to commit one by
// one. A yield costs a few microseconds, which a lone writer would pay on
// every write for nothing: join yields while yielding finds company (see
// yieldFor) and otherwise only once in probeEvery writes, to notice when
// it would again.
func (w *writer) join(r *request) []*request {
	if r.solo {
		return []*request{r}
	}
	yielded := w.yieldFor > 0 || w.writes%probeEvery == 0
	w.writes++
	if yielded {
		runtime.Gosched()
	}
	w.mu.Lock()
	batch := w.dequeue([]*request{r}, maxBatch-1, false)
	w.mu.Unlock()
	switch {
	case len(batch) > 1:
		w.yieldFor = patience
	case yielded && w.yieldFor > 0:
		w.yieldFor--
	}
	return batch
}

// After patience yields in a row that found no company, join yields only
// once in probeEvery inline writes.
const (
	patience   = 16
	probeEvery = 64
)

// dequeue moves up to limit requests from the head of the queue to the
// end of batch, stopping before a solo request, unless soloFirst is set and
// it heads the queue: then it is moved alone. w.mu must be held.
func (w *writer) dequeue(batch []*request, limit int, soloFirst bool) []*request {
	n := 0
	for n < len(w.queue) && n < limit {
		if w.queue[n].solo {
			if n == 0 && soloFirst {
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
	return batch
}

// idle releases the connection after a caller ran its request, and wakes
// the writer if requests queued meanwhile, or Close waits for it.
func (w *writer) idle() {
	w.mu.Lock()
	w.busy = false
	wake := len(w.queue) > 0 || w.closed
	w.mu.Unlock()
	if wake {
		w.signal()
	}
}

// signal wakes the writer goroutine.
func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// close stops accepting requests, lets the writer run those already
// queued, and waits for the writer goroutine to return, having released
// its connection.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal()
	<-w.done
}

// loop is the writer goroutine: it runs the queue's requests, batch by
// batch, until close is called and the queue is empty.
func (w *writer) loop() {
	defer close(w.done)
	defer w.disconnect()
	var batch []*request
	for {
		var stop bool
		batch, stop = w.next(batch[:0])
		if stop {
			return
		}
		if len(batch) == 0 {
			<-w.wake
			continue
		}
		w.run(batch)
		clear(batch) // drop the references to answered requests
		w.mu.Lock()
		w.busy = false
		w.mu.Unlock()
	}
}

// next moves the requests queued now into batch, up to maxBatch, and
// takes the connection for them; it returns none while a caller holds the
// connection. It reports whether the writer should stop: Close was
// called, the queue is empty and the connection idle. A solo request is
// taken alone.
func (w *writer) next(batch []*request) ([]*request, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.busy {
		return batch, false
	}
	if len(w.queue) == 0 {
		return batch, w.closed
	}
	w.busy = true
	return w.dequeue(batch, maxBatch, true), false
}
