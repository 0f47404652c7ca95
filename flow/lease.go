package flow

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// A Ratio call recorded as pending is leased to the step making it. The
// lease runs Policy.PendingTimeout from the record's StartedAt or, once
// renewed, its RenewedAt. The process making the call renews it every
// third of that time while Ratio has not answered, so only a process that
// died (or lost its store) lets it run out; the next step then settles the
// call (see reconcile). A crash thus locks a flow for about one lease,
// seconds rather than minutes, without ever taking a live step for dead.

// leasedAt returns when the lease of pending call p was last taken or
// renewed.
func leasedAt(p *store.PendingCall) time.Time {
	if p.RenewedAt.After(p.StartedAt) {
		return p.RenewedAt
	}
	return p.StartedAt
}

// leasePoll is the longest real-time interval between two looks at the
// engine's clock by a lease holder: the clock decides when to renew, so a
// test's fake clock drives the renewals too.
var leasePoll = time.Second

// holdLease renews the lease of the flow's pending call until the returned
// stop is called; stop waits for a renewal in progress. The holder only
// writes the record's version and pending call, which the step does not
// read while its call is in flight. It is a timer, not a goroutine: most
// calls end before the first look, and cost no more than the timer.
func (r *run) holdLease(ctx context.Context) (stop func()) {
	every := r.e.policy.PendingTimeout / 3
	poll := min(every, leasePoll)
	var (
		mu      sync.Mutex // held by a look, and by stop
		stopped bool
		timer   *time.Timer
		last    = leasedAt(r.rec.Pending)
	)
	look := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped || ctx.Err() != nil {
			return
		}
		if now := r.e.now(); now.Sub(last) >= every {
			if err := r.renew(ctx, now); err != nil {
				r.e.log.LogAttrs(ctx, slog.LevelWarn, "flow lease not renewed", slog.String("flow", r.rec.ID),
					slog.String("call", r.rec.Pending.Call), slog.String("err", err.Error()))
				return // the step's own write will tell whether the flow is still its
			}
			last = now
		}
		timer.Reset(poll)
	}
	mu.Lock() // a first look waits for timer to be set
	timer = time.AfterFunc(poll, look)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		timer.Stop()
	}
}

// renew writes the pending call's lease as renewed at now.
func (r *run) renew(ctx context.Context, now time.Time) error {
	p := *r.rec.Pending
	p.RenewedAt = now
	rec := *r.rec
	rec.Pending = &p
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := r.e.store.Update(wctx, &rec); err != nil {
		return err
	}
	r.rec.Version, r.rec.Pending = rec.Version, &p
	r.writes++
	return nil
}

// persist writes the flow with its history entries: the write that keeps a
// Ratio answer. The answer is not dropped because the store failed once: a
// write that fails for any reason but a conflict is tried again, with a
// growing pause, until it lands or writeTimeout passes. When the store lost
// the answer to an earlier try that in fact landed, the conflict that the
// next try meets is recognised as that write (see landed).
func (r *run) persist(ctx context.Context, entries ...store.HistoryEntry) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	pause := 20 * time.Millisecond
	for try := 1; ; try++ {
		err := r.e.store.Update(wctx, r.rec, entries...)
		if err == nil {
			return nil
		}
		if errors.Is(err, store.ErrConflict) && try > 1 && r.landed(wctx) {
			r.rec.Version++
			return nil
		}
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrClosed) {
			return err
		}
		r.e.log.LogAttrs(ctx, slog.LevelWarn, "flow write failed; trying again", slog.String("flow", r.rec.ID),
			slog.Int("try", try), slog.String("err", err.Error()))
		select {
		case <-wctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// landed reports whether the stored flow is the write persist was making:
// the next version, stamped with this write's time and state.
func (r *run) landed(ctx context.Context) bool {
	got, err := r.e.store.Get(ctx, r.rec.ID)
	return err == nil && got.Version == r.rec.Version+1 && got.UpdatedAt.Equal(r.rec.UpdatedAt) &&
		got.State == r.rec.State && (got.Pending == nil) == (r.rec.Pending == nil)
}
