package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
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
	// store keeps the flow's deadline, as claims do; store_deadline moves
	// it at every update, which makes Update rewrite the expiry index.
	for _, moveDeadline := range []bool{false, true} {
		name := "store"
		if moveDeadline {
			name = "store_deadline"
		}
		b.Run(name, func(b *testing.B) {
			s, rec := setup(b)
			for i := 0; b.Loop(); i++ {
				rec.State = states.SmsSent
				rec.UpdatedAt = now.Add(time.Duration(i))
				if moveDeadline {
					rec.ExpiresAt = now.Add(time.Hour + time.Duration(i)*time.Second)
				}
				if err := s.Update(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
			reportOps(b)
		})
	}
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
			exec := rawUpdate(b, s.Path(), prepared)
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

// rawUpdate returns the baseline of the Update benchmarks: the single-row
// compare-and-swap UPDATE (state, data, updated_at, id, version), run with
// database/sql on its own single connection to the file at path, with the
// store's DSN; parsed at every call, or prepared once.
func rawUpdate(b *testing.B, path string, prepared bool) func(args ...any) (sql.Result, error) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	const update = `UPDATE flows SET state = $1, data = $2, version = version + 1, updated_at = $3
		WHERE id = $4 AND version = $5`
	if !prepared {
		return func(args ...any) (sql.Result, error) { return db.ExecContext(ctx, update, args...) }
	}
	stmt, err := db.PrepareContext(ctx, update)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stmt.Close() })
	return func(args ...any) (sql.Result, error) { return stmt.ExecContext(ctx, args...) }
}

// reportOps reports the throughput as ops/s.
func reportOps(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// parallelWriters is how many goroutines BenchmarkUpdateParallel runs: the
// concurrency of `ratioflow bench --concurrency 16`.
const parallelWriters = 16

// BenchmarkUpdateParallel measures Update under concurrency:
// parallelWriters goroutines, each updating a flow of its own, against the
// raw baseline of BenchmarkUpdate run by as many goroutines on one
// connection. store updates without history; store_history appends one
// history entry at every update, as the engine's second write of a step
// does.
func BenchmarkUpdateParallel(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	data := make([]byte, 256)
	setup := func(b *testing.B) (*sqlitestore.Store, []*store.Record) {
		s, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		recs := make([]*store.Record, parallelWriters)
		for i := range recs {
			recs[i] = &store.Record{ID: fmt.Sprintf("bench-%02d", i), Kind: "link", State: states.New, Subject: "s",
				Data: data, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := s.Create(ctx, recs[i]); err != nil {
				b.Fatal(err)
			}
		}
		// RunParallel starts parallelism × GOMAXPROCS goroutines.
		b.SetParallelism((parallelWriters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		return s, recs
	}
	for _, withHistory := range []bool{false, true} {
		name := "store"
		if withHistory {
			name = "store_history"
		}
		b.Run(name, func(b *testing.B) {
			s, recs := setup(b)
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rec := recs[int(next.Add(1)-1)%len(recs)].Clone()
				var hs []store.HistoryEntry
				for i := 0; pb.Next(); i++ {
					rec.State = states.SmsSent
					rec.UpdatedAt = now.Add(time.Duration(i))
					if withHistory {
						hs = []store.HistoryEntry{{At: rec.UpdatedAt, From: states.New, To: states.SmsSent,
							Event: "send", Outcome: "ok", Call: "sms:send", Status: 200}}
					}
					if err := s.Update(ctx, rec, hs...); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportOps(b)
			if batches, reqs := sqlitestore.BatchStats(s); batches > 0 {
				b.ReportMetric(float64(reqs)/float64(batches), "writes/commit")
			}
		})
	}
	for _, prepared := range []bool{false, true} {
		name := "raw"
		if prepared {
			name = "raw_prepared"
		}
		b.Run(name, func(b *testing.B) {
			s, recs := setup(b)
			exec := rawUpdate(b, s.Path(), prepared)
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rec := recs[int(next.Add(1)-1)%len(recs)]
				version := rec.Version
				for i := 0; pb.Next(); i++ {
					res, err := exec(string(states.SmsSent), data, now.Add(time.Duration(i)).UnixMicro(), rec.ID, version)
					if err != nil {
						b.Error(err)
						return
					}
					if n, err := res.RowsAffected(); err != nil || n != 1 {
						b.Errorf("raw update hit %d rows, %v", n, err)
						return
					}
					version++
				}
			})
			reportOps(b)
		})
	}
}

// cpuTime returns the CPU time the process has used, user and system: a
// measure of the cost of writes that other processes on the machine
// disturb less than throughput.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// flowStates are the states BenchmarkFlowWrites walks a flow through: a
// result moves the flow to the next one, the last is terminal.
var flowStates = []states.State{states.New, states.ChallengeIssued, states.WalletAuthed, states.SmsSent,
	states.SmsVerified, states.EmailSent, states.EmailVerified, states.UserLoaded, states.Linked}

// BenchmarkFlowWrites reproduces the engine's write load: parallelWriters
// goroutines, each running flows one after the other. A flow is a Create,
// then 7 steps of two writes each: a claim (an Update without history that
// only records the pending call) and a result (an Update with one history
// entry that moves the state, rewrites the data, clears the pending call
// and moves the deadline), then a result that ends the flow: 16 writes. It
// reports flows/s, writes/s and the process's CPU time per write.
func BenchmarkFlowWrites(b *testing.B) {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetParallelism((parallelWriters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	now := time.Now()
	var ids atomic.Int64
	cpu0 := cpuTime()
	steps := len(flowStates) - 2 // claim and result pairs; a terminal result follows
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		data := make([]byte, 512)
		for pb.Next() {
			n := ids.Add(1)
			t := now.Add(time.Duration(n) * time.Millisecond)
			rec := &store.Record{ID: fmt.Sprintf("%032x", n), Kind: "link", GraphVersion: "g1",
				State: flowStates[0], Subject: fmt.Sprintf("subject-%d", n), Data: data,
				CreatedAt: t, UpdatedAt: t, ExpiresAt: t.Add(10 * time.Minute)}
			if err := s.Create(ctx, rec); err != nil {
				b.Error(err)
				return
			}
			for i := 1; i <= steps+1; i++ {
				if i <= steps { // the claim
					t = t.Add(time.Millisecond)
					rec.UpdatedAt = t
					rec.Pending = &store.PendingCall{Call: "sms:send", Event: "next", Key: fmt.Sprintf("%d-%d", n, i), StartedAt: t}
					if err := s.Update(ctx, rec); err != nil {
						b.Error(err)
						return
					}
				}
				// The result.
				t = t.Add(time.Millisecond)
				from := rec.State
				rec.State, rec.UpdatedAt, rec.Pending = flowStates[i], t, nil
				rec.ExpiresAt = t.Add(10 * time.Minute)
				data[i] ^= 1
				if i > steps {
					rec.EndedAt = t
				}
				h := store.HistoryEntry{At: t, From: from, To: rec.State, Event: "next", Outcome: "ok",
					Call: "sms:send", Status: 200, Duration: time.Millisecond}
				if err := s.Update(ctx, rec, h); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	cpu := cpuTime() - cpu0
	flows := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(flows, "flows/s")
	b.ReportMetric(flows*float64(2*steps+2), "writes/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*(2*steps+2)), "cpu-µs/write")
	if batches, reqs := sqlitestore.BatchStats(s); batches > 0 {
		b.ReportMetric(float64(reqs)/float64(batches), "writes/commit")
	}
}
