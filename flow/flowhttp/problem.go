package flowhttp

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/transitions"
)

// codes is the one list of the problem codes the API answers, each with
// its status. Every problem answered takes its status from here, and a
// code missing from it is answered as internal (and logged at ERROR).
// docs/api.md documents exactly these codes (TestProblemCodes_Documented).
var codes = map[string]int{
	"invalid_json":            http.StatusBadRequest,
	"body_unreadable":         http.StatusBadRequest,
	"ambiguous_subject":       http.StatusBadRequest,
	"invalid_subject":         http.StatusBadRequest,
	"unauthenticated":         http.StatusUnauthorized,
	"not_found":               http.StatusNotFound,
	"no_route":                http.StatusNotFound,
	"not_permitted":           http.StatusConflict,
	"concurrent_step":         http.StatusConflict,
	"ended":                   http.StatusConflict,
	"conflict":                http.StatusConflict,
	"graph_changed":           http.StatusConflict,
	"expired":                 http.StatusGone,
	"body_too_large":          http.StatusRequestEntityTooLarge,
	"unsupported_media_type":  http.StatusUnsupportedMediaType,
	"invalid_input":           http.StatusUnprocessableEntity,
	"invalid_otp":             http.StatusUnprocessableEntity,
	"attempts_exhausted":      http.StatusUnprocessableEntity,
	"code_spent":              http.StatusUnprocessableEntity,
	"challenge_spent":         http.StatusUnprocessableEntity,
	"refused":                 http.StatusUnprocessableEntity,
	"idempotency_key_reused":  http.StatusUnprocessableEntity,
	"rate_limited":            http.StatusTooManyRequests,
	"too_early":               http.StatusTooManyRequests,
	"internal":                http.StatusInternalServerError,
	"ratio_failed":            http.StatusBadGateway,
	"idempotency_unavailable": http.StatusServiceUnavailable,
}

// problem is an RFC 9457 problem details document. Code is stable: clients
// branch on it, never on Title or Detail.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Code is ratioflow's stable error code.
	Code string `json:"code"`
	// Field names the input field at fault, as Ratio names it.
	Field string `json:"field,omitempty"`
	// RetryAfter is how many seconds to wait before retrying, if known.
	RetryAfter int `json:"retryAfter,omitempty"`
	// Permitted lists the events the flow's state permits.
	Permitted []transitions.Event `json:"permitted,omitempty"`
	// AttemptsLeft counts the one-time code tries left.
	AttemptsLeft *int `json:"attemptsLeft,omitempty"`
	// Flow is the flow's view after the failed request, when there is one.
	Flow *flow.View `json:"flow,omitempty"`
	// cause is the error answered, logged (never answered) for a 5xx.
	cause error
}

func invalid(field, reason string) *problem {
	return &problem{Code: "invalid_input", Field: field, Detail: "invalid " + field + ": " + reason}
}

// badJSON turns a decoding error into a 400 naming the field when it can.
func badJSON(err error) *problem {
	p := jsonProblem("", "the body is not valid JSON for this request")
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		// Field is the Go path ("Input.acceptedTerms" for an embedded
		// struct); the client knows the JSON name only.
		p.Field = typeErr.Field[strings.LastIndexByte(typeErr.Field, '.')+1:]
		p.Detail = fmt.Sprintf("field %s must be a JSON %s", p.Field, jsonKind(typeErr.Type.Kind()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		p.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p.Detail = "unknown field " + p.Field
	}
	return p
}

// jsonKind names a Go kind as JSON calls it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "number"
}

// fail answers err as a problem document; v is the flow's view, if any.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, v *flow.View) {
	p := classify(err)
	p.Flow, p.cause = v, err
	h.problem(w, r, p)
}

