package sqlitestore

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// Checkpoints.
//
// In WAL mode every commit appends pages to the write-ahead log, and a
// checkpoint copies them back into the database file, then syncs it. Left
// to itself, SQLite checkpoints in the connection that commits when the log
// passes 1000 pages: the writer stops for the copy and two fsyncs while
// every caller waits for it, and a page that many commits rewrote (an
// index root, the leaf the newest flows share) is copied at every such
// checkpoint. So the writer's own automatic checkpoint is set far higher
// (walAutoCheckpoint, a safety net), and a checkpointer goroutine, on a
// connection of its own, runs a PASSIVE checkpoint at most every
// checkpointEvery after writes: it never waits for the writer or for
// readers, copies each page once however often it was rewritten, and
// syncs off the writer's path. Once the log is copied in full the next
// write starts it again from the top, so it stays small; the durability of
// synchronous NORMAL in WAL mode is unchanged (commits are durable once
// the log reaches the disk, at checkpoints; a power loss may lose the last
// transactions, never corrupt the file).
const (
	// checkpointEvery is the least time between background checkpoints.
	checkpointEvery = 100 * time.Millisecond
	// walAutoCheckpoint is the log size, in pages, at which the writer
	// checkpoints by itself, should the checkpointer fall behind.
	walAutoCheckpoint = 16000 // 64 MiB of 4 KiB pages
	// walSizeLimit is the size the log file is truncated to after a
	// checkpoint lets it start again, so a burst does not keep its space.
	walSizeLimit = 64 << 20
)

// checkpointer runs the background checkpoints of one store.
type checkpointer struct {
	db    *sql.DB // one connection of its own
	every time.Duration
	kick  chan struct{} // capacity 1: something was committed
	stop  chan struct{} // closed by close
	done  chan struct{} // closed when the goroutine has returned

	// runs and frames count the checkpoints made and the log frames they
	// copied; failures counts those that failed (the writer's automatic
	// checkpoint then takes over). For tests and benchmarks.
	runs, frames, failures atomic.Int64
}

// newCheckpointer starts the checkpointer of the database db, which must
// have one connection.
func newCheckpointer(db *sql.DB, every time.Duration) *checkpointer {
	c := &checkpointer{db: db, every: every, kick: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{})}
	go c.loop()
	return c
}

// wrote tells the checkpointer that a transaction was committed. It never
// blocks.
func (c *checkpointer) wrote() {
	select {
	case c.kick <- struct{}{}:
	default: // a checkpoint is already due
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		c.checkpoint()
		pause.Reset(c.every)
		select {
		case <-c.stop:
			return
		case <-pause.C:
		}
	}
}

// checkpoint runs one PASSIVE checkpoint: it copies what it can without
// waiting for anyone.
func (c *checkpointer) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), busyTimeout)
	defer cancel()
	var busy, log, copied int64
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		c.failures.Add(1)
		return
	}
	c.runs.Add(1)
	c.frames.Add(copied)
}

// close stops the checkpointer, waits for it and closes its connection.
// SQLite checkpoints the whole log when the last connection to the file
// closes.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
