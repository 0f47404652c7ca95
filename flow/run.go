package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// run is one flow loaded for a step: its record and opened data.
type run struct {
	e   *Engine
	c   *compiled
	rec *store.Record
	d   *data

	// chain says the automatic steps run right after each write that
	// moves the flow (Start, Step), so that such a write may also record
	// the call the next automatic step makes (preclaim).
	chain bool
	// claimed is the transition whose call the last write recorded as
	// pending ahead of its step, if any.
	claimed *transitions.Transition
	// writes counts this run's successful writes.
	writes int
	// fresh reports that this run fetched a fresh wallet challenge.
	fresh bool
	// stepKey is the hash of the request key of the user step, if any.
	stepKey string
}

// maxAutos bounds the automatic steps run after one step, in case a table
// ever chains them in a loop.
const maxAutos = 16

// writeTimeout bounds each write of a step. The step's writes do not use
// the caller's context (see run.step), so this is what bounds them; the
// write that keeps a Ratio answer retries within it (see persist).
const writeTimeout = 10 * time.Second

func (r *run) view() *View { return r.e.view(r.c, r.rec, r.d) }

func (r *run) viewOrNil() *View {
	if r == nil {
		return nil
	}
	return r.view()
}

func (r *run) notPermitted(event transitions.Event) error {
	if r.rec.State.Terminal() {
		return fmt.Errorf("%w: %s is in terminal state %s", ErrEnded, r.rec.ID, r.rec.State)
	}
	var permitted []transitions.Event
	for _, t := range r.c.flow.Permitted(r.rec.State) {
		if t.Event != transitions.Expire {
			permitted = append(permitted, t.Event)
		}
	}
	return &NotPermittedError{State: r.rec.State, Event: event, Permitted: permitted}
}

// prepare makes the loaded flow ready for a step: expired if due,
// otherwise with any call left pending by another process reconciled.
func (r *run) prepare(ctx context.Context) error {
	if err := r.expireIfDue(ctx); err != nil {
		return err
	}
	if r.rec.Pending != nil {
		return r.reconcile(ctx)
	}
	return nil
}

// checkInput refuses input the event does not take or that fails Ratio's
// rules, before anything is sent.
func (r *run) checkInput(t *transitions.Transition, in *Input) error {
	fields := t.Input
	if t.Auto {
		fields = nil // an automatic step takes its input from the flow's data
	}
	if err := in.checkFields(string(t.Event), fields); err != nil {
		return err
	}
	// The shape of a signature (65 bytes, v, low S) is checked here; whether
	// it is the wallet's over the challenge is Ratio's to say, and Ratio's
	// refusal names the signature field (StepError.Field).
	return in.normalize()
}

// autos runs the automatic transitions of the current state, one after the
// other, until a state waits for the user.
func (r *run) autos(ctx context.Context) error {
	for range maxAutos {
		if r.rec.State.Terminal() {
			return nil
		}
		t, ok := r.c.flow.Auto(r.rec.State)
		if !ok {
			return nil
		}
		before := r.rec.State
		if err := r.fire(ctx, t, &Input{}); err != nil {
			return err
		}
		if r.rec.State == before {
			return nil
		}
	}
	return fmt.Errorf("flow %s: more than %d automatic steps in a row", r.rec.ID, maxAutos)
}

// expireIfDue moves a flow past its deadline to Expired and returns
// ErrExpired; it returns nil for a flow not due.
func (r *run) expireIfDue(ctx context.Context) error {
	if r.rec.State.Terminal() || r.e.now().Before(r.rec.ExpiresAt) {
		return nil
	}
	t, ok := r.c.flow.Find(r.rec.State, transitions.Expire)
	if !ok {
		return nil
	}
	r.rec.Pending = nil // a call still pending will never be reconciled now
	if err := r.fire(ctx, t, &Input{}); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrExpired, r.rec.ID)
}

// fire runs transition t: guards, the Ratio call (recorded as pending
// first), the edge of its outcome, and the write of the result with its
// audit entry. It returns a *StepError when the outcome is a failure that
// left the flow where it was.
func (r *run) fire(ctx context.Context, t *transitions.Transition, in *Input) (err error) {
	ctx, span := r.startStep(ctx, "step "+string(t.Event), t.Event)
	defer func() { r.endStep(span, err) }()
	res, err := r.attempt(ctx, t, in)
	if err != nil {
		return err
	}
	return r.finish(ctx, t, res)
}

