package sqlitestore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// These tests hold the writer in a request of their own (see block) while
// they queue others, so they know exactly which requests one batch holds.

// openStore opens a migrated store in a fresh file.
func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "flows.db"))
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// block makes the writer run a request that waits until the returned
// function is called, and returns once the writer has taken it: requests
// queued meanwhile make the next batch.
func block(t *testing.T, s *Store) (unblock func()) {
	t.Helper()
	release := make(chan struct{})
	r := newRequest(context.Background(), false, func(context.Context, *writeConn) error {
		<-release
		return nil
	})
	go s.w.do(r)
	waitFor(t, "the writer to take the blocking request", func() bool { return r.state.Load() == taken })
	return func() { close(release) }
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

// queueLen returns the number of requests in the writer's queue.
func queueLen(s *Store) int {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return len(s.w.queue)
}

// async runs fn in a goroutine once the queue holds n-1 requests, and
// waits until fn's request is queued as the n-th: requests queued this way
// keep their order.
func async(t *testing.T, s *Store, n int, fn func() error) <-chan error {
	t.Helper()
	waitFor(t, "the queue to grow", func() bool { return queueLen(s) == n-1 })
	errc := make(chan error, 1)
	go func() { errc <- fn() }()
	waitFor(t, "the request to be queued", func() bool { return queueLen(s) == n })
	return errc
}

// record returns a running record of flow id at version 1, as Create
// stores it.
func record(id string) *store.Record {
	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	return &store.Record{ID: id, Kind: "link", State: states.New, Version: 1, Subject: "s-" + id,
		Data: []byte("data of " + id), CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// step returns rec with its state and deadline changed, and a history
// entry naming the step.
func step(rec *store.Record, event string) (*store.Record, store.HistoryEntry) {
	c := rec.Clone()
	c.State, c.UpdatedAt, c.ExpiresAt = states.SmsSent, c.UpdatedAt.Add(time.Second), c.ExpiresAt.Add(time.Minute)
	return c, store.HistoryEntry{At: c.UpdatedAt, From: rec.State, To: c.State, Event: event, Outcome: "ok"}
}

// mustCreate creates the records or fails the test.
func mustCreate(t *testing.T, s *Store, recs ...*store.Record) {
	t.Helper()
	for _, rec := range recs {
		if err := s.Create(t.Context(), rec); err != nil {
			t.Fatalf("Create(%s) = %v", rec.ID, err)
		}
	}
}

// events returns the events of the history of flow id, joined by spaces.
func events(t *testing.T, s *Store, id string) string {
	t.Helper()
	hs, err := s.History(t.Context(), id)
	if err != nil {
		t.Fatalf("History(%s) = %v", id, err)
	}
	var evs []string
	for i, h := range hs {
		if h.Seq != int64(i+1) {
			t.Errorf("History(%s)[%d].Seq = %d, want %d", id, i, h.Seq, i+1)
		}
		evs = append(evs, h.Event)
	}
	return strings.Join(evs, " ")
}

// One batch: writes of one flow apply in queue order (the second of two
// writes from the same version conflicts, a write from the version the
// first made succeeds), and the failing requests (a conflict, a duplicate
// Create, an unknown flow, a request that wrote and then failed) leave the
// others' writes as they were.
func TestWriter_BatchAppliesInOrderAndIsolatesFailures(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	a, b, c := record("a"), record("b"), record("c")
	mustCreate(t, s, a, b, c)
	batches, requests := s.w.batches.Load(), s.w.requests.Load()

	unblock := block(t, s)
	a1, h1 := step(a, "a1")
	a1stale, hStale := step(a, "a1-stale")
	a2, h2 := step(a1, "a2")
	a2.Version = a.Version + 1 // the version a1's Update makes
	c1, hc := step(c, "c1")
	e := record("e")
	boom := errors.New("boom")
	errs := []<-chan error{
		async(t, s, 1, func() error { return s.Update(ctx, a1, h1) }),
		async(t, s, 2, func() error { return s.Update(ctx, a1stale, hStale) }),
		async(t, s, 3, func() error { return s.Update(ctx, a2, h2) }),
		async(t, s, 4, func() error { return s.Create(ctx, record("b")) }),
		async(t, s, 5, func() error { return s.Update(ctx, record("missing")) }),
		async(t, s, 6, func() error {
			return s.w.do(newRequest(ctx, true, func(ctx context.Context, wc *writeConn) error {
				if err := wc.exec(ctx, `UPDATE flows SET state = 'Bogus', version = 99 WHERE id = 'c'`); err != nil {
					return err
				}
				return boom
			}))
		}),
		async(t, s, 7, func() error { return s.Update(ctx, c1, hc) }),
		async(t, s, 8, func() error { return s.Create(ctx, e, h1, h2) }),
	}
	unblock()
	want := []error{nil, store.ErrConflict, nil, store.ErrAlreadyExists, store.ErrNotFound, boom, nil, nil}
	for i, errc := range errs {
		if err := <-errc; !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("request %d = %v, want %v", i+1, err, want[i])
		}
	}
	// One transaction for the blocking request, one for the batch.
	if got := s.w.batches.Load() - batches; got != 2 {
		t.Errorf("the writer ran %d transactions, want 2: the blocking request and one batch", got)
	}
	if got := s.w.requests.Load() - requests; got != 9 {
		t.Errorf("the writer ran %d requests, want 9", got)
	}
	if got := s.w.lost.Load(); got != 0 {
		t.Errorf("the writer lost %d transactions, want 0: refusals and failures under a savepoint keep it", got)
	}

	for _, w := range []struct {
		id      string
		version int64
		state   states.State
		events  string
	}{
		{"a", 3, states.SmsSent, "a1 a2"},
		{"b", 1, states.New, ""},
		{"c", 2, states.SmsSent, "c1"},
		{"e", 1, states.New, "a1 a2"},
	} {
		got, err := s.Get(ctx, w.id)
		if err != nil {
			t.Fatalf("Get(%s) = %v", w.id, err)
		}
		if got.Version != w.version || got.State != w.state {
			t.Errorf("Get(%s) = version %d, state %s; want %d, %s", w.id, got.Version, got.State, w.version, w.state)
		}
		if evs := events(t, s, w.id); evs != w.events {
			t.Errorf("History(%s) = [%s], want [%s]", w.id, evs, w.events)
		}
	}
}

// A request that makes SQLite roll back the whole transaction gets its
// error; the batch's other requests, before and after it, are run again in
// a new transaction and written once.
func TestWriter_LostTransactionRunsTheOthersAgain(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	a, b := record("a"), record("b")
	mustCreate(t, s, a, b)

	unblock := block(t, s)
	a1, ha := step(a, "a1")
	b1, hb := step(b, "b1")
	boom := errors.New("boom")
	errs := []<-chan error{
		async(t, s, 1, func() error { return s.Update(ctx, a1, ha) }),
		async(t, s, 2, func() error {
			return s.w.do(newRequest(ctx, false, func(ctx context.Context, wc *writeConn) error {
				if err := wc.exec(ctx, `ROLLBACK`); err != nil {
					return err
				}
				return boom
			}))
		}),
		async(t, s, 3, func() error { return s.Update(ctx, b1, hb) }),
	}
	unblock()
	want := []error{nil, boom, nil}
	for i, errc := range errs {
		if err := <-errc; !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("request %d = %v, want %v", i+1, err, want[i])
		}
	}
	for _, id := range []string{"a", "b"} {
		if got, err := s.Get(ctx, id); err != nil || got.Version != 2 {
			t.Errorf("Get(%s) = %+v, %v; want version 2", id, got, err)
		}
		if evs := events(t, s, id); evs != id+"1" {
			t.Errorf("History(%s) = [%s], want [%s1]", id, evs, id)
		}
	}
	// The writer still works.
	a2, h2 := step(a1, "a2")
	a2.Version = 2
	if err := s.Update(ctx, a2, h2); err != nil {
		t.Errorf("Update after the lost transaction = %v", err)
	}
}

// A clean request (one that runs without a savepoint) that fails after it
// wrote, in a batch with others: its write is undone and it gets its
// error; the others, before and after it, are run again in a new
// transaction, in queue order, and written once.
func TestWriter_CleanRequestFailingAfterItsWrite(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	a, c := record("a"), record("c")
	mustCreate(t, s, a, c)
	batches := s.w.batches.Load()

	unblock := block(t, s)
	a1, h1 := step(a, "a1")
	a1stale, hStale := step(a, "a1-stale")
	a2, h2 := step(a1, "a2")
	a2.Version = a.Version + 1
	boom := errors.New("boom")
	errs := []<-chan error{
		async(t, s, 1, func() error { return s.Update(ctx, a1, h1) }),
		async(t, s, 2, func() error { return s.Update(ctx, a1stale, hStale) }),
		async(t, s, 3, func() error {
			return s.w.do(newRequest(ctx, true, func(ctx context.Context, wc *writeConn) error {
				if err := wc.exec(ctx, `UPDATE flows SET state = 'Bogus', version = 99 WHERE id IN ('a', 'c')`); err != nil {
					return err
				}
				return boom
			}).refusesFirst())
		}),
		async(t, s, 4, func() error { return s.Update(ctx, a2, h2) }),
		async(t, s, 5, func() error { return s.Create(ctx, record("e"), h1) }),
		async(t, s, 6, func() error { return s.Create(ctx, record("c")) }),
	}
	unblock()
	want := []error{nil, store.ErrConflict, boom, nil, nil, store.ErrAlreadyExists}
	for i, errc := range errs {
		if err := <-errc; !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("request %d = %v, want %v", i+1, err, want[i])
		}
	}
	if got := s.w.lost.Load(); got != 1 {
		t.Errorf("the writer lost %d transactions, want 1", got)
	}
	if got := s.w.batches.Load() - batches; got != 2 {
		t.Errorf("the writer committed %d transactions, want 2: the blocking request and the batch run again", got)
	}
	for _, w := range []struct {
		id      string
		version int64
		state   states.State
		events  string
	}{
		{"a", 3, states.SmsSent, "a1 a2"},
		{"c", 1, states.New, ""},
		{"e", 1, states.New, "a1"},
	} {
		got, err := s.Get(ctx, w.id)
		if err != nil {
			t.Fatalf("Get(%s) = %v", w.id, err)
		}
		if got.Version != w.version || got.State != w.state {
			t.Errorf("Get(%s) = version %d, state %s; want %d, %s", w.id, got.Version, got.State, w.version, w.state)
		}
		if evs := events(t, s, w.id); evs != w.events {
			t.Errorf("History(%s) = [%s], want [%s]", w.id, evs, w.events)
		}
	}
	// The writer still works, and its hints were not spoiled.
	a3, h3 := step(a2, "a3")
	a3.Version = 3
	if err := s.Update(ctx, a3, h3); err != nil {
		t.Errorf("Update after the lost transaction = %v", err)
	}
	if evs := events(t, s, "a"); evs != "a1 a2 a3" {
		t.Errorf("History(a) = [%s], want [a1 a2 a3]", evs)
	}
}

