package flow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

func TestEngine_InputIsCheckedBeforeRatio(t *testing.T) {
	h := flowtest.New(t)
	w, other, p := flowtest.NewWallet(t), flowtest.NewWallet(t), flowtest.NewPerson()
	calls := func() int {
		n := 0
		for _, c := range h.Sandbox.Stats().Calls {
			n += c
		}
		return n
	}
	field := flowtest.InputErrorOn
	h.Run(transitions.KindLink, []flowtest.Step{
		{Name: "start", Input: flow.Input{WalletAddress: w.Address}, Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "signed by another key: Ratio refuses it, naming the field", Event: transitions.Sign, Fill: flowtest.SignWith(other),
			WantErr: stepErrorOn("signature"), Want: flowtest.Want{State: states.ChallengeIssued, Last: "sign:invalid_input"}},
		{Name: "65 bytes with a high S", Event: transitions.Sign,
			Input:   flow.Input{Signature: "0x" + strings.Repeat("11", 32) + strings.Repeat("ff", 32) + "1b"},
			WantErr: field("signature"), Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "sign", Event: transitions.Sign, Fill: flowtest.SignWith(w), Want: flowtest.Want{State: states.WalletAuthed}},
		{Name: "the spec's own Toronto number", Event: transitions.SubmitPhone, Input: flow.Input{PhoneNumber: "+14165551234"},
			WantErr: field("phoneNumber"), Want: flowtest.Want{State: states.WalletAuthed, Next: nextPhone}},
		{Name: "not E.164", Event: transitions.SubmitPhone, Input: flow.Input{PhoneNumber: "(202) 555-0143"},
			WantErr: field("phoneNumber"), Want: flowtest.Want{State: states.WalletAuthed}},
		{Name: "a field the event does not take", Event: transitions.SubmitPhone,
			Input: flow.Input{PhoneNumber: p.Phone, EmailAddress: p.Email}, WantErr: field("emailAddress"),
			Want: flowtest.Want{State: states.WalletAuthed}},
		{Name: "a missing field", Event: transitions.SubmitPhone, WantErr: field("phoneNumber"),
			Want: flowtest.Want{State: states.WalletAuthed}},
		{Name: "an event the state does not permit", Event: transitions.SubmitOTP, Input: flow.Input{OTP: "123456"},
			WantErr: flow.ErrNotPermitted, Want: flowtest.Want{State: states.WalletAuthed}},
		{Name: "an event nobody declared", Event: "teleport", WantErr: flow.ErrNotPermitted,
			Want: flowtest.Want{State: states.WalletAuthed}},
	})
	// start, the refused signature and the good one: nothing else reached Ratio.
	if got := calls(); got != 3 {
		t.Errorf("Ratio calls = %d, want 3 (start and two signs): bad input reached Ratio", got)
	}
	if _, err := h.Engine.Start(context.Background(), transitions.KindLink, h.Subject, flow.Input{WalletAddress: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}); !field("walletAddress").(flowtest.Matcher).MatchError(err) {
		t.Errorf("Start with a bad EIP-55 checksum = %v, want an input error naming walletAddress", err)
	}
	if _, err := h.Engine.Start(context.Background(), "pay", h.Subject, flow.Input{}); !errors.Is(err, flow.ErrUnknownKind) {
		t.Errorf("Start of an unknown kind = %v, want ErrUnknownKind", err)
	}
}

// stepErrorOn matches a *flow.StepError naming field.
type stepErrorOn string

func (f stepErrorOn) Error() string { return "a step error naming " + string(f) }

func (f stepErrorOn) MatchError(err error) bool {
	var se *flow.StepError
	return errors.As(err, &se) && se.Field == string(f)
}

func TestEngine_SubjectBinding(t *testing.T) {
	h := flowtest.New(t)
	w := flowtest.NewWallet(t)
	v := h.Run(transitions.KindLink, []flowtest.Step{{Name: "start", Input: flow.Input{WalletAddress: w.Address},
		Want: flowtest.Want{State: states.ChallengeIssued}}})
	ctx := context.Background()
	if _, err := h.Engine.Get(ctx, v.ID, "someone-else"); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Get by another subject = %v, want ErrNotFound", err)
	}
	if _, err := h.Engine.Step(ctx, v.ID, "someone-else", transitions.Sign, flow.Input{Signature: w.Sign(t, v.Challenge)}); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Step by another subject = %v, want ErrNotFound", err)
	}
	if _, err := h.Engine.Cancel(ctx, v.ID, "someone-else"); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Cancel by another subject = %v, want ErrNotFound", err)
	}
	if _, err := h.Engine.Get(ctx, "00112233445566778899aabbccddeeff", h.Subject); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Get of an unknown ID = %v, want ErrNotFound", err)
	}
	if len(v.ID) != 32 {
		t.Errorf("flow ID %q: want 128 bits as 32 hex digits", v.ID)
	}
}

