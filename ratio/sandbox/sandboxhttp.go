package sandbox

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

// The hooks over HTTP, under /_sandbox/, for the CLI, the demo and tests
// in other languages. They need no client credentials and are not counted
// in Stats. Errors have Ratio's error body.
//
//	POST /_sandbox/users     UserSeed as JSON -> 201 the user (ratio.User)
//	GET  /_sandbox/otp?to=   -> {"otp":"123456"}, 404 if nothing was sent
//	GET  /_sandbox/stats     -> Stats as JSON
//	GET  /_sandbox/requests  -> the request log ([]Request)
//	POST /_sandbox/faults    {"op":"otp/sms:send","count":N,"status":503}
//	                         {"op":...,"count":N,"status":429,"retryAfterSeconds":S}
//	                         {"op":...,"latencyMs":M}           -> 200 {}
//	POST /_sandbox/reset     -> 200 {}

const hookPrefix = "/_sandbox/"

// faultRequest is the body of POST /_sandbox/faults.
type faultRequest struct {
	Op                string `json:"op"`
	Count             int    `json:"count"`
	Status            int    `json:"status"`
	RetryAfterSeconds int    `json:"retryAfterSeconds"`
	LatencyMs         *int   `json:"latencyMs"`
}

func (h *Handler) serveHook(w http.ResponseWriter, r *http.Request) {
	now := h.cfg.Now()
	status, v, err := h.hook(r)
	if err != nil {
		writeError(w, now, err)
		return
	}
	writeJSON(w, status, v)
}

func (h *Handler) hook(r *http.Request) (int, any, error) {
	switch r.Method + " " + strings.TrimPrefix(r.URL.Path, hookPrefix) {
	case "POST users":
		var seed UserSeed
		if err := decodeHookBody(r, &seed); err != nil {
			return 0, nil, err
		}
		u, err := h.SeedUser(seed)
		if err != nil {
			return 0, nil, hookError(err)
		}
		return http.StatusCreated, u, nil
	case "GET otp":
		to := hookTo(r.URL.Query().Get("to"))
		code, ok := h.LastOTP(to)
		if !ok {
			return 0, nil, fail(http.StatusNotFound, "NOT_FOUND_OTP", "no code was sent to %q", to)
		}
		return http.StatusOK, map[string]string{"otp": code}, nil
	case "GET stats":
		return http.StatusOK, h.Stats(), nil
	case "GET requests":
		return http.StatusOK, h.Requests(), nil
	case "POST faults":
		var f faultRequest
		if err := decodeHookBody(r, &f); err != nil {
			return 0, nil, err
		}
		if err := h.setHookFault(f); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, struct{}{}, nil
	case "POST reset":
		h.Reset()
		return http.StatusOK, struct{}{}, nil
	}
	return 0, nil, fail(http.StatusNotFound, ratio.CodeNotFoundEndpoint, "sandbox hook not found: %s %s", r.Method, r.URL.Path)
}

func (h *Handler) setHookFault(f faultRequest) error {
	op := ratio.Op(f.Op)
	if !op.Known() {
		return fail(http.StatusBadRequest, ratio.CodeInvalidBody, "op %q is not one of %v", f.Op, ratio.Ops())
	}
	if f.LatencyMs != nil {
		h.SetLatency(op, time.Duration(*f.LatencyMs)*time.Millisecond)
		if f.Status == 0 {
			return nil
		}
	}
	if f.Status < 400 || f.Status > 599 {
		return fail(http.StatusBadRequest, ratio.CodeInvalidBody, "status must be a 4xx or 5xx status")
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.Status == http.StatusTooManyRequests && f.RetryAfterSeconds > 0 {
		h.ForceRateLimit(op, f.Count, time.Duration(f.RetryAfterSeconds)*time.Second)
		return nil
	}
	h.FailNext(op, f.Count, f.Status)
	return nil
}

// hookTo repairs a phone number whose "+" a query string turned into a
// space (?to=+1202... instead of ?to=%2B1202...).
func hookTo(to string) string {
	if rest, ok := strings.CutPrefix(to, " "); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
		return "+" + rest
	}
	return to
}

func decodeHookBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return fail(http.StatusBadRequest, ratio.CodeInvalidBody, "the request body could not be read")
	}
	return decodeBody(body, v)
}

// hookError turns SeedUser's error into an answer.
func hookError(err error) error {
	var ae *ratio.APIError
	if errors.As(err, &ae) {
		return &apiError{status: ae.Status, code: ae.Code, msg: ae.Message}
	}
	return inputFail(err)
}
