package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
)

// This example needs a PostgreSQL server, so it has no Output and is only
// compiled. Each replica of a service opens its own store; all of them
// share the database.
func Example() {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, "postgres://ratioflow@db.internal:5432/ratioflow?sslmode=require&pool_max_conns=16")
	if err != nil {
		log.Fatal(err) // e.g. "PostgreSQL postgres://...@db.internal:5432/ratioflow is unreachable: ..."
	}
	defer s.Close()

	now := time.Now()
	rec := &store.Record{ID: "9f86d081884c7d65", Kind: "link", State: states.New, Subject: "user-42",
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.Create(ctx, rec); err != nil {
		log.Fatal(err)
	}
	rec.State = states.ChallengeIssued
	err = s.Update(ctx, rec, store.HistoryEntry{At: now, From: states.New, To: states.ChallengeIssued, Event: "start", Outcome: "ok"})
	if errors.Is(err, store.ErrConflict) {
		fmt.Println("another replica moved the flow first: reload and retry")
	}
}

// A service that already has a pool passes it to New and migrates once at
// start-up; Close leaves the pool to its owner.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://ratioflow@db.internal:5432/ratioflow")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	s := pgstore.New(pool)
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	defer s.Close()
}