func TestEngine_ConcurrentStepsApplyOnce(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toConflict(w, p))
	h.Sandbox.SetLatency(ratio.OpSendSMS, 50*time.Millisecond) // keep the call in flight
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			// Each request is served by its own engine, as on separate replicas.
			_, errs[i] = h.NewEngine().Step(context.Background(), v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, flow.ErrConcurrentStep), errors.Is(err, flow.ErrNotPermitted):
			if errors.Is(err, flow.ErrConcurrentStep) && !flow.Retryable(err) {
				t.Errorf("ErrConcurrentStep is not Retryable: %v", err)
			}
		default:
			t.Errorf("concurrent Step = %v, want nil, ErrConcurrentStep or ErrNotPermitted", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent steps applied, want exactly 1", ok, n)
	}
	// 1 send got the 409, 1 confirmed: never a second SMS.
	if got := h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()]; got != 2 {
		t.Errorf("sms:send calls = %d, want 2", got)
	}
}

// dying plays a process that dies during one Ratio call: the call reaches
// Ratio (or not) and never returns, so nothing after it runs. When the test
// ends the zombie wakes up and finds the flow moved on.
type dying struct {
	ratio.API
	landed bool // the call reached Ratio before the death
	// authDies makes the authentications die too (see lost_test.go).
	authDies bool
	entered  chan struct{} // closed once the call is under way
	dead     chan struct{} // closed when the test ends
}

func newDying(t *testing.T, api ratio.API, landed bool) *dying {
	return &dying{API: api, landed: landed, entered: make(chan struct{}), dead: make(chan struct{})}
}

func (d *dying) die() error {
	close(d.entered)
	<-d.dead
	return context.Canceled
}

func (d *dying) AddWalletToUser(ctx context.Context, jwt ratio.Secret, req ratio.AddWalletRequest) (*ratio.AddWalletResponse, error) {
	if d.landed {
		_, _ = d.API.AddWalletToUser(ctx, jwt, req)
	}
	return nil, d.die()
}

func (d *dying) SendSMS(ctx context.Context, jwt ratio.Secret, req ratio.SendSMSRequest) (*ratio.SendSMSResponse, error) {
	if d.landed {
		_, _ = d.API.SendSMS(ctx, jwt, req)
	}
	return nil, d.die()
}

// deadStore is the store as a process that died sees it: every write fails
// once dead is closed, so the dead process renews no lease and keeps no
// answer.
type deadStore struct {
	store.Store
	dead <-chan struct{}
}

func (s deadStore) Update(ctx context.Context, rec *store.Record, h ...store.HistoryEntry) error {
	select {
	case <-s.dead:
		return store.ErrClosed
	default:
		return s.Store.Update(ctx, rec, h...)
	}
}

