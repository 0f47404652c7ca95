package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// Create stores a new record with Version 1. It sets rec.Version to 1.
// Stores truncate times to the microsecond and return them in UTC.
func testCreateRoundTrip(t *testing.T, s store.Store) {
	rec := newRecord("f-roundtrip", 0)
	rec.EndedAt = t0.Add(time.Hour + 1)
	orig := rec.Clone()
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create() = %v", err)
	}
	if rec.Version != 1 {
		t.Errorf("after Create, rec.Version = %d, want 1", rec.Version)
	}
	orig.Version = 1
	if diff := cmp.Diff(orig, rec); diff != "" {
		t.Errorf("Create changed rec beyond Version (-want +got):\n%s", diff)
	}
	checkRecord(t, "Get after Create", mustGet(t, s, rec.ID), want(orig, 1))
	if hs := mustHistory(t, s, rec.ID); len(hs) != 0 {
		t.Errorf("History after Create without entries = %v, want none", hs)
	}
}

// An empty Data is stored and returned as nil; zero times stay zero.
func testCreateEmptyFields(t *testing.T, s store.Store) {
	rec := &store.Record{ID: "f-empty", Kind: "signin", State: states.New, Data: []byte{}}
	mustCreate(t, s, rec)
	got := mustGet(t, s, rec.ID)
	checkRecord(t, "Get", got, want(rec, 1))
	if got.Data != nil {
		t.Errorf("Get().Data = %#v, want nil", got.Data)
	}
	for name, tm := range map[string]time.Time{
		"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt, "ExpiresAt": got.ExpiresAt, "EndedAt": got.EndedAt,
	} {
		if !tm.IsZero() {
			t.Errorf("Get().%s = %v, want the zero time", name, tm)
		}
	}
	if got.Pending != nil {
		t.Errorf("Get().Pending = %+v, want nil", got.Pending)
	}
}

// Create stores the given history entries, numbered from 1 (the Seq given is
// ignored).
func testCreateHistory(t *testing.T, s store.Store) {
	rec := newRecord("f-create-history", 0)
	hs := []store.HistoryEntry{entry(1), entry(2), entry(3)}
	mustCreate(t, s, rec, hs...)
	checkHistory(t, "History", mustHistory(t, s, rec.ID), wantEntries(hs, 0))
	if hs[0].Seq != 99 {
		t.Errorf("Create changed the caller's entries: Seq = %d", hs[0].Seq)
	}
}

// Create returns ErrAlreadyExists if a record with rec.ID is already stored;
// on error nothing is written and rec is unchanged.
func testCreateExists(t *testing.T, s store.Store) {
	first := newRecord("f-exists", 0)
	mustCreate(t, s, first, entry(1))

	second := newRecord("f-exists", 5)
	second.Data = []byte("other")
	second.Version = 5
	before := second.Clone()
	err := s.Create(t.Context(), second, entry(2), entry(3))
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second Create() = %v, want ErrAlreadyExists", err)
	}
	if diff := cmp.Diff(before, second); diff != "" {
		t.Errorf("failed Create changed rec (-want +got):\n%s", diff)
	}
	checkRecord(t, "Get", mustGet(t, s, first.ID), want(first, 1))
	checkHistory(t, "History", mustHistory(t, s, first.ID), wantEntries([]store.HistoryEntry{entry(1)}, 0))
}

// Get, Update and History return ErrNotFound if no record has that ID.
func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRecord("f-present", 0))
	if _, err := s.Get(ctx, "f-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.History(ctx, "f-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("History(missing) = %v, want ErrNotFound", err)
	}
	rec := newRecord("f-missing", 0)
	rec.Version = 1
	before := rec.Clone()
	if err := s.Update(ctx, rec, entry(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update(missing) = %v, want ErrNotFound", err)
	}
	if errors.Is(s.Update(ctx, rec), store.ErrConflict) {
		t.Errorf("Update(missing) matches ErrConflict too")
	}
	if diff := cmp.Diff(before, rec); diff != "" {
		t.Errorf("failed Update changed rec (-want +got):\n%s", diff)
	}
	if _, err := s.Get(ctx, "f-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Update(missing) = %v, want ErrNotFound", err)
	}
}

