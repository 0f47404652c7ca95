package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// lease is the sweepers' lease in the claim tests.
const lease = time.Minute

// expiring returns a running record that expires at t0+n minutes.
func expiring(id string, n int) *store.Record {
	r := newRecord(id, 0)
	r.ExpiresAt = t0.Add(time.Duration(n) * time.Minute)
	return r
}

// claim calls ClaimExpired and fails the test on error.
func claim(tb testing.TB, s store.Store, now time.Time, limit int) []*store.Record {
	tb.Helper()
	recs, err := s.ClaimExpired(tb.Context(), now, limit, lease)
	if err != nil {
		tb.Fatalf("ClaimExpired(%v, %d) = %v", now, limit, err)
	}
	return recs
}

// ClaimExpired claims records that are not terminal and whose ExpiresAt is at
// or before now (at microsecond precision), oldest ExpiresAt first, without
// history; a record with a zero ExpiresAt never expires.
func testClaimOnlyExpired(t *testing.T, s store.Store) {
	now := t0.Add(10 * time.Minute)
	older := expiring("older", 1)
	atNow := expiring("at-now", 0)
	atNow.ExpiresAt = now.Add(300 * time.Nanosecond) // truncates to now
	earlier := expiring("earlier", 0)
	future := expiring("future", 11)
	ended := expiring("ended", 0)
	ended.State, ended.EndedAt = states.Expired, t0.Add(time.Minute)
	never := expiring("never", 0)
	never.ExpiresAt = time.Time{}
	for _, r := range []*store.Record{older, atNow, earlier, future, ended, never} {
		mustCreate(t, s, r, entry(1))
	}
	got := claim(t, s, now.Add(999*time.Nanosecond), 10)
	wantRecs := []*store.Record{want(earlier, 1), want(older, 1), want(atNow, 1)}
	if ids(got) != ids(wantRecs) {
		t.Fatalf("ClaimExpired() = %s, want %s", ids(got), ids(wantRecs))
	}
	for i := range got {
		checkRecord(t, "claimed record", got[i], wantRecs[i])
	}
}

// ClaimExpired claims up to limit records; a limit below 1 claims nothing.
func testClaimLimit(t *testing.T, s store.Store) {
	for i := range 5 {
		mustCreate(t, s, expiring(fmt.Sprintf("f-%d", i), 5-i)) // f-4 expires first
	}
	now := t0.Add(time.Hour)
	for _, limit := range []int{0, -1} {
		if got := claim(t, s, now, limit); len(got) != 0 {
			t.Errorf("ClaimExpired(limit %d) = %s, want nothing", limit, ids(got))
		}
	}
	for _, want := range []string{"[f-4 f-3]", "[f-2 f-1]", "[f-0]", "[]"} {
		if got := ids(claim(t, s, now, 2)); got != want {
			t.Errorf("ClaimExpired(limit 2) = %s, want %s", got, want)
		}
	}
}

// Concurrent callers never receive the same record while its lease runs; a
// claim ends when the lease passes.
func testClaimLease(t *testing.T, s store.Store) {
	mustCreate(t, s, expiring("f-lease", 0))
	now := t0.Add(time.Hour)
	if got := ids(claim(t, s, now, 10)); got != "[f-lease]" {
		t.Fatalf("first ClaimExpired() = %s, want [f-lease]", got)
	}
	for _, at := range []time.Time{now, now.Add(lease - time.Microsecond)} {
		if got := claim(t, s, at, 10); len(got) != 0 {
			t.Errorf("ClaimExpired(%v) during the lease = %s, want nothing", at.Sub(now), ids(got))
		}
	}
	if got := ids(claim(t, s, now.Add(lease), 10)); got != "[f-lease]" {
		t.Errorf("ClaimExpired() after the lease = %s, want [f-lease]", got)
	}
}

// A claim ends when the record is updated; an Update to a terminal state
// ends its expiry.
func testClaimUpdateEnds(t *testing.T, s store.Store) {
	mustCreate(t, s, expiring("f-a", 0))
	mustCreate(t, s, expiring("f-b", 1))
	now := t0.Add(time.Hour)
	got := claim(t, s, now, 10)
	if ids(got) != "[f-a f-b]" {
		t.Fatalf("ClaimExpired() = %s, want [f-a f-b]", ids(got))
	}
	a, b := got[0], got[1]
	a.UpdatedAt = now // still running and expired
	if err := s.Update(t.Context(), a); err != nil {
		t.Fatalf("Update(f-a) = %v", err)
	}
	b.State, b.EndedAt = states.Expired, now
	if err := s.Update(t.Context(), b, entry(1)); err != nil {
		t.Fatalf("Update(f-b) = %v", err)
	}
	got = claim(t, s, now, 10)
	if ids(got) != "[f-a]" {
		t.Fatalf("ClaimExpired() after Update = %s, want [f-a]", ids(got))
	}
	checkRecord(t, "claimed after Update", got[0], mustGet(t, s, "f-a"))
}

// Several sweepers claiming concurrently never receive the same record, and
// together they claim every expired record.
func testClaimConcurrent(t *testing.T, s store.Store) {
	const records, sweepers = 200, 16
	for i := range records {
		mustCreate(t, s, expiring(fmt.Sprintf("f-%02d", i), i%7))
	}
	now := t0.Add(time.Hour)
	var (
		mu      sync.Mutex
		claimed = map[string]int{}
		wg      sync.WaitGroup
	)
	for w := range sweepers {
		wg.Go(func() {
			// A store that hands out claimed records again would keep the
			// sweepers busy for ever: a sweeper stops after as many calls
			// as there are records.
			for range records {
				recs, err := s.ClaimExpired(t.Context(), now, 3, lease)
				if err != nil {
					t.Errorf("sweeper %d: ClaimExpired() = %v", w, err)
					return
				}
				if len(recs) == 0 {
					return
				}
				mu.Lock()
				for _, r := range recs {
					claimed[r.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != records {
		t.Errorf("sweepers claimed %d records, want %d", len(claimed), records)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("record %s was claimed %d times", id, n)
		}
	}
}