// stepAndDie fires event on a dying engine in the background and returns
// once its Ratio call is under way, with the engine's process dead.
func stepAndDie(t *testing.T, h *flowtest.Harness, d *dying, id string, event transitions.Event, in flow.Input) {
	e, err := flow.New(deadStore{h.Store, d.entered}, d, flowtest.SealKey, flow.Options{Now: h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.Step(context.Background(), id, h.Subject, event, in)
		done <- err
	}()
	t.Cleanup(func() {
		// Wake the zombie: its late answer must not clobber what happened since.
		close(d.dead)
		if err := <-done; err == nil {
			t.Errorf("the zombie step succeeded after the flow moved on")
		}
	})
	<-d.entered
}

func TestEngine_ReconcilesAddToUserLeftPending(t *testing.T) {
	for _, tt := range []struct {
		name    string
		landed  bool
		outcome string
	}{
		{"the call landed before the crash", true, "ok"},
		{"the process died before the call", false, flow.OutcomeReconciled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := flowtest.New(t)
			w, p := flowtest.NewWallet(t), flowtest.NewPerson()
			h.SeedUser(p)
			v := h.Run(transitions.KindLink, linkConflict(w, p)[:6])
			stepAndDie(t, h, newDying(t, h.Ratio, tt.landed), v.ID, transitions.SubmitOTP, flow.Input{OTP: h.OTP(p.Email)})
			rec, _ := h.Store.Get(context.Background(), v.ID)
			if rec.Pending == nil || rec.Pending.Call != string(transitions.CallAddWalletToUser) || rec.State != states.EmailVerified {
				t.Fatalf("after the crash: state %s, pending %+v; want EmailVerified with addToUser pending", rec.State, rec.Pending)
			}
			// Another process: the call may still be in flight, so hands off.
			h.Engine = h.NewEngine()
			if _, err := h.Engine.Resume(context.Background(), v.ID, h.Subject); !errors.Is(err, flow.ErrConcurrentStep) {
				t.Fatalf("Resume while the call may be in flight = %v, want ErrConcurrentStep", err)
			}
			h.Clock.Advance(h.Engine.Policy().PendingTimeout)
			got, err := h.Engine.Resume(context.Background(), v.ID, h.Subject)
			if err != nil || got.State != states.Linked {
				t.Fatalf("Resume after the timeout = %v, %v; want Linked", got.State, err)
			}
			if n := h.Sandbox.Stats().AddToUser[w.Address]; n != 1 {
				t.Errorf("addToUser applied %d times, want exactly 1", n)
			}
			hist, _ := h.Store.History(context.Background(), v.ID)
			if !slices.ContainsFunc(hist, func(e store.HistoryEntry) bool {
				return e.Event == string(transitions.AddWallet) && e.Outcome == tt.outcome
			}) {
				t.Errorf("history %+v holds no add_wallet entry with outcome %s", hist, tt.outcome)
			}
		})
	}
}

func TestEngine_ReconcilesLostSMS(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toConflict(w, p))
	stepAndDie(t, h, newDying(t, h.Ratio, true), v.ID, transitions.ConfirmPhone, flow.Input{})
	pol := h.Engine.Policy()
	h.Clock.Advance(pol.PendingTimeout - time.Microsecond)
	if _, err := h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{}); !errors.Is(err, flow.ErrConcurrentStep) {
		t.Fatalf("confirm within the lease = %v, want ErrConcurrentStep", err)
	}
	h.Clock.Advance(time.Microsecond)
	_, err := h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
	if !errors.Is(err, flow.ErrTooEarly) {
		t.Fatalf("confirm once the lease ran out = %v, want ErrTooEarly: the lost SMS may still arrive", err)
	}
	h.Clock.Advance(pol.ResendCooldown - pol.PendingTimeout)
	got, err := h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
	if err != nil || got.State != states.SmsFirstSent {
		t.Fatalf("confirm after the cooldown = %v, %v; want SmsFirstSent", got.State, err)
	}
	hist, _ := h.Store.History(context.Background(), v.ID)
	if !slices.ContainsFunc(hist, func(e store.HistoryEntry) bool { return e.Outcome == flow.OutcomeReconciled }) {
		t.Errorf("history %+v records no reconciliation", hist)
	}
}

// TestEngine_CallOutlivesItsCaller: a caller that goes away during a call
// (a closed browser tab, a dropped request) cuts nothing short: Ratio's
// answer is kept and the flow moves as if the caller had stayed.
func TestEngine_CallOutlivesItsCaller(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toConflict(w, p))
	sends := h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()]
	h.Sandbox.SetLatency(ratio.OpSendSMS, 100*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	got, err := h.Engine.Step(ctx, v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
	if err != nil || got.State != states.SmsFirstSent {
		t.Fatalf("Step with a caller gone = %v, %v; want SmsFirstSent", got, err)
	}
	if ctx.Err() == nil {
		t.Fatal("the caller's context outlived the call: the test proves nothing")
	}
	if n := h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()] - sends; n != 1 {
		t.Errorf("sms:send made %d times, want 1", n)
	}
	rec, _ := h.Store.Get(context.Background(), v.ID)
	if rec.Pending != nil || rec.State != states.SmsFirstSent {
		t.Fatalf("stored flow: state %s, pending %+v; want SmsFirstSent with nothing pending", rec.State, rec.Pending)
	}
}

