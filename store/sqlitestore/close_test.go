package sqlitestore

import (
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/store"
)

// Close lets the writer make the writes already queued, refuses new ones,
// and returns once the writer goroutine has ended.
func TestWriter_CloseDrainsTheQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ids := []string{"a", "b", "c", "d", "e"}
	for _, id := range ids {
		mustCreate(t, s, record(id))
	}
	unblock := block(t, s)
	var errs []<-chan error
	for i, id := range ids {
		rec, h := step(record(id), id+"1")
		errs = append(errs, async(t, s, i+1, func() error { return s.Update(ctx, rec, h) }))
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	waitFor(t, "Close to stop the queue", func() bool {
		s.w.mu.Lock()
		defer s.w.mu.Unlock()
		return s.w.closed
	})
	if err := s.Update(ctx, record("a")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update during Close = %v, want ErrClosed", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close() = %v before the queued writes were made", err)
	default:
	}
	unblock()
	if err := <-closed; err != nil {
		t.Errorf("Close() = %v", err)
	}
	for i, errc := range errs {
		if err := <-errc; err != nil {
			t.Errorf("Update(%s) queued before Close = %v", ids[i], err)
		}
	}
	select {
	case <-s.w.done:
	default:
		t.Error("the writer goroutine is still running after Close")
	}
	if err := s.Update(ctx, record("a")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}

	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for _, id := range ids {
		if got := events(t, s2, id); got != id+"1" {
			t.Errorf("History(%s) after reopening = [%s], want [%s1]", id, got, id)
		}
	}
}

// Closing stores leaves no writer goroutine behind, whether a store wrote
// or not.
func TestWriter_NoGoroutineLeak(t *testing.T) {
	for i := range 10 {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "flows.db"))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			mustCreate(t, s, record("a"))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	New(filepath.Join(t.TempDir(), "unused.db")).Close()
	waitFor(t, "writer goroutines to end", func() bool {
		buf := make([]byte, 1<<20)
		return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "sqlitestore.(*writer).loop")
	})
}

// Migrate runs alone on the write connection while other writes go on.
func TestWriter_MigrateWhileWriting(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	rec := record("a")
	mustCreate(t, s, rec)
	done := make(chan error, 1)
	go func() {
		for range 50 {
			if err := s.Update(ctx, rec); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 10 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate() while writing = %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Update while migrating = %v", err)
	}
	if got, err := s.Get(ctx, "a"); err != nil || got.Version != 51 {
		t.Errorf("Get(a) = %+v, %v; want version 51", got, err)
	}
}
