package sqlitestore_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

// attempt is one Update of TestGroupCommit_StaleVersions: from version
// base, with a history entry naming it.
type attempt struct {
	flow, name    string
	base          int64
	start, finish time.Time
	err           error
}

// Many goroutines update a few flows from versions that are often stale,
// so that batches hold several writes of one flow, some of them bound to
// conflict. Every outcome must be right: each version of a flow was the
// base of exactly one successful Update, which wrote the next version, and
// its history entry has that version's Seq (so the history is gapless and
// holds exactly the successful writes, in order); an Update that got
// ErrConflict had a base that another Update had already started to
// replace.
func TestGroupCommit_StaleVersions(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	const flows, workers, perWorker = 6, 24, 40
	t0 := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	for i := range flows {
		rec := &store.Record{ID: fmt.Sprintf("f%d", i), Kind: "link", State: states.New, Subject: "s",
			CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu       sync.Mutex
		attempts []attempt
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			seen := map[string][]*store.Record{} // versions this worker read, per flow
			for i := range perWorker {
				id := fmt.Sprintf("f%d", rng.IntN(flows))
				rec := pick(rng, seen[id])
				if rec == nil {
					got, err := s.Get(ctx, id)
					if err != nil {
						t.Errorf("Get(%s) = %v", id, err)
						return
					}
					seen[id] = append(seen[id], got)
					rec = got.Clone()
				}
				a := attempt{flow: id, name: fmt.Sprintf("w%d-%d", w, i), base: rec.Version}
				rec.Data = []byte(a.name)
				rec.UpdatedAt = t0.Add(time.Duration(i) * time.Second)
				if rng.IntN(2) == 0 { // half the writes move the deadline
					rec.ExpiresAt = rec.ExpiresAt.Add(time.Minute)
				}
				var hs []store.HistoryEntry
				if rng.IntN(4) > 0 { // most with history, some without
					hs = []store.HistoryEntry{{At: rec.UpdatedAt, From: rec.State, To: rec.State, Event: a.name, Outcome: "ok"}}
				}
				a.start = time.Now()
				a.err = s.Update(ctx, rec, hs...)
				a.finish = time.Now()
				if a.err == nil && len(hs) == 0 {
					a.name = "-" + a.name // no entry to find
				}
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	checkAttempts(t, s, flows, attempts)
	if batches, requests := sqlitestore.BatchStats(s); batches > 0 {
		t.Logf("%d writes in %d transactions", requests, batches)
	}
}

// pick returns a copy of a random record of seen, or nil (a fresh Get)
// one time in three.
func pick(rng *rand.Rand, seen []*store.Record) *store.Record {
	if len(seen) == 0 || rng.IntN(3) == 0 {
		return nil
	}
	return seen[rng.IntN(len(seen))].Clone()
}

// checkAttempts checks the outcome of every attempt against what the
// store holds; see TestGroupCommit_StaleVersions.
func checkAttempts(t *testing.T, s *sqlitestore.Store, flows int, attempts []attempt) {
	t.Helper()
	ctx := t.Context()
	for i := range flows {
		id := fmt.Sprintf("f%d", i)
		won := map[int64]attempt{} // by base version
		for _, a := range attempts {
			if a.flow != id || a.err != nil {
				continue
			}
			if prev, ok := won[a.base]; ok {
				t.Errorf("%s: Updates %s and %s both succeeded from version %d", id, prev.name, a.name, a.base)
			}
			won[a.base] = a
		}
		rec, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s) = %v", id, err)
		}
		if want := int64(len(won)) + 1; rec.Version != want {
			t.Errorf("%s: version %d, want 1 + %d successful Updates", id, rec.Version, len(won))
		}
		if last, ok := won[rec.Version-1]; ok && string(rec.Data) != trimDash(last.name) {
			t.Errorf("%s: Data %q, want %q, written by the last successful Update", id, rec.Data, trimDash(last.name))
		}
		hs, err := s.History(ctx, id)
		if err != nil {
			t.Fatalf("History(%s) = %v", id, err)
		}
		var want []string
		for v := int64(1); v < rec.Version; v++ {
			a, ok := won[v]
			if !ok {
				t.Fatalf("%s: no successful Update from version %d, yet the flow is at %d", id, v, rec.Version)
			}
			if a.name[0] != '-' {
				want = append(want, a.name)
			}
		}
		if len(hs) != len(want) {
			t.Fatalf("%s: %d history entries, want %d", id, len(hs), len(want))
		}
		for j, h := range hs {
			if h.Seq != int64(j+1) || h.Event != want[j] {
				t.Errorf("%s: History[%d] = Seq %d, %s; want Seq %d, %s", id, j, h.Seq, h.Event, j+1, want[j])
			}
		}
		for _, a := range attempts {
			switch {
			case a.flow != id || a.err == nil:
			case !errors.Is(a.err, store.ErrConflict):
				t.Errorf("%s: Update %s = %v, want nil or ErrConflict", id, a.name, a.err)
			case a.base >= rec.Version:
				t.Errorf("%s: Update %s from version %d got ErrConflict, but the flow is at that version", id, a.name, a.base)
			case !won[a.base].start.Before(a.finish):
				t.Errorf("%s: Update %s from version %d got ErrConflict before %s, which replaced that version, started",
					id, a.name, a.base, won[a.base].name)
			}
		}
	}
}

// trimDash removes the mark of an Update without history from its name.
func trimDash(name string) string {
	if name != "" && name[0] == '-' {
		return name[1:]
	}
	return name
}

// Concurrent Creates of the same IDs: exactly one of each succeeds, the
// others get ErrAlreadyExists, and the stored record is the winner's.
func TestGroupCommit_ConcurrentCreates(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	const ids, workers = 20, 12
	var (
		mu   sync.Mutex
		wins = map[string][]string{}
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for i := range ids {
				id := fmt.Sprintf("f%d", (i+w)%ids)
				rec := &store.Record{ID: id, Kind: "link", State: states.New, Subject: fmt.Sprintf("w%d", w)}
				err := s.Create(ctx, rec, store.HistoryEntry{Event: rec.Subject, Outcome: "ok"})
				switch {
				case err == nil:
					mu.Lock()
					wins[id] = append(wins[id], rec.Subject)
					mu.Unlock()
				case !errors.Is(err, store.ErrAlreadyExists):
					t.Errorf("Create(%s) = %v, want nil or ErrAlreadyExists", id, err)
				}
			}
		})
	}
	wg.Wait()
	for i := range ids {
		id := fmt.Sprintf("f%d", i)
		if len(wins[id]) != 1 {
			t.Errorf("Create(%s) succeeded for %v, want exactly one", id, wins[id])
			continue
		}
		rec, err := s.Get(ctx, id)
		if err != nil || rec.Subject != wins[id][0] {
			t.Errorf("Get(%s) = %+v, %v; want the record of %s", id, rec, err, wins[id][0])
		}
		hs, err := s.History(ctx, id)
		if err != nil || len(hs) != 1 || hs[0].Event != wins[id][0] {
			t.Errorf("History(%s) = %+v, %v; want the one entry of %s", id, hs, err, wins[id][0])
		}
	}
}
