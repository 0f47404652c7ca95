package flow

import (
	"context"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// Ratio's one-time codes and wallet challenges are single use. When the
// answer to an authentication was lost (the process died after Ratio
// answered, the store failed, Ratio did not answer), the code or challenge
// sent may be spent, and the same one sent again is refused. The engine
// cannot tell such a refusal from a mistyped code, so it charges the
// person nothing for it: data.UncertainAuth names the call, and Ratio's
// first refusal after it
//   - of a code is not counted as an attempt and lets a new code be sent at
//     once (no resend cooldown): StepError.Spent, "code_spent" in the API;
//   - of a signature brings a fresh challenge into the view at once:
//     StepError.Spent, "challenge_spent" in the API.
// A new code sent, or the authentication succeeding, ends the uncertainty.

// spent reports whether res, an answer to t, is Ratio refusing input that
// an earlier attempt whose answer was lost may have spent.
func (r *run) spent(t *transitions.Transition, res result) bool {
	if r.d.UncertainAuth == "" || r.d.UncertainAuth != string(t.Call) {
		return false
	}
	switch res.outcome {
	case transitions.InvalidOTP:
		return true
	case transitions.InvalidInput:
		return t.Call == transitions.CallAuthenticateWallet && fieldOf(t, res.code) == ratio.FieldSignature
	}
	return false
}

// forgive settles a spent refusal of t: no attempt is counted, and the
// person can go on at once with a new code (the cooldown is lifted) or a
// fresh challenge, whose call's history entries it returns.
func (r *run) forgive(ctx context.Context, t *transitions.Transition, res *result) []store.HistoryEntry {
	r.d.UncertainAuth = ""
	res.spent = true
	if t.Call == transitions.CallAuthenticateWallet {
		res.message = "the challenge was used by an earlier attempt whose answer was lost: sign the fresh challenge"
		if r.fresh {
			return nil // this step's reconciliation fetched one already
		}
		return r.freshChallenge(ctx)
	}
	res.message = "the code was used by an earlier attempt whose answer was lost: send a new code (no attempt was counted)"
	r.d.LastSentAt = time.Time{}
	return nil
}

// freshChallenge asks Ratio for a new wallet challenge, through the call of
// the transition of the current state that asks for one (new_challenge),
// and returns the history entry of that call. The flow stays where it is;
// a challenge that could not be had leaves the old one, and the person
// can ask again.
func (r *run) freshChallenge(ctx context.Context) []store.HistoryEntry {
	var t *transitions.Transition
	for _, c := range r.c.flow.Permitted(r.rec.State) {
		if c.Call == transitions.CallStartWallet {
			t = c
			break
		}
	}
	if t == nil {
		return nil
	}
	now := r.e.now()
	res := r.timedCall(ctx, t, &Input{}, now)
	if res.outcome == transitions.OK && res.apply != nil {
		res.apply(r.d)
		r.fresh = true
	}
	return []store.HistoryEntry{{At: now, From: r.rec.State, To: r.rec.State, Event: string(t.Event),
		Outcome: string(res.outcome), Call: string(t.Call), Status: res.status, Code: res.code, Duration: res.duration}}
}
