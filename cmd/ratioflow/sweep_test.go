package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// TestSweepOnce: serve's sweeper expires the flows past their deadline,
// then applies its retention policy to every ended flow, and logs both;
// a flow still running is left alone.
func TestSweepOnce(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	defer st.Close()
	sb := ratiotest.NewServer(t)
	key := bytes.Repeat([]byte{7}, 32)
	canceled := startLink(t, st, sb, key, time.Now)
	stale := startLink(t, st, sb, key, func() time.Time { return time.Now().Add(-time.Hour) })
	running := startLink(t, st, sb, key, time.Now)
	eng, err := flow.New(st, ratio.NewClient(sb.URL, "test", "test"), key, flow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Cancel(ctx, canceled, "tester"); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	sweepOnce(ctx, eng, st, store.Retention{}, log) // no policy: expire only
	for id, want := range map[string]states.State{canceled: states.Canceled, stale: states.Expired, running: states.ChallengeIssued} {
		rec, err := st.Get(ctx, id)
		if err != nil || rec.State != want || rec.Data == nil {
			t.Fatalf("after a sweep with no retention: flow %s = %+v, %v; want %s with its data", id, rec, err, want)
		}
	}
	if !strings.Contains(logs.String(), "swept expired flows") || strings.Contains(logs.String(), "purged") {
		t.Errorf("log of a sweep with no retention:\n%s", logs.String())
	}

	time.Sleep(time.Millisecond)
	sweepOnce(ctx, eng, st, store.Retention{KeepData: time.Microsecond}, log)
	for _, id := range []string{canceled, stale} {
		if rec, err := st.Get(ctx, id); err != nil || rec.Data != nil {
			t.Errorf("after --keep-data: ended flow %s = %+v, %v; want it kept without its data", id, rec, err)
		}
	}
	if rec, err := st.Get(ctx, running); err != nil || rec.Data == nil {
		t.Errorf("after --keep-data: running flow = %+v, %v; want it untouched", rec, err)
	}
	if !strings.Contains(logs.String(), "scrubbed_flows=2") {
		t.Errorf("log after --keep-data lacks scrubbed_flows=2:\n%s", logs.String())
	}

	sweepOnce(ctx, eng, st, store.Retention{KeepHistory: time.Microsecond}, log)
	for _, id := range []string{canceled, stale} {
		if _, err := st.Get(ctx, id); err == nil {
			t.Errorf("after --keep-history: ended flow %s is still stored", id)
		}
	}
	if _, err := st.Get(ctx, running); err != nil {
		t.Errorf("after --keep-history: running flow = %v; want it untouched", err)
	}
	if !strings.Contains(logs.String(), "deleted_flows=2") {
		t.Errorf("log after --keep-history lacks deleted_flows=2:\n%s", logs.String())
	}
}
