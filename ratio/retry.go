package ratio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Outcome is one attempt of a call, as a RetryPolicy sees it.
type Outcome struct {
	// Op is the operation.
	Op Op
	// Attempt is the attempt's number, 1 for the first request.
	Attempt int
	// Status is the HTTP status of the answer, or 0 when none arrived.
	Status int
	// RetryAfter is the wait the answer's Retry-After header asked for
	// (seconds or an HTTP date), or zero.
	RetryAfter time.Duration
	// Err is why no answer arrived, or nil.
	Err error
	// Sent reports whether the request may have reached Ratio. It is false
	// only when the request provably never left: no connection was made
	// and the error is a dial error (connection refused, DNS failure).
	Sent bool
}

// mayHaveApplied reports whether Ratio may have carried out the attempt:
// it may have been sent and was not answered with a 4xx refusal (a 429
// is a refusal too).
func (o Outcome) mayHaveApplied() bool {
	return o.Sent && (o.Status < 400 || o.Status > 499)
}

// RetryPolicy decides, after a failed attempt, whether the client tries
// again. A non-nil error ends the call; the client returns it wrapped in a
// *TransportError.
//
// Whatever a policy answers, the client never repeats an attempt of an
// operation with a side effect (Op.SideEffect) that may have been applied,
// never sleeps a Retry-After longer than Client.MaxRetryAfter, never waits
// more than Client.RetryBudget in all, and makes at most Client.RetryMax
// retries.
type RetryPolicy func(ctx context.Context, o Outcome) (bool, error)

// DefaultRetryPolicy returns ctx.Err() first if the context has ended.
// Otherwise it retries a 429 (Ratio refused the request, so retrying is
// safe for every operation), a 5xx other than 501, and a failure without
// an answer unless it will fail the same way again (a bad certificate,
// URL scheme or header, too many redirects). For an operation with a side
// effect the client then keeps only the retries that cannot repeat it: a
// 429 and a request that never left.
func DefaultRetryPolicy(ctx context.Context, o Outcome) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if o.Err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, nil, o.Err)
	}
	return o.Status == http.StatusTooManyRequests ||
		o.Status >= 500 && o.Status != http.StatusNotImplemented, nil
}

