package flow_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
	"github.com/ratioflow/ratioflow/transitions"
)

var (
	oldKey = flow.SealKey{ID: "old", Key: flowtest.SealKey} // the harness's key, given an ID
	newKey = flow.SealKey{ID: "new", Key: bytes.Repeat([]byte{0x42}, 32)}
)

func ring(t *testing.T, keys ...flow.SealKey) *flow.Keyring {
	t.Helper()
	r, err := flow.NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ringEngine is an engine on h's store and sandbox with the keyring keys.
func ringEngine(t *testing.T, h *flowtest.Harness, st store.Store, keys *flow.Keyring) *flow.Engine {
	t.Helper()
	e, err := flow.New(st, h.Ratio, nil, flow.Options{Keys: keys, Now: h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startToPhone starts a link flow with a new wallet and signs it: it waits
// at WalletAuthed for a phone number.
func startToPhone(t *testing.T, h *flowtest.Harness) *flow.View {
	w := flowtest.NewWallet(t)
	return h.Run(transitions.KindLink, []flowtest.Step{
		{Name: "start", Input: flow.Input{WalletAddress: w.Address}, Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "sign", Event: transitions.Sign, Fill: flowtest.SignWith(w), Want: flowtest.Want{State: states.WalletAuthed}},
	})
}

// The rotation docs/operations.md describes, across a restart on SQLite:
// flows sealed under the old key open under a keyring that adds a new
// one, new writes use the new key, Reseal moves the rest, and then a
// keyring without the old key loses nothing.
func TestEngine_Reseal_RotatesKeysAcrossARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flows.db")
	first, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	h := flowtest.New(t, flowtest.Options{Store: first}) // its engine seals with the old key alone
	waiting, busy, ended := startToPhone(t, h), startToPhone(t, h), startToPhone(t, h)
	if _, err := h.Engine.Cancel(ctx, ended.ID, h.Subject); err != nil {
		t.Fatal(err)
	}
	before := views(t, h.Engine, h.Subject, waiting.ID, busy.ID, ended.ID)
	first.Close()

	// Restart with the new key first: the old flows open.
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rotated := ringEngine(t, h, st, ring(t, newKey, oldKey))
	if diff := cmp.Diff(before, views(t, rotated, h.Subject, waiting.ID, busy.ID, ended.ID)); diff != "" {
		t.Fatalf("views under the new keyring differ (-old engine +new):\n%s", diff)
	}
	// A new write uses the new key.
	phone := flowtest.NewPerson().Phone
	if v, err := rotated.Step(ctx, waiting.ID, h.Subject, transitions.SubmitPhone, flow.Input{PhoneNumber: phone}); err != nil || v.State != states.SmsSent {
		t.Fatalf("Step(submit_phone) under the new keyring = %v, %v", v, err)
	}
	// A step is in flight on busy: Reseal must leave it to that step.
	setPending(t, st, busy.ID, &store.PendingCall{Call: "sms:send", Event: "submit_phone", Key: "k",
		StartedAt: h.Clock.Now(), RenewedAt: h.Clock.Now()})
	recs, hists := snapshot(t, st, waiting.ID, busy.ID, ended.ID)

	res, err := rotated.Reseal(ctx)
	if err != nil {
		t.Fatalf("Reseal = %v", err)
	}
	want := flow.ResealResult{Sealing: "new", Resealed: 1, Keys: map[string]int{"new": 2, "old": 1}, Skipped: 1, Unopened: map[string]int{}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("Reseal (-want +got):\n%s", diff)
	}
	if got := res.Remaining(); !cmp.Equal(got, map[string]int{"old": 1}) {
		t.Errorf("Remaining = %v, want old: 1", got)
	}
	checkResealed(t, st, recs, hists, map[string]bool{ended.ID: true})

	// The step in flight finishes (its own write re-seals it); Reseal
	// then empties the old key's share, and a second run does nothing.
	setPending(t, st, busy.ID, nil)
	if res, err = rotated.Reseal(ctx); err != nil || res.Resealed != 1 || len(res.Remaining()) != 0 {
		t.Fatalf("second Reseal = %+v, %v; want 1 re-sealed, nothing remaining", res, err)
	}
	if res, err = rotated.Reseal(ctx); err != nil || res.Resealed != 0 || res.Keys["new"] != 3 {
		t.Fatalf("third Reseal = %+v, %v; want nothing to do, 3 under new", res, err)
	}

	// Drop the old key: nothing is lost, and the flows go on.
	dropped := ringEngine(t, h, st, ring(t, newKey))
	after := views(t, dropped, h.Subject, busy.ID, ended.ID)
	// Only the versions moved: Reseal wrote the flows.
	if diff := cmp.Diff(before[1:], after, cmpopts.IgnoreFields(flow.View{}, "Version")); diff != "" {
		t.Errorf("views after dropping the old key (-before +after):\n%s", diff)
	}
	v, err := dropped.Step(ctx, waiting.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: h.OTP(phone)})
	if err != nil || v.State != states.Authenticated {
		t.Fatalf("Step(submit_otp) after dropping the old key = %v, %v", v, err)
	}
	// The old key alone no longer opens them, and says which key it lacks.
	_, err = ringEngine(t, h, st, ring(t, oldKey)).Get(ctx, busy.ID, h.Subject)
	if !errors.Is(err, flow.ErrSealed) || !strings.Contains(err.Error(), `"new"`) {
		t.Errorf("Get with the old key only = %v, want ErrSealed naming key new", err)
	}
}

func views(t *testing.T, e *flow.Engine, subject string, ids ...string) []*flow.View {
	t.Helper()
	var vs []*flow.View
	for _, id := range ids {
		v, err := e.Get(context.Background(), id, subject)
		if err != nil {
			t.Fatalf("Get(%s) = %v", id, err)
		}
		vs = append(vs, v)
	}
	return vs
}

func setPending(t *testing.T, st store.Store, id string, p *store.PendingCall) {
	t.Helper()
	rec, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	rec.Pending = p
	if err := st.Update(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, st store.Store, ids ...string) (map[string]*store.Record, map[string][]store.HistoryEntry) {
	t.Helper()
	recs, hists := map[string]*store.Record{}, map[string][]store.HistoryEntry{}
	for _, id := range ids {
		rec, err := st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		h, err := st.History(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		recs[id], hists[id] = rec, h
	}
	return recs, hists
}

// checkResealed checks that Reseal changed the flows in resealed by their
// data and version only, and left the others and every history alone.
func checkResealed(t *testing.T, st store.Store, recs map[string]*store.Record, hists map[string][]store.HistoryEntry,
	resealed map[string]bool) {
	t.Helper()
	for id, was := range recs {
		rec, err := st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := st.History(context.Background(), id)
		if diff := cmp.Diff(hists[id], h); diff != "" {
			t.Errorf("flow %s: Reseal changed the history (-before +after):\n%s", id, diff)
		}
		want := was.Clone()
		if resealed[id] {
			if bytes.Equal(rec.Data, was.Data) {
				t.Errorf("flow %s: data not re-sealed", id)
			}
			want.Version++
			want.Data = rec.Data
		}
		if diff := cmp.Diff(want, rec); diff != "" {
			t.Errorf("flow %s: record after Reseal (-want +got):\n%s", id, diff)
		}
	}
}

// racingStore plays a writer that changes a flow just before each of
// Reseal's writes (an Update without history), races times.
type racingStore struct {
	store.Store
	mu    sync.Mutex
	races int
}

func (s *racingStore) Update(ctx context.Context, rec *store.Record, h ...store.HistoryEntry) error {
	s.mu.Lock()
	race := len(h) == 0 && s.races > 0
	if race {
		s.races--
	}
	s.mu.Unlock()
	if race {
		cur, err := s.Store.Get(ctx, rec.ID)
		if err != nil {
			return err
		}
		if err := s.Store.Update(ctx, cur); err != nil {
			return err
		}
	}
	return s.Store.Update(ctx, rec, h...)
}

func TestEngine_Reseal_RetriesAFlowThatChangedThenSkipsIt(t *testing.T) {
	for _, tt := range []struct {
		name  string
		races int
		want  flow.ResealResult
	}{
		{"changed once: retried", 1, flow.ResealResult{Sealing: "new", Resealed: 1, Keys: map[string]int{"new": 1}, Unopened: map[string]int{}}},
		{"keeps changing: skipped", 10, flow.ResealResult{Sealing: "new", Keys: map[string]int{"old": 1}, Skipped: 1, Unopened: map[string]int{}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := flowtest.New(t)
			startToPhone(t, h)
			res, err := ringEngine(t, h, &racingStore{Store: h.Store, races: tt.races}, ring(t, newKey, oldKey)).Reseal(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, res); diff != "" {
				t.Errorf("Reseal (-want +got):\n%s", diff)
			}
		})
	}
}

// A flow sealed under a key no longer in the ring is counted, by the key
// its data names, and left alone; a flow scrubbed of its data is not
// counted at all.
func TestEngine_Reseal_CountsWhatItCannotOpen(t *testing.T) {
	ctx := context.Background()
	h := flowtest.New(t)
	v := startToPhone(t, h) // under the harness key: no ID
	was, _ := h.Store.Get(ctx, v.ID)
	second := ringEngine(t, h, h.Store, ring(t, newKey))
	w := flowtest.NewWallet(t)
	if _, err := second.Start(ctx, transitions.KindLink, h.Subject, flow.Input{WalletAddress: w.Address}); err != nil {
		t.Fatal(err)
	}
	lost := flow.SealKey{ID: "lost", Key: bytes.Repeat([]byte{9}, 32)}
	res, err := ringEngine(t, h, h.Store, ring(t, lost)).Reseal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := flow.ResealResult{Sealing: "lost", Keys: map[string]int{}, Unopened: map[string]int{"": 1, "new": 1}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Reseal (-want +got):\n%s", diff)
	}
	if rec, _ := h.Store.Get(ctx, v.ID); rec.Version != was.Version {
		t.Errorf("a flow Reseal cannot open was written: version %d, was %d", rec.Version, was.Version)
	}
}

// A flow re-sealed under an engine that holds it in its cache goes on: the
// engine's stale copy fails its first write, and the step runs again from
// the store. The engine is one of the first rollout phase, where the new
// key is listed but does not seal yet.
func TestEngine_Reseal_RunningFlowGoesOn(t *testing.T) {
	ctx := context.Background()
	h := flowtest.New(t)
	v := startToPhone(t, h)
	phase1 := ringEngine(t, h, h.Store, ring(t, oldKey, newKey))
	phone := flowtest.NewPerson().Phone
	if _, err := phase1.Step(ctx, v.ID, h.Subject, transitions.SubmitPhone, flow.Input{PhoneNumber: phone}); err != nil {
		t.Fatal(err)
	}
	res, err := ringEngine(t, h, h.Store, ring(t, newKey, oldKey)).Reseal(ctx)
	if err != nil || res.Resealed != 1 {
		t.Fatalf("Reseal = %+v, %v; want 1 re-sealed", res, err)
	}
	got, err := phase1.Step(ctx, v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: h.OTP(phone)})
	if err != nil || got.State != states.Authenticated {
		t.Fatalf("Step after Reseal = %v, %v; want Authenticated", got, err)
	}
}
