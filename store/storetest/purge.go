package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// Purge: terminal records that ended before now-KeepData lose their Data and
// Pending call but keep their history; terminal records that ended before
// now-KeepHistory are deleted with their history; a zero duration keeps
// forever; scrubbing increments Version; records that have not ended are
// never touched.
func testPurge(t *testing.T, s store.Store) {
	const day = 24 * time.Hour
	now := t0.Add(30 * day)
	ended := func(id string, ago time.Duration) *store.Record {
		r := newRecord(id, 0)
		r.State, r.EndedAt = states.Linked, now.Add(-ago)
		return r
	}
	running := newRecord("running", 0) // created 30 days ago, never ended
	old := ended("old", 10*day)
	mid := ended("mid", 2*day)
	midEmpty := ended("mid-empty", 2*day)
	midEmpty.Data, midEmpty.Pending = nil, nil
	boundary := ended("boundary", day) // ended exactly at now-KeepData: kept
	recent := ended("recent", time.Hour)
	all := []*store.Record{running, old, mid, midEmpty, boundary, recent}
	for _, r := range all {
		mustCreate(t, s, r, entry(1), entry(2))
	}
	history := wantEntries([]store.HistoryEntry{entry(1), entry(2)}, 0)

	purge := func(policy store.Retention, want store.PurgeResult) {
		t.Helper()
		got, err := s.Purge(t.Context(), now, policy)
		if err != nil {
			t.Fatalf("Purge(%+v) = %v", policy, err)
		}
		if got != want {
			t.Errorf("Purge(%+v) = %+v, want %+v", policy, got, want)
		}
	}
	purge(store.Retention{}, store.PurgeResult{})
	purge(store.Retention{KeepHistory: 20 * day}, store.PurgeResult{})
	for _, r := range all {
		checkRecord(t, "Get after Purge that keeps all", mustGet(t, s, r.ID), want(r, 1))
	}

	purge(store.Retention{KeepHistory: 9 * day}, store.PurgeResult{Deleted: 1})
	if _, err := s.Get(t.Context(), old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(deleted) = %v, want ErrNotFound", err)
	}
	if _, err := s.History(t.Context(), old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("History(deleted) = %v, want ErrNotFound", err)
	}
	checkRecord(t, "Get(mid) after Purge without KeepData", mustGet(t, s, mid.ID), want(mid, 1))

	purge(store.Retention{KeepData: day, KeepHistory: 7 * day}, store.PurgeResult{Scrubbed: 1})
	scrubbed := want(mid, 2)
	scrubbed.Data, scrubbed.Pending = nil, nil
	checkRecord(t, "Get(scrubbed)", mustGet(t, s, mid.ID), scrubbed)
	for _, r := range []*store.Record{running, midEmpty, boundary, recent} {
		checkRecord(t, "Get(kept)", mustGet(t, s, r.ID), want(r, 1))
	}
	for _, r := range []*store.Record{running, mid, midEmpty, boundary, recent} {
		checkHistory(t, "History(kept)", mustHistory(t, s, r.ID), history)
	}

	// A writer holding the copy from before the scrub cannot restore it.
	stale := want(mid, 1)
	if err := s.Update(t.Context(), stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Update(copy from before the scrub) = %v, want ErrConflict", err)
	}
	purge(store.Retention{KeepData: day, KeepHistory: 7 * day}, store.PurgeResult{})
}
