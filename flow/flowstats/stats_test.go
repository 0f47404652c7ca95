package flowstats_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/transitions"
)

var t0 = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

// step is one history entry, at a time after the flow's creation.
type step struct {
	after   time.Duration
	from    states.State
	event   transitions.Event
	outcome transitions.Outcome
	to      states.State
}

// seedFlow stores a link flow created at created that took steps; it ends
// if its last step reaches a terminal state.
func seedFlow(tb testing.TB, s store.Store, id string, created time.Time, steps ...step) {
	tb.Helper()
	rec := &store.Record{ID: id, Kind: string(transitions.KindLink), State: states.New, Subject: "s",
		CreatedAt: created, UpdatedAt: created}
	var hs []store.HistoryEntry
	for _, st := range steps {
		at := created.Add(st.after)
		hs = append(hs, store.HistoryEntry{At: at, From: st.from, To: st.to, Event: string(st.event), Outcome: string(st.outcome)})
		rec.State, rec.UpdatedAt = st.to, at
	}
	if rec.State.Terminal() {
		rec.EndedAt = rec.UpdatedAt
	}
	if err := s.Create(tb.Context(), rec, hs...); err != nil {
		tb.Fatal(err)
	}
}

// The first steps of every link flow.
func started(wallet transitions.Outcome, at ...time.Duration) []step {
	return []step{
		{at[0], states.New, transitions.Start, transitions.OK, states.ChallengeIssued},
		{at[1], states.ChallengeIssued, transitions.Sign, wallet, states.WalletAuthed},
	}
}

// seedLink stores six link flows whose figures the tests know.
func seedLink(tb testing.TB, s store.Store, now time.Time) {
	s1, s2, s3 := time.Second, 2*time.Second, 3*time.Second
	// A returning user hits the 409 and links the wallet.
	seedFlow(tb, s, "f1", t0, append(started(transitions.OK, s1, 11*s1),
		step{21 * s1, states.WalletAuthed, transitions.SubmitPhone, transitions.Conflict, states.PhoneConflict},
		step{41 * s1, states.PhoneConflict, transitions.ConfirmPhone, transitions.OK, states.SmsFirstSent},
		step{50 * s1, states.SmsFirstSent, transitions.SubmitOTP, transitions.InvalidOTP, states.SmsFirstSent},
		step{61 * s1, states.SmsFirstSent, transitions.SubmitOTP, transitions.OK, states.SmsVerified},
		step{71 * s1, states.SmsVerified, transitions.SubmitEmail, transitions.OK, states.EmailSent},
		step{81 * s1, states.EmailSent, transitions.SubmitOTP, transitions.OK, states.EmailVerified},
		step{82 * s1, states.EmailVerified, transitions.AddWallet, transitions.OK, states.Linked})...)
	// Another hits the 409 and lets the flow expire (new_user is sign's ok edge).
	seedFlow(tb, s, "f2", t0.Add(time.Minute), append(started(transitions.NewUser, s1, s3),
		step{5 * s1, states.WalletAuthed, transitions.SubmitPhone, transitions.Conflict, states.PhoneConflict},
		step{305 * s1, states.PhoneConflict, transitions.Expire, transitions.OK, states.Expired})...)
	// A new user cancels while waiting for the SMS.
	seedFlow(tb, s, "f3", t0.Add(2*time.Minute), append(started(transitions.OK, s1, 4*s1),
		step{6 * s1, states.WalletAuthed, transitions.SubmitPhone, transitions.OK, states.SmsSent},
		step{66 * s1, states.SmsSent, transitions.Cancel, transitions.OK, states.Canceled})...)
	// One left after signing, long ago: abandoned.
	seedFlow(tb, s, "f4", t0.Add(3*time.Minute), started(transitions.OK, s1, s2)...)
	// One started two minutes before the report: running.
	seedFlow(tb, s, "f5", now.Add(-2*time.Minute), started(transitions.OK, s1, s2)[:1]...)
	// One whose step a dead process left, reconciled: an edge no table
	// declares; then abandoned.
	seedFlow(tb, s, "f6", t0.Add(4*time.Minute), started(transitions.OK, s1, 0)[0],
		step{2 * time.Minute, states.ChallengeIssued, transitions.Sign, "reconciled", states.ChallengeIssued})
}

