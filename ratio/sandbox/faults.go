package sandbox

import (
	"net/http"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

// Fault injection: failed calls and latency per operation. A fault is
// served before the client credentials are checked and before the
// endpoint runs, so a failed call changes nothing (no code is sent, no
// wallet added): like a gateway or upstream failure.

// fault is the answer the next n calls of an operation get.
type fault struct {
	n          int
	status     int
	retryAfter time.Duration
}

// answer is the error answer: INTERNAL for a 5xx, TOO_MANY_REQUESTS and
// Retry-After for a 429, INJECTED_FAULT for any other status.
func (f fault) answer() error {
	e := &apiError{status: f.status, code: "INJECTED_FAULT", msg: "sandbox: injected fault"}
	switch {
	case f.status == http.StatusTooManyRequests:
		e.code, e.msg, e.retryAfter = ratio.CodeTooManyRequests, "too many requests (sandbox: forced rate limit)", f.retryAfter
	case f.status >= 500:
		e.code, e.msg = ratio.CodeInternal, "internal error (sandbox: injected fault)"
	}
	return e
}

// FailNext makes the next n calls of op answer status with a Ratio error
// body: code INTERNAL for a 5xx; TOO_MANY_REQUESTS with Retry-After: 1 for
// a 429 (see ForceRateLimit to choose the wait); INJECTED_FAULT for any
// other status. It replaces a fault already set for op; n <= 0 clears it.
func (h *Handler) FailNext(op ratio.Op, n int, status int) {
	h.setFault(op, fault{n: n, status: status, retryAfter: time.Second})
}

// ForceRateLimit makes the next n calls of op answer 429 TOO_MANY_REQUESTS
// with a Retry-After header of retryAfter, rounded up to whole seconds
// (at least 1).
func (h *Handler) ForceRateLimit(op ratio.Op, n int, retryAfter time.Duration) {
	h.setFault(op, fault{n: n, status: http.StatusTooManyRequests, retryAfter: retryAfter})
}

func (h *Handler) setFault(op ratio.Op, f fault) {
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	if f.n <= 0 {
		delete(h.faults, op)
		return
	}
	h.faults[op] = f
}

// SetLatency delays every call of op by d of real time (not Config.Now's)
// before it is served; a call whose request context ends first is dropped
// unanswered. d <= 0 removes the delay. No lock is held while waiting.
func (h *Handler) SetLatency(op ratio.Op, d time.Duration) {
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	if d <= 0 {
		delete(h.latency, op)
		return
	}
	h.latency[op] = d
}

// begin counts a call of op and returns its latency and the fault it
// gets, if any (counting the fault down).
func (h *Handler) begin(op ratio.Op) (time.Duration, *fault) {
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	h.calls[op.Route()]++
	f, ok := h.faults[op]
	if !ok {
		return h.latency[op], nil
	}
	if f.n--; f.n <= 0 {
		delete(h.faults, op)
	} else {
		h.faults[op] = f
	}
	return h.latency[op], &f
}
