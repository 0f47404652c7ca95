package flow

import (
	"errors"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/transitions"
)

// ErrRefused: a guard refused the step (for example, a factor pair Ratio
// does not accept). The error is a *GuardError.
var ErrRefused = errors.New("step refused by a guard")

// GuardError names the guard that refused a step and why.
type GuardError struct {
	Guard  transitions.Guard
	Reason string
}

// Error returns the error text.
func (e *GuardError) Error() string { return fmt.Sprintf("guard %s: %s", e.Guard, e.Reason) }

// Unwrap returns ErrRefused.
func (e *GuardError) Unwrap() error { return ErrRefused }

// guard checks t's guards and the pacing of code sends; it returns the
// first refusal.
func (r *run) guard(t *transitions.Transition, now time.Time) error {
	for _, g := range t.Guards {
		switch g {
		case transitions.GuardTwoFactor:
			if !r.d.twoFactor() {
				return &GuardError{Guard: g, Reason: fmt.Sprintf(
					"the session's factors %v are not a valid pair: SMS+Email or SMS+Wallet (never Email+Wallet)", r.d.Factors)}
			}
		case transitions.GuardSMSFactor:
			if !r.d.has(factorSMS) {
				return &GuardError{Guard: g, Reason: "SMS must be one of the two factors"}
			}
		case transitions.GuardResendCooldown:
			if wait := r.d.LastSentAt.Add(r.e.policy.ResendCooldown).Sub(now); wait > 0 {
				return &WaitError{Event: t.Event, Reason: "a code was sent moments ago", RetryAfter: wait, Guard: g}
			}
		default:
			return &GuardError{Guard: g, Reason: "unknown guard"}
		}
	}
	if t.Call == transitions.CallSendSMS || t.Call == transitions.CallSendEmail {
		if wait := r.d.UncertainSendAt.Add(r.e.policy.ResendCooldown).Sub(now); wait > 0 {
			return &WaitError{Event: t.Event, Reason: "a code sent moments ago may still arrive", RetryAfter: wait}
		}
	}
	return nil
}
