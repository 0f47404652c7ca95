package pgstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit. Each Create and Update is one statement; under load many
// of them wait for a connection at the same time, and sending each alone
// costs a round trip, a transaction and a WAL flush apiece. The writes
// queue instead: a caller that finds fewer than maxFlushers batches in
// flight takes everything queued (itself included) and sends it as one
// pgx batch, which PostgreSQL runs as one implicit transaction: one round
// trip, one commit. A write that meets no other is sent alone, as before.
//
// Each statement of a batch keeps its own meaning: the compare-and-swap
// of an Update and the ON CONFLICT DO NOTHING of a Create report their
// outcome as rows affected, never as an error, so one flow's conflict
// does not touch the others. Should a statement fail all the same (the
// transaction is then rolled back whole), each write of the batch is sent
// again alone, so that it gets its own answer. The statements of a batch
// run in the order of their flow IDs, and concurrent batches take their
// row locks in that order too, so two batches never deadlock.

// maxBatch is the most writes one batch carries.
const maxBatch = 128

// write is one queued statement and, once run, its outcome.
type write struct {
	ctx   context.Context
	id    string // the flow's ID, the order of a batch
	query string
	args  []any

	done     chan struct{} // closed when rows and err are set
	rows     int64
	err      error
	taken    bool // a flusher took it (under batcher.mu)
	canceled bool // its caller left before it was taken (under batcher.mu)
}

// batcher queues the writes of one store.
type batcher struct {
	pool        *pgxpool.Pool
	maxFlushers int

	mu       sync.Mutex
	queue    []*write
	flushers int

	batches, writes int64 // sent so far (under mu), for tests and stats
}

// run runs a write, alone or in a batch with others, and returns the rows
// it affected. A caller whose ctx ends before its write is sent gets
// ctx.Err() and nothing is written; one whose ctx ends while its batch is
// in flight gets ctx.Err() at once, the write landing or not, as with a
// statement canceled in flight.
func (b *batcher) run(ctx context.Context, id, query string, args ...any) (int64, error) {
	if b.maxFlushers == 0 {
		return b.exec(ctx, query, args...)
	}
	w := &write{ctx: ctx, id: id, query: query, args: args, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, w)
	if b.flushers < b.maxFlushers {
		b.flushers++
		go b.flush()
	}
	b.mu.Unlock()
	select {
	case <-w.done:
		return w.rows, w.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !w.taken {
		w.canceled = true
	}
	b.mu.Unlock()
	return 0, ctx.Err()
}

// flush sends the queue in batches until it is empty. It was counted in
// b.flushers when started.
func (b *batcher) flush() {
	for {
		b.mu.Lock()
		var batch []*write
		for len(b.queue) > 0 && len(batch) < maxBatch {
			w := b.queue[0]
			b.queue[0] = nil
			b.queue = b.queue[1:]
			if w.canceled {
				continue
			}
			w.taken = true
			batch = append(batch, w)
		}
		if len(batch) == 0 {
			b.queue = nil // let the backing array go
			b.flushers--
			b.mu.Unlock()
			return
		}
		b.batches++
		b.writes += int64(len(batch))
		b.mu.Unlock()
		b.sendBatch(batch)
	}
}

// sendBatch runs the writes of batch and sets their outcomes.
func (b *batcher) sendBatch(batch []*write) {
	if len(batch) == 1 {
		b.alone(batch[0])
		return
	}
	slices.SortStableFunc(batch, func(x, y *write) int { return cmp.Compare(x.id, y.id) })
	ctx, cancel := batchContext(batch)
	defer cancel()
	var pb pgx.Batch
	for _, w := range batch {
		pb.Queue(w.query, w.args...)
	}
	res := b.pool.SendBatch(ctx, &pb)
	rows := make([]int64, len(batch))
	var err error
	for i := range batch {
		tag, e := res.Exec()
		if e != nil {
			err = e
			break
		}
		rows[i] = tag.RowsAffected()
	}
	if e := res.Close(); err == nil {
		err = e
	}
	if err != nil {
		// The implicit transaction was rolled back whole: give each
		// write its own answer.
		for _, w := range batch {
			b.alone(w)
		}
		return
	}
	for i, w := range batch {
		w.rows = rows[i]
		close(w.done)
	}
}

// alone runs w in a statement of its own.
func (b *batcher) alone(w *write) {
	ctx, cancel := batchContext([]*write{w})
	defer cancel()
	w.rows, w.err = b.exec(ctx, w.query, w.args...)
	close(w.done)
}

// batchContext is the context a batch runs under: not canceled by any one
// caller leaving (the others still wait for their writes), with the
// latest deadline of its writes, if all have one.
func batchContext(batch []*write) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(batch[0].ctx)
	var latest time.Time
	for _, w := range batch {
		d, ok := w.ctx.Deadline()
		if !ok {
			return context.WithCancel(base)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(base, latest)
}

// WriteStats counts the writes (Create and Update) a store sent to the
// database, and the round trips they took: a write that met no other goes
// alone, the writes that queued together go in one batch.
type WriteStats struct {
	// Writes is how many writes the store sent.
	Writes int64
	// Batches is how many round trips (and transactions) they took.
	Batches int64
}

// WriteStats returns the writes the store sent so far and the batches
// they went in. Writes over Batches is how many writes a transaction
// carried on average: 1 when the writes never meet, more under load.
func (s *Store) WriteStats() WriteStats {
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	return WriteStats{Writes: s.writes.writes, Batches: s.writes.batches}
}

// maxFlushers is how many batches of one store are in flight at most.
// PostgreSQL commits a batch in one WAL flush, so a few in flight keep the
// database busy while the next batches fill.
const maxFlushers = 4

// newBatcher returns the batcher of a store on pool.
func newBatcher(pool *pgxpool.Pool) *batcher {
	return &batcher{pool: pool, maxFlushers: maxFlushers}
}

// exec runs one statement on its own and returns the rows it affected.
func (b *batcher) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := b.pool.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}
