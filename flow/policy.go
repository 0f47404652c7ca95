package flow

import (
	"math/rand/v2"
	"time"
)

// Policy holds the engine's timing and attempt limits. Zero fields take the
// defaults of DefaultPolicy.
type Policy struct {
	// FlowTTL bounds a whole flow. The default, 9 minutes, stays under
	// Ratio's 10-minute session.
	FlowTTL time.Duration
	// StateTTL bounds each state a flow waits in for the user. The default,
	// 5 minutes, is the life of Ratio's challenge and session JWT.
	StateTTL time.Duration
	// OTPAttempts is how many wrong codes are allowed per code sent.
	OTPAttempts int
	// ResendCooldown is the least time between two sends of a code to the
	// same phone or address, and how long a send whose outcome is unknown
	// (a dead process, a timeout) blocks a new one: the first may still
	// arrive.
	ResendCooldown time.Duration
	// BackoffBase and BackoffMax bound the exponential back-off after a 429
	// (the wait doubles from BackoffBase with each 429, with jitter, never
	// less than Ratio's Retry-After, never more than BackoffMax).
	BackoffBase, BackoffMax time.Duration
	// PendingTimeout is the lease of a recorded Ratio call: the process
	// making the call renews it every third of this time while it waits for
	// Ratio, so it only runs out when that process died (or lost its
	// store). Until then the flow belongs to that step and another step is
	// refused with ErrConcurrentStep; after it, the next step settles the
	// call as reconcile describes. The default is 10 seconds.
	PendingTimeout time.Duration
	// CallTimeout bounds one Ratio call, the client's retries included. A
	// step's call runs to its end, and its answer is kept, even when the
	// caller of Step goes away: only this deadline cuts it short. The
	// default is 30 seconds.
	CallTimeout time.Duration
}

// DefaultPolicy returns the defaults.
func DefaultPolicy() Policy {
	return Policy{
		FlowTTL:        9 * time.Minute,
		StateTTL:       5 * time.Minute,
		OTPAttempts:    3,
		ResendCooldown: 30 * time.Second,
		BackoffBase:    time.Second,
		BackoffMax:     time.Minute,
		PendingTimeout: 10 * time.Second,
		CallTimeout:    30 * time.Second,
	}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.FlowTTL <= 0 {
		p.FlowTTL = d.FlowTTL
	}
	if p.StateTTL <= 0 {
		p.StateTTL = d.StateTTL
	}
	if p.OTPAttempts <= 0 {
		p.OTPAttempts = d.OTPAttempts
	}
	if p.ResendCooldown <= 0 {
		p.ResendCooldown = d.ResendCooldown
	}
	if p.BackoffBase <= 0 {
		p.BackoffBase = d.BackoffBase
	}
	if p.BackoffMax <= 0 {
		p.BackoffMax = d.BackoffMax
	}
	if p.PendingTimeout <= 0 {
		p.PendingTimeout = d.PendingTimeout
	}
	if p.CallTimeout <= 0 {
		p.CallTimeout = d.CallTimeout
	}
	return p
}

// backoff returns the wait after the n-th 429 in a row (n >= 1): doubling
// from BackoffBase with up to 25% jitter, at most BackoffMax, but never
// less than the Retry-After Ratio asked for (the engine schedules the
// wait; it does not sleep it).
func (p Policy) backoff(n int, retryAfter time.Duration) time.Duration {
	d := p.BackoffBase << min(n-1, 20)
	d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	return max(min(d, p.BackoffMax), retryAfter)
}