func TestEngine_GraphVersion(t *testing.T) {
	h := flowtest.New(t)
	w := flowtest.NewWallet(t)
	v := h.Run(transitions.KindLink, []flowtest.Step{{Name: "start", Input: flow.Input{WalletAddress: w.Address},
		Want: flowtest.Want{State: states.ChallengeIssued}}})
	changed := *transitions.Link
	changed.Transitions = append(slices.Clone(changed.Transitions), transitions.Transition{
		Event: "cancel_soon", From: []states.State{states.ChallengeIssued},
		Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.Canceled}}})
	e, err := flow.New(h.Store, h.Ratio, flowtest.SealKey, flow.Options{Now: h.Clock.Now, Flows: []*transitions.Flow{&changed}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Step(context.Background(), v.ID, h.Subject, transitions.Sign, flow.Input{Signature: w.Sign(t, v.Challenge)})
	var gc *flow.GraphChangedError
	if !errors.As(err, &gc) || gc.Stored != transitions.Link.Version() || gc.Current != changed.Version() {
		t.Fatalf("Step under a changed graph = %v, want a *GraphChangedError from %s to %s", err, transitions.Link.Version(), changed.Version())
	}
	changed.Migrations = []transitions.Migration{{FromVersion: transitions.Link.Version()}}
	e, _ = flow.New(h.Store, h.Ratio, flowtest.SealKey, flow.Options{Now: h.Clock.Now, Flows: []*transitions.Flow{&changed}})
	got, err := e.Step(context.Background(), v.ID, h.Subject, transitions.Sign, flow.Input{Signature: w.Sign(t, v.Challenge)})
	if err != nil || got.State != states.WalletAuthed {
		t.Fatalf("Step with a declared migration = %v, %v; want WalletAuthed", got.State, err)
	}
}

// errorsTo declares every error class of a call going to "to".
func errorsTo(to states.State, more ...transitions.Edge) []transitions.Edge {
	out := more
	for _, c := range transitions.ErrorClasses() {
		if !slices.ContainsFunc(more, func(e transitions.Edge) bool { return e.Outcome == c }) {
			out = append(out, transitions.Edge{Outcome: c, To: to})
		}
	}
	return out
}

func TestEngine_GuardRefusesEmailAndWallet(t *testing.T) {
	// No declared flow can reach addToUser with Email + Wallet, so this
	// table does: wallet first, then email with the wallet's JWT.
	running := []states.State{states.New, states.ChallengeIssued, states.WalletAuthed, states.EmailSent, states.EmailVerified}
	emailWallet := &transitions.Flow{Kind: "email-wallet", Initial: states.New,
		Start: []transitions.Field{{Name: "walletAddress"}},
		Transitions: []transitions.Transition{
			{Event: transitions.Start, From: running[:1], Auto: true, Input: []transitions.Field{{Name: "walletAddress"}},
				Call: transitions.CallStartWallet, Edges: errorsTo(states.Failed, transitions.Edge{Outcome: transitions.OK, To: states.ChallengeIssued})},
			{Event: transitions.Sign, From: running[1:2], Input: []transitions.Field{{Name: "signature"}},
				Call: transitions.CallAuthenticateWallet, Edges: errorsTo(states.Failed, transitions.Edge{Outcome: transitions.OK, To: states.WalletAuthed})},
			{Event: transitions.SubmitEmail, From: running[2:3], Input: []transitions.Field{{Name: "emailAddress"}},
				Call: transitions.CallSendEmail, Bearer: true, Edges: errorsTo(states.Failed, transitions.Edge{Outcome: transitions.OK, To: states.EmailSent})},
			{Event: transitions.SubmitOTP, From: running[3:4], Input: []transitions.Field{{Name: "otp", Secret: true}},
				Call: transitions.CallAuthenticateEmail, Bearer: true, Edges: errorsTo(states.Failed,
					transitions.Edge{Outcome: transitions.OK, To: states.EmailVerified},
					transitions.Edge{Outcome: transitions.AttemptsExhausted, To: states.Failed})},
			{Event: transitions.AddWallet, From: running[4:5], Auto: true, Input: []transitions.Field{{Name: "walletAddress"}},
				Call: transitions.CallAddWalletToUser, Bearer: true, Guards: []transitions.Guard{transitions.GuardTwoFactor},
				Edges: errorsTo(states.Failed, transitions.Edge{Outcome: transitions.OK, To: states.Linked},
					transitions.Edge{Outcome: transitions.Refused, To: states.Failed, Label: "not a valid factor pair"})},
			{Event: transitions.Cancel, From: running, Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.Canceled}}},
			{Event: transitions.Expire, From: running, Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.Expired}}},
		}}
	if err := emailWallet.Validate(); err != nil {
		t.Fatalf("test table: %v", err)
	}
	h := flowtest.New(t, flowtest.Options{Flows: []*transitions.Flow{emailWallet}})
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.Run(emailWallet.Kind, []flowtest.Step{
		{Name: "start", Input: flow.Input{WalletAddress: w.Address}, Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "sign", Event: transitions.Sign, Fill: flowtest.SignWith(w), Want: flowtest.Want{State: states.WalletAuthed}},
		{Name: "email with the wallet's JWT", Event: transitions.SubmitEmail, Input: flow.Input{EmailAddress: p.Email},
			Want: flowtest.Want{State: states.EmailSent}},
		{Name: "email code: Email + Wallet is refused before addToUser", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Email),
			Want: flowtest.Want{State: states.Failed, Last: "add_wallet:refused"}},
	})
	if n := h.Sandbox.Stats().Calls[ratio.OpAddWalletToUser.Route()]; n != 0 {
		t.Errorf("addToUser called %d times despite the guard", n)
	}
}

