package flow_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// toConflict returns the link story's steps up to PhoneConflict.
func toConflict(w *flowtest.Wallet, p flowtest.Person) []flowtest.Step { return linkConflict(w, p)[:3] }

// toSmsFirstSent returns the link story's steps up to SmsFirstSent.
func toSmsFirstSent(w *flowtest.Wallet, p flowtest.Person) []flowtest.Step {
	return linkConflict(w, p)[:4]
}

func TestLink_RateLimitBacksOffExponentially(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toConflict(w, p))
	sends := func() int { return h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()] }
	// Ratio asks for a one-second wait, more than the harness's client
	// sleeps, so the 429 reaches the engine; the engine's own back-off
	// doubles from one second, with up to 25% jitter.
	for i, base := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		h.Sandbox.ForceRateLimit(ratio.OpSendSMS, 1, time.Second)
		got, err := h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
		if !errors.Is(err, ratio.ErrRateLimited) || !flow.Retryable(err) {
			t.Fatalf("429 #%d: Step(confirm_phone) = %v, want a retryable error matching ratio.ErrRateLimited", i+1, err)
		}
		if got.State != states.PhoneConflict || got.RetryAt == nil {
			t.Fatalf("429 #%d: view state %s, retryAt %v; want PhoneConflict with a retry time", i+1, got.State, got.RetryAt)
		}
		wait := got.RetryAt.Sub(h.Clock.Now())
		if wait < base || wait > base+base/4 {
			t.Errorf("429 #%d: back-off %s, want between %s and %s", i+1, wait, base, base+base/4)
		}
		// Before the back-off passes the engine does not call Ratio at all.
		before := sends()
		_, err = h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
		var we *flow.WaitError
		if !errors.As(err, &we) || we.RetryAfter != wait {
			t.Errorf("429 #%d: Step before the back-off = %v, want a *WaitError of %s", i+1, err, wait)
		}
		if sends() != before {
			t.Errorf("429 #%d: a step inside the back-off called sms:send", i+1)
		}
		h.Clock.Advance(wait)
	}
	// A Retry-After longer than the engine's own back-off wins.
	h.Sandbox.ForceRateLimit(ratio.OpSendSMS, 1, 90*time.Second)
	got, _ := h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
	if wait := got.RetryAt.Sub(h.Clock.Now()); wait != 90*time.Second {
		t.Errorf("Retry-After 90s: back-off %s, want 90s", wait)
	}
	h.Clock.Advance(90 * time.Second)
	got, err := h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
	if err != nil || got.State != states.SmsFirstSent || got.RetryAt != nil {
		t.Fatalf("after the back-off: Step(confirm_phone) = %s, retryAt %v, %v; want SmsFirstSent", got.State, got.RetryAt, err)
	}
}

func TestLink_WrongCodeUntilTheLimit(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	h.Run(transitions.KindLink, append(toSmsFirstSent(w, p),
		flowtest.Step{Name: "wrong code", Event: transitions.SubmitOTP, Fill: flowtest.WrongCodeFor(p.Phone), WantErr: ratio.ErrInvalidOTP,
			Want: flowtest.Want{State: states.SmsFirstSent, Next: nextSmsSent, Last: "submit_otp:invalid_otp", AttemptsLeft: flowtest.Ptr(2)}},
		flowtest.Step{Name: "wrong again", Event: transitions.SubmitOTP, Fill: flowtest.WrongCodeFor(p.Phone), WantErr: ratio.ErrInvalidOTP,
			Want: flowtest.Want{State: states.SmsFirstSent, AttemptsLeft: flowtest.Ptr(1)}},
		flowtest.Step{Name: "no attempt left: failed", Event: transitions.SubmitOTP, Fill: flowtest.WrongCodeFor(p.Phone),
			WantErr: flow.ErrAttemptsExhausted, Want: flowtest.Want{State: states.Failed, Next: nextEnded, Last: "submit_otp:attempts_exhausted"}},
		flowtest.Step{Name: "an ended flow takes no event", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Phone),
			WantErr: flow.ErrEnded, Want: flowtest.Want{State: states.Failed}},
	))
}

