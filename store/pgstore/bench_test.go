package pgstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
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

// BenchmarkUpdateConcurrent measures the writes of many flows at once, as
// an engine under load makes them: 256 writers, each moving a flow of its
// own with one history entry, through a pool of 32, with group commit and
// with every write sent alone.
func BenchmarkUpdateConcurrent(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	data := make([]byte, 512)
	for _, c := range []struct {
		name     string
		flushers int
	}{{"batched", 4}, {"alone", 0}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := pgstore.Open(ctx, pgtest.WithParam(pgtest.Schema(b), "pool_max_conns", "32"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.SetMaxFlushers(c.flushers)
			var next atomic.Int64
			b.SetParallelism(128) // 256 writers on 2 CPUs
			b.RunParallel(func(pb *testing.PB) {
				rec := &store.Record{ID: fmt.Sprintf("bench-%04d", next.Add(1)), Kind: "link", State: states.New,
					Subject: "s", Data: data, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := s.Create(ctx, rec); err != nil {
					b.Error(err)
					return
				}
				for i := 0; pb.Next(); i++ {
					from, to := rec.State, states.SmsSent
					if i%2 == 1 {
						to = states.New
					}
					rec.State, rec.UpdatedAt = to, now.Add(time.Duration(i))
					h := store.HistoryEntry{At: rec.UpdatedAt, From: from, To: to, Event: "send_sms", Outcome: "ok",
						Call: "otp/sms:send", Status: 200}
					if err := s.Update(ctx, rec, h); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportOps(b)
			if st := s.WriteStats(); st.Batches > 0 {
				b.ReportMetric(float64(st.Writes)/float64(st.Batches), "writes/batch")
			}
		})
	}
}
