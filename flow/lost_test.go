package flow_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// Authentications whose answer was lost: Ratio's codes and challenges are
// single use, so the same code or signature sent again is refused. The
// person must lose nothing for it: no attempt, no cooldown, no "invalid
// signature".

// dyingInAuth is a dying API whose process dies in its authentication.
func dyingInAuth(t *testing.T, api ratio.API, landed bool) *dying {
	d := newDying(t, api, landed)
	d.authDies = true
	return d
}

func (d *dying) AuthenticateSMS(ctx context.Context, jwt ratio.Secret, req ratio.AuthenticateSMSRequest) (*ratio.AuthResponse, error) {
	if !d.authDies {
		return d.API.AuthenticateSMS(ctx, jwt, req)
	}
	if d.landed {
		_, _ = d.API.AuthenticateSMS(ctx, jwt, req)
	}
	return nil, d.die()
}

func (d *dying) AuthenticateEmail(ctx context.Context, jwt ratio.Secret, req ratio.AuthenticateEmailRequest) (*ratio.AuthResponse, error) {
	if !d.authDies {
		return d.API.AuthenticateEmail(ctx, jwt, req)
	}
	if d.landed {
		_, _ = d.API.AuthenticateEmail(ctx, jwt, req)
	}
	return nil, d.die()
}

func (d *dying) AuthenticateWallet(ctx context.Context, jwt ratio.Secret, req ratio.AuthenticateWalletRequest) (*ratio.AuthResponse, error) {
	if !d.authDies {
		return d.API.AuthenticateWallet(ctx, jwt, req)
	}
	if d.landed {
		_, _ = d.API.AuthenticateWallet(ctx, jwt, req)
	}
	return nil, d.die()
}

func TestEngine_LostCodeCostsNoAttempt(t *testing.T) {
	for _, tt := range []struct {
		name   string
		upTo   int // steps of the link story run before the code
		to     func(p flowtest.Person) string
		state  states.State
		next   states.State
		landed bool
	}{
		{"SMS code, answer lost", 4, func(p flowtest.Person) string { return p.Phone }, states.SmsFirstSent, states.SmsVerified, true},
		{"email code, answer lost", 6, func(p flowtest.Person) string { return p.Email }, states.EmailSent, states.Linked, true},
		{"SMS code, never reached Ratio", 4, func(p flowtest.Person) string { return p.Phone }, states.SmsFirstSent, states.SmsVerified, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := flowtest.New(t)
			ctx := context.Background()
			w, p := flowtest.NewWallet(t), flowtest.NewPerson()
			h.SeedUser(p)
			v := h.Run(transitions.KindLink, linkConflict(w, p)[:tt.upTo])
			code := h.OTP(tt.to(p))
			stepAndDie(t, h, dyingInAuth(t, h.Ratio, tt.landed), v.ID, transitions.SubmitOTP, flow.Input{OTP: code})
			h.Clock.Advance(h.Engine.Policy().PendingTimeout)

			// The same code again: the frontend retrying what it sent.
			got, err := h.Engine.Step(ctx, v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: code})
			if !tt.landed {
				// The code was never used: it goes through.
				if err != nil || got.State != tt.next {
					t.Fatalf("the code again = %v, %v; want %s", got.State, err, tt.next)
				}
				return
			}
			var se *flow.StepError
			if !errors.Is(err, flow.ErrSpent) || !errors.As(err, &se) || se.Outcome != transitions.InvalidOTP {
				t.Fatalf("the spent code again = %v, want a spent invalid_otp StepError", err)
			}
			if got.State != tt.state || got.AttemptsLeft == nil || *got.AttemptsLeft != 3 || se.AttemptsLeft != 3 {
				t.Fatalf("after the spent code: %s with %v attempts left (error says %d); want %s with all 3",
					got.State, got.AttemptsLeft, se.AttemptsLeft, tt.state)
			}
			// A new code at once: no cooldown for a code the person never got to use.
			if _, err := h.Engine.Step(ctx, v.ID, h.Subject, transitions.ResendOTP, flow.Input{}); err != nil {
				t.Fatalf("resend at once = %v, want a new code", err)
			}
			got, err = h.Engine.Step(ctx, v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: h.OTP(tt.to(p))})
			if err != nil || got.State != tt.next {
				t.Fatalf("the new code = %v, %v; want %s", got.State, err, tt.next)
			}
		})
	}
}