func TestRead_Link(t *testing.T) {
	s := memstore.New()
	now := t0.Add(time.Hour)
	seedLink(t, s, now)
	all, err := flowstats.Read(t.Context(), s, store.Query{}, flowstats.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Kind != transitions.KindLink || all[0].Flows != 6 {
		t.Fatalf("Read() = %d kinds, want link's 6 flows", len(all))
	}
	st := all[0]

	wantEnds := map[flowstats.Ending]int64{"Linked": 1, "Authenticated": 0, "Failed": 0, "Expired": 1, "Canceled": 1, "running": 1, "abandoned": 2}
	if st.Finished != 1 {
		t.Errorf("Finished = %d, want 1", st.Finished)
	}
	if len(st.Ends) != len(wantEnds) {
		t.Errorf("Ends = %+v, want %d endings", st.Ends, len(wantEnds))
	}
	for e, n := range wantEnds {
		if c := st.Ended(e); c.Flows != n || c.Share != float64(n)/6 {
			t.Errorf("Ended(%s) = %+v, want %d flows, share %v", e, c, n, float64(n)/6)
		}
	}

	edges := []struct {
		edge         flowstats.Edge
		times, flows int64
		ends         string
		declared     bool
	}{
		{flowstats.Edge{states.New, transitions.Start, transitions.OK, states.ChallengeIssued}, 6, 6,
			"[abandoned 2, Canceled 1, Expired 1, Linked 1, running 1]", true},
		{flowstats.Edge{states.ChallengeIssued, transitions.Sign, transitions.OK, states.WalletAuthed}, 4, 4,
			"[Canceled 1, Expired 1, Linked 1, abandoned 1]", true},
		{flowstats.Edge{states.WalletAuthed, transitions.SubmitPhone, transitions.Conflict, states.PhoneConflict}, 2, 2,
			"[Expired 1, Linked 1]", true},
		{flowstats.Edge{states.SmsFirstSent, transitions.SubmitOTP, transitions.InvalidOTP, states.SmsFirstSent}, 1, 1,
			"[Linked 1]", true},
		{flowstats.Edge{states.PhoneConflict, transitions.Expire, transitions.OK, states.Expired}, 1, 1, "[Expired 1]", true},
		{flowstats.Edge{states.SmsSent, transitions.Cancel, transitions.OK, states.Canceled}, 1, 1, "[Canceled 1]", true},
		{flowstats.Edge{states.EmailVerified, transitions.AddWallet, transitions.OK, states.Linked}, 1, 1, "[Linked 1]", true},
		{flowstats.Edge{states.ChallengeIssued, transitions.Sign, "reconciled", states.ChallengeIssued}, 1, 1, "[abandoned 1]", false},
		{flowstats.Edge{states.WalletAuthed, transitions.Cancel, transitions.OK, states.Canceled}, 0, 0, "[]", true},
	}
	var times int64
	for _, es := range st.Edges {
		times += es.Times
	}
	if times != 22 {
		t.Errorf("the edges count %d steps, want the 22 of the histories", times)
	}
	for _, tt := range edges {
		es, ok := st.Edge(tt.edge)
		if !ok {
			t.Errorf("Edge(%+v) missing", tt.edge)
			continue
		}
		if es.Finished != int64(strings.Count(tt.ends, "Linked")) {
			t.Errorf("Edge(%+v).Finished = %d, want the flows that reached Linked", tt.edge, es.Finished)
		}
		if es.Times != tt.times || es.Flows != tt.flows || es.Declared != tt.declared || endsString(es.Ends) != tt.ends {
			t.Errorf("Edge(%+v) = %d times, %d flows, declared %v, ends %s; want %d, %d, %v, %s", tt.edge,
				es.Times, es.Flows, es.Declared, endsString(es.Ends), tt.times, tt.flows, tt.declared, tt.ends)
		}
	}

	wantStates := []struct {
		state                                         states.State
		visits                                        int64
		median                                        time.Duration
		expired, canceled, failed, abandoned, running int64
	}{
		{states.New, 6, time.Second, 0, 0, 0, 0, 0},
		{states.ChallengeIssued, 4, 2 * time.Second, 0, 0, 0, 1, 1}, // stays 1, 2, 3, 10s
		{states.WalletAuthed, 3, 2 * time.Second, 0, 0, 0, 1, 0},    // 2, 2, 10s
		{states.PhoneConflict, 2, 20 * time.Second, 1, 0, 0, 0, 0},  // 20, 300s: the lower median
		{states.SmsSent, 1, time.Minute, 0, 1, 0, 0, 0},
		{states.SmsFirstSent, 1, 20 * time.Second, 0, 0, 0, 0, 0}, // a wrong code does not end a stay
		{states.Linked, 0, 0, 0, 0, 0, 0, 0},
	}
	for _, w := range wantStates {
		got, ok := stateStats(st, w.state)
		if !ok {
			t.Errorf("state %s missing", w.state)
			continue
		}
		if got.Stays != w.visits || !near(got.Median, w.median) {
			t.Errorf("%s: %d visits, median %v; want %d, %v within %.2f%%", w.state, got.Stays, got.Median, w.visits, w.median, 100*flowstats.MedianError)
		}
		stops := [5]int64{got.Expired, got.Canceled, got.Failed, got.Abandoned, got.Running}
		if want := [5]int64{w.expired, w.canceled, w.failed, w.abandoned, w.running}; stops != want {
			t.Errorf("%s stops (expired, canceled, failed, abandoned, running) = %v, want %v", w.state, stops, want)
		}
	}
}

// StateTTL decides which running flows are abandoned.
func TestRead_StateTTL(t *testing.T) {
	s := memstore.New()
	now := t0.Add(time.Hour)
	seedLink(t, s, now)
	all, err := flowstats.Read(t.Context(), s, store.Query{Kind: "link"},
		flowstats.Options{StateTTL: 2 * time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if r, a := all[0].Ended(flowstats.Running).Flows, all[0].Ended(flowstats.Abandoned).Flows; r != 3 || a != 0 {
		t.Errorf("with a 2h StateTTL: %d running, %d abandoned; want 3, 0", r, a)
	}
}

// Read reads every page, and the flows of each kind apart.
func TestRead_Pages(t *testing.T) {
	s := memstore.New()
	const n = 2*store.MaxPageSize + 7
	for i := range n {
		kind := transitions.KindLink
		if i%3 == 0 {
			kind = transitions.KindSignIn
		}
		rec := &store.Record{ID: fmt.Sprintf("f%05d", i), Kind: string(kind), State: states.ChallengeIssued,
			CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
		h := store.HistoryEntry{At: rec.CreatedAt.Add(time.Second), From: states.New, To: states.ChallengeIssued,
			Event: "start", Outcome: "ok"}
		if err := s.Create(t.Context(), rec, h); err != nil {
			t.Fatal(err)
		}
	}
	all, err := flowstats.Read(t.Context(), s, store.Query{Limit: 5}, flowstats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Kind != transitions.KindLink || all[1].Kind != transitions.KindSignIn {
		t.Fatalf("Read() = %d kinds, want link and signin", len(all))
	}
	start := flowstats.Edge{states.New, transitions.Start, transitions.OK, states.ChallengeIssued}
	for _, st := range all {
		want := int64((n + 2) / 3) // i%3 == 0
		if st.Kind == transitions.KindLink {
			want = n - want
		}
		if es, _ := st.Edge(start); st.Flows != want || es.Flows != want {
			t.Errorf("%s: %d flows, %d took start; want %d", st.Kind, st.Flows, es.Flows, want)
		}
	}
}

// stateStats returns the figures of state s.
func stateStats(st *flowstats.Stats, s states.State) (flowstats.StateStats, bool) {
	for _, ss := range st.States {
		if ss.State == s {
			return ss, true
		}
	}
	return flowstats.StateStats{}, false
}

// near reports whether got is within MedianError of want.
func near(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= flowstats.MedianError*float64(want)
}

func endsString(cs []flowstats.Count) string {
	s := "["
	for i, c := range cs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", c.Ending, c.Flows)
	}
	return s + "]"
}

// The median of many stays is within MedianError of the exact lower
// median, from microseconds to weeks.
func TestMedian_WithinError(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tt := range []struct {
		name     string
		n        int
		min, max time.Duration
	}{
		{"microseconds", 101, time.Microsecond, time.Millisecond},
		{"seconds", 1000, time.Second, time.Minute},
		{"minutes to weeks", 4001, time.Minute, 30 * 24 * time.Hour},
		{"one", 1, 7 * time.Second, 7 * time.Second},
	} {
		c := flowstats.NewCollector(flowstats.Options{})
		var stays []time.Duration
		for range tt.n {
			// Log-uniform, at the stores' microsecond precision.
			d := time.Duration(float64(tt.min) * math.Pow(float64(tt.max)/float64(tt.min), rng.Float64())).Truncate(time.Microsecond)
			stays = append(stays, d)
			rec := &store.Record{Kind: "link", State: states.ChallengeIssued, CreatedAt: t0}
			c.Add(rec, []store.HistoryEntry{{At: t0.Add(d), From: states.New, To: states.ChallengeIssued, Event: "start", Outcome: "ok"}})
		}
		slices.Sort(stays)
		want := stays[(len(stays)-1)/2]
		got, _ := stateStats(c.Stats()[0], states.New)
		if !near(got.Median, want) {
			t.Errorf("%s: median %v, want %v within %.2f%%", tt.name, got.Median, want, 100*flowstats.MedianError)
		}
	}
}

// A kind no table declares is counted all the same, every edge undeclared.
func TestCollector_UndeclaredKind(t *testing.T) {
	c := flowstats.NewCollector(flowstats.Options{Now: func() time.Time { return t0.Add(time.Hour) }})
	rec := &store.Record{Kind: "teleport", State: "Arrived", CreatedAt: t0, EndedAt: t0.Add(time.Minute)}
	c.Add(rec, []store.HistoryEntry{{At: t0.Add(time.Minute), From: "Here", To: "Arrived", Event: "beam", Outcome: "ok"}})
	all := c.Stats()
	if len(all) != 1 || all[0].Kind != "teleport" || all[0].Flows != 1 {
		t.Fatalf("Stats() = %d kinds, want teleport's one flow", len(all))
	}
	es, ok := all[0].Edge(flowstats.Edge{From: "Here", Event: "beam", Outcome: "ok", To: "Arrived"})
	if !ok || es.Declared || es.Times != 1 || es.Flows != 1 {
		t.Errorf("Edge(beam) = %+v, %v; want one undeclared step", es, ok)
	}
	if c := all[0].Ended("Arrived"); c.Flows != 1 || c.Share != 1 {
		t.Errorf("Ended(Arrived) = %+v, want 1 flow, share 1", c)
	}
}
