package flowtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// Begin, as a Step's Event, starts the flow (Engine.Start) with the step's
// input; every table's first step is one.
const Begin transitions.Event = ""

// Step is one row of a flow table.
type Step struct {
	// Name says what the step is about; it names the failure.
	Name string
	// Event is fired with Input (and what Fill adds). Begin starts the flow.
	Event transitions.Event
	Input flow.Input
	// Fill computes input that depends on the flow so far, such as the
	// signature of the challenge or the code the sandbox sent.
	Fill func(h *Harness, v *flow.View) flow.Input
	// Advance moves the fake clock before the step.
	Advance time.Duration
	// Before runs before the step: inject a fault, restart the engine...
	Before func(h *Harness)
	// Resume, instead of an event, resumes the flow (Engine.Resume).
	Resume bool
	// Want is the view expected after the step.
	Want Want
	// WantErr is matched with errors.Is; nil expects no error.
	WantErr error
}

// Want is the part of a view a step checks. State is always checked; Next
// when non-nil; Last when set; the others when set.
type Want struct {
	State states.State
	// Next lists the events the user may send now, as "event(field,...)".
	Next []string
	// Last is the outcome of the latest transition, "event:outcome".
	Last string
	// AttemptsLeft, when non-nil, is the code attempts left.
	AttemptsLeft *int
	// Challenge expects a challenge to sign in the view.
	Challenge bool
	// Waiting expects a retry time (a back-off) in the view.
	Waiting bool
	// NextFlow is the flow the view points to.
	NextFlow transitions.Kind
}

// Snapshot is what a test compares of a view: the checked fields in a form
// that diffs well.
type Snapshot struct {
	State        states.State
	Terminal     bool
	Next         []string
	Last         string
	AttemptsLeft *int
	Challenge    bool
	Waiting      bool
	PhoneMask    string
	EmailMask    string
	NextFlow     transitions.Kind
}

// Snap returns the snapshot of a view.
func Snap(v *flow.View) Snapshot {
	s := Snapshot{State: v.State, Terminal: v.Terminal, Next: []string{}, AttemptsLeft: v.AttemptsLeft,
		Challenge: v.Challenge != "", Waiting: v.RetryAt != nil, PhoneMask: v.PhoneMask,
		EmailMask: v.EmailMask, NextFlow: v.NextFlow}
	for _, n := range v.Next {
		s.Next = append(s.Next, string(n.Event)+"("+strings.Join(n.Fields, ",")+")")
	}
	if v.Last != nil {
		s.Last = string(v.Last.Event) + ":" + string(v.Last.Outcome)
	}
	return s
}

// expected returns the snapshot w describes, taking every field w leaves
// unchecked from got, so that a diff shows the whole view but flags only
// what differs.
func (w Want) expected(got Snapshot) Snapshot {
	e := got
	e.State = w.State
	e.Terminal = w.State.Terminal()
	if w.Next != nil {
		e.Next = w.Next
	}
	if w.Last != "" {
		e.Last = w.Last
	}
	if w.AttemptsLeft != nil {
		e.AttemptsLeft = w.AttemptsLeft
	}
	if w.Challenge {
		e.Challenge = true
	}
	if w.Waiting {
		e.Waiting = true
	}
	if w.NextFlow != "" {
		e.NextFlow = w.NextFlow
	}
	return e
}

// Ptr returns a pointer to v, for Want.AttemptsLeft.
func Ptr[T any](v T) *T { return &v }

// Run starts a flow of kind and fires the steps in order (the first must
// be a Begin step), checking each against its Want. It returns the last
// view; the flow's ID is in it.
func (h *Harness) Run(kind transitions.Kind, steps []Step) *flow.View {
	h.tb.Helper()
	var v *flow.View
	for i, s := range steps {
		v = h.step(kind, i, s, v)
		if h.tb.Failed() {
			h.tb.FailNow()
		}
	}
	return v
}

func (h *Harness) step(kind transitions.Kind, i int, s Step, prev *flow.View) *flow.View {
	h.tb.Helper()
	name := fmt.Sprintf("step %d %q", i, s.Name)
	if s.Advance > 0 {
		h.Clock.Advance(s.Advance)
	}
	if s.Before != nil {
		s.Before(h)
	}
	in := s.Input
	if s.Fill != nil {
		in = merge(in, s.Fill(h, prev))
	}
	ctx := context.Background()
	var (
		v   *flow.View
		err error
	)
	switch {
	case s.Event == Begin && !s.Resume:
		v, err = h.Engine.Start(ctx, kind, h.Subject, in)
	case s.Resume:
		v, err = h.Engine.Resume(ctx, prev.ID, h.Subject)
	default:
		v, err = h.Engine.Step(ctx, prev.ID, h.Subject, s.Event, in)
	}
	if !matches(err, s.WantErr) {
		h.tb.Errorf("%s: %s = %v, want error %v", name, describe(s), err, s.WantErr)
	}
	if v == nil {
		if prev == nil {
			h.tb.Fatalf("%s: no view returned", name)
		}
		v, err = h.Engine.Get(ctx, prev.ID, h.Subject)
		if err != nil {
			h.tb.Fatalf("%s: Get after the step: %v", name, err)
		}
	}
	h.cover(kind, v.ID)
	var wait *flow.WaitError
	if errors.As(err, &wait) && wait.Guard != "" && prev != nil {
		// A guard that keeps the flow where it is writes no history: record
		// its refused edge here.
		h.coverEdge(Edge{Kind: kind, From: prev.State, Event: s.Event, Outcome: transitions.Refused})
	}
	got := Snap(v)
	if diff := cmp.Diff(s.Want.expected(got), got); diff != "" {
		h.tb.Errorf("%s: %s: view mismatch (-want +got):\n%s", name, describe(s), diff)
	}
	h.checkReload(name, s, v)
	return v
}

