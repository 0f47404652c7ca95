package sqlitestore

import (
	"os"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// TestCheckpointer_CopiesTheLogInTheBackground: after writes, the
// checkpointer copies the log into the database file without the writer
// checkpointing itself, and the next write starts the log again from the
// top, so it stops growing.
func TestCheckpointer_CopiesTheLogInTheBackground(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	now := time.Now()
	rec := &store.Record{ID: "f", Kind: "link", State: states.New, Subject: "s", Data: make([]byte, 200),
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	write := func(n int) {
		for i := range n {
			rec.State = []states.State{states.SmsSent, states.EmailSent}[i%2]
			rec.UpdatedAt = now.Add(time.Duration(i))
			if err := s.Update(ctx, rec, store.HistoryEntry{At: now, From: states.New, To: rec.State, Event: "e",
				Outcome: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(300)
	deadline := time.Now().Add(5 * time.Second)
	for s.ckpt.frames.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no frame checkpointed in 5s: %d runs, %d failures", s.ckpt.runs.Load(), s.ckpt.failures.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Every write so far has been copied once the checkpointer is idle; the
	// log then starts again, and a few more rounds keep it from growing.
	size := func() int64 {
		fi, err := os.Stat(s.Path() + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	time.Sleep(3 * checkpointEvery)
	first := size()
	for range 5 {
		write(300)
		time.Sleep(3 * checkpointEvery)
	}
	if last := size(); last > first+first/2 {
		t.Errorf("the log grew from %d to %d bytes over five rounds of the same writes: never started again", first, last)
	}
	if f := s.ckpt.failures.Load(); f != 0 {
		t.Errorf("%d checkpoints failed", f)
	}
}
