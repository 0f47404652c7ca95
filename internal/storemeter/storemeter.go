// Package storemeter measures what a store.Store costs the engine: it wraps
// stores to count their calls and writes (Create and Update) and to time
// every call, and adds up the store's time within each engine step marked
// with Step. The bench command reports these figures per flow and per step.
//
// A wrapped store is only a store.Store: it hides the optional interfaces
// (store.KeyStore, store.HistoryLister) of the store it wraps.
package storemeter

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// Meter collects the measures of every store it wraps. It is safe for
// concurrent use; several stores (the replicas of a bench) may share one.
type Meter struct {
	calls, writes atomic.Int64
	mu            sync.Mutex
	steps         []time.Duration // the store's time within each step
}

// Counts returns the store calls and the writes (Create and Update calls)
// made so far through the meter's stores, failed ones included.
func (m *Meter) Counts() (calls, writes int64) {
	return m.calls.Load(), m.writes.Load()
}

// stepKey keys the step accumulator in a context.
type stepKey struct{}

// stepTime adds up the store's time within one step.
type stepTime struct{ d atomic.Int64 }

// Step marks ctx as one engine step: the store calls made with the context
// it returns (or any derived from it) count towards the step, until done
// is called, which records the step's store time (zero if the step made no
// store call).
func (m *Meter) Step(ctx context.Context) (stepCtx context.Context, done func()) {
	t := &stepTime{}
	return context.WithValue(ctx, stepKey{}, t), func() {
		m.mu.Lock()
		m.steps = append(m.steps, time.Duration(t.d.Load()))
		m.mu.Unlock()
	}
}

// Steps returns how many steps were recorded.
func (m *Meter) Steps() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.steps)
}

// StepPercentile returns the p-th percentile (0 to 100) of the store's time
// per recorded step, or zero if no step was recorded.
func (m *Meter) StepPercentile(p int) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.steps) == 0 {
		return 0
	}
	slices.Sort(m.steps)
	return m.steps[min(len(m.steps)*p/100, len(m.steps)-1)]
}

// observe records one call that started at start.
func (m *Meter) observe(ctx context.Context, start time.Time, write bool) {
	d := time.Since(start)
	m.calls.Add(1)
	if write {
		m.writes.Add(1)
	}
	if t, ok := ctx.Value(stepKey{}).(*stepTime); ok {
		t.d.Add(int64(d))
	}
}

// Wrap returns s measured by m.
func (m *Meter) Wrap(s store.Store) store.Store { return &metered{Store: s, m: m} }

// metered is a store measured by a meter.
type metered struct {
	store.Store
	m *Meter
}

func (s *metered) Create(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	defer s.m.observe(ctx, time.Now(), true)
	return s.Store.Create(ctx, rec, history...)
}

func (s *metered) Update(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	defer s.m.observe(ctx, time.Now(), true)
	return s.Store.Update(ctx, rec, history...)
}

func (s *metered) Get(ctx context.Context, id string) (*store.Record, error) {
	defer s.m.observe(ctx, time.Now(), false)
	return s.Store.Get(ctx, id)
}

func (s *metered) History(ctx context.Context, id string) ([]store.HistoryEntry, error) {
	defer s.m.observe(ctx, time.Now(), false)
	return s.Store.History(ctx, id)
}

func (s *metered) List(ctx context.Context, q store.Query) (store.Page, error) {
	defer s.m.observe(ctx, time.Now(), false)
	return s.Store.List(ctx, q)
}

func (s *metered) ClaimExpired(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*store.Record, error) {
	defer s.m.observe(ctx, time.Now(), false)
	return s.Store.ClaimExpired(ctx, now, limit, lease)
}

func (s *metered) Purge(ctx context.Context, now time.Time, policy store.Retention) (store.PurgeResult, error) {
	defer s.m.observe(ctx, time.Now(), false)
	return s.Store.Purge(ctx, now, policy)
}
