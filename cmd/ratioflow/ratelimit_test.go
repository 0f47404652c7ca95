package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
)

// TestScenario_PersistentRateLimit: Ratio answers every send 429 with a
// Retry-After. The step answers the frontend 429 rate_limited at once,
// with a Retry-After no shorter than Ratio's, having asked Ratio once
// (no sleeping a long Retry-After inside the request); a frontend that
// waits as told (on the engine's clock) then steps without too_early.
func TestScenario_PersistentRateLimit(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			clock := sandbox.NewClock(time.Now())
			gate := newRatioGate(t, sandbox.Config{Now: clock.Now})
			s := newServed(t, openTestStore(t, newStoreURL(t, backend)), gate, flow.Options{Now: clock.Now})
			var tl tally
			p := newPerson(t, s.client("rate-limited"), gate.sandbox, 0, &tl)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err := p.flyUntil(ctx, "confirm_phone"); err != nil {
				t.Fatal(err)
			}
			rateLimited(t, ctx, p, gate, clock, rateLimit{"confirm_phone", ratio.OpSendSMS, 20 * time.Second, 1,
				states.PhoneConflict, states.SmsFirstSent})
			if err := p.flyUntil(ctx, "submit_email"); err != nil {
				t.Fatal(err)
			}
			// A short Retry-After the client may wait out within its retry
			// budget: Ratio is asked again, then the frontend told.
			rateLimited(t, ctx, p, gate, clock, rateLimit{"submit_email", ratio.OpSendEmail, time.Second, 3,
				states.SmsVerified, states.EmailSent})
		})
	}
}

// TestScenario_LastWrongCode: the wrong code that uses the last attempt
// is answered 422 attempts_exhausted with the flow's view, Failed.
func TestScenario_LastWrongCode(t *testing.T) {
	gate := newRatioGate(t, sandbox.Config{})
	s := newServed(t, openTestStore(t, sqliteStore(t)), gate, flow.Options{})
	var tl tally
	p := newPerson(t, s.client("wrong-codes"), gate.sandbox, 0, &tl)
	if err := p.flyUntil(t.Context(), "submit_otp@SmsFirstSent"); err != nil {
		t.Fatal(err)
	}
	code, _ := gate.sandbox.LastOTP(p.phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	path := "/v1/flows/" + p.view.ID + "/events/submit_otp"
	for left := 2; left >= 0; left-- {
		a := p.api.do(t.Context(), http.MethodPost, path, newKey(), map[string]any{"otp": wrong})
		want, state := "invalid_otp", states.SmsFirstSent
		if left == 0 {
			want, state = "attempts_exhausted", states.Failed
		}
		if a.status != http.StatusUnprocessableEntity || a.prob.Code != want || a.prob.Field != "otp" ||
			a.prob.AttemptsLeft == nil || *a.prob.AttemptsLeft != left || a.prob.Flow == nil || a.view.State != state {
			t.Errorf("wrong code with %d attempts left after it: %s, want 422 %s on otp with the view, %s", left, a, want, state)
		}
	}
}

// rateLimit is a step Ratio answers 429 with Retry-After wait every time:
// the step, its call, how many calls the step may make, where the flow
// stays and where it goes once Ratio lets it.
type rateLimit struct {
	step     string
	op       ratio.Op
	wait     time.Duration
	maxCalls int
	stay, to states.State
}

// rateLimited takes p's step rl.step under a persistent 429, then again
// after waiting the Retry-After answered on clock, the engine's.
func rateLimited(t *testing.T, ctx context.Context, p *person, gate *ratioGate, clock *sandbox.Clock, rl rateLimit) {
	t.Helper()
	gate.sandbox.ForceRateLimit(rl.op, 1000, rl.wait)
	path := "/v1/flows/" + p.view.ID + "/events/" + rl.step
	body := map[string]any{}
	if rl.step == "submit_email" {
		body["emailAddress"] = p.email
	}
	before := gate.count429(rl.op)
	started := time.Now()
	a := p.api.do(ctx, http.MethodPost, path, newKey(), body)
	took := time.Since(started)
	calls := gate.count429(rl.op) - before
	if a.status != http.StatusTooManyRequests || a.prob.Code != "rate_limited" || a.prob.header < int(rl.wait/time.Second) {
		t.Fatalf("%s under a persistent 429 (Retry-After %s): %s, want 429 rate_limited with Retry-After >= %d",
			rl.step, rl.wait, a, int(rl.wait/time.Second))
	}
	if calls < 1 || calls > rl.maxCalls {
		t.Errorf("%s: Ratio was asked %d times in the step, want 1 to %d", rl.step, calls, rl.maxCalls)
	}
	if a.view.State != rl.stay {
		t.Errorf("%s: the 429's view: state %q, want %s", rl.step, a.view.State, rl.stay)
	}
	gate.sandbox.ForceRateLimit(rl.op, 0, 0)
	clock.Advance(time.Duration(a.prob.header) * time.Second)
	again := p.api.do(ctx, http.MethodPost, path, newKey(), body)
	if !again.ok() || again.view.State != rl.to {
		t.Fatalf("%s after waiting the Retry-After: %s, want 200 %s", rl.step, again, rl.to)
	}
	p.view = again.view
	t.Logf("a persistent 429 (Retry-After %s) on %s reached the frontend as 429 rate_limited, Retry-After %ds, "+
		"after %d calls in %s", rl.wait, rl.step, a.prob.header, calls, took.Round(time.Millisecond))
}
