// Package storetest is the conformance suite of store.Store, and of
// store.KeyStore and store.HistoryLister for the stores that implement them
// too.
//
// Every backend runs it from its own tests with a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	}
//
// Each subtest asserts one sentence (or a few) of the doc comments in package
// store, so a backend that passes behaves as the contract says, and all
// backends behave the same. The suite is built from plain t.Run subtests
// that call t.Parallel, so it runs quickly and the race detector sees real
// concurrency.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// Run runs the conformance suite. newStore is called once per subtest and
// must return a fresh, empty store (for a database: a fresh database or
// schema), and may register its own cleanup with t.Cleanup. Run closes each
// store when its subtest ends.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Create_RoundTripsEveryField", testCreateRoundTrip},
		{"Create_EmptyFields", testCreateEmptyFields},
		{"Create_NumbersHistoryFrom1", testCreateHistory},
		{"Create_ErrAlreadyExists", testCreateExists},
		{"ErrNotFound", testNotFound},
		{"Update_RoundTripsEveryField", testUpdateRoundTrip},
		{"Update_ErrConflict_WritesNothing", testUpdateConflict},
		{"Update_Concurrent_NoLostUpdate", testUpdateConcurrent},
		{"History_OrderedAndNeverRewritten", testHistoryNeverRewritten},
		{"List_Filters", testListFilters},
		{"List_Paging", testListPaging},
		{"List_PageSizes", testListPageSizes},
		{"List_ErrInvalidPageToken", testListInvalidToken},
		{"ClaimExpired_OnlyExpiredRunning", testClaimOnlyExpired},
		{"ClaimExpired_Limit", testClaimLimit},
		{"ClaimExpired_Lease", testClaimLease},
		{"ClaimExpired_UpdateEndsClaim", testClaimUpdateEnds},
		{"ClaimExpired_ConcurrentSweepersDisjoint", testClaimConcurrent},
		{"Purge_Retention", testPurge},
		{"BadStrings_Create", testBadStringsCreate},
		{"BadStrings_Lookups", testBadStringsLookups},
		{"LargePayloads", testLargePayloads},
		{"NoAliasing", testNoAliasing},
		{"CancelledContext_WritesNothing", testCancelledContext},
		{"Closed_ErrClosed", testClosed},
		// store.HistoryLister, for the stores that implement it.
		{"ListHistories_MatchesListAndHistory", histories(testListHistories)},
		{"ListHistories_TokensAndErrors", histories(testListHistoriesTokens)},
		// store.KeyStore, for the stores that implement it.
		{"Keys_ClaimFinishReplay", keys(testKeysClaimFinishReplay)},
		{"Keys_Fingerprint", keys(testKeysFingerprint)},
		{"Keys_ConcurrentBegin_OneClaim", keys(testKeysConcurrentBegin)},
		{"Keys_Lease_Takeover", keys(testKeysLease)},
		{"Keys_Renew", keys(testKeysRenew)},
		{"Keys_Abandon", keys(testKeysAbandon)},
		{"Keys_TTL", keys(testKeysTTL)},
		{"Keys_Purge", keys(testKeysPurge)},
		{"Keys_PurgeMany", keys(testKeysPurgeMany)},
		{"Keys_CancelledContext_WritesNothing", keys(testKeysCancelledContext)},
		{"Keys_Closed_ErrClosed", keys(testKeysClosed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
					t.Errorf("Close() = %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// t0 has nanoseconds and a zone other than UTC, so that every test checks
// the truncation to microseconds and the conversion to UTC.
var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 535_897_932, time.FixedZone("UTC+1", 3600))

// newRecord returns a running record with every field set; n spreads the
// times of different records.
func newRecord(id string, n int) *store.Record {
	at := t0.Add(time.Duration(n) * time.Minute)
	return &store.Record{
		ID:           id,
		Kind:         "link",
		GraphVersion: "sha256:5be1",
		State:        states.ChallengeIssued,
		Version:      7, // ignored by Create
		Subject:      "subject-" + id,
		Data:         []byte(`{"sealed":"` + id + `"}`),
		Pending: &store.PendingCall{
			Call:      "cryptoWallet:start",
			Event:     "start",
			Key:       "idem-" + id,
			StartedAt: at.Add(1500 * time.Nanosecond),
		},
		CreatedAt: at,
		UpdatedAt: at.Add(time.Second + 999*time.Nanosecond),
		ExpiresAt: at.Add(15 * time.Minute),
	}
}

// entry returns a history entry with every field set.
func entry(n int) store.HistoryEntry {
	return store.HistoryEntry{
		Seq:      99, // ignored by the store
		At:       t0.Add(time.Duration(n)*time.Second + 123*time.Nanosecond),
		From:     states.WalletAuthed,
		To:       states.PhoneConflict,
		Event:    fmt.Sprintf("event-%d", n),
		Outcome:  "conflict",
		Call:     "sms:send",
		Status:   409,
		Code:     "ALREADY_EXISTS_PHONE",
		Duration: time.Duration(n)*time.Millisecond + 17,
	}
}

// micro is a time as every store returns it.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

// want returns r as a store returns it at the given version.
func want(r *store.Record, version int64) *store.Record {
	w := r.Clone()
	w.Version = version
	if len(w.Data) == 0 {
		w.Data = nil
	}
	if w.Pending != nil {
		w.Pending.StartedAt = micro(w.Pending.StartedAt)
		w.Pending.RenewedAt = micro(w.Pending.RenewedAt)
	}
	w.CreatedAt, w.UpdatedAt = micro(w.CreatedAt), micro(w.UpdatedAt)
	w.ExpiresAt, w.EndedAt = micro(w.ExpiresAt), micro(w.EndedAt)
	return w
}

// wantEntries returns hs as a store returns them after the entries up to
// seq last.
func wantEntries(hs []store.HistoryEntry, last int64) []store.HistoryEntry {
	out := make([]store.HistoryEntry, len(hs))
	for i, h := range hs {
		h.Seq = last + int64(i) + 1
		h.At = micro(h.At)
		out[i] = h
	}
	return out
}

// mustCreate creates rec or fails the test.
func mustCreate(tb testing.TB, s store.Store, rec *store.Record, hs ...store.HistoryEntry) {
	tb.Helper()
	if err := s.Create(context.Background(), rec, hs...); err != nil {
		tb.Fatalf("Create(%s) = %v", rec.ID, err)
	}
}

// mustGet returns the stored record id or fails the test.
func mustGet(tb testing.TB, s store.Store, id string) *store.Record {
	tb.Helper()
	r, err := s.Get(context.Background(), id)
	if err != nil {
		tb.Fatalf("Get(%s) = %v", id, err)
	}
	return r
}

// mustHistory returns the history of id or fails the test.
func mustHistory(tb testing.TB, s store.Store, id string) []store.HistoryEntry {
	tb.Helper()
	hs, err := s.History(context.Background(), id)
	if err != nil {
		tb.Fatalf("History(%s) = %v", id, err)
	}
	return hs
}

// checkRecord compares got with want, times with Equal, and checks that
// every time of got is in UTC.
func checkRecord(tb testing.TB, what string, got, want *store.Record) {
	tb.Helper()
	if diff := cmp.Diff(want, got, bytesEqual); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
	if got == nil {
		return
	}
	times := []time.Time{got.CreatedAt, got.UpdatedAt, got.ExpiresAt, got.EndedAt}
	if got.Pending != nil {
		times = append(times, got.Pending.StartedAt)
	}
	for _, tm := range times {
		if !tm.IsZero() && tm.Location() != time.UTC {
			tb.Errorf("%s: time %v is not in UTC", what, tm)
		}
	}
}

// bytesEqual compares byte slices quickly (cmp walks them byte by byte),
// still telling nil from empty.
var bytesEqual = cmp.Comparer(func(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
})

// checkHistory compares got with want and checks that every time is in UTC.
func checkHistory(tb testing.TB, what string, got, want []store.HistoryEntry) {
	tb.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
	for _, h := range got {
		if h.At.Location() != time.UTC {
			tb.Errorf("%s: entry %d time %v is not in UTC", what, h.Seq, h.At)
			break
		}
	}
}
