package flow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// Outcome recorded in the history when a pending call left by a process that
// died is settled.
const (
	// OutcomeReconciled: the pending call's outcome is unknown; the flow
	// stays and the next attempt is paced (a code may still arrive).
	OutcomeReconciled = "reconciled"
)

// reconcile settles a Ratio call that another step recorded as pending and
// never finished. While its lease holds (see lease.go) the call is in
// flight and the flow belongs to that step: ErrConcurrentStep. Once the
// lease ran out its process is taken for dead, and instead of repeating
// the call blindly:
//   - addToUser: the user's wallets are read; if the wallet is there the
//     call had landed and the flow takes its ok edge without calling again
//     (a wallet is never added twice);
//   - an SMS or email send: the code may have gone out, so a new send waits
//     out the resend cooldown from the time of the lost one;
//   - a user creation: the next attempt treats ALREADY_EXISTS_USER as the
//     lost creation's success;
//   - an authentication (a one-time code or a wallet signature): Ratio's
//     codes and challenges are single use, so the one sent may be spent.
//     The flow remembers it (see spent.go): Ratio's next refusal of a
//     code costs no attempt and lets a new code be sent at once, and a
//     wallet challenge is replaced by a fresh one;
//   - anything else (the reads, a challenge) is safe to make again.
func (r *run) reconcile(ctx context.Context) error {
	p := r.rec.Pending
	if age := r.e.now().Sub(leasedAt(p)); age < r.e.policy.PendingTimeout {
		return fmt.Errorf("%w: %s in flight (lease renewed %s ago)", ErrConcurrentStep, p.Call, age.Round(time.Millisecond))
	}
	return r.settle(ctx)
}

// settle resolves the pending call of a step whose outcome is unknown, as
// reconcile describes, and persists the result.
func (r *run) settle(ctx context.Context) (err error) {
	p := r.rec.Pending
	ctx, span := r.startStep(ctx, "reconcile "+p.Event, transitions.Event(p.Event))
	if span.IsRecording() {
		span.SetAttributes(AttrReconciled.Bool(true), AttrCall.String(p.Call))
	}
	defer func() { r.endStep(span, err) }()
	now := r.e.now()
	t, _ := r.c.flow.Find(r.rec.State, transitions.Event(p.Event))
	switch transitions.Call(p.Call) {
	case transitions.CallAddWalletToUser:
		if t != nil && r.walletListed(ctx) {
			return r.finish(ctx, t, result{outcome: transitions.OK, message: "addToUser had landed before its step was interrupted"})
		}
	case transitions.CallSendSMS, transitions.CallSendEmail:
		r.d.UncertainSendAt = p.StartedAt
	case transitions.CallCreateUser:
		r.d.CreateUncertain = true
	case transitions.CallAuthenticateSMS, transitions.CallAuthenticateEmail, transitions.CallAuthenticateWallet:
		r.d.UncertainAuth = p.Call
	}
	state := r.rec.State
	r.rec.Pending = nil
	traceOutcome(ctx, OutcomeReconciled)
	entries := []store.HistoryEntry{{At: now, From: state, To: state, Event: p.Event, Outcome: OutcomeReconciled, Call: p.Call}}
	if transitions.Call(p.Call) == transitions.CallAuthenticateWallet {
		// The challenge may be spent: show a fresh one at once.
		entries = append(entries, r.freshChallenge(ctx)...)
	}
	sealed, err := r.e.sealer.seal(r.rec.ID, r.d)
	if err != nil {
		return err
	}
	r.rec.Data, r.rec.UpdatedAt = sealed, now
	if err := r.persist(ctx, entries...); err != nil {
		r.e.cache.drop(r.rec.ID)
		return storeErr(r.rec.ID, err)
	}
	r.writes++
	r.e.cache.put(r.rec, r.d)
	for _, entry := range entries {
		r.e.stepped(ctx, r.rec.Kind, entry)
	}
	return nil
}

// walletListed reports whether Ratio lists the flow's wallet among the
// user's wallets. Any failure to tell counts as "no": the add is then
// attempted again, and Ratio refuses a second add of the same wallet.
func (r *run) walletListed(ctx context.Context) bool {
	if r.d.UserID == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, r.e.policy.CallTimeout)
	defer cancel()
	ws, err := r.e.ratio.ListWallets(ctx, r.d.jwt(), r.d.UserID)
	if err != nil {
		return false
	}
	for _, w := range ws.Items {
		if strings.EqualFold(w.Address, r.d.WalletAddress) {
			return true
		}
	}
	return false
}