// After the one spent refusal, wrong codes count again.
func TestEngine_OnlyTheFirstRefusalIsForgiven(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toSmsFirstSent(w, p))
	stepAndDie(t, h, dyingInAuth(t, h.Ratio, true), v.ID, transitions.SubmitOTP, flow.Input{OTP: h.OTP(p.Phone)})
	h.Clock.Advance(h.Engine.Policy().PendingTimeout)
	wrong := h.WrongOTP(p.Phone)
	if _, err := h.Engine.Step(ctx, v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: wrong}); !errors.Is(err, flow.ErrSpent) {
		t.Fatalf("first refusal = %v, want ErrSpent", err)
	}
	got, err := h.Engine.Step(ctx, v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: wrong})
	if errors.Is(err, flow.ErrSpent) || !errors.Is(err, ratio.ErrInvalidOTP) || *got.AttemptsLeft != 2 {
		t.Fatalf("second refusal = %v, %d left; want a counted wrong code, 2 left", err, *got.AttemptsLeft)
	}
}

func TestEngine_LostSignatureGetsAFreshChallenge(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, linkConflict(w, p)[:1])
	sig := w.Sign(t, v.Challenge)
	stepAndDie(t, h, dyingInAuth(t, h.Ratio, true), v.ID, transitions.Sign, flow.Input{Signature: sig})
	h.Clock.Advance(h.Engine.Policy().PendingTimeout)

	got, err := h.Engine.Step(ctx, v.ID, h.Subject, transitions.Sign, flow.Input{Signature: sig})
	var se *flow.StepError
	if !errors.Is(err, flow.ErrSpent) || !errors.As(err, &se) || se.Field != ratio.FieldSignature {
		t.Fatalf("the spent signature again = %v, want a spent StepError on %q", err, ratio.FieldSignature)
	}
	if got.State != states.ChallengeIssued || got.Challenge == "" || got.Challenge == v.Challenge {
		t.Fatalf("after the spent signature: %s, challenge %q; want ChallengeIssued with a fresh challenge", got.State, got.Challenge)
	}
	starts := h.Sandbox.Stats().Calls[ratio.OpStartWallet.Route()]
	if starts != 2 {
		t.Errorf("cryptoWallet:start made %d times, want 2: the first and one fresh challenge", starts)
	}
	got, err = h.Engine.Step(ctx, v.ID, h.Subject, transitions.Sign, flow.Input{Signature: w.Sign(t, got.Challenge)})
	if err != nil || got.State != states.WalletAuthed {
		t.Fatalf("signing the fresh challenge = %v, %v; want WalletAuthed", got.State, err)
	}
}

