// Package pilot plays the end user of a flow: it signs challenges with the
// user's wallet key, types the phone number and email, reads the one-time
// codes (from the sandbox, or by asking the person at the terminal), and
// waits out back-offs, until the flow ends. The demo and the load generator
// of the ratioflow command both fly flows with it.
package pilot

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// Persona is the person a pilot plays.
type Persona struct {
	Key                          *ecdsa.PrivateKey
	Phone, Email                 string
	FirstName, LastName, Country string
}

// Wallet returns the persona's wallet address (EIP-55).
func (p Persona) Wallet() string { return crypto.PubkeyToAddress(p.Key.PublicKey).Hex() }

// StartInput returns the input that starts a flow of kind for the persona.
func (p Persona) StartInput(kind transitions.Kind) flow.Input {
	in := flow.Input{WalletAddress: p.Wallet()}
	if kind == transitions.KindSignUp {
		yes := true
		in.FirstName, in.LastName, in.Country = p.FirstName, p.LastName, p.Country
		in.EmailAddress, in.PhoneNumber, in.AcceptedTerms = p.Email, p.Phone, &yes
	}
	return in
}

// Codes tells the one-time code last sent to a phone number or an email.
type Codes interface {
	Code(ctx context.Context, to string) (ratio.Secret, error)
}

// Step is what the pilot reports after each call to the engine: the event
// it sent (empty for a start or a resume), the view before and after, and
// the audit entries the call appended (automatic steps included).
type Step struct {
	Event    transitions.Event
	Before   states.State
	View     *flow.View
	Err      error
	Entries  []store.HistoryEntry
	Duration time.Duration
}

// Engine is what a pilot needs of an engine: a *flow.Engine, or anything
// that sends each call to one, such as a load balancer over replicas.
type Engine interface {
	Start(ctx context.Context, kind transitions.Kind, subject string, in flow.Input) (*flow.View, error)
	Step(ctx context.Context, id, subject string, event transitions.Event, in flow.Input) (*flow.View, error)
	Get(ctx context.Context, id, subject string) (*flow.View, error)
	Resume(ctx context.Context, id, subject string) (*flow.View, error)
	History(ctx context.Context, id, subject string) ([]store.HistoryEntry, error)
}

var _ Engine = (*flow.Engine)(nil)

// Pilot flies flows on an engine for one subject.
type Pilot struct {
	Engine  Engine
	Codes   Codes
	Subject string
	Persona Persona
	// Observe, if set, is told about every step.
	Observe func(Step)
	// NoEntries leaves Step.Entries empty, saving Observe a read of the
	// flow's history per step: the load generator needs only the timings.
	NoEntries bool
	// Sleep waits out a back-off; nil means a real sleep that ctx cuts short.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxSteps bounds the steps of one flow; zero means 64.
	MaxSteps int

	seen int // history entries already reported
}

// ErrStuck: the flow did not end within MaxSteps.
var ErrStuck = errors.New("pilot: flow did not end")

// Fly starts a flow of kind and flies it to its end.
func (p *Pilot) Fly(ctx context.Context, kind transitions.Kind) (*flow.View, error) {
	start := time.Now()
	v, err := p.Engine.Start(ctx, kind, p.Subject, p.Persona.StartInput(kind))
	if v == nil {
		return nil, err
	}
	p.seen = 0
	p.report(ctx, "", states.New, v, err, time.Since(start))
	if err != nil && !recoverable(err) {
		return v, err
	}
	return p.Continue(ctx, v)
}

// Resume picks up flow id where it is, as after a crash, and flies it to
// its end.
func (p *Pilot) Resume(ctx context.Context, id string) (*flow.View, error) {
	hist, err := p.Engine.History(ctx, id, p.Subject)
	if err != nil {
		return nil, err
	}
	p.seen = len(hist)
	v, err := p.resume(ctx, id)
	for errors.Is(err, flow.ErrConcurrentStep) {
		// A step of the dead process may still be pending: wait for the
		// engine to take it for dead.
		if err := p.sleep(ctx, time.Second); err != nil {
			return v, err
		}
		v, err = p.resume(ctx, id)
	}
	if err != nil && !recoverable(err) {
		return v, err
	}
	return p.Continue(ctx, v)
}

func (p *Pilot) resume(ctx context.Context, id string) (*flow.View, error) {
	start := time.Now()
	before, _ := p.Engine.Get(ctx, id, p.Subject)
	v, err := p.Engine.Resume(ctx, id, p.Subject)
	if v != nil && before != nil {
		p.report(ctx, "", before.State, v, err, time.Since(start))
	}
	return v, err
}

// Continue flies the flow of view v to its end.
func (p *Pilot) Continue(ctx context.Context, v *flow.View) (*flow.View, error) {
	maxSteps := p.MaxSteps
	if maxSteps == 0 {
		maxSteps = 64
	}
	for range maxSteps {
		if v.Terminal {
			return v, nil
		}
		event, in, err := p.next(ctx, v)
		if err != nil {
			return v, err
		}
		start := time.Now()
		var got *flow.View
		if event == "" {
			got, err = p.Engine.Resume(ctx, v.ID, p.Subject)
		} else {
			got, err = p.Engine.Step(ctx, v.ID, p.Subject, event, in)
		}
		if got != nil {
			p.report(ctx, event, v.State, got, err, time.Since(start))
			v = got
		}
		if err != nil {
			if v, err = p.recover(ctx, v, err); err != nil {
				return v, err
			}
		}
	}
	return v, fmt.Errorf("%w within %d steps: state %s", ErrStuck, maxSteps, v.State)
}

