package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
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
			clock := ratiotest.NewClock(time.Now())
			gate := newRatioGate(t, ratiotest.Config{Now: clock.Now})
			s := newServed(t, openTestStore(t, newStoreURL(t, backend)), gate, flow.Options{Now: clock.Now})
			var tl tally
			p := newPerson(t, s.client("rate-limited"), gate.sandbox, 0, &tl)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err := p.flyUntil(ctx, "confirm_phone"); err != nil {
				t.Fatal(err)
			}
			const ratioWait = 20 * time.Second
			gate.sandbox.ForceRateLimit(ratio.OpSendSMS, 1000, ratioWait)
			path := "/v1/flows/" + p.view.ID + "/events/confirm_phone"
			before := gate.count429(ratio.OpSendSMS)
			started := time.Now()
			a := p.api.do(ctx, http.MethodPost, path, newKey(), map[string]any{})
			took := time.Since(started)
			if a.status != http.StatusTooManyRequests || a.prob.Code != "rate_limited" || a.prob.header < int(ratioWait/time.Second) {
				t.Fatalf("confirm_phone under a persistent 429 (Retry-After %s): %s, want 429 rate_limited with Retry-After >= %d",
					ratioWait, a, int(ratioWait/time.Second))
			}
			if n := gate.count429(ratio.OpSendSMS) - before; n != 1 {
				t.Errorf("Ratio was asked %d times in the step, want once: its Retry-After exceeds any retry budget", n)
			}
			if a.view.State != states.PhoneConflict {
				t.Errorf("the 429's view: state %q, want PhoneConflict", a.view.State)
			}
			gate.sandbox.ForceRateLimit(ratio.OpSendSMS, 0, 0)
			clock.Advance(time.Duration(a.prob.header) * time.Second)
			if a := p.api.do(ctx, http.MethodPost, path, newKey(), map[string]any{}); !a.ok() || a.view.State != states.SmsFirstSent {
				t.Errorf("confirm_phone after waiting the Retry-After: %s, want 200 SmsFirstSent", a)
			}
			t.Logf("%s: a persistent 429 (Retry-After %s) reached the frontend as 429 rate_limited, Retry-After %ds, in %s",
				backend, ratioWait, a.prob.header, took.Round(time.Millisecond))
		})
	}
}

// TestScenario_LastWrongCode: the wrong code that uses the last attempt
// is answered 422 attempts_exhausted with the flow's view, Failed.
func TestScenario_LastWrongCode(t *testing.T) {
	gate := newRatioGate(t, ratiotest.Config{})
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