func TestLink_ResendAfterTheCooldown(t *testing.T) {
	h := flowtest.New(t)
	s := linkMatchingStory(t)
	var old ratio.Secret
	h.Run(s.kind, append(s.steps[:3:3],
		flowtest.Step{Name: "resend at once: cooldown", Event: transitions.ResendOTP, WantErr: flow.ErrTooEarly,
			Want: flowtest.Want{State: states.SmsSent}},
		flowtest.Step{Name: "resend after the cooldown", Event: transitions.ResendOTP, Advance: 30 * time.Second,
			Before: func(h *flowtest.Harness) { old = h.OTP(s.phone) },
			Want:   flowtest.Want{State: states.SmsSent, Last: "resend_otp:ok", AttemptsLeft: flowtest.Ptr(3)}},
		flowtest.Step{Name: "the voided code fails", Event: transitions.SubmitOTP,
			Fill:    func(*flowtest.Harness, *flow.View) flow.Input { return flow.Input{OTP: old} },
			WantErr: ratio.ErrInvalidOTP, Want: flowtest.Want{State: states.SmsSent, AttemptsLeft: flowtest.Ptr(2)}},
		flowtest.Step{Name: "the new code works", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(s.phone),
			Want: flowtest.Want{State: states.Authenticated}},
	))
}

func TestLink_AmbiguousSendIsNotRepeatedAtOnce(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	h.Run(transitions.KindLink, append(toConflict(w, p),
		flowtest.Step{Name: "sms:send answers 503: the SMS may be on its way", Event: transitions.ConfirmPhone,
			Before:  flowtest.FailNext(ratio.OpSendSMS, 1, http.StatusServiceUnavailable),
			WantErr: ratio.ErrAmbiguous, Want: flowtest.Want{State: states.PhoneConflict, Last: "confirm_phone:transient"}},
		flowtest.Step{Name: "a retry at once waits for that SMS", Event: transitions.ConfirmPhone,
			WantErr: flow.ErrTooEarly, Want: flowtest.Want{State: states.PhoneConflict}},
		flowtest.Step{Name: "after the cooldown a new code is sent", Event: transitions.ConfirmPhone, Advance: 30 * time.Second,
			Want: flowtest.Want{State: states.SmsFirstSent}},
	))
	if got := h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()]; got != 3 {
		t.Errorf("sms:send calls = %d, want 3 (the 409, the 503, the retry after the cooldown)", got)
	}
}

func TestLink_Expiry(t *testing.T) {
	t.Run("state deadline", func(t *testing.T) {
		h := flowtest.New(t)
		w, p := flowtest.NewWallet(t), flowtest.NewPerson()
		h.SeedUser(p)
		h.Run(transitions.KindLink, append(linkConflict(w, p)[:2],
			flowtest.Step{Name: "5 minutes later", Event: transitions.SubmitPhone, Input: flow.Input{PhoneNumber: p.Phone},
				Advance: 5 * time.Minute, WantErr: flow.ErrExpired,
				Want: flowtest.Want{State: states.Expired, Next: nextEnded, Last: "expire:ok"}},
		))
	})
	t.Run("flow time to live", func(t *testing.T) {
		h := flowtest.New(t)
		w, p := flowtest.NewWallet(t), flowtest.NewPerson()
		h.SeedUser(p)
		steps := linkConflict(w, p)
		for i := 1; i < len(steps); i++ {
			steps[i].Advance = 100 * time.Second // each state well within its 5 minutes
		}
		steps[6].WantErr, steps[6].Want = flow.ErrExpired, flowtest.Want{State: states.Expired}
		steps[5].Advance += 20 * time.Second // 9 minutes have passed at step 6
		h.Run(transitions.KindLink, steps)
	})
	t.Run("sweeper", func(t *testing.T) {
		h := flowtest.New(t)
		var ids []string
		for range 5 {
			w := flowtest.NewWallet(t)
			v := h.Run(transitions.KindLink, []flowtest.Step{{Name: "start", Input: flow.Input{WalletAddress: w.Address},
				Want: flowtest.Want{State: states.ChallengeIssued}}})
			ids = append(ids, v.ID)
		}
		if n, err := h.Engine.Sweep(context.Background(), 100); n != 0 || err != nil {
			t.Fatalf("Sweep before the deadline = %d, %v; want 0, nil", n, err)
		}
		h.Clock.Advance(5 * time.Minute)
		if n, err := h.Engine.Sweep(context.Background(), 100); n != 5 || err != nil {
			t.Fatalf("Sweep after the deadline = %d, %v; want 5, nil", n, err)
		}
		for _, id := range ids {
			v, err := h.Engine.Get(context.Background(), id, h.Subject)
			if err != nil || v.State != states.Expired {
				t.Errorf("Get(%s) after the sweep = %v, %v; want Expired", id, v.State, err)
			}
		}
	})
}