// backoff returns the wait before retry number n (1 for the first):
// exponential from low, capped at high, with "equal jitter" (a random
// point in the upper half) so that callers throttled together do not all
// come back at once.
func backoff(low, high time.Duration, n int) time.Duration {
	d := high
	if n >= 1 && low <= high>>(n-1) {
		d = low << (n - 1)
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date (RFC 9110 10.2.3). A date in the past means no wait.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(time.Duration(1<<63-1)/time.Second) {
			return time.Duration(1<<63 - 1), true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// call is the state of one API call across its attempts. Each call builds
// its own small retryablehttp.Client around the shared *http.Client, with
// these methods as hooks: retryablehttp's Backoff gets no context and no
// response after a transport error, so a shared client could not find the
// call's state. Hooks run one at a time on the caller's goroutine; only
// connected is written from an httptrace callback.
type call struct {
	conf *config
	op   Op
	// attempts is the number of the current attempt (1-based).
	attempts int
	// connected reports that the current attempt got a connection.
	connected atomic.Bool
	// applied reports that some attempt may have been carried out.
	applied bool
	// wait is the back-off checkRetry chose for retryablehttp to sleep.
	wait time.Duration
	// waited is the total of the waits chosen so far.
	waited time.Duration
}

func (cl *call) retryClient() *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient:      cl.conf.httpClient,
		RetryMax:        cl.conf.retryMax, // checkRetry enforces it first
		RetryWaitMin:    cl.conf.waitMin,
		RetryWaitMax:    cl.conf.waitMax,
		CheckRetry:      cl.checkRetry,
		Backoff:         func(time.Duration, time.Duration, int, *http.Response) time.Duration { return cl.wait },
		ErrorHandler:    retryablehttp.PassthroughErrorHandler, // not "giving up after N attempts"
		RequestLogHook:  cl.requestHook,
		ResponseLogHook: cl.responseHook,
		// Logger stays nil: retryablehttp's messages carry URLs.
	}
}

func (cl *call) requestHook(_ retryablehttp.Logger, req *http.Request, retry int) {
	cl.attempts = retry + 1
	cl.connected.Store(false)
	cl.conf.logger.LogAttrs(req.Context(), slog.LevelDebug, "ratio: request",
		slog.String("op", cl.op.Route()), slog.Int("attempt", cl.attempts))
}

func (cl *call) responseHook(_ retryablehttp.Logger, resp *http.Response) {
	cl.conf.logger.LogAttrs(resp.Request.Context(), slog.LevelDebug, "ratio: response",
		slog.String("op", cl.op.Route()), slog.Int("attempt", cl.attempts), slog.Int("status", resp.StatusCode))
}

// checkRetry is retryablehttp's CheckRetry: the policy, then the client's
// own limits, then the wait.
func (cl *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	o := cl.outcome(resp, err)
	cl.applied = cl.applied || o.mayHaveApplied()
	retry, perr := cl.conf.policy(ctx, o)
	if perr != nil || !retry {
		return false, perr
	}
	attrs := []slog.Attr{slog.String("op", cl.op.Route()), slog.Int("attempt", o.Attempt), slog.Int("status", o.Status)}
	if o.Err != nil {
		attrs = append(attrs, slog.String("error", o.Err.Error()))
	}
	var why string
	switch {
	case cl.op.SideEffect() && o.mayHaveApplied():
		// Repeating it could send a second SMS or email: the caller decides.
		why = "side effect may have been applied"
	case o.Attempt > cl.conf.retryMax:
		why = "retries exhausted"
	case o.RetryAfter > cl.conf.maxRetryAfter:
		why = "Retry-After exceeds MaxRetryAfter"
		attrs = append(attrs, slog.Duration("retry_after", o.RetryAfter))
	}
	wait := max(backoff(cl.conf.waitMin, cl.conf.waitMax, o.Attempt), o.RetryAfter)
	if why == "" && cl.waited+wait > cl.conf.budget {
		why = "retry budget spent"
		attrs = append(attrs, slog.Duration("wait", wait), slog.Duration("waited", cl.waited))
	}
	if why != "" {
		cl.conf.logger.LogAttrs(ctx, slog.LevelInfo, "ratio: not retrying", append(attrs, slog.String("reason", why))...)
		return false, nil
	}
	if resp != nil {
		attrs = append(attrs, slog.String("code", peekCode(resp)))
	}
	cl.wait = wait
	cl.waited += wait
	cl.conf.logger.LogAttrs(ctx, slog.LevelInfo, "ratio: retrying", append(attrs, slog.Duration("wait", cl.wait))...)
	return true, nil
}

func (cl *call) outcome(resp *http.Response, err error) Outcome {
	o := Outcome{Op: cl.op, Attempt: cl.attempts, Err: redactError(err), Sent: true}
	if resp != nil {
		o.Status = resp.StatusCode
		o.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	} else if !cl.connected.Load() && isDialError(err) {
		// No connection, and the dial failed: not a byte of the request
		// was written, so even a side effect may be retried.
		o.Sent = false
	}
	return o
}

// isDialError reports an error from opening the connection: refused, no
// route, DNS failure.
func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// peekCode reads the error code of a response that will be retried, for
// the log; retryablehttp discards the rest of the body. It must not be
// called on the answer the call returns.
func peekCode(resp *http.Response) string {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var eb ErrorBody
	_ = json.Unmarshal(data, &eb)
	return eb.Code
}

// fail returns the *TransportError for a call without a usable answer.
func (cl *call) fail(err error) error {
	e := &TransportError{
		Op:        cl.op.Route(),
		Attempts:  cl.attempts,
		Ambiguous: cl.op.SideEffect() && cl.applied,
		Err:       redactError(err),
	}
	level := slog.LevelDebug
	if e.Ambiguous {
		level = slog.LevelWarn
	}
	cl.conf.logger.LogAttrs(context.Background(), level, "ratio: call failed",
		slog.String("op", e.Op), slog.Int("attempts", e.Attempts), slog.Bool("ambiguous", e.Ambiguous),
		slog.String("error", e.Err.Error()))
	return e
}

// apiError returns the *APIError for a non-2xx answer. A body that is not
// Ratio's error JSON leaves only the status.
func (cl *call) apiError(resp *http.Response, data []byte) error {
	var eb ErrorBody
	_ = json.Unmarshal(data, &eb)
	e := &APIError{
		Op:         cl.op.Route(),
		Status:     resp.StatusCode,
		Code:       eb.Code,
		Message:    eb.Message,
		CreateTime: eb.CreateTime,
		Data:       eb.Data,
		Attempts:   cl.attempts,
		SideEffect: cl.op.SideEffect(),
	}
	e.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	level := slog.LevelDebug
	if errors.Is(e, ErrAmbiguous) {
		level = slog.LevelWarn
	}
	cl.conf.logger.LogAttrs(resp.Request.Context(), level, "ratio: call failed",
		slog.String("op", e.Op), slog.Int("attempts", e.Attempts), slog.Int("status", e.Status),
		slog.String("code", e.Code), slog.Duration("retry_after", e.RetryAfter))
	return e
}

func (cl *call) logDone(ctx context.Context, status int) {
	cl.conf.logger.LogAttrs(ctx, slog.LevelDebug, "ratio: call done",
		slog.String("op", cl.op.Route()), slog.Int("attempts", cl.attempts), slog.Int("status", status))
}
