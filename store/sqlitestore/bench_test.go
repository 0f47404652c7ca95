package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

// BenchmarkUpdate measures Update without history (one flow, one writer)
// against a raw baseline: the same single-row compare-and-swap UPDATE,
// written directly with database/sql on the same file with the same DSN and
// a single connection, as the store writes.
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	data := make([]byte, 256)
	setup := func(b *testing.B) (*sqlitestore.Store, *store.Record) {
		s, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
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
	// raw runs the statement with db.ExecContext, which parses it on every
	// call, as code written directly against database/sql does;
	// raw_prepared prepares it once, as the store does.
	for _, prepared := range []bool{false, true} {
		name := "raw"
		if prepared {
			name = "raw_prepared"
		}
		b.Run(name, func(b *testing.B) {
			s, rec := setup(b)
			db, err := sql.Open("sqlite", sqlitestore.DSN(s.Path()))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			const update = `UPDATE flows SET state = $1, data = $2, version = version + 1, updated_at = $3
				WHERE id = $4 AND version = $5`
			exec := func(args ...any) (sql.Result, error) { return db.ExecContext(ctx, update, args...) }
			if prepared {
				stmt, err := db.PrepareContext(ctx, update)
				if err != nil {
					b.Fatal(err)
				}
				defer stmt.Close()
				exec = func(args ...any) (sql.Result, error) { return stmt.ExecContext(ctx, args...) }
			}
			version := rec.Version
			for i := 0; b.Loop(); i++ {
				res, err := exec(string(states.SmsSent), data, now.Add(time.Duration(i)).UnixMicro(), rec.ID, version)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := res.RowsAffected(); err != nil || n != 1 {
					b.Fatalf("raw update hit %d rows, %v", n, err)
				}
				version++
			}
			reportOps(b)
		})
	}
}

// reportOps reports the throughput as ops/s.
func reportOps(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