// checkReload checks that the view a step answered is the one another
// engine reads from the store right after, to the character a client
// sees: nothing the step showed was lost or changed on the way to the
// store (times, masks, the last outcome), whichever store the harness
// runs on.
func (h *Harness) checkReload(name string, s Step, v *flow.View) {
	h.tb.Helper()
	if h.reader == nil {
		h.reader = h.NewEngine()
	}
	read, err := h.reader.Get(context.Background(), v.ID, h.Subject)
	if err != nil {
		h.tb.Errorf("%s: %s: another engine's Get of the flow: %v", name, describe(s), err)
		return
	}
	asSent := cmp.Comparer(func(a, b time.Time) bool { return a.Format(time.RFC3339Nano) == b.Format(time.RFC3339Nano) })
	if diff := cmp.Diff(v, read, asSent); diff != "" {
		h.tb.Errorf("%s: %s: the view it answered differs from the stored flow's (-answered +read back):\n%s", name, describe(s), diff)
	}
}

func describe(s Step) string {
	switch {
	case s.Resume:
		return "Resume()"
	case s.Event == Begin:
		return "Start()"
	}
	return fmt.Sprintf("Step(%s)", s.Event)
}

// Matcher is a WantErr that decides itself which errors it matches, for
// conditions errors.Is cannot express.
type Matcher interface {
	error
	MatchError(err error) bool
}

func matches(err, want error) bool {
	if m, ok := want.(Matcher); ok {
		return m.MatchError(err)
	}
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// InputErrorOn matches a *ratio.InputError naming field.
func InputErrorOn(field string) error { return inputErrorOn(field) }

type inputErrorOn string

// Error returns the error text.
func (f inputErrorOn) Error() string { return "an input error naming " + string(f) }

// MatchError reports whether err is the kind of error this matcher stands for.
func (f inputErrorOn) MatchError(err error) bool {
	var ie *ratio.InputError
	return errors.As(err, &ie) && ie.Field == string(f)
}

// merge returns a with the fields b sets.
func merge(a, b flow.Input) flow.Input {
	set := func(dst *string, src string) {
		if src != "" {
			*dst = src
		}
	}
	set(&a.WalletAddress, b.WalletAddress)
	set(&a.Signature, b.Signature)
	set(&a.PhoneNumber, b.PhoneNumber)
	set(&a.EmailAddress, b.EmailAddress)
	set(&a.FirstName, b.FirstName)
	set(&a.MiddleName, b.MiddleName)
	set(&a.LastName, b.LastName)
	set(&a.Country, b.Country)
	if b.OTP != "" {
		a.OTP = b.OTP
	}
	if b.AcceptedTerms != nil {
		a.AcceptedTerms = b.AcceptedTerms
	}
	return a
}

// SignWith fills the signature of the view's challenge by w.
func SignWith(w *Wallet) func(h *Harness, v *flow.View) flow.Input {
	return func(h *Harness, v *flow.View) flow.Input {
		if v.Challenge == "" {
			h.tb.Fatalf("no challenge to sign in state %s", v.State)
		}
		return flow.Input{Signature: w.Sign(h.tb, v.Challenge)}
	}
}

// CodeSentTo fills the code the sandbox last sent to a phone or an email.
func CodeSentTo(to string) func(h *Harness, v *flow.View) flow.Input {
	return func(h *Harness, _ *flow.View) flow.Input { return flow.Input{OTP: h.OTP(to)} }
}

// WrongCodeFor fills a code that is not the one last sent to.
func WrongCodeFor(to string) func(h *Harness, v *flow.View) flow.Input {
	return func(h *Harness, _ *flow.View) flow.Input { return flow.Input{OTP: h.WrongOTP(to)} }
}

// FailNext returns a Before hook making the sandbox fail the next n calls of op.
func FailNext(op ratio.Op, n, status int) func(h *Harness) {
	return func(h *Harness) { h.Sandbox.FailNext(op, n, status) }
}

// RateLimitNext returns a Before hook making the sandbox answer 429 to the
// next n calls of op.
func RateLimitNext(op ratio.Op, n int, retryAfter time.Duration) func(h *Harness) {
	return func(h *Harness) { h.Sandbox.ForceRateLimit(op, n, retryAfter) }
}

// Restart returns a Before hook replacing the harness's engine with a new
// one on the same store, as after a process restart.
func Restart() func(h *Harness) {
	return func(h *Harness) { h.Engine = h.NewEngine() }
}