// finish moves the flow along the edge of res's outcome and persists it.
// A failure that leaves the flow where it was, and a last wrong code, are
// returned as a *StepError after the write.
func (r *run) finish(ctx context.Context, t *transitions.Transition, res result) error {
	from := r.rec.State
	var also []store.HistoryEntry
	switch {
	case r.spent(t, res):
		also = r.forgive(ctx, t, &res)
	case res.outcome == transitions.InvalidOTP:
		r.d.OTPAttempts++
		if r.d.OTPAttempts >= r.e.policy.OTPAttempts {
			res.outcome = transitions.AttemptsExhausted
		}
	}

	edge, ok := t.Edge(res.outcome)
	if !ok {
		return fmt.Errorf("flow %s: %s declares no edge for outcome %s", r.c.flow.Kind, t.Event, res.outcome)
	}
	res.outcome = edge.Outcome // new_user falls back to ok where the table does not tell them apart
	traceOutcome(ctx, res.outcome)
	if res.message == "" && edge.To != transitions.Stay && edge.To.Terminal() && edge.Label != "" {
		res.message = edge.Label
	}
	to, err := r.c.transit(ctx, from, t.Event, edge.Outcome)
	if err != nil {
		return err
	}
	failed := (to == from && failure(res.outcome)) || res.outcome == transitions.AttemptsExhausted
	if r.stepKey != "" && !t.Auto {
		r.d.Keyed = &keyedStep{Key: r.stepKey, Failed: failed, Spent: res.spent, Step: lastStep{Event: string(t.Event),
			Outcome: string(res.outcome), Status: res.status, Code: res.code, Message: res.message}}
	}
	r.record(t, res, from, to)
	if to != from {
		r.preclaim()
	}
	if err := r.write(ctx, t, res, from, to, also...); err != nil {
		r.rec.Pending, r.claimed = nil, nil
		return err
	}
	if failed {
		return r.stepError(t, res)
	}
	return nil
}

// attempt checks the guards and pacing of t, then makes its Ratio call, if
// any, after recording it as pending.
func (r *run) attempt(ctx context.Context, t *transitions.Transition, in *Input) (result, error) {
	now := r.e.now()
	if r.claimed == t && r.rec.Pending != nil {
		// The write that entered this state checked t's guards and pacing
		// and recorded its call: make it.
		r.claimed = nil
		return r.callRatio(ctx, t, in, now), nil
	}
	if g := r.guard(t, now); g != nil {
		if e, _ := t.Edge(transitions.Refused); e.To == transitions.Stay {
			return result{}, g // nothing to record: the flow stays and Ratio was not called
		}
		return result{outcome: transitions.Refused, message: g.Error()}, nil
	}
	if t.Call == transitions.NoCall {
		return result{outcome: transitions.OK}, nil
	}
	if wait := r.d.RetryAt.Sub(now); wait > 0 {
		return result{}, &WaitError{Event: t.Event, Reason: "Ratio asked to back off (429)", RetryAfter: wait}
	}
	if safe(t.Call) {
		// A read needs no claim: should two steps make it at once, the
		// compare-and-swap of their writes lets one through.
		return r.timedCall(ctx, t, in, now), nil
	}
	if err := r.claim(ctx, t, now); err != nil {
		return result{}, err
	}
	return r.callRatio(ctx, t, in, now), nil
}

// callRatio makes t's Ratio call, recorded as pending at now. The call
// does not depend on the step's caller (see run.step): it runs until
// Ratio answers or Policy.CallTimeout passes, and the lease of its pending
// record is renewed meanwhile, so no other process takes the step for dead.
func (r *run) callRatio(ctx context.Context, t *transitions.Transition, in *Input, now time.Time) result {
	stop := r.holdLease(ctx)
	defer stop()
	return r.timedCall(ctx, t, in, now)
}

// timedCall makes t's Ratio call within Policy.CallTimeout, in a span of
// its own, and times it.
func (r *run) timedCall(ctx context.Context, t *transitions.Transition, in *Input, now time.Time) result {
	ctx, cancel := context.WithTimeout(ctx, r.e.policy.CallTimeout)
	defer cancel()
	started := time.Now()
	res := r.e.tracedCall(ctx, t, func(ctx context.Context) result { return r.e.call(ctx, t, r.d, in, now) })
	res.duration = time.Since(started)
	return res
}

// claim records the call t is about to make: a compare-and-swap write that
// also makes this step the only one on the flow.
func (r *run) claim(ctx context.Context, t *transitions.Transition, now time.Time) error {
	r.rec.Pending = pendingCall(t, now)
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := r.e.store.Update(wctx, r.rec); err != nil {
		r.rec.Pending = nil
		return storeErr(r.rec.ID, err)
	}
	r.writes++
	return nil // the write that ends the step (or settles it) caches the data
}

// preclaim records, in the write about to be made, the call of the
// automatic step that will follow it at once, sparing that step the write
// of its own claim: the automatic step of the state the flow is entering,
// if it calls Ratio and its guards and pacing let it. It is only done when
// the automatic steps follow the write (r.chain) and the write moves the
// flow, as autos requires.
func (r *run) preclaim() {
	r.claimed = nil
	if !r.chain || r.rec.State.Terminal() {
		return
	}
	t, ok := r.c.flow.Auto(r.rec.State)
	if !ok || t.Call == transitions.NoCall || safe(t.Call) {
		return
	}
	now := r.e.now()
	if r.guard(t, now) != nil || r.d.RetryAt.After(now) {
		return // attempt will say why, without a call
	}
	r.rec.Pending = pendingCall(t, now)
	r.claimed = t
}

