package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
)

// groupStore opens a store with a pool of 8, so that concurrent writes
// queue and meet in batches.
func groupStore(t *testing.T) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pgtest.WithParam(pgtest.Schema(t), "pool_max_conns", "8"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newRecord(id string, now time.Time) *store.Record {
	return &store.Record{ID: id, Kind: "link", State: states.New, Subject: "s", Data: []byte("d"),
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func entry(now time.Time, to states.State) store.HistoryEntry {
	return store.HistoryEntry{At: now, From: states.New, To: to, Event: "e", Outcome: "ok"}
}

// TestGroupCommit_ManyFlows writes 64 flows 20 times each at once: every
// write lands, each flow's history is numbered without a gap, and the
// writes went in fewer batches than writes.
func TestGroupCommit_ManyFlows(t *testing.T) {
	s := groupStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	const flows, writes = 64, 20
	var wg sync.WaitGroup
	for f := range flows {
		wg.Go(func() {
			rec := newRecord(fmt.Sprintf("many-%02d", f), now)
			if err := s.Create(ctx, rec, entry(now, states.New)); err != nil {
				t.Error(err)
				return
			}
			for i := range writes {
				rec.State = states.SmsSent
				if err := s.Update(ctx, rec, entry(now.Add(time.Duration(i)), states.SmsSent)); err != nil {
					t.Errorf("flow %s write %d: %v", rec.ID, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for f := range flows {
		id := fmt.Sprintf("many-%02d", f)
		rec, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Version != writes+1 {
			t.Errorf("flow %s: version %d, want %d", id, rec.Version, writes+1)
		}
		hs, err := s.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			if h.Seq != int64(i+1) {
				t.Fatalf("flow %s: entry %d has seq %d", id, i, h.Seq)
			}
		}
		if len(hs) != writes+1 {
			t.Errorf("flow %s: %d entries, want %d", id, len(hs), writes+1)
		}
	}
	st := s.WriteStats()
	batches, sent := st.Batches, st.Writes
	t.Logf("%d writes in %d batches", sent, batches)
	if sent != flows*(writes+1) {
		t.Errorf("the batches carried %d writes, want %d", sent, flows*(writes+1))
	}
	if batches >= sent {
		t.Errorf("%d writes went in %d batches: none met another", sent, batches)
	}
}

// TestGroupCommit_OneFlowManyWriters has 32 writers race for the same
// version of one flow, over and over: exactly one wins each round, the
// others get ErrConflict, whether they met in one batch or not.
func TestGroupCommit_OneFlowManyWriters(t *testing.T) {
	s := groupStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.Create(ctx, newRecord("race", now)); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		base, err := s.Get(ctx, "race")
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won, lost int
		)
		for range 32 {
			wg.Go(func() {
				rec := base.Clone()
				rec.State = states.SmsSent
				err := s.Update(ctx, rec, entry(now, states.SmsSent))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, store.ErrConflict):
					lost++
				default:
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
		if won != 1 || lost != 31 {
			t.Fatalf("round %d: %d writes won and %d lost, want 1 and 31", round, won, lost)
		}
	}
	hs, err := s.History(context.Background(), "race")
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 10 {
		t.Errorf("%d history entries, want one per round (10)", len(hs))
	}
}

// TestGroupCommit_OneFailingWrite makes the database refuse the writes of
// one flow (a trigger raises): its writer gets the error, and the writes
// of the others, batched with it, land all the same.
func TestGroupCommit_OneFailingWrite(t *testing.T) {
	s := groupStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := s.Pool().Exec(ctx, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
		CREATE TRIGGER refuse BEFORE UPDATE ON flows FOR EACH ROW WHEN (NEW.id LIKE 'bad-%') EXECUTE FUNCTION refuse()`); err != nil {
		t.Fatal(err)
	}
	const flows = 48
	recs := make([]*store.Record, flows)
	for i := range recs {
		id := fmt.Sprintf("good-%02d", i)
		if i%8 == 0 {
			id = fmt.Sprintf("bad-%02d", i)
		}
		recs[i] = newRecord(id, now)
		if err := s.Create(ctx, recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	before := s.WriteStats().Batches
	for range 5 {
		var wg sync.WaitGroup
		for _, rec := range recs {
			wg.Go(func() {
				next := rec.Clone()
				next.State = states.SmsSent
				err := s.Update(ctx, next, entry(now, states.SmsSent))
				bad := next.ID[:3] == "bad"
				switch {
				case bad && (err == nil || errors.Is(err, store.ErrConflict)):
					t.Errorf("flow %s: Update = %v, want the database's refusal", rec.ID, err)
				case !bad && err != nil:
					t.Errorf("flow %s: Update = %v", rec.ID, err)
				case !bad:
					*rec = *next
				}
			})
		}
		wg.Wait()
	}
	after := s.WriteStats().Batches
	if after-before >= 5*flows {
		t.Errorf("no writes met in a batch (%d batches for %d writes)", after-before, 5*flows)
	}
	for _, rec := range recs {
		got, err := s.Get(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(6)
		if rec.ID[:3] == "bad" {
			want = 1
		}
		if got.Version != want {
			t.Errorf("flow %s: version %d, want %d", rec.ID, got.Version, want)
		}
	}
}
