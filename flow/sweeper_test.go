package flow_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// TestSweeper_Once: a sweep expires the flows past their deadline, then
// applies its retention policy to every ended flow, and logs both; a flow
// still running is left alone.
func TestSweeper_Once(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	start := func() string {
		v, err := h.Engine.Start(ctx, transitions.KindLink, h.Subject, flow.Input{WalletAddress: flowtest.NewWallet(t).Address})
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	canceled, stale := start(), start()
	if _, err := h.Engine.Cancel(ctx, canceled, h.Subject); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(h.Engine.Policy().StateTTL) // stale is past its deadline now
	running := start()
	var logs bytes.Buffer
	s := &flow.Sweeper{Engine: h.Engine, Logger: slog.New(slog.NewTextHandler(&logs, nil))}

	res, err := s.Once(ctx) // no policy: expire only
	if err != nil || res.Expired != 1 || res.Purged != (store.PurgeResult{}) {
		t.Fatalf("sweep with no retention = %+v, %v; want 1 expired, nothing purged", res, err)
	}
	for id, want := range map[string]states.State{canceled: states.Canceled, stale: states.Expired, running: states.ChallengeIssued} {
		rec, err := h.Store.Get(ctx, id)
		if err != nil || rec.State != want || rec.Data == nil {
			t.Fatalf("after a sweep with no retention: flow %s = %+v, %v; want %s with its data", id, rec, err, want)
		}
	}
	if !strings.Contains(logs.String(), "swept expired flows") || strings.Contains(logs.String(), "purged") {
		t.Errorf("log of a sweep with no retention:\n%s", logs.String())
	}

	h.Clock.Advance(time.Millisecond)
	s.Retention = store.Retention{KeepData: time.Microsecond}
	if res, err := s.Once(ctx); err != nil || res.Purged.Scrubbed != 2 {
		t.Fatalf("sweep with KeepData = %+v, %v; want 2 scrubbed", res, err)
	}
	for _, id := range []string{canceled, stale} {
		if rec, err := h.Store.Get(ctx, id); err != nil || rec.Data != nil {
			t.Errorf("after KeepData: ended flow %s = %+v, %v; want it kept without its data", id, rec, err)
		}
	}
	if rec, err := h.Store.Get(ctx, running); err != nil || rec.Data == nil {
		t.Errorf("after KeepData: running flow = %+v, %v; want it untouched", rec, err)
	}

	s.Retention = store.Retention{KeepHistory: time.Microsecond}
	if res, err := s.Once(ctx); err != nil || res.Purged.Deleted != 2 {
		t.Fatalf("sweep with KeepHistory = %+v, %v; want 2 deleted", res, err)
	}
	for _, id := range []string{canceled, stale} {
		if _, err := h.Store.Get(ctx, id); err == nil {
			t.Errorf("after KeepHistory: ended flow %s is still stored", id)
		}
	}
	if _, err := h.Store.Get(ctx, running); err != nil {
		t.Errorf("after KeepHistory: running flow = %v; want it untouched", err)
	}
	if !strings.Contains(logs.String(), "deleted_flows=2") {
		t.Errorf("log after KeepHistory lacks deleted_flows=2:\n%s", logs.String())
	}
}

// TestSweeper_RunStopsWithItsContext: Run returns once its context ends.
func TestSweeper_RunStopsWithItsContext(t *testing.T) {
	h := flowtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&flow.Sweeper{Engine: h.Engine, Interval: time.Millisecond}).Run(ctx) }()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}
