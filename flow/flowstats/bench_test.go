package flowstats_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
	"github.com/ratioflow/ratioflow/transitions"
)

// benchFlowsEnv sets how many flows BenchmarkRead seeds (10000 by default):
//
//	RATIOFLOW_STATS_FLOWS=100000 go test ./flow/flowstats -run '^$' -bench Read -benchtime 3x
//
// The PostgreSQL case needs RATIOFLOW_TEST_POSTGRES.
const benchFlowsEnv = "RATIOFLOW_STATS_FLOWS"

// BenchmarkRead measures Read over a store of link flows with about seven
// history entries each, as the bench command leaves them plus the ways
// flows stop: expired, canceled, abandoned. Seeding is outside the timing;
// one op reads every flow once. flows/s is the figure docs/stores.md
// quotes.
func BenchmarkRead(b *testing.B) {
	n := 10000
	if v := os.Getenv(benchFlowsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", benchFlowsEnv, v)
		}
	}
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			s, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), "flows.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) store.Store {
			s, err := pgstore.Open(context.Background(), pgtest.Schema(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, bk := range backends {
		b.Run(fmt.Sprintf("%s/%d", bk.name, n), func(b *testing.B) {
			s := bk.open(b)
			b.Cleanup(func() { s.Close() })
			now := seedMany(b, s, n)
			opts := flowstats.Options{Now: func() time.Time { return now }}
			b.ReportAllocs()
			for b.Loop() {
				all, err := flowstats.Read(b.Context(), s, store.Query{Kind: "link"}, opts)
				if err != nil {
					b.Fatal(err)
				}
				if all[0].Flows != int64(n) {
					b.Fatalf("Read counted %d flows, want %d", all[0].Flows, n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
		})
	}
}

// seedMany stores n link flows, eight writers at a time, and returns the
// time to report at.
func seedMany(b *testing.B, s store.Store, n int) time.Time {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	jobs := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rec, hs := benchFlow(i, start.Add(time.Duration(i)*time.Second))
				if err := s.Create(context.Background(), rec, hs...); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return start.Add(time.Duration(n) * time.Second)
}

// benchFlow returns flow i created at created: of every 20 flows, 12 hit
// the 409 and link, 3 are new users, 2 expire at the conflict, 1 is
// canceled and 2 stop after signing.
func benchFlow(i int, created time.Time) (*store.Record, []store.HistoryEntry) {
	rec := &store.Record{ID: fmt.Sprintf("%032x", i), Kind: "link", GraphVersion: transitions.Link.Version(),
		State: states.New, Subject: "bench", CreatedAt: created, UpdatedAt: created}
	var hs []store.HistoryEntry
	step := func(sec int, from states.State, ev transitions.Event, o transitions.Outcome, to states.State) {
		at := created.Add(time.Duration(sec) * time.Second)
		hs = append(hs, store.HistoryEntry{At: at, From: from, Event: string(ev), Outcome: string(o), To: to})
		rec.State, rec.UpdatedAt = to, at
	}
	step(1, states.New, transitions.Start, transitions.OK, states.ChallengeIssued)
	step(9+i%7, states.ChallengeIssued, transitions.Sign, transitions.OK, states.WalletAuthed)
	switch k := i % 20; {
	case k < 12:
		step(20, states.WalletAuthed, transitions.SubmitPhone, transitions.Conflict, states.PhoneConflict)
		step(30+i%11, states.PhoneConflict, transitions.ConfirmPhone, transitions.OK, states.SmsFirstSent)
		step(60, states.SmsFirstSent, transitions.SubmitOTP, transitions.OK, states.SmsVerified)
		step(75, states.SmsVerified, transitions.SubmitEmail, transitions.OK, states.EmailSent)
		step(100+i%13, states.EmailSent, transitions.SubmitOTP, transitions.OK, states.EmailVerified)
		step(114, states.EmailVerified, transitions.AddWallet, transitions.OK, states.Linked)
	case k < 15:
		step(20, states.WalletAuthed, transitions.SubmitPhone, transitions.OK, states.SmsSent)
		step(45, states.SmsSent, transitions.SubmitOTP, transitions.OK, states.Authenticated)
	case k < 17:
		step(20, states.WalletAuthed, transitions.SubmitPhone, transitions.Conflict, states.PhoneConflict)
		step(320, states.PhoneConflict, transitions.Expire, transitions.OK, states.Expired)
	case k < 18:
		step(20, states.WalletAuthed, transitions.SubmitPhone, transitions.OK, states.SmsSent)
		step(40, states.SmsSent, transitions.Cancel, transitions.OK, states.Canceled)
	}
	if rec.State.Terminal() {
		rec.EndedAt = rec.UpdatedAt
	}
	return rec, hs
}
