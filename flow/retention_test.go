package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// TestEngine_PurgedFlowStillAnswers: a retention policy scrubs an ended
// flow's sealed data (store.Retention.KeepData) but keeps its record and
// history. The flow must still answer Get, History and Cancel as the
// ended flow it is, with no data to show, rather than fail on data that
// is gone.
func TestEngine_PurgedFlowStillAnswers(t *testing.T) {
	h := flowtest.New(t)
	w := flowtest.NewWallet(t)
	ctx := context.Background()
	started, err := h.Engine.Start(ctx, transitions.KindLink, h.Subject, flow.Input{WalletAddress: w.Address})
	if err != nil {
		t.Fatal(err)
	}
	canceled, err := h.Engine.Cancel(ctx, started.ID, h.Subject)
	if err != nil || canceled.State != states.Canceled {
		t.Fatalf("Cancel = %v, %v", canceled, err)
	}
	h.Clock.Advance(2 * time.Hour)
	res, err := h.Store.Purge(ctx, h.Clock.Now(), store.Retention{KeepData: time.Hour})
	if err != nil || res.Scrubbed != 1 {
		t.Fatalf("Purge = %+v, %v; want one flow scrubbed", res, err)
	}
	for name, e := range map[string]*flow.Engine{"the engine that ended it": h.Engine, "another engine": h.NewEngine()} {
		v, err := e.Get(ctx, started.ID, h.Subject)
		if err != nil {
			t.Fatalf("%s: Get of a scrubbed flow = %v", name, err)
		}
		if v.State != states.Canceled || !v.Terminal || v.ID != started.ID || !v.CreatedAt.Equal(started.CreatedAt) {
			t.Errorf("%s: view = %+v, want the canceled flow", name, v)
		}
		if v.WalletAddress != "" || v.Challenge != "" || len(v.Next) != 0 {
			t.Errorf("%s: a scrubbed flow shows data: wallet %q, challenge %q, next %v", name, v.WalletAddress, v.Challenge, v.Next)
		}
		if hist, err := e.History(ctx, started.ID, h.Subject); err != nil || len(hist) != 2 {
			t.Errorf("%s: History = %d entries, %v; want start and cancel", name, len(hist), err)
		}
		if _, err := e.Cancel(ctx, started.ID, h.Subject); err == nil {
			t.Errorf("%s: Cancel of an ended flow succeeded", name)
		}
	}
}
