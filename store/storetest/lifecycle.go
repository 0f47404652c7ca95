package storetest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// Large payloads: 1 MiB of Data and 1000 history entries in one Update.
func testLargePayloads(t *testing.T, s store.Store) {
	data := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(data)
	rec := newRecord("f-large", 0)
	rec.Data = data
	mustCreate(t, s, rec)
	if got := mustGet(t, s, rec.ID); !bytes.Equal(got.Data, data) {
		t.Fatalf("Get().Data differs from the 1 MiB written (len %d)", len(got.Data))
	}

	hs := make([]store.HistoryEntry, 1000)
	for i := range hs {
		hs[i] = entry(i)
	}
	rec = mustGet(t, s, rec.ID)
	rec.Data[0] ^= 0xff
	if err := s.Update(t.Context(), rec, hs...); err != nil {
		t.Fatalf("Update(1000 entries) = %v", err)
	}
	checkHistory(t, "History of 1000 entries", mustHistory(t, s, rec.ID), wantEntries(hs, 0))
	page, err := s.List(t.Context(), store.Query{})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("List() = %d records, %v; want 1", len(page.Records), err)
	}
	checkRecord(t, "List()[0]", page.Records[0], want(rec, 2))
}

// Records are copied in and out: changing what was passed to or returned by
// the store does not change what it holds.
func testNoAliasing(t *testing.T, s store.Store) {
	rec := newRecord("f-alias", 0)
	hs := []store.HistoryEntry{entry(1)}
	mustCreate(t, s, rec, hs...)
	wantRec := want(rec, 1)
	rec.Data[0] = 'X'
	rec.Pending.Key = "changed"
	hs[0].Event = "changed"

	got := mustGet(t, s, rec.ID)
	checkRecord(t, "Get after changing the created record", got, wantRec)
	got.Data[0] = 'Y'
	got.Pending.Key = "changed again"
	checkRecord(t, "Get after changing a returned record", mustGet(t, s, rec.ID), wantRec)

	gotHs := mustHistory(t, s, rec.ID)
	gotHs[0].Event = "changed"
	checkHistory(t, "History after changing a returned history", mustHistory(t, s, rec.ID), wantEntries([]store.HistoryEntry{entry(1)}, 0))

	page, err := s.List(t.Context(), store.Query{})
	if err != nil {
		t.Fatalf("List() = %v", err)
	}
	page.Records[0].Data[0] = 'Z'
	claimed := claim(t, s, t0.Add(time.Hour), 10)
	claimed[0].Data[0] = 'Z'
	checkRecord(t, "Get after changing listed and claimed records", mustGet(t, s, rec.ID), wantRec)
}

// A method called with a context that is already done returns an error
// matching ctx.Err() and writes nothing.
func testCancelledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	bg := t.Context()
	existing := expiring("f-existing", 0)
	existing.State, existing.EndedAt = states.Linked, t0 // purgeable
	expired := expiring("f-expired", 0)
	mustCreate(t, s, existing, entry(1))
	mustCreate(t, s, expired, entry(1))
	wantExisting := want(existing, 1)

	check := func(method string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s(cancelled ctx) = %v, want an error matching context.Canceled", method, err)
		}
	}
	check("Create", s.Create(ctx, newRecord("f-new", 0), entry(1)))
	if _, err := s.Get(bg, "f-new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(record created with a cancelled ctx) = %v, want ErrNotFound", err)
	}

	rec := mustGet(t, s, existing.ID)
	rec.Data = []byte("changed")
	before := rec.Clone()
	check("Update", s.Update(ctx, rec, entry(2)))
	if rec.Version != before.Version {
		t.Errorf("Update(cancelled ctx) changed rec.Version to %d", rec.Version)
	}
	checkRecord(t, "Get after cancelled Update", mustGet(t, s, existing.ID), wantExisting)
	checkHistory(t, "History after cancelled Update", mustHistory(t, s, existing.ID), wantEntries([]store.HistoryEntry{entry(1)}, 0))

	_, err := s.Get(ctx, existing.ID)
	check("Get", err)
	_, err = s.History(ctx, existing.ID)
	check("History", err)
	_, err = s.List(ctx, store.Query{})
	check("List", err)

	now := t0.Add(365 * 24 * time.Hour)
	_, err = s.ClaimExpired(ctx, now, 10, lease)
	check("ClaimExpired", err)
	if got := ids(claim(t, s, now, 10)); got != "[f-expired]" {
		t.Errorf("ClaimExpired after a cancelled one = %s, want [f-expired]: the cancelled call claimed it", got)
	}

	_, err = s.Purge(ctx, now, store.Retention{KeepData: time.Hour, KeepHistory: time.Hour})
	check("Purge", err)
	checkRecord(t, "Get after cancelled Purge", mustGet(t, s, existing.ID), wantExisting)
}

// After Close, every call, Close included, returns ErrClosed.
func testClosed(t *testing.T, s store.Store) {
	rec := newRecord("f-closed", 0)
	mustCreate(t, s, rec)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	ctx := t.Context()
	now := t0.Add(time.Hour)
	_, getErr := s.Get(ctx, rec.ID)
	_, histErr := s.History(ctx, rec.ID)
	_, listErr := s.List(ctx, store.Query{})
	_, claimErr := s.ClaimExpired(ctx, now, 10, lease)
	_, purgeErr := s.Purge(ctx, now, store.Retention{KeepData: time.Hour})
	errs := []struct {
		method string
		err    error
	}{
		{"Create", s.Create(ctx, newRecord("f-after-close", 0))},
		{"Get", getErr},
		{"Update", s.Update(ctx, rec)},
		{"History", histErr},
		{"List", listErr},
		{"ClaimExpired", claimErr},
		{"Purge", purgeErr},
		{"Close", s.Close()},
	}
	for _, e := range errs {
		if !errors.Is(e.err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", e.method, e.err)
		}
	}
}
