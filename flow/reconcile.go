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
// never finished. While the call may still be in flight (younger than
// Policy.PendingTimeout) the flow belongs to that step: ErrConcurrentStep.
// After that its process is taken for dead, and instead of repeating the
// call blindly:
//   - addToUser: the user's wallets are read; if the wallet is there the
//     call had landed and the flow takes its ok edge without calling again
//     (a wallet is never added twice);
//   - an SMS or email send: the code may have gone out, so a new send waits
//     out the resend cooldown from the time of the lost one;
//   - a user creation: the next attempt treats ALREADY_EXISTS_USER as the
//     lost creation's success;
//   - anything else (reads and authentications) is safe to make again.
func (r *run) reconcile(ctx context.Context) error {
	p := r.rec.Pending
	if age := r.e.now().Sub(p.StartedAt); age < r.e.policy.PendingTimeout {
		return fmt.Errorf("%w: %s in flight for %s", ErrConcurrentStep, p.Call, age.Round(time.Millisecond))
	}
	return r.settle(ctx)
}

// settle resolves the pending call of a step whose outcome is unknown, as
// reconcile describes, and persists the result.
func (r *run) settle(ctx context.Context) error {
	p := r.rec.Pending
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
	}
	state := r.rec.State
	r.rec.Pending = nil
	sealed, err := r.e.sealer.seal(r.rec.ID, r.d)
	if err != nil {
		return err
	}
	r.rec.Data, r.rec.UpdatedAt = sealed, now
	entry := store.HistoryEntry{At: now, From: state, To: state, Event: p.Event, Outcome: OutcomeReconciled, Call: p.Call}
	if err := r.e.store.Update(ctx, r.rec, entry); err != nil {
		return storeErr(r.rec.ID, err)
	}
	r.writes++
	r.e.cache.put(r.rec, r.d)
	r.e.stepped(r.rec.Kind, entry)
	return nil
}

// walletListed reports whether Ratio lists the flow's wallet among the
// user's wallets. Any failure to tell counts as "no": the add is then
// attempted again, and Ratio refuses a second add of the same wallet.
func (r *run) walletListed(ctx context.Context) bool {
	if r.d.UserID == "" {
		return false
	}
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
