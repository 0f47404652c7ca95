package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// advance moves a flow to the next state the way the engine does: load,
// change, compare-and-swap, and on a conflict load again and retry.
func advance(ctx context.Context, s store.Store, id string, to states.State, at time.Time) error {
	for {
		rec, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		from := rec.State
		rec.State, rec.UpdatedAt = to, at
		err = s.Update(ctx, rec, store.HistoryEntry{At: at, From: from, To: to, Event: "next", Outcome: "ok"})
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
}

func Example() {
	ctx := context.Background()
	var s store.Store = memstore.New() // or sqlitestore.Open, pgstore.Open, storeurl.Open
	defer s.Close()

	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	err := s.Create(ctx, &store.Record{ID: "f1", Kind: "link", State: states.New, Subject: "user-42", CreatedAt: now, UpdatedAt: now})
	fmt.Println("create:", err)
	fmt.Println("create again:", errors.Is(s.Create(ctx, &store.Record{ID: "f1"}), store.ErrAlreadyExists))

	_ = advance(ctx, s, "f1", states.ChallengeIssued, now.Add(time.Second))
	_ = advance(ctx, s, "f1", states.WalletAuthed, now.Add(2*time.Second))

	rec, _ := s.Get(ctx, "f1")
	fmt.Println(rec.State, "version", rec.Version)
	_, err = s.Get(ctx, "nope")
	fmt.Println("missing:", errors.Is(err, store.ErrNotFound))
	// Output:
	// create: <nil>
	// create again: true
	// WalletAuthed version 3
	// missing: true
}