func TestLink_Cancel(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toSmsFirstSent(w, p))
	got, err := h.Engine.Cancel(context.Background(), v.ID, h.Subject)
	if err != nil || got.State != states.Canceled || !got.Terminal {
		t.Fatalf("Cancel() = %v, %v; want Canceled", got.State, err)
	}
	if _, err := h.Engine.Cancel(context.Background(), v.ID, h.Subject); !errors.Is(err, flow.ErrEnded) {
		t.Errorf("second Cancel() = %v, want ErrEnded", err)
	}
}

func TestLink_JWTExpiresBetweenFactors(t *testing.T) {
	// Let states wait longer than Ratio's 5-minute JWT, so that the JWT
	// expires first: Ratio answers 401 EXPIRED_AUTHORIZATION and the flow
	// takes its declared edge back to SMS first, never stuck.
	h := flowtest.New(t, flowtest.Options{Policy: flow.Policy{StateTTL: 8 * time.Minute, FlowTTL: 30 * time.Minute}})
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	steps := linkConflict(w, p)
	h.Run(transitions.KindLink, append(steps[:5:5],
		flowtest.Step{Name: "6 minutes later the SMS JWT has expired", Event: transitions.SubmitEmail,
			Input: flow.Input{EmailAddress: p.Email}, Advance: 6 * time.Minute,
			Want: flowtest.Want{State: states.PhoneConflict, Next: nextConflict, Last: "submit_email:expired_jwt"}},
		steps[3], steps[4], steps[5], steps[6],
	))
}

func TestLink_NewChallenge(t *testing.T) {
	h := flowtest.New(t)
	w := flowtest.NewWallet(t)
	var first string
	h.Run(transitions.KindLink, []flowtest.Step{
		{Name: "start", Input: flow.Input{WalletAddress: w.Address}, Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "a fresh challenge", Event: transitions.NewChallenge,
			Before: func(h *flowtest.Harness) {},
			Fill: func(h *flowtest.Harness, v *flow.View) flow.Input {
				first = v.Challenge
				return flow.Input{}
			},
			Want: flowtest.Want{State: states.ChallengeIssued, Challenge: true, Last: "new_challenge:ok"}},
		{Name: "the old challenge's signature is refused", Event: transitions.Sign,
			Fill: func(h *flowtest.Harness, v *flow.View) flow.Input {
				if v.Challenge == first {
					t.Errorf("new_challenge kept the challenge %q", first)
				}
				return flow.Input{Signature: w.Sign(t, first)}
			},
			WantErr: ratio.ErrInvalidSignature, Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "the new one is accepted", Event: transitions.Sign, Fill: flowtest.SignWith(w),
			Want: flowtest.Want{State: states.WalletAuthed}},
	})
}