// next chooses what the user does in the view's state.
func (p *Pilot) next(ctx context.Context, v *flow.View) (transitions.Event, flow.Input, error) {
	can := map[transitions.Event]bool{}
	auto := false
	for _, n := range v.Next {
		can[n.Event] = true
		auto = auto || n.Auto
	}
	switch {
	case can[transitions.Sign]:
		sig, err := ratio.SignPersonal(p.Persona.Key, v.Challenge)
		return transitions.Sign, flow.Input{Signature: sig}, err
	case can[transitions.SubmitPhone]:
		return transitions.SubmitPhone, flow.Input{PhoneNumber: p.Persona.Phone}, nil
	case can[transitions.ConfirmPhone]:
		return transitions.ConfirmPhone, flow.Input{}, nil
	case can[transitions.SubmitOTP]:
		to := p.Persona.Phone
		if v.State == states.EmailSent {
			to = p.Persona.Email
		}
		code, err := p.Codes.Code(ctx, to)
		return transitions.SubmitOTP, flow.Input{OTP: code}, err
	case can[transitions.SubmitEmail]:
		return transitions.SubmitEmail, flow.Input{EmailAddress: p.Persona.Email}, nil
	case auto:
		return "", flow.Input{}, nil // an automatic step failed transiently: resume it
	}
	return "", flow.Input{}, fmt.Errorf("pilot: nothing to do in state %s (next: %v)", v.State, v.Next)
}

// recover waits out what can be waited out and returns the view to go on
// from, or the error that ends the flight.
func (p *Pilot) recover(ctx context.Context, v *flow.View, err error) (*flow.View, error) {
	var (
		wait *flow.WaitError
		se   *flow.StepError
	)
	switch {
	case errors.As(err, &wait):
		return v, p.sleep(ctx, wait.RetryAfter)
	case errors.As(err, &se) && se.Outcome == transitions.RateLimited:
		return v, p.sleep(ctx, se.RetryAfter)
	case errors.As(err, &se) && se.Outcome == transitions.InvalidOTP:
		return v, p.resend(ctx, v)
	case errors.As(err, &se) && se.Outcome == transitions.InvalidInput && se.Event == transitions.Sign:
		return p.newChallenge(ctx, v, err)
	case errors.Is(err, flow.ErrExpired):
		return v, nil // the view is terminal now
	case errors.Is(err, flow.ErrConcurrentStep), errors.Is(err, flow.ErrNotPermitted), errors.Is(err, flow.ErrEnded):
		// Someone else (another tab, a retry) moved the flow: look again.
		if err := p.sleep(ctx, 20*time.Millisecond); err != nil {
			return v, err
		}
		return p.Engine.Get(ctx, v.ID, p.Subject)
	case recoverable(err):
		return v, p.sleep(ctx, 50*time.Millisecond)
	}
	return v, err
}

// newChallenge asks for a fresh challenge after Ratio refused a signature
// the engine had checked: the challenge it signed is gone (used by a step
// whose process died before it could record the answer, or expired), as
// a wallet app would. The next turn of the loop signs the new one.
func (p *Pilot) newChallenge(ctx context.Context, v *flow.View, cause error) (*flow.View, error) {
	if !slices.ContainsFunc(v.Next, func(n flow.Next) bool { return n.Event == transitions.NewChallenge }) {
		return v, cause
	}
	start := time.Now()
	got, err := p.Engine.Step(ctx, v.ID, p.Subject, transitions.NewChallenge, flow.Input{})
	if got == nil {
		return v, err
	}
	p.report(ctx, transitions.NewChallenge, v.State, got, err, time.Since(start))
	if err != nil && !recoverable(err) {
		return got, err
	}
	return got, nil
}

// resend asks for a new code: the one read was wrong or expired.
func (p *Pilot) resend(ctx context.Context, v *flow.View) error {
	for {
		_, err := p.Engine.Step(ctx, v.ID, p.Subject, transitions.ResendOTP, flow.Input{})
		var wait *flow.WaitError
		if !errors.As(err, &wait) {
			return nil // sent, or an error the next step will meet again
		}
		if err := p.sleep(ctx, wait.RetryAfter); err != nil {
			return err
		}
	}
}

func recoverable(err error) bool {
	return flow.Retryable(err) || errors.Is(err, flow.ErrExpired)
}

func (p *Pilot) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// report tells Observe about a step, with the audit entries it appended.
func (p *Pilot) report(ctx context.Context, event transitions.Event, before states.State, v *flow.View, err error, d time.Duration) {
	if p.Observe == nil {
		return
	}
	s := Step{Event: event, Before: before, View: v, Err: err, Duration: d}
	if p.NoEntries {
		p.Observe(s)
		return
	}
	if hist, herr := p.Engine.History(ctx, v.ID, p.Subject); herr == nil && len(hist) > p.seen {
		s.Entries = hist[p.seen:]
		p.seen = len(hist)
	}
	p.Observe(s)
}
