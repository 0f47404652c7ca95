package flow_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// The edge sweep: for every state of every story and every transition the
// state permits, make the sandbox answer each error class the way Ratio
// would (a 409, a 429, a 401, a 400, a 503, a wrong code) and check that
// the engine takes the edge the table declares, with the outcome recorded
// in the audit history. Cancel and expiry are tried in every state too.

// injections are the sandbox answers that produce each error class.
func injection(o transitions.Outcome, op ratio.Op) func(h *flowtest.Harness) {
	transient := 3 // the client retries reads twice in tests
	if op.SideEffect() {
		transient = 1 // and never a side effect or an authentication
	}
	switch o {
	case transitions.Conflict:
		return flowtest.FailNext(op, 1, http.StatusConflict)
	case transitions.RateLimited:
		return flowtest.RateLimitNext(op, 1, time.Second)
	case transitions.ExpiredJWT:
		return flowtest.FailNext(op, 1, http.StatusUnauthorized)
	case transitions.InvalidInput:
		return flowtest.FailNext(op, 1, http.StatusBadRequest)
	case transitions.Transient:
		return flowtest.FailNext(op, transient, http.StatusServiceUnavailable)
	}
	return nil
}

// position is where a state shows in a story: the step after which the
// flow rests in it, or the step during which it passes through it (its
// automatic transition fires).
type position struct {
	story   story
	step    int
	passing bool
}