// Update replaces the stored record if the stored version equals rec.Version
// and appends the entries; Kind, Subject and CreatedAt are fixed by Create.
// On success it increments rec.Version.
func testUpdateRoundTrip(t *testing.T, s store.Store) {
	orig := newRecord("f-update", 0)
	mustCreate(t, s, orig)

	rec := mustGet(t, s, orig.ID)
	rec.Kind, rec.Subject, rec.CreatedAt = "changed", "someone-else", t0.Add(-time.Hour)
	rec.GraphVersion = "sha256:77aa"
	rec.State = states.Linked
	rec.Data = []byte("new data")
	rec.Pending = &store.PendingCall{Call: "cryptoWallet:addToUser", Event: "link", Key: "k2", StartedAt: t0.Add(3*time.Minute + 7),
		RenewedAt: t0.Add(3*time.Minute + 9*time.Second + 11)}
	rec.UpdatedAt = t0.Add(4*time.Minute + 9)
	rec.ExpiresAt = t0.Add(30*time.Minute + 11)
	rec.EndedAt = t0.Add(5*time.Minute + 13)
	hs := []store.HistoryEntry{entry(1), entry(2)}
	sent := rec.Clone()
	if err := s.Update(t.Context(), rec, hs...); err != nil {
		t.Fatalf("Update() = %v", err)
	}
	if rec.Version != 2 {
		t.Errorf("after Update, rec.Version = %d, want 2", rec.Version)
	}
	sent.Version = 2
	if diff := cmp.Diff(sent, rec); diff != "" {
		t.Errorf("Update changed rec beyond Version (-want +got):\n%s", diff)
	}
	w := want(sent, 2)
	w.Kind, w.Subject, w.CreatedAt = orig.Kind, orig.Subject, micro(orig.CreatedAt)
	checkRecord(t, "Get after Update", mustGet(t, s, orig.ID), w)
	checkHistory(t, "History after Update", mustHistory(t, s, orig.ID), wantEntries(hs, 0))

	// Clearing optional fields clears them.
	rec = mustGet(t, s, orig.ID)
	rec.Data, rec.Pending, rec.ExpiresAt, rec.EndedAt = nil, nil, time.Time{}, time.Time{}
	if err := s.Update(t.Context(), rec); err != nil {
		t.Fatalf("second Update() = %v", err)
	}
	checkRecord(t, "Get after clearing Update", mustGet(t, s, orig.ID), want(rec, 3))
}

// Update returns ErrConflict if the stored version differs; on error nothing
// is written and rec is unchanged.
func testUpdateConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRecord("f-conflict", 0), entry(1))
	stale := mustGet(t, s, "f-conflict")
	fresh := mustGet(t, s, "f-conflict")
	fresh.State = states.SmsSent
	if err := s.Update(ctx, fresh, entry(2)); err != nil {
		t.Fatalf("Update(fresh) = %v", err)
	}
	stored := mustGet(t, s, "f-conflict")
	history := mustHistory(t, s, "f-conflict")

	for _, v := range []int64{1, 3, 0} {
		rec := stale.Clone()
		rec.Version = v
		rec.State = states.Failed
		rec.Data = []byte("lost")
		before := rec.Clone()
		err := s.Update(ctx, rec, entry(3))
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("Update(version %d, stored 2) = %v, want ErrConflict", v, err)
		}
		if errors.Is(err, store.ErrNotFound) {
			t.Errorf("Update(version %d) matches ErrNotFound too", v)
		}
		if diff := cmp.Diff(before, rec); diff != "" {
			t.Errorf("failed Update changed rec (-want +got):\n%s", diff)
		}
	}
	checkRecord(t, "Get after conflicts", mustGet(t, s, "f-conflict"), stored)
	checkHistory(t, "History after conflicts", mustHistory(t, s, "f-conflict"), history)
}

// updateWith reloads id and applies change until Update succeeds, retrying
// on ErrConflict. It returns the number of conflicts.
func updateWith(ctx context.Context, s store.Store, id string, change func(*store.Record) store.HistoryEntry) (int, error) {
	for conflicts := 0; ; conflicts++ {
		rec, err := s.Get(ctx, id)
		if err != nil {
			return conflicts, err
		}
		h := change(rec)
		err = s.Update(ctx, rec, h)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return conflicts, err
	}
}
