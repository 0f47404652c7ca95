package flow_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// TestEngine_OnStep: the hook hears of every entry the engine writes to a
// flow's history, steps, a reconciliation after a crash and an expiry by
// the sweeper alike, and of nothing else.
func TestEngine_OnStep(t *testing.T) {
	h := flowtest.New(t)
	var (
		mu    sync.Mutex
		heard []store.HistoryEntry
	)
	e, err := flow.New(h.Store, h.Ratio, flowtest.SealKey, flow.Options{Now: h.Clock.Now,
		OnStep: func(_ context.Context, kind transitions.Kind, entry store.HistoryEntry) {
			if kind != transitions.KindLink {
				t.Errorf("OnStep heard kind %q, want link", kind)
			}
			mu.Lock()
			defer mu.Unlock()
			heard = append(heard, entry)
		}})
	if err != nil {
		t.Fatal(err)
	}
	h.Engine = e
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toConflict(w, p))
	// A process dies during the send; this engine settles it and sends.
	stepAndDie(t, h, newDying(t, h.Ratio, true), v.ID, transitions.ConfirmPhone, flow.Input{})
	h.Clock.Advance(e.Policy().ResendCooldown) // past the lease and the lost code's cooldown
	if got, err := e.Step(ctx, v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{}); err != nil || got.State != states.SmsFirstSent {
		t.Fatalf("confirm after the lost send = %v, %v", got, err)
	}
	h.Clock.Advance(time.Hour)
	if n, err := e.Sweep(ctx, 10); n != 1 || err != nil {
		t.Fatalf("Sweep = %d, %v; want the flow expired", n, err)
	}

	hist, err := h.Store.History(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range hist {
		hist[i].Seq = 0 // the store numbers the entries; OnStep hears them before
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(hist, heard); diff != "" {
		t.Errorf("OnStep heard other entries than the history holds (-history +heard):\n%s", diff)
	}
	var outcomes []string
	for _, entry := range heard {
		outcomes = append(outcomes, entry.Event+":"+entry.Outcome)
	}
	want := []string{"start:ok", "sign:ok", "submit_phone:conflict", "confirm_phone:" + flow.OutcomeReconciled,
		"confirm_phone:ok", "expire:ok"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("entries heard (-want +got):\n%s", diff)
	}
}