// TestEngine_CacheNeverStale alternates two engines (two replicas) on one
// flow: each must see what the other wrote, whatever it remembers.
func TestEngine_CacheNeverStale(t *testing.T) {
	h := flowtest.New(t)
	s := linkMatchingStory(t)
	a, b := h.NewEngine(), h.NewEngine()
	steps := append(s.steps[:3:3],
		flowtest.Step{Name: "wrong code on B", Event: transitions.SubmitOTP, Fill: flowtest.WrongCodeFor(s.phone),
			Before: func(h *flowtest.Harness) { h.Engine = b }, WantErr: ratio.ErrInvalidOTP,
			Want: flowtest.Want{State: states.SmsSent, AttemptsLeft: flowtest.Ptr(2)}},
		flowtest.Step{Name: "wrong code on A, which last saw the flow before B's step", Event: transitions.SubmitOTP,
			Fill: flowtest.WrongCodeFor(s.phone), Before: func(h *flowtest.Harness) { h.Engine = a }, WantErr: ratio.ErrInvalidOTP,
			Want: flowtest.Want{State: states.SmsSent, AttemptsLeft: flowtest.Ptr(1)}},
		flowtest.Step{Name: "the right code on B", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(s.phone),
			Before: func(h *flowtest.Harness) { h.Engine = b }, Want: flowtest.Want{State: states.Authenticated}},
	)
	steps[0].Before = func(h *flowtest.Harness) { h.Engine = a }
	h.Run(s.kind, steps)
}

// TestEngine_StaleCacheNeverAnswers: engine A remembers the flow in
// WalletAuthed; engine B moves it to PhoneConflict. An event A's copy
// does not permit, but the stored flow does, must succeed on A, and an
// event A's copy permits but the stored flow does not must be refused as
// the stored state says.
func TestEngine_StaleCacheNeverAnswers(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	a, b := h.NewEngine(), h.NewEngine()
	h.Engine = a
	v := h.Run(transitions.KindLink, linkConflict(w, p)[:2]) // A wrote WalletAuthed
	ctx := context.Background()
	if _, err := b.Step(ctx, v.ID, h.Subject, transitions.SubmitPhone, flow.Input{PhoneNumber: p.Phone}); err != nil {
		t.Fatalf("B: submit_phone = %v", err)
	}
	// submit_phone is permitted in A's copy (WalletAuthed), not in PhoneConflict.
	_, err := a.Step(ctx, v.ID, h.Subject, transitions.SubmitPhone, flow.Input{PhoneNumber: p.Phone})
	var np *flow.NotPermittedError
	if !errors.As(err, &np) || np.State != states.PhoneConflict {
		t.Fatalf("A: submit_phone on a flow B moved on = %v, want NotPermittedError in PhoneConflict", err)
	}
	// confirm_phone is permitted in PhoneConflict, not in A's copy.
	got, err := a.Step(ctx, v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
	if err != nil || got.State != states.SmsFirstSent {
		t.Fatalf("A: confirm_phone = %v, %v; want SmsFirstSent", got.State, err)
	}
	if n := h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()]; n != 2 {
		t.Errorf("sms:send calls = %d, want 2 (the 409 and the confirmation)", n)
	}
}

