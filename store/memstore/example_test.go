package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

func Example() {
	ctx := context.Background()
	s := memstore.New()
	defer s.Close()

	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	rec := &store.Record{
		ID: "9f86d081884c7d65", Kind: "link", State: states.New, Subject: "user-42",
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
	}
	if err := s.Create(ctx, rec); err != nil {
		fmt.Println(err)
		return
	}
	stale := rec.Clone()

	rec.State = states.ChallengeIssued
	err := s.Update(ctx, rec, store.HistoryEntry{
		At: now, From: states.New, To: states.ChallengeIssued, Event: "start",
		Outcome: "ok", Call: "cryptoWallet:start", Status: 200,
	})
	fmt.Println("update:", err, "version", rec.Version)

	stale.State = states.Canceled
	err = s.Update(ctx, stale)
	fmt.Println("stale update is a conflict:", errors.Is(err, store.ErrConflict))

	history, _ := s.History(ctx, rec.ID)
	for _, h := range history {
		fmt.Println(h.Seq, h.From, "->", h.To, h.Outcome)
	}
	// Output:
	// update: <nil> version 2
	// stale update is a conflict: true
	// 1 New -> ChallengeIssued ok
}
