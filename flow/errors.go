package flow

import (
	"errors"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// Sentinel errors. Step, Get, Cancel and Resume wrap them; callers match
// them with errors.Is.
var (
	// ErrNotFound: no flow has that ID, or it belongs to another subject.
	ErrNotFound = errors.New("flow not found")
	// ErrUnknownKind: Start was asked for a flow kind that is not declared.
	ErrUnknownKind = errors.New("unknown flow kind")
	// ErrNotPermitted: the event cannot fire in the flow's current state.
	// The error is a *NotPermittedError listing what can.
	ErrNotPermitted = errors.New("event not permitted in this state")
	// ErrConcurrentStep: another step on the same flow won the race, or is
	// still in flight. Nothing was applied; reload and retry.
	ErrConcurrentStep = errors.New("another step on this flow is in progress")
	// ErrExpired: the flow passed its deadline and is now Expired.
	ErrExpired = errors.New("flow expired")
	// ErrEnded: the flow is in a terminal state; no event applies.
	ErrEnded = errors.New("flow has ended")
	// ErrTooEarly: the step must wait (a 429 back-off, a resend cooldown, a
	// code that may still be on its way). The error is a *WaitError.
	ErrTooEarly = errors.New("too early")
	// ErrGraphChanged: the flow started on another version of its graph and
	// no migration is declared for it. The error is a *GraphChangedError.
	ErrGraphChanged = errors.New("flow graph changed since the flow started")
	// ErrStepFailed: a Ratio call failed and left the flow where it was.
	// The error is a *StepError.
	ErrStepFailed = errors.New("step failed")
	// ErrAttemptsExhausted: the last one-time code allowed was wrong and
	// the flow moved to Failed. The error is a *StepError, returned with
	// the Failed flow's view.
	ErrAttemptsExhausted = errors.New("no one-time code attempt left")
	// ErrSpent: Ratio refused a code or signature that an earlier attempt,
	// whose answer was lost, may have used up. No attempt was counted. The
	// error is a *StepError with Spent set.
	ErrSpent = errors.New("code or challenge spent by an attempt whose answer was lost")
	// ErrKeyReused: StartKeyed was given a key that started a flow of
	// another kind.
	ErrKeyReused = errors.New("start key already used for another kind of flow")
	// ErrSealed: the flow's data could not be opened with the configured
	// seal key (a wrong key, or data written by another deployment).
	ErrSealed = errors.New("flow data cannot be unsealed")
)

// Retryable reports whether err is a condition that may clear by itself:
// a concurrent step, a wait, or a transient Ratio failure. A caller may
// reload the flow and try the same step again.
func Retryable(err error) bool {
	var se *StepError
	if errors.As(err, &se) {
		return se.Outcome == transitions.Transient || se.Outcome == transitions.RateLimited
	}
	return errors.Is(err, ErrConcurrentStep) || errors.Is(err, ErrTooEarly)
}

// NotPermittedError says which events the current state permits.
type NotPermittedError struct {
	State     states.State
	Event     transitions.Event
	Permitted []transitions.Event
}

// Error returns the error text.
func (e *NotPermittedError) Error() string {
	return fmt.Sprintf("event %s not permitted in state %s (permitted: %v)", e.Event, e.State, e.Permitted)
}

// Unwrap returns ErrNotPermitted.
func (e *NotPermittedError) Unwrap() error { return ErrNotPermitted }

// WaitError says how long to wait before the step can be tried again.
type WaitError struct {
	Event      transitions.Event
	Reason     string
	RetryAfter time.Duration
	// Guard is the guard that refused the step, if one did.
	Guard transitions.Guard
}

// Error returns the error text.
func (e *WaitError) Error() string {
	return fmt.Sprintf("%s: %s: retry in %s", e.Event, e.Reason, e.RetryAfter.Round(time.Millisecond))
}

// Unwrap returns ErrTooEarly.
func (e *WaitError) Unwrap() error { return ErrTooEarly }

// GraphChangedError names the versions of a flow that cannot be resumed.
type GraphChangedError struct {
	Kind            transitions.Kind
	Stored, Current string
}

// Error returns the error text.
func (e *GraphChangedError) Error() string {
	return fmt.Sprintf("flow of kind %s started on graph %s, now %s, and no migration is declared", e.Kind, e.Stored, e.Current)
}

// Unwrap returns ErrGraphChanged.
func (e *GraphChangedError) Unwrap() error { return ErrGraphChanged }

// StepError is a step whose Ratio call failed and left the flow in the
// state it was in: the user retries, fixes the input or waits. The one
// failure that moves the flow and is still an error is the last wrong
// one-time code (Outcome AttemptsExhausted): the flow is then Failed. It wraps
// Ratio's error, so errors.Is(err, ratio.ErrInvalidOTP) and friends work.
// (A failure that moves the flow, such as 409 ALREADY_EXISTS_PHONE leading
// to PhoneConflict, is not an error: Step returns the new view.)
type StepError struct {
	Event   transitions.Event
	State   states.State
	Outcome transitions.Outcome
	// Status and Code are Ratio's, when it answered.
	Status int
	Code   string
	// Field names the input Ratio refused, as Ratio names it, when known.
	Field string
	// RetryAfter is how long to wait before trying again, if known.
	RetryAfter time.Duration
	// AttemptsLeft counts the one-time code attempts still allowed.
	AttemptsLeft int
	// Spent reports that Ratio refused a code or signature that an earlier
	// attempt, whose answer was lost, may have used up: codes and wallet
	// challenges are single use. No attempt was counted for it; a new code
	// may be sent at once, and the view holds a fresh challenge.
	Spent bool
	Err   error
}

// Error returns the error text.
func (e *StepError) Error() string {
	s := fmt.Sprintf("%s in state %s: %s", e.Event, e.State, e.Outcome)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

// Is reports whether target is ErrStepFailed, ErrTooEarly for a 429,
// ErrAttemptsExhausted for the last wrong code, or ErrSpent.
func (e *StepError) Is(target error) bool {
	switch target {
	case ErrStepFailed:
		return true
	case ErrTooEarly:
		return e.Outcome == transitions.RateLimited
	case ErrAttemptsExhausted:
		return e.Outcome == transitions.AttemptsExhausted
	case ErrSpent:
		return e.Spent
	}
	return false
}
