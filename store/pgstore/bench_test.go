package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
)

// BenchmarkUpdate measures Update without history (one flow, one writer)
// against a raw baseline: the same single-row compare-and-swap UPDATE,
// written directly with pgx on the same pool (so the same database, schema
// and settings; pgx prepares and caches both statements).
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	data := make([]byte, 256)
	setup := func(b *testing.B) (*pgstore.Store, *store.Record) {
		s := openStore(b, pgtest.Schema(b))
		rec := &store.Record{ID: "bench", Kind: "link", State: states.New, Subject: "s", Data: data,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.Create(ctx, rec); err != nil {
			b.Fatal(err)
		}
		return s, rec
	}
	b.Run("store", func(b *testing.B) {
		s, rec := setup(b)
		for i := 0; b.Loop(); i++ {
			rec.State = states.SmsSent
			rec.UpdatedAt = now.Add(time.Duration(i))
			if err := s.Update(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
		reportOps(b)
	})
	b.Run("raw", func(b *testing.B) {
		s, rec := setup(b)
		pool := s.Pool()
		version := rec.Version
		for i := 0; b.Loop(); i++ {
			tag, err := pool.Exec(ctx, `UPDATE flows SET state = $1, data = $2, version = version + 1, updated_at = $3
				WHERE id = $4 AND version = $5`, string(states.SmsSent), data, now.Add(time.Duration(i)), rec.ID, version)
			if err != nil {
				b.Fatal(err)
			}
			if tag.RowsAffected() != 1 {
				b.Fatalf("raw update hit %d rows", tag.RowsAffected())
			}
			version++
		}
		reportOps(b)
	})
}

// reportOps reports the throughput as ops/s.
func reportOps(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