// A start retried with the same key finds the flow the first one made.
func TestEngine_StartKeyedMakesOneFlow(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w := flowtest.NewWallet(t)
	in := flow.Input{WalletAddress: w.Address}
	first, err := h.Engine.StartKeyed(ctx, transitions.KindLink, h.Subject, "key-1", in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.NewEngine().StartKeyed(ctx, transitions.KindLink, h.Subject, "key-1", in)
	if err != nil || again.ID != first.ID || again.State != states.ChallengeIssued {
		t.Fatalf("the same key again = %v, %v; want flow %s", again, err, first.ID)
	}
	if n := h.Sandbox.Stats().Calls[ratio.OpStartWallet.Route()]; n != 1 {
		t.Errorf("cryptoWallet:start made %d times, want 1", n)
	}
	other, err := h.Engine.StartKeyed(ctx, transitions.KindLink, h.Subject, "key-2", in)
	if err != nil || other.ID == first.ID {
		t.Fatalf("another key = %v, %v; want a second flow", other, err)
	}
	if _, err := h.Engine.StartKeyed(ctx, transitions.KindSignIn, h.Subject, "key-1", in); !errors.Is(err, flow.ErrKeyReused) {
		t.Errorf("the key of a link flow for a signin = %v, want ErrKeyReused", err)
	}
	if v, err := h.Engine.StartKeyed(ctx, transitions.KindLink, "someone else", "key-1", in); err != nil || v.ID == first.ID {
		t.Errorf("the same key for another subject = %v, %v; want a flow of its own", v, err)
	}
}

// TestEngine_LeaseRenewedWhileTheCallRuns: a call slower than the lease
// keeps its flow, on the engine's clock, because its process renews the
// lease; another engine is refused until the call ends.
func TestEngine_LeaseRenewedWhileTheCallRuns(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toConflict(w, p))
	release := make(chan struct{})
	slow := &blocking{API: h.Ratio, entered: make(chan struct{}), release: release}
	e, err := flow.New(h.Store, slow, flowtest.SealKey, flow.Options{Now: h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.Step(ctx, v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{})
		done <- err
	}()
	<-slow.entered
	lease := h.Engine.Policy().PendingTimeout
	for range 3 { // three leases pass while Ratio thinks
		before := renewedAt(t, h.Store, v.ID)
		h.Clock.Advance(lease / 2)
		waitFor(t, func() bool { return renewedAt(t, h.Store, v.ID).After(before) })
		if _, err := h.NewEngine().Step(ctx, v.ID, h.Subject, transitions.ConfirmPhone, flow.Input{}); !errors.Is(err, flow.ErrConcurrentStep) {
			t.Fatalf("another engine during the call = %v, want ErrConcurrentStep", err)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the slow step = %v", err)
	}
	if got, _ := h.Engine.Get(ctx, v.ID, h.Subject); got.State != states.SmsFirstSent {
		t.Fatalf("after the slow call: %s, want SmsFirstSent", got.State)
	}
}

// TestEngine_KeepsTheAnswerThroughAStoreOutage: the write that keeps a
// Ratio answer is tried again while the store fails, so a live process
// never drops an answer it holds.
func TestEngine_KeepsTheAnswerThroughAStoreOutage(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toSmsFirstSent(w, p))
	flaky := &flakyStore{Store: h.Store}
	e, err := flow.New(flaky, h.Ratio, flowtest.SealKey, flow.Options{Now: h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The claim lands; the result write fails three times, the second time
	// after the store had in fact written it.
	flaky.plan([]error{nil, errors.New("connection reset"), errLanded, errors.New("connection refused")})
	got, err := e.Step(ctx, v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: h.OTP(p.Phone)})
	if err != nil || got.State != states.SmsVerified {
		t.Fatalf("submit_otp through the outage = %v, %v; want SmsVerified", got.State, err)
	}
	rec, _ := h.Store.Get(ctx, v.ID)
	if rec.State != states.SmsVerified || rec.Pending != nil {
		t.Fatalf("stored: %s, pending %+v; want SmsVerified", rec.State, rec.Pending)
	}
	if n := h.Sandbox.Stats().Calls[ratio.OpAuthenticateSMS.Route()]; n != 1 {
		t.Errorf("sms:authenticate made %d times, want 1", n)
	}
}

// blocking holds sms:send until release is closed.
type blocking struct {
	ratio.API
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) SendSMS(ctx context.Context, jwt ratio.Secret, req ratio.SendSMSRequest) (*ratio.SendSMSResponse, error) {
	close(b.entered)
	<-b.release
	return b.API.SendSMS(ctx, jwt, req)
}

// errLanded makes flakyStore write the update and then report a failure,
// as a connection lost after the commit does.
var errLanded = errors.New("connection lost after commit")

// flakyStore answers Update with the planned errors, one per call.
type flakyStore struct {
	store.Store
	errs  []error
	calls atomic.Int32
}

func (s *flakyStore) plan(errs []error) { s.errs = errs }

func (s *flakyStore) Update(ctx context.Context, rec *store.Record, h ...store.HistoryEntry) error {
	i := int(s.calls.Add(1)) - 1
	if i >= len(s.errs) || s.errs[i] == nil {
		return s.Store.Update(ctx, rec, h...)
	}
	if s.errs[i] == errLanded {
		c := rec.Clone()
		if err := s.Store.Update(ctx, c, h...); err != nil {
			return err
		}
	}
	return s.errs[i]
}

func renewedAt(t *testing.T, st store.Store, id string) time.Time {
	t.Helper()
	rec, err := st.Get(context.Background(), id)
	if err != nil || rec.Pending == nil {
		t.Fatalf("Get(%s) = %+v, %v; want a pending call", id, rec, err)
	}
	return rec.Pending.RenewedAt
}

// waitFor polls cond until it holds; the test's deadline bounds it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the condition did not hold within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEngine_StepKeyedAnswersAsItDid: a step made with a request key,
// whose process died before its caller heard the answer, answers as it did
// when retried with the same key: it is neither refused as not permitted in
// the state it led to nor made again.
func TestEngine_StepKeyedAnswersAsItDid(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, linkConflict(w, p)[:6])
	code := h.OTP(p.Email)
	// The email code lands; the process dies in the addToUser that follows.
	d := newDying(t, h.Ratio, true)
	e, err := flow.New(deadStore{h.Store, d.entered}, d, flowtest.SealKey, flow.Options{Now: h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = e.StepKeyed(ctx, v.ID, h.Subject, transitions.SubmitOTP, "key-7", flow.Input{OTP: code})
	}()
	<-d.entered
	t.Cleanup(func() { close(d.dead) })
	h.Clock.Advance(h.Engine.Policy().PendingTimeout)

	if _, err := h.NewEngine().Step(ctx, v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: code}); err == nil {
		t.Fatal("the same event without its key went through; want it refused as a new step")
	}
	got, err := h.NewEngine().StepKeyed(ctx, v.ID, h.Subject, transitions.SubmitOTP, "key-7", flow.Input{OTP: code})
	if err != nil || got.State != states.Linked {
		t.Fatalf("the retry with its key = %v, %v; want Linked, as the step would have answered", got.State, err)
	}
	if n := h.Sandbox.Stats().Calls[ratio.OpAuthenticateEmail.Route()]; n != 1 {
		t.Errorf("email:authenticate made %d times, want 1", n)
	}
	if n := h.Sandbox.Stats().AddToUser[w.Address]; n != 1 {
		t.Errorf("addToUser applied %d times, want 1", n)
	}
}

// A wrong code retried with its key answers the same refusal and costs no
// second attempt.
func TestEngine_StepKeyedRefusalCostsOneAttempt(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toSmsFirstSent(w, p))
	wrong := h.WrongOTP(p.Phone)
	for i := range 2 {
		got, err := h.NewEngine().StepKeyed(ctx, v.ID, h.Subject, transitions.SubmitOTP, "key-wrong", flow.Input{OTP: wrong})
		var se *flow.StepError
		if !errors.As(err, &se) || se.Outcome != transitions.InvalidOTP || se.AttemptsLeft != 2 || *got.AttemptsLeft != 2 {
			t.Fatalf("try %d of the same request: %v, %v left; want invalid_otp with 2 attempts left", i+1, err, got.AttemptsLeft)
		}
		if !errors.Is(err, ratio.ErrInvalidOTP) {
			t.Errorf("try %d: %v does not match ratio.ErrInvalidOTP", i+1, err)
		}
	}
	if n := h.Sandbox.Stats().Calls[ratio.OpAuthenticateSMS.Route()]; n != 1 {
		t.Errorf("sms:authenticate made %d times, want 1", n)
	}
	got, err := h.Engine.StepKeyed(ctx, v.ID, h.Subject, transitions.SubmitOTP, "key-right", flow.Input{OTP: h.OTP(p.Phone)})
	if err != nil || got.State != states.SmsVerified {
		t.Fatalf("a new request with the right code = %v, %v; want SmsVerified", got.State, err)
	}
}