// A request whose context ends while it is queued returns at once, while
// the writer is busy, and writes nothing; the writer skips it.
func TestWriter_ContextCancelledWhileQueued(t *testing.T) {
	s := openStore(t)
	a := record("a")
	mustCreate(t, s, a)
	requests := s.w.requests.Load()

	unblock := block(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	a1, h := step(a, "a1")
	errc := async(t, s, 1, func() error { return s.Update(ctx, a1, h) })
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Update(cancelled while queued) = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Update did not return when its context was cancelled while queued")
	}
	if a1.Version != 1 {
		t.Errorf("Update(cancelled) changed rec.Version to %d", a1.Version)
	}
	unblock()
	if err := s.Update(t.Context(), record("a")); err != nil { // version 1 still
		t.Fatalf("Update after the cancelled one = %v", err)
	}
	if got := events(t, s, "a"); got != "" {
		t.Errorf("History(a) = [%s], want none: the cancelled Update wrote", got)
	}
	if got := s.w.requests.Load() - requests; got != 2 {
		t.Errorf("the writer ran %d requests, want 2 (the blocking one and the last Update)", got)
	}
}

// A request that is queued with a context already done (its caller has
// not abandoned it yet) is answered by the writer with ctx.Err(), unrun.
func TestWriter_SkipsRequestWithDoneContext(t *testing.T) {
	s := openStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	r := newRequest(ctx, false, func(context.Context, *writeConn) error {
		ran = true
		return nil
	})
	r.done = make(chan struct{})
	s.w.mu.Lock()
	s.w.queue = append(s.w.queue, r)
	s.w.mu.Unlock()
	select {
	case s.w.wake <- struct{}{}:
	default:
	}
	<-r.done
	if !errors.Is(r.err, context.Canceled) || ran {
		t.Errorf("request with a done context: err %v, ran %t; want context.Canceled, not run", r.err, ran)
	}
}

