package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// setHint replaces the writer's hint of flow id, on the writer.
func setHint(t *testing.T, s *Store, id string, h hint) {
	t.Helper()
	err := s.w.do(newRequest(t.Context(), false, func(_ context.Context, c *writeConn) error {
		c.hints.set(id, h)
		return nil
	}))
	if err != nil {
		t.Fatalf("set hint: %v", err)
	}
}

// A wrong hint (another process wrote the flow, or a write was rolled
// back) costs a statement, never a wrong write: for each hinted value
// wrong, the Update writes the record and numbers its entry as it would
// without a hint.
func TestUpdate_WrongHint(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	wrong := map[string]func(*hint){
		"seq":        func(h *hint) { h.seq += 3 },
		"state":      func(h *hint) { h.state = "Bogus" },
		"expires_at": func(h *hint) { h.expiresAt = int64(42) },
		"no deadline": func(h *hint) {
			h.expiresAt = nil
		},
		"ended_at": func(h *hint) { h.endedAt = int64(42) },
		"right":    func(*hint) {},
	}
	for name, spoil := range wrong {
		for _, keep := range []bool{false, true} { // the Update keeps the state and deadline, or moves them
			t.Run(fmt.Sprintf("%s/keep=%t", name, keep), func(t *testing.T) {
				s := openStore(t)
				ctx := t.Context()
				rec := record("a")
				if err := s.Create(ctx, rec, store.HistoryEntry{At: t0, Event: "create", Outcome: "ok"}); err != nil {
					t.Fatal(err)
				}
				h := hint{version: 1, seq: 1, state: string(rec.State), expiresAt: rec.ExpiresAt.UnixMicro()}
				spoil(&h)
				setHint(t, s, "a", h)
				next := rec.Clone()
				next.UpdatedAt, next.Data = t0.Add(time.Second), []byte("next")
				if !keep {
					next.State, next.ExpiresAt, next.EndedAt = states.Linked, t0.Add(2*time.Hour), t0.Add(time.Second)
				}
				entry := store.HistoryEntry{At: next.UpdatedAt, From: rec.State, To: next.State, Event: "next", Outcome: "ok"}
				if err := s.Update(ctx, next, entry); err != nil {
					t.Fatalf("Update = %v", err)
				}
				got, err := s.Get(ctx, "a")
				if err != nil {
					t.Fatal(err)
				}
				want := next.Clone()
				if got.Version != 2 || got.State != want.State || !got.ExpiresAt.Equal(want.ExpiresAt) ||
					!got.EndedAt.Equal(want.EndedAt) || string(got.Data) != "next" || !got.UpdatedAt.Equal(want.UpdatedAt) {
					t.Errorf("Get = %+v, want %+v", got, want)
				}
				if evs := events(t, s, "a"); evs != "create next" {
					t.Errorf("History = [%s], want [create next]", evs)
				}
				// The writer hints right again.
				next2 := got.Clone()
				next2.UpdatedAt = next2.UpdatedAt.Add(time.Second)
				if err := s.Update(ctx, next2, store.HistoryEntry{At: next2.UpdatedAt, Event: "again", Outcome: "ok"}); err != nil {
					t.Fatalf("second Update = %v", err)
				}
				if evs := events(t, s, "a"); evs != "create next again" {
					t.Errorf("History = [%s], want [create next again]", evs)
				}
			})
		}
	}
}

// Two stores on one file, as two processes: each store's hints go stale
// when the other writes, and every Update still succeeds or conflicts as
// the versions say.
func TestUpdate_HintsOfTwoProcesses(t *testing.T) {
	a := openStore(t)
	b, err := Open(t.Context(), a.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	rec := record("f")
	mustCreate(t, a, rec)
	stores := []*Store{a, b, b, a, a, b}
	for i, s := range stores {
		next, h := step(rec, string(rune('a'+i)))
		if i%2 == 0 { // claims: the state and deadline stay
			next.State, next.ExpiresAt = rec.State, rec.ExpiresAt
		}
		stale := rec.Clone()
		stale.Version--
		if err := s.Update(ctx, stale, h); !errors.Is(err, store.ErrConflict) {
			t.Errorf("Update %d from a stale version = %v, want ErrConflict", i, err)
		}
		if err := s.Update(ctx, next, h); err != nil {
			t.Fatalf("Update %d = %v", i, err)
		}
		rec = next
	}
	got, err := b.Get(ctx, "f")
	if err != nil || got.Version != int64(len(stores)+1) || got.State != rec.State || !got.ExpiresAt.Equal(rec.ExpiresAt) {
		t.Errorf("Get = %+v, %v; want %+v", got, err, rec)
	}
	if evs := events(t, a, "f"); evs != "a b c d e f" {
		t.Errorf("History = [%s], want [a b c d e f]", evs)
	}
}
