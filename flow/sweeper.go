package flow

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// Sweeper keeps a store tidy on a schedule: it expires the flows past
// their deadline (Engine.Sweep) and applies a retention policy to the
// ended ones (store.Store.Purge, which also deletes the idempotency keys
// whose time passed). A service runs one per process with one call:
//
//	go (&flow.Sweeper{Engine: engine, Retention: keep, Logger: log}).Run(ctx)
//
// Several sweepers may share a store: the store hands each expired flow to
// one of them.
type Sweeper struct {
	// Engine is the engine whose flows are swept; required.
	Engine *Engine
	// Interval is the time between two sweeps; zero means 30 seconds.
	Interval time.Duration
	// Retention is applied after each sweep; the zero policy keeps every
	// ended flow (Purge then only deletes expired idempotency keys).
	Retention store.Retention
	// Batch is how many flows one Engine.Sweep call claims; zero means 100.
	Batch int
	// Logger receives what each sweep did and its errors; nil means none.
	Logger *slog.Logger
}

// SweepResult is what one sweep did.
type SweepResult struct {
	// Expired counts the flows moved to Expired.
	Expired int
	// Purged is what the retention policy removed.
	Purged store.PurgeResult
}

// Run sweeps every Interval until ctx is done, then returns ctx's error.
func (s *Sweeper) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		_, _ = s.Once(ctx) // Once logs its errors; the next tick tries again
	}
}

// Once sweeps now: it expires every flow past its deadline, batch by
// batch, then applies the retention policy at the engine's time. It logs
// what it did, and its errors unless ctx ended.
func (s *Sweeper) Once(ctx context.Context) (SweepResult, error) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	batch := s.Batch
	if batch <= 0 {
		batch = 100
	}
	var res SweepResult
	for {
		n, err := s.Engine.Sweep(ctx, batch)
		res.Expired += n
		if err != nil {
			if ctx.Err() == nil {
				log.Error("sweep", "err", err)
			}
			return res, err
		}
		if n < batch {
			break
		}
	}
	if res.Expired > 0 {
		log.Info("swept expired flows", "count", res.Expired)
	}
	purged, err := s.Engine.store.Purge(ctx, s.Engine.now(), s.Retention)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("purge", "err", err)
		}
		return res, fmt.Errorf("purge: %w", err)
	}
	res.Purged = purged
	if purged != (store.PurgeResult{}) {
		log.Info("purged", "scrubbed_flows", purged.Scrubbed, "deleted_flows", purged.Deleted, "expired_keys", purged.Keys)
	}
	return res, nil
}
