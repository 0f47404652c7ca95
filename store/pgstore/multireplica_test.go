package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
)

// TestMultiReplica runs several replicas, each with its own pool, against
// one PostgreSQL, advancing the same flows concurrently the way engines do:
// Get, change, Update with one history entry, and on ErrConflict move on
// and come back. At the end no update is lost and every flow's history is
// numbered 1..steps in the order of its steps.
//
// It works at the store level because the engine does not exist yet; the
// engine's tests will run real engines the same way.
func TestMultiReplica(t *testing.T) {
	const (
		replicas          = 4
		workersPerReplica = 8
		flows             = 500
		steps             = replicaSteps
	)
	dsn := pgtest.Schema(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	// The replicas start together, migrating the schema concurrently.
	stores := make([]*pgstore.Store, replicas)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i] = openStore(t, dsn) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	ids := make([]string, flows)
	start := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	for i := range ids {
		ids[i] = fmt.Sprintf("%032x", i)
		rec := &store.Record{ID: ids[i], Kind: "link", State: path(0), Subject: "user-" + strconv.Itoa(i%37),
			Data: []byte("0"), CreatedAt: start, UpdatedAt: start, ExpiresAt: start.Add(time.Hour)}
		if err := stores[i%replicas].Create(ctx, rec); err != nil {
			t.Fatalf("Create(%s) = %v", ids[i], err)
		}
	}

	var (
		remaining atomic.Int64
		conflicts atomic.Int64
		updatesBy [replicas]atomic.Int64
		firstErr  error
		errOnce   sync.Once
	)
	remaining.Store(flows * steps)
	for r, s := range stores {
		for w := range workersPerReplica {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(r), uint64(w)))
				for remaining.Load() > 0 && ctx.Err() == nil {
					for _, i := range rng.Perm(flows) {
						advanced, err := step(ctx, s, ids[i], fmt.Sprintf("replica-%d/worker-%d", r, w))
						switch {
						case errors.Is(err, store.ErrConflict):
							conflicts.Add(1)
						case err != nil:
							errOnce.Do(func() { firstErr = err; cancel() })
							return
						case advanced:
							updatesBy[r].Add(1)
							remaining.Add(-1)
						}
					}
				}
			})
		}
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("a replica failed: %v", firstErr)
	}
	if n := remaining.Load(); n != 0 {
		t.Fatalf("%d steps not taken before the deadline: %v", n, ctx.Err())
	}
	var total int64
	for r := range updatesBy {
		n := updatesBy[r].Load()
		total += n
		if n == 0 {
			t.Errorf("replica %d made no update", r)
		}
	}
	t.Logf("%d updates (%d, %d, %d, %d by replica), %d conflicts retried",
		total, updatesBy[0].Load(), updatesBy[1].Load(), updatesBy[2].Load(), updatesBy[3].Load(), conflicts.Load())
	if total != flows*steps {
		t.Errorf("successful updates = %d, want %d", total, flows*steps)
	}

	check := stores[0]
	for _, id := range ids {
		rec, err := check.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s) = %v", id, err)
		}
		if rec.Version != 1+steps || string(rec.Data) != strconv.Itoa(steps) || rec.State != path(steps) {
			t.Errorf("flow %s: version %d, counter %s, state %s; want %d, %d, %s: an update was lost",
				id, rec.Version, rec.Data, rec.State, 1+steps, steps, path(steps))
		}
		hs, err := check.History(ctx, id)
		if err != nil {
			t.Fatalf("History(%s) = %v", id, err)
		}
		if len(hs) != steps {
			t.Errorf("flow %s: %d history entries, want %d", id, len(hs), steps)
			continue
		}
		for i, h := range hs {
			if h.Seq != int64(i+1) || h.Event != "step-"+strconv.Itoa(i+1) || h.From != path(i) || h.To != path(i+1) {
				t.Errorf("flow %s: History[%d] = seq %d, %s, %s -> %s; want seq %d, step-%d, %s -> %s",
					id, i, h.Seq, h.Event, h.From, h.To, i+1, i+1, path(i), path(i+1))
				break
			}
		}
	}
}

// replicaSteps is the number of steps TestMultiReplica takes each flow
// through.
const replicaSteps = 8

// path is the state of a flow after n steps.
func path(n int) states.State {
	all := states.All()
	return all[n%len(all)]
}

// step advances flow id by one step unless it has taken them all. It
// returns ErrConflict, wrapped, if another writer got there first.
func step(ctx context.Context, s store.Store, id, who string) (bool, error) {
	rec, err := s.Get(ctx, id)
	if err != nil {
		return false, err
	}
	done := int(rec.Version - 1)
	if done >= replicaSteps {
		return false, nil
	}
	n, err := strconv.Atoi(string(rec.Data))
	if err != nil || n != done {
		return false, fmt.Errorf("flow %s: counter %q after %d steps", id, rec.Data, done)
	}
	from, to := rec.State, path(done+1)
	rec.State, rec.Data = to, []byte(strconv.Itoa(n+1))
	rec.UpdatedAt = rec.UpdatedAt.Add(time.Second)
	err = s.Update(ctx, rec, store.HistoryEntry{
		At: rec.UpdatedAt, From: from, To: to, Event: "step-" + strconv.Itoa(done+1), Outcome: "ok", Code: who,
	})
	return err == nil, err
}
