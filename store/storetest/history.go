package storetest

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// Many writers updating one flow with compare-and-swap and retries lose no
// update: the final version is 1 plus the number of successful Updates, the
// data reflects every one of them, and the history has one entry per
// Update, numbered 1..N in the order of the writes.
func testUpdateConcurrent(t *testing.T, s store.Store) {
	const workers, perWorker = 32, 8
	const id = "f-concurrent"
	rec := newRecord(id, 0)
	rec.Data = []byte("0")
	mustCreate(t, s, rec)

	var successes atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range perWorker {
				_, err := updateWith(t.Context(), s, id, func(r *store.Record) store.HistoryEntry {
					n, err := strconv.Atoi(string(r.Data))
					if err != nil {
						t.Errorf("stored Data %q is not a counter", r.Data)
					}
					r.Data = []byte(strconv.Itoa(n + 1))
					r.UpdatedAt = t0.Add(time.Duration(n+1) * time.Millisecond)
					return store.HistoryEntry{
						At: r.UpdatedAt, From: states.SmsSent, To: states.SmsSent,
						Event: fmt.Sprintf("worker-%d", w), Outcome: "ok", Code: strconv.Itoa(n + 1),
					}
				})
				if err != nil {
					t.Errorf("worker %d: update: %v", w, err)
					return
				}
				successes.Add(1)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	total := successes.Load()
	if total != workers*perWorker {
		t.Fatalf("successful Updates = %d, want %d", total, workers*perWorker)
	}
	got := mustGet(t, s, id)
	if got.Version != 1+total {
		t.Errorf("final Version = %d, want 1 + %d successful Updates", got.Version, total)
	}
	if string(got.Data) != strconv.FormatInt(total, 10) {
		t.Errorf("final counter = %s, want %d: an update was lost", got.Data, total)
	}
	hs := mustHistory(t, s, id)
	if int64(len(hs)) != total {
		t.Fatalf("len(History) = %d, want %d", len(hs), total)
	}
	for i, h := range hs {
		if h.Seq != int64(i+1) || h.Code != strconv.Itoa(i+1) {
			t.Fatalf("History[%d] = Seq %d, counter %s; want %d and %d", i, h.Seq, h.Code, i+1, i+1)
		}
	}
}

// History is ordered by Seq from 1; the store numbers entries itself,
// continuing the flow's sequence, and never rewrites an entry.
func testHistoryNeverRewritten(t *testing.T, s store.Store) {
	const id = "f-history"
	created := []store.HistoryEntry{entry(1), entry(2)}
	mustCreate(t, s, newRecord(id, 0), created...)
	want := wantEntries(created, 0)

	steps := [][]store.HistoryEntry{
		{entry(3), entry(4), entry(5)},
		nil, // an Update without entries adds none
		{entry(6)},
	}
	for i, step := range steps {
		rec := mustGet(t, s, id)
		if err := s.Update(t.Context(), rec, step...); err != nil {
			t.Fatalf("step %d: Update() = %v", i, err)
		}
		want = append(want, wantEntries(step, int64(len(want)))...)
		checkHistory(t, fmt.Sprintf("History after step %d", i), mustHistory(t, s, id), want)

		// A conflicting Update adds nothing.
		rec.Version--
		if err := s.Update(t.Context(), rec, entry(100)); err == nil {
			t.Fatalf("step %d: stale Update() succeeded", i)
		}
		checkHistory(t, fmt.Sprintf("History after stale Update %d", i), mustHistory(t, s, id), want)
	}

	// Later writes leave earlier entries exactly as they were.
	earlier := mustHistory(t, s, id)
	for i := range 3 {
		rec := mustGet(t, s, id)
		if err := s.Update(t.Context(), rec, entry(200+i)); err != nil {
			t.Fatalf("Update() = %v", err)
		}
	}
	later := mustHistory(t, s, id)
	if len(later) != len(earlier)+3 {
		t.Fatalf("len(History) = %d, want %d", len(later), len(earlier)+3)
	}
	checkHistory(t, "earlier entries after more updates", later[:len(earlier)], earlier)
	for i, h := range later {
		if h.Seq != int64(i+1) {
			t.Fatalf("History[%d].Seq = %d, want %d", i, h.Seq, i+1)
		}
	}
}
