package pgstore_test

import (
	"context"
	"testing"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/storetest"
)

// openStore opens a migrated store in a schema of its own; pool_max_conns
// keeps the parallel subtests within the server's connection limit.
func openStore(tb testing.TB, dsn string) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.Open(context.Background(), pgtest.WithParam(dsn, "pool_max_conns", "4"))
	if err != nil {
		tb.Fatalf("Open() = %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	pgtest.DSN(t) // skip once, not in every subtest
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, pgtest.Schema(t)) })
}