// classify maps an engine error to its problem document.
func classify(err error) *problem {
	var (
		inErr   *ratio.InputError
		npErr   *flow.NotPermittedError
		wait    *flow.WaitError
		stepErr *flow.StepError
	)
	switch {
	case errors.As(err, &inErr):
		return invalid(inErr.Field, inErr.Reason)
	case errors.Is(err, flow.ErrNotFound):
		return &problem{Code: "not_found", Detail: "no such flow"}
	case errors.As(err, &npErr):
		return &problem{Code: "not_permitted", Permitted: npErr.Permitted,
			Detail: fmt.Sprintf("event %s is not permitted in state %s", npErr.Event, npErr.State)}
	case errors.Is(err, flow.ErrConcurrentStep):
		return &problem{Code: "concurrent_step", RetryAfter: 1,
			Detail: "another step on this flow is in progress; reload and retry"}
	case errors.Is(err, flow.ErrExpired):
		return &problem{Code: "expired", Detail: "the flow passed its deadline"}
	case errors.Is(err, flow.ErrEnded):
		return &problem{Code: "ended", Detail: "the flow has ended"}
	case errors.As(err, &wait):
		return &problem{Code: "too_early", Detail: wait.Reason,
			RetryAfter: seconds(wait.RetryAfter)}
	case errors.As(err, &stepErr):
		return stepProblem(stepErr)
	case errors.Is(err, flow.ErrGraphChanged):
		return &problem{Code: "graph_changed",
			Detail: "the flow started on an earlier version of its graph; start a new one"}
	case errors.Is(err, flow.ErrKeyReused):
		return &problem{Code: "idempotency_key_reused",
			Detail: "this Idempotency-Key was used with a different request"}
	case errors.Is(err, flow.ErrRefused):
		return &problem{Code: "refused", Detail: err.Error()}
	}
	return &problem{Code: "internal", Detail: "internal error"}
}

// stepProblem maps a failed Ratio call that left the flow where it was.
func stepProblem(e *flow.StepError) *problem {
	p := &problem{Code: string(e.Outcome), Detail: fmt.Sprintf("%s: %s", e.Event, e.Outcome)}
	if e.Code != "" {
		p.Detail += " (Ratio " + e.Code + ")"
	}
	switch e.Outcome {
	case transitions.RateLimited:
		p.RetryAfter = seconds(e.RetryAfter)
	case transitions.InvalidOTP, transitions.AttemptsExhausted:
		left := e.AttemptsLeft
		p.Field, p.AttemptsLeft = ratio.FieldOTP, &left
		if e.Spent {
			p.Code = "code_spent"
			p.Detail = fmt.Sprintf("%s: the code was used by an earlier attempt whose answer was lost; "+
				"no attempt was counted: send a new code", e.Event)
		}
	case transitions.InvalidInput:
		p.Field = e.Field
		if e.Spent {
			p.Code = "challenge_spent"
			p.Detail = fmt.Sprintf("%s: the challenge was used by an earlier attempt whose answer was lost; "+
				"sign the fresh challenge in the view", e.Event)
		}
	case transitions.Conflict:
		p.Field = e.Field
	default: // transient, expired JWT: Ratio failed us
		p.Code = "ratio_failed"
		p.Detail = fmt.Sprintf("%s: Ratio did not complete the call (%s)", e.Event, e.Outcome)
	}
	return p
}

// problem answers p, with the status its code has in codes, and logs it:
// a 4xx at INFO, a 5xx at ERROR with its cause.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, p *problem) {
	status, ok := codes[p.Code]
	if !ok {
		p = &problem{Code: "internal", Detail: "internal error", Flow: p.Flow,
			cause: fmt.Errorf("problem code %q is not in the table of codes: %w", p.Code, cmp.Or(p.cause, errNoCause))}
		status = codes[p.Code]
	}
	p.Status = status
	p.Type = "https://github.com/ratioflow/ratioflow/blob/main/docs/api.md#" + p.Code
	p.Title = http.StatusText(p.Status)
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	h.logProblem(r, p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// errNoCause stands for the cause of a problem answered without an error.
var errNoCause = errors.New("no error given")

// logProblem logs an answered problem (never a secret: the engine's errors
// never hold one): a 4xx at INFO, a 5xx at ERROR with its cause, which
// the answer never holds.
func (h *Handler) logProblem(r *http.Request, p *problem) {
	if h.Logger == nil {
		return
	}
	level, attrs := slog.LevelInfo, []slog.Attr{slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Int("status", p.Status), slog.String("code", p.Code)}
	if p.Status >= 500 {
		level = slog.LevelError
		attrs = append(attrs, slog.String("err", cmp.Or(p.cause, errNoCause).Error()))
	}
	h.Logger.LogAttrs(r.Context(), level, "flow api error", attrs...)
}

func seconds(d time.Duration) int {
	return int(math.Ceil(max(d, time.Second).Seconds()))
}
