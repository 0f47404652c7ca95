package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrateTo exposes migrateTo to the tests.
func (s *Store) MigrateTo(ctx context.Context, version int) error { return s.migrateTo(ctx, version) }

// Pool exposes the store's pool to the tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// SetMaxFlushers sets how many batches of writes the store has in flight
// at most; 0 sends every write alone, as a store without group commit.
func (s *Store) SetMaxFlushers(n int) { s.writes.maxFlushers = n }
