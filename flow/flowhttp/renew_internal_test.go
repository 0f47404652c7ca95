package flowhttp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// renewals is a KeyStore that reports each RenewKey it passes on, with
// its outcome, and can hold them back until released.
type renewals struct {
	store.KeyStore
	mu    sync.Mutex
	calls []renewal
	gate  chan struct{} // RenewKey waits for it to be closed, if set
}

type renewal struct {
	now time.Time
	err error
}

func (r *renewals) RenewKey(ctx context.Context, key, token string, now time.Time, lease time.Duration) error {
	r.mu.Lock()
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		<-gate
	}
	err := r.KeyStore.RenewKey(ctx, key, token, now, lease)
	r.mu.Lock()
	r.calls = append(r.calls, renewal{now, err})
	r.mu.Unlock()
	return err
}

// count returns how many renewals were made.
func (r *renewals) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// waitFor waits until a renewal made at or after now has ended, and
// returns its error.
func (r *renewals) waitFor(tb testing.TB, now time.Time) error {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, c := range r.calls {
			if !c.now.Before(now) {
				r.mu.Unlock()
				return c.err
			}
		}
		r.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	tb.Fatalf("no renewal at or after %v within 10s", now)
	return nil
}

// newRenewing returns a StoreIdempotency on a memstore, through renewals,
// with a fake clock and a lease of 30ms (renewed every 10ms of real time).
func newRenewing(t *testing.T) (*StoreIdempotency, *renewals, *sandbox.Clock) {
	t.Helper()
	ms := memstore.New()
	t.Cleanup(func() { ms.Close() })
	keys := &renewals{KeyStore: ms}
	clock := sandbox.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	idem := NewStoreIdempotency(keys, time.Hour)
	idem.Now, idem.Lease = clock.Now, 30*time.Millisecond
	return idem, keys, clock
}

// A request that runs for many leases keeps its key: its lease is renewed
// while it runs, so a retry waits for its answer instead of taking the key
// over and doing the step again. Once it finished, the renewals stop.
func TestStoreIdempotency_RenewsTheLeaseWhileTheRequestRuns(t *testing.T) {
	idem, keys, clock := newRenewing(t)
	_, finish, err := idem.Begin(t.Context(), "k", "fp")
	if err != nil || finish == nil {
		t.Fatalf("Begin = %v, want a claim", err)
	}
	for range 8 { // 8 half leases of the fake clock, each followed by a renewal
		clock.Advance(idem.Lease / 2)
		if err := keys.waitFor(t, clock.Now()); err != nil {
			t.Fatalf("RenewKey = %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if _, again, err := idem.Begin(ctx, "k", "fp"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Begin by a retry, 4 leases after the claim = %v (claim %v), want it waiting for the running request",
			err, again != nil)
	}

	finish(&Response{Status: http.StatusOK, Body: []byte("answer")})
	after := keys.count()
	clock.Advance(2 * idem.Lease)
	time.Sleep(5 * idem.Lease) // 15 renewal periods of real time
	if n := keys.count(); n != after {
		t.Errorf("%d renewals after the request finished, want none", n-after)
	}
	resp, _, err := idem.Begin(t.Context(), "k", "fp")
	if err != nil || resp == nil || string(resp.Body) != "answer" {
		t.Errorf("Begin after the request finished = %+v, %v; want its answer", resp, err)
	}
}

// A request whose renewals were held back until its lease passed and
// another request took its key over stops renewing, says so in the
// handler's log, and cannot keep its answer; the takeover's stays.
func TestStoreIdempotency_LostClaimStopsRenewing(t *testing.T) {
	idem, keys, clock := newRenewing(t)
	var logs SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	keys.gate = make(chan struct{})
	_, stale, err := idem.Begin(withLogger(t.Context(), log), "k", "fp")
	if err != nil || stale == nil {
		t.Fatalf("Begin = %v, want a claim", err)
	}
	clock.Advance(idem.Lease)
	// The retry of another replica, on the same store.
	other := NewStoreIdempotency(keys.KeyStore, time.Hour)
	other.Now, other.Lease = clock.Now, time.Hour
	_, finish, err := other.Begin(t.Context(), "k", "fp")
	if err != nil || finish == nil {
		t.Fatalf("Begin once the lease passed unrenewed = %v, want the key taken over", err)
	}
	close(keys.gate)
	if err := keys.waitFor(t, clock.Now()); !errors.Is(err, store.ErrKeyLost) {
		t.Fatalf("the first request's RenewKey = %v, want ErrKeyLost", err)
	}
	time.Sleep(5 * idem.Lease)
	if n := keys.count(); n != 1 {
		t.Errorf("%d renewals, want 1: the lost claim's renewals must stop", n)
	}
	stale(&Response{Status: http.StatusOK, Body: []byte("stale")})
	finish(&Response{Status: http.StatusOK, Body: []byte("fresh")})
	if resp, _, err := idem.Begin(t.Context(), "k", "fp"); err != nil || resp == nil || string(resp.Body) != "fresh" {
		t.Errorf("Begin after both finished = %+v, %v; want the takeover's answer", resp, err)
	}
	if !strings.Contains(logs.String(), "lost its key's claim") {
		t.Errorf("logs = %q, want the lost claim", logs.String())
	}
}