// TestEngine_AutomaticCallRecordedWithThePrecedingWrite: the write that
// enters a state with an automatic Ratio call records that call as
// pending, so that a process dying before the call leaves the same trace
// as one dying during it; and the call costs no write of its own.
func TestEngine_AutomaticCallRecordedWithThePrecedingWrite(t *testing.T) {
	t.Run("start", func(t *testing.T) {
		h := flowtest.New(t)
		w := flowtest.NewWallet(t)
		var during []*store.Record
		api := &peekStart{API: h.Ratio, peek: func() {
			page, err := h.Store.List(context.Background(), store.Query{})
			if err != nil {
				t.Error(err)
			}
			during = page.Records
		}}
		e, err := flow.New(h.Store, api, flowtest.SealKey, flow.Options{Now: h.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.Start(context.Background(), transitions.KindLink, h.Subject, flow.Input{WalletAddress: w.Address})
		if err != nil || v.State != states.ChallengeIssued {
			t.Fatalf("Start = %v, %v", v, err)
		}
		if len(during) != 1 || during[0].Pending == nil || during[0].Pending.Call != string(transitions.CallStartWallet) ||
			during[0].Version != 1 {
			t.Fatalf("during the start call the store holds %+v, want flow %s at version 1 with %s pending",
				during, v.ID, transitions.CallStartWallet)
		}
		rec, _ := h.Store.Get(context.Background(), v.ID)
		if rec.Pending != nil || rec.Version != 2 {
			t.Errorf("after Start: pending %+v, version %d; want none and 2 (create, result)", rec.Pending, rec.Version)
		}
	})
	t.Run("add_wallet", func(t *testing.T) {
		h := flowtest.New(t)
		w, p := flowtest.NewWallet(t), flowtest.NewPerson()
		h.SeedUser(p)
		v := h.Run(transitions.KindLink, linkConflict(w, p)[:6])
		before, _ := h.Store.Get(context.Background(), v.ID)
		got, err := h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: h.OTP(p.Email)})
		if err != nil || got.State != states.Linked {
			t.Fatalf("submit_otp = %v, %v; want Linked", got.State, err)
		}
		after, _ := h.Store.Get(context.Background(), v.ID)
		// submit_otp: its claim, and its result with add_wallet's claim;
		// add_wallet: its result.
		if n := after.Version - before.Version; n != 3 {
			t.Errorf("the step wrote %d versions, want 3", n)
		}
	})
}

// peekStart calls peek before each cryptoWallet:start call.
type peekStart struct {
	ratio.API
	peek func()
}

func (p *peekStart) StartWallet(ctx context.Context, jwt ratio.Secret, req ratio.StartWalletRequest) (*ratio.StartWalletResponse, error) {
	p.peek()
	return p.API.StartWallet(ctx, jwt, req)
}

// TestEngine_ViewTimesDoNotChangeOnReload: a view's times are the ones a
// later read of the flow gives, on this engine or another: UTC at the
// stores' microsecond precision, whatever the zone and precision of the
// engine's clock. A frontend comparing expiresAt across answers sees no
// change where the flow did not change.
func TestEngine_ViewTimesDoNotChangeOnReload(t *testing.T) {
	for _, loc := range []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("EST", -5*3600)} {
		t.Run(loc.String(), func(t *testing.T) {
			h := flowtest.New(t)
			clock := func() time.Time { return h.Clock.Now().In(loc).Add(123456789 * time.Nanosecond) }
			a, err := flow.New(h.Store, h.Ratio, flowtest.SealKey, flow.Options{Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			b, err := flow.New(h.Store, h.Ratio, flowtest.SealKey, flow.Options{Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			w := flowtest.NewWallet(t)
			started, err := a.Start(ctx, transitions.KindLink, h.Subject, flow.Input{WalletAddress: w.Address})
			if err != nil {
				t.Fatalf("Start = %v", err)
			}
			for name, e := range map[string]*flow.Engine{"the same engine": a, "another engine": b} {
				got, err := e.Get(ctx, started.ID, h.Subject)
				if err != nil {
					t.Fatalf("%s: Get = %v", name, err)
				}
				if started.ChallengeExpiresAt == nil || got.ChallengeExpiresAt == nil {
					t.Fatalf("%s: challengeExpiresAt missing: %v after Start, %v when read", name, started.ChallengeExpiresAt, got.ChallengeExpiresAt)
				}
				for _, c := range []struct {
					field       string
					start, read time.Time
				}{
					{"createdAt", started.CreatedAt, got.CreatedAt},
					{"expiresAt", started.ExpiresAt, got.ExpiresAt},
					{"challengeExpiresAt", *started.ChallengeExpiresAt, *got.ChallengeExpiresAt},
				} {
					s, r := c.start.Format(time.RFC3339Nano), c.read.Format(time.RFC3339Nano)
					if s != r || c.start.Location() != time.UTC || c.start.Nanosecond()%1000 != 0 {
						t.Errorf("%s: %s is %s after Start and %s when read, want the same UTC microsecond", name, c.field, s, r)
					}
				}
			}
		})
	}
}
