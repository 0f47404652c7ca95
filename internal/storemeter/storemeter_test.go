package storemeter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/internal/storemeter"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// slowStore takes a known time per call, so that the meter's sums can be
// checked without a clock race: every call takes at least pause.
type slowStore struct {
	store.Store
	pause time.Duration
}

func (s slowStore) Get(ctx context.Context, id string) (*store.Record, error) {
	time.Sleep(s.pause)
	return s.Store.Get(ctx, id)
}

func TestMeter_CountsAndSteps(t *testing.T) {
	ctx := context.Background()
	m := &storemeter.Meter{}
	const pause = 2 * time.Millisecond
	st := m.Wrap(slowStore{Store: memstore.New(), pause: pause})
	rec := &store.Record{ID: "f1", Subject: "s", Kind: "link", State: "New"}

	sctx, done := m.Step(ctx)
	if err := st.Create(sctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(sctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(sctx, "f1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(sctx, "f1"); err != nil {
		t.Fatal(err)
	}
	done()
	// A failed write counts too: it cost a round trip.
	stale := *rec
	stale.Version = 1
	if err := st.Update(ctx, &stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update = %v, want ErrConflict", err)
	}
	if _, err := st.History(ctx, "f1"); err != nil {
		t.Fatal(err)
	}

	calls, writes := m.Counts()
	if calls != 6 || writes != 3 {
		t.Errorf("Counts = %d calls, %d writes; want 6, 3", calls, writes)
	}
	if m.Steps() != 1 {
		t.Fatalf("Steps = %d, want 1 (calls outside a step are not steps)", m.Steps())
	}
	// The step made two slow Gets: its store time is at least both pauses.
	if got := m.StepPercentile(50); got < 2*pause {
		t.Errorf("step store time = %v, want at least %v", got, 2*pause)
	}
	_, done = m.Step(ctx)
	done()
	if m.StepPercentile(0) != 0 || m.StepPercentile(100) < 2*pause {
		t.Errorf("percentiles = %v..%v, want 0 for the empty step, the slow one last", m.StepPercentile(0), m.StepPercentile(100))
	}
}

func TestMeter_Empty(t *testing.T) {
	m := &storemeter.Meter{}
	if m.StepPercentile(50) != 0 || m.Steps() != 0 {
		t.Error("an empty meter measures nothing")
	}
}