// positions runs each story once and finds, per flow kind, where each
// non-terminal state first shows.
func positions(t *testing.T) map[transitions.Kind]map[states.State]position {
	out := map[transitions.Kind]map[states.State]position{}
	for _, s := range stories(t) {
		if out[s.kind] == nil {
			out[s.kind] = map[states.State]position{}
		}
		h := flowtest.New(t)
		if s.setup != nil {
			s.setup(h)
		}
		if f, _ := transitions.Lookup(s.kind); f != nil {
			if _, auto := f.Auto(f.Initial); auto {
				if _, ok := out[s.kind][f.Initial]; !ok {
					out[s.kind][f.Initial] = position{story: s, step: 0, passing: true}
				}
			}
		}
		seen := 0
		for i := range s.steps {
			v := h.Run(s.kind, append([]flowtest.Step(nil), s.steps[:i+1]...))
			hist, err := h.Store.History(context.Background(), v.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range hist[seen:] {
				if _, ok := out[s.kind][e.To]; !ok && !e.To.Terminal() && e.To != v.State {
					out[s.kind][e.To] = position{story: s, step: i, passing: true}
				}
			}
			if _, ok := out[s.kind][v.State]; !ok && !v.State.Terminal() {
				out[s.kind][v.State] = position{story: s, step: i}
			}
			seen = len(hist)
			// Each Run starts a new flow: reset the harness for the next prefix.
			h = flowtest.New(t)
			if s.setup != nil {
				s.setup(h)
			}
		}
	}
	return out
}

// settle follows the automatic transitions from s, as the engine does
// after a step, assuming they succeed.
func settle(f *transitions.Flow, s states.State) states.State {
	for range 16 {
		t, ok := f.Auto(s)
		if !ok {
			return s
		}
		e, _ := t.Edge(transitions.OK)
		if e.Dest(s) == s {
			return s
		}
		s = e.Dest(s)
	}
	return s
}

// input returns the input a probe fires event with in state s.
func input(st story, s states.State, e transitions.Event, wrongCode bool) (flow.Input, func(*flowtest.Harness, *flow.View) flow.Input) {
	switch e {
	case transitions.Sign:
		return flow.Input{}, flowtest.SignWith(st.wallet)
	case transitions.SubmitPhone:
		return flow.Input{PhoneNumber: st.phone}, nil
	case transitions.SubmitEmail:
		return flow.Input{EmailAddress: st.email}, nil
	case transitions.SubmitOTP:
		to := st.phone
		if s == states.EmailSent {
			to = st.email
		}
		if wrongCode {
			return flow.Input{}, flowtest.WrongCodeFor(to)
		}
		return flow.Input{}, flowtest.CodeSentTo(to)
	}
	return flow.Input{}, nil
}

func TestEdgeSweep(t *testing.T) {
	pos := positions(t)
	for _, f := range transitions.All() {
		for _, s := range f.States() {
			if s.Terminal() {
				continue
			}
			p, ok := pos[f.Kind][s]
			if !ok {
				t.Errorf("%s: no story reaches state %s", f.Kind, s)
				continue
			}
			for _, tr := range f.Permitted(s) {
				for _, o := range probeOutcomes(tr) {
					name := fmt.Sprintf("%s/%s/%s/%s", f.Kind, s, tr.Event, o)
					t.Run(name, func(t *testing.T) { probe(t, f, s, p, tr, o) })
				}
			}
		}
	}
}

// probeOutcomes lists the outcomes a probe can provoke for t.
func probeOutcomes(t *transitions.Transition) []transitions.Outcome {
	switch {
	case t.Event == transitions.Cancel || t.Event == transitions.Expire:
		return []transitions.Outcome{transitions.OK}
	case t.Call == transitions.NoCall:
		return nil
	}
	out := []transitions.Outcome{transitions.Conflict, transitions.RateLimited, transitions.ExpiredJWT,
		transitions.InvalidInput, transitions.Transient}
	if t.Call == transitions.CallAuthenticateSMS || t.Call == transitions.CallAuthenticateEmail {
		out = append(out, transitions.InvalidOTP)
	}
	return out
}

func probe(t *testing.T, f *transitions.Flow, s states.State, p position, tr *transitions.Transition, o transitions.Outcome) {
	h := flowtest.New(t)
	if p.story.setup != nil {
		p.story.setup(h)
	}
	edge, _ := tr.Edge(o)
	want := edge.Dest(s)
	if want != s {
		want = settle(f, want)
	}
	var wantErr error
	if want == s && o != transitions.OK {
		wantErr = flow.ErrStepFailed
	}
	steps := append([]flowtest.Step(nil), p.story.steps[:p.step+1]...)
	last := &steps[len(steps)-1]
	var fault func(*flowtest.Harness)
	if o != transitions.OK && o != transitions.InvalidOTP {
		fault = injection(o, ratio.Op(tr.Call))
	}
	switch {
	case p.passing && tr.Auto:
		// The state is passed through during the last step: make its
		// automatic call fail there.
		last.Before, last.Want, last.WantErr = fault, flowtest.Want{State: want}, wantErr
		if o == transitions.OK {
			return // cancel and expire of a passing state are probed below
		}
	case p.passing:
		// Hold the flow in the passing state by making its automatic call
		// fail transiently, then fire the event.
		auto, _ := f.Auto(s)
		last.Before = injection(transitions.Transient, ratio.Op(auto.Call))
		last.Want, last.WantErr = flowtest.Want{State: s}, flow.ErrStepFailed
		steps = append(steps, eventStep(p.story, s, tr, o, fault, want, wantErr))
	default:
		if tr.Auto {
			return // a resting state has no automatic transition
		}
		steps = append(steps, eventStep(p.story, s, tr, o, fault, want, wantErr))
	}
	if tr.Event == transitions.Expire {
		steps[len(steps)-1] = flowtest.Step{Name: "past the deadline", Resume: true,
			Advance: h.Engine.Policy().StateTTL, Want: flowtest.Want{State: states.Expired}, WantErr: flow.ErrExpired}
	}
	v := h.Run(f.Kind, steps)
	hist, err := h.Store.History(context.Background(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hist {
		if e.From == s && e.Event == string(tr.Event) && e.Outcome == string(o) {
			return
		}
	}
	t.Errorf("history of the probe holds no %s --%s/%s--> entry: %+v", s, tr.Event, o, hist)
}

func eventStep(st story, s states.State, tr *transitions.Transition, o transitions.Outcome,
	fault func(*flowtest.Harness), want states.State, wantErr error) flowtest.Step {
	in, fill := input(st, s, tr.Event, o == transitions.InvalidOTP)
	step := flowtest.Step{Name: fmt.Sprintf("%s answered %s", tr.Event, o), Event: tr.Event, Input: in, Fill: fill,
		Before: fault, Want: flowtest.Want{State: want}, WantErr: wantErr}
	if tr.Event == transitions.ResendOTP {
		step.Advance = time.Minute // past the resend cooldown
	}
	return step
}