// pendingCall is the record of t's Ratio call, about to be made at now.
func pendingCall(t *transitions.Transition, now time.Time) *store.PendingCall {
	return &store.PendingCall{Call: string(t.Call), Event: string(t.Event), Key: newID(), StartedAt: now}
}

// record updates the flow's data and record for the outcome just reached.
func (r *run) record(t *transitions.Transition, res result, from, to states.State) {
	now := r.e.now()
	if res.apply != nil {
		res.apply(r.d)
	}
	switch res.outcome {
	case transitions.RateLimited:
		r.d.Backoffs++
		// To the microsecond, as every time the engine sets: a caller
		// that waits until the RetryAt it was shown may step at once.
		r.d.RetryAt = now.Add(r.e.policy.backoff(r.d.Backoffs, res.retryAfter)).Truncate(time.Microsecond)
	case transitions.OK, transitions.NewUser:
		r.d.Backoffs, r.d.RetryAt = 0, time.Time{}
		if r.d.UncertainAuth == string(t.Call) {
			r.d.UncertainAuth = "" // the authentication went through after all
		}
	}
	r.d.Last = &lastStep{Event: string(t.Event), Outcome: string(res.outcome), Status: res.status,
		Code: res.code, Message: res.message}
	r.rec.State = to
	r.rec.Pending = nil
	if to != from {
		r.d.EnteredAt = now
	}
	if to.Terminal() {
		r.rec.EndedAt = now
		r.d.forget()
	}
	r.rec.ExpiresAt = r.e.deadline(r.rec, r.d)
}

// write persists the step with its audit entry, after the entries of the
// calls the step made on its own account (also).
func (r *run) write(ctx context.Context, t *transitions.Transition, res result, from, to states.State,
	also ...store.HistoryEntry) error {
	now := r.e.now()
	entry := store.HistoryEntry{At: now, From: from, To: to, Event: string(t.Event), Outcome: string(res.outcome),
		Call: string(t.Call), Status: res.status, Code: res.code, Duration: res.duration}
	entries := append(also, entry)
	sealed, err := r.e.sealer.seal(r.rec.ID, r.d)
	if err != nil {
		return err
	}
	r.rec.Data = sealed
	r.rec.UpdatedAt = now
	if err := r.persist(ctx, entries...); err != nil {
		r.e.cache.drop(r.rec.ID)
		return storeErr(r.rec.ID, err)
	}
	r.writes++
	r.e.cache.put(r.rec, r.d)
	for _, e := range entries {
		r.e.stepped(ctx, r.rec.Kind, e)
	}
	r.e.log.LogAttrs(ctx, slog.LevelInfo, "flow step",
		slog.String("flow", r.rec.ID), slog.String("kind", r.rec.Kind), slog.String("event", string(t.Event)),
		slog.String("from", string(from)), slog.String("to", string(to)), slog.String("outcome", string(res.outcome)),
		slog.Int("status", res.status), slog.String("code", res.code), slog.Duration("duration", res.duration))
	return nil
}

func (r *run) stepError(t *transitions.Transition, res result) error {
	se := &StepError{Event: t.Event, State: r.rec.State, Outcome: res.outcome, Status: res.status, Code: res.code,
		Field: fieldOf(t, res.code), Spent: res.spent, Err: res.err}
	if res.outcome == transitions.RateLimited {
		se.RetryAfter = r.d.RetryAt.Sub(r.e.now())
	}
	if res.outcome == transitions.InvalidOTP {
		se.AttemptsLeft = max(r.e.policy.OTPAttempts-r.d.OTPAttempts, 0)
	}
	if res.outcome == transitions.AttemptsExhausted {
		se.Field = ratio.FieldOTP
	}
	if se.Err == nil {
		se.Err = errors.New(res.message)
	}
	return se
}

// fieldOf names the input field Ratio refused, from its error code, or the
// one field the event takes.
func fieldOf(t *transitions.Transition, code string) string {
	switch code {
	case ratio.CodeInvalidSignature, ratio.CodeMissingSignature:
		return ratio.FieldSignature
	case ratio.CodeInvalidOTP, ratio.CodeMissingOTP:
		return ratio.FieldOTP
	case ratio.CodeInvalidPhone, ratio.CodeInvalidPhoneCountryCode, ratio.CodeInvalidPhoneType, ratio.CodeMissingPhone,
		ratio.CodeMismatchPhone, ratio.CodeAlreadyExistsPhone:
		return ratio.FieldPhoneNumber
	case ratio.CodeInvalidEmail, ratio.CodeMissingEmail, ratio.CodeMismatchEmail, ratio.CodeAlreadyExistsEmail:
		return ratio.FieldEmailAddress
	}
	if len(t.Input) == 1 && !t.Auto {
		return t.Input[0].Name
	}
	return ""
}

// failure reports whether an outcome is a failed attempt.
func failure(o transitions.Outcome) bool {
	return o != transitions.OK && o != transitions.NewUser
}

// storeErr maps a store error to the engine's.
func storeErr(id string, err error) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: flow %s changed under this step", ErrConcurrentStep, id)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return fmt.Errorf("save flow %s: %w", id, err)
}