// A step whose failure outcome moved the flow (409 on the phone, to
// PhoneConflict) was no error: retried with its key, it answers the view
// again, not an error.
func TestEngine_StepKeyedMoveIsNoError(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, linkConflict(w, p)[:2])
	for i := range 2 {
		got, err := h.NewEngine().StepKeyed(ctx, v.ID, h.Subject, transitions.SubmitPhone, "key-phone", flow.Input{PhoneNumber: p.Phone})
		if err != nil || got.State != states.PhoneConflict {
			t.Fatalf("try %d of submit_phone with its key = %v, %v; want PhoneConflict and no error", i+1, got.State, err)
		}
	}
	if n := h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()]; n != 1 {
		t.Errorf("sms:send made %d times, want 1", n)
	}
}

// A spent code's refusal retried with its key is still the spent refusal,
// which costs no attempt.
func TestEngine_StepKeyedSpentStaysSpent(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, toSmsFirstSent(w, p))
	code := h.OTP(p.Phone)
	stepAndDie(t, h, dyingInAuth(t, h.Ratio, true), v.ID, transitions.SubmitOTP, flow.Input{OTP: code})
	h.Clock.Advance(h.Engine.Policy().PendingTimeout)
	for i := range 2 {
		got, err := h.NewEngine().StepKeyed(ctx, v.ID, h.Subject, transitions.SubmitOTP, "key-spent", flow.Input{OTP: code})
		if !errors.Is(err, flow.ErrSpent) || *got.AttemptsLeft != 3 {
			t.Fatalf("try %d = %v, %d attempts left; want the spent refusal and all 3 attempts", i+1, err, *got.AttemptsLeft)
		}
	}
}