// A caller running its write inline takes the writes queued meanwhile into
// its batch, up to a solo request, which stays queued; a solo request of
// its own runs alone.
func TestWriter_JoinTakesTheQueueUpToASoloRequest(t *testing.T) {
	w := &writer{}
	ctx := t.Context()
	noop := func(context.Context, *writeConn) error { return nil }
	r, a, b := newRequest(ctx, false, noop), newRequest(ctx, false, noop), newRequest(ctx, false, noop)
	solo, c := newRequest(ctx, false, noop), newRequest(ctx, false, noop)
	solo.solo = true
	w.queue = []*request{a, b, solo, c}

	if got := w.join(r); len(got) != 3 || got[0] != r || got[1] != a || got[2] != b {
		t.Errorf("join(r) took %d requests, want r, a, b", len(got))
	}
	if len(w.queue) != 2 || w.queue[0] != solo || w.queue[1] != c {
		t.Errorf("queue after join: %d requests, want the solo one, then c", len(w.queue))
	}
	if got := w.join(solo); len(got) != 1 || got[0] != solo {
		t.Errorf("join(solo) took %d requests, want it alone", len(got))
	}
}

// join yields while yielding finds company, and once company stops coming
// only once in probeEvery writes.
func TestWriter_JoinYieldsWhileItFindsCompany(t *testing.T) {
	w := &writer{}
	ctx := t.Context()
	noop := func(context.Context, *writeConn) error { return nil }
	w.writes = 1 // not a probe
	w.queue = []*request{newRequest(ctx, false, noop)}
	w.join(newRequest(ctx, false, noop))
	if w.yieldFor != patience {
		t.Fatalf("after a batch of two, yieldFor = %d, want %d", w.yieldFor, patience)
	}
	for range patience {
		w.join(newRequest(ctx, false, noop))
	}
	if w.yieldFor != 0 {
		t.Errorf("after %d lone writes, yieldFor = %d, want 0", patience, w.yieldFor)
	}
	w.writes = probeEvery - 1
	w.join(newRequest(ctx, false, noop)) // the 63rd write since the last probe
	w.queue = []*request{newRequest(ctx, false, noop)}
	w.join(newRequest(ctx, false, noop)) // the probe finds company
	if w.yieldFor != patience {
		t.Errorf("after a probe found company, yieldFor = %d, want %d", w.yieldFor, patience)
	}
}
