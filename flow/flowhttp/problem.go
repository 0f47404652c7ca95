package flowhttp

import (
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
}

func invalid(field, reason string) *problem {
	return &problem{Status: http.StatusUnprocessableEntity, Code: "invalid_input", Field: field,
		Detail: "invalid " + field + ": " + reason}
}

// badJSON turns a decoding error into a 400 naming the field when it can.
func badJSON(err error) *problem {
	p := &problem{Status: http.StatusBadRequest, Code: "invalid_json", Detail: "the body is not valid JSON for this request"}
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
	p.Flow = v
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
		return &problem{Status: http.StatusNotFound, Code: "not_found", Detail: "no such flow"}
	case errors.As(err, &npErr):
		return &problem{Status: http.StatusConflict, Code: "not_permitted", Permitted: npErr.Permitted,
			Detail: fmt.Sprintf("event %s is not permitted in state %s", npErr.Event, npErr.State)}
	case errors.Is(err, flow.ErrConcurrentStep):
		return &problem{Status: http.StatusConflict, Code: "concurrent_step", RetryAfter: 1,
			Detail: "another step on this flow is in progress; reload and retry"}
	case errors.Is(err, flow.ErrExpired):
		return &problem{Status: http.StatusGone, Code: "expired", Detail: "the flow passed its deadline"}
	case errors.Is(err, flow.ErrEnded):
		return &problem{Status: http.StatusConflict, Code: "ended", Detail: "the flow has ended"}
	case errors.As(err, &wait):
		return &problem{Status: http.StatusTooManyRequests, Code: "too_early", Detail: wait.Reason,
			RetryAfter: seconds(wait.RetryAfter)}
	case errors.As(err, &stepErr):
		return stepProblem(stepErr)
	case errors.Is(err, flow.ErrGraphChanged):
		return &problem{Status: http.StatusConflict, Code: "graph_changed",
			Detail: "the flow started on an earlier version of its graph; start a new one"}
	case errors.Is(err, flow.ErrKeyReused):
		return &problem{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Detail: "this Idempotency-Key was used with a different request"}
	case errors.Is(err, flow.ErrRefused):
		return &problem{Status: http.StatusUnprocessableEntity, Code: "refused", Detail: err.Error()}
	}
	return &problem{Status: http.StatusInternalServerError, Code: "internal", Detail: "internal error"}
}

// stepProblem maps a failed Ratio call that left the flow where it was.
func stepProblem(e *flow.StepError) *problem {
	p := &problem{Code: string(e.Outcome), Detail: fmt.Sprintf("%s: %s", e.Event, e.Outcome)}
	if e.Code != "" {
		p.Detail += " (Ratio " + e.Code + ")"
	}
	switch e.Outcome {
	case transitions.RateLimited:
		p.Status, p.RetryAfter = http.StatusTooManyRequests, seconds(e.RetryAfter)
	case transitions.InvalidOTP, transitions.AttemptsExhausted:
		left := e.AttemptsLeft
		p.Status, p.Field, p.AttemptsLeft = http.StatusUnprocessableEntity, ratio.FieldOTP, &left
		if e.Spent {
			p.Code = "code_spent"
			p.Detail = fmt.Sprintf("%s: the code was used by an earlier attempt whose answer was lost; "+
				"no attempt was counted: send a new code", e.Event)
		}
	case transitions.InvalidInput:
		p.Status, p.Field = http.StatusUnprocessableEntity, e.Field
		if e.Spent {
			p.Code = "challenge_spent"
			p.Detail = fmt.Sprintf("%s: the challenge was used by an earlier attempt whose answer was lost; "+
				"sign the fresh challenge in the view", e.Event)
		}
	case transitions.Conflict:
		p.Status, p.Field = http.StatusConflict, e.Field
	default: // transient, expired JWT: Ratio failed us
		p.Status, p.Code = http.StatusBadGateway, "ratio_failed"
		p.Detail = fmt.Sprintf("%s: Ratio did not complete the call (%s)", e.Event, e.Outcome)
	}
	return p
}

func (h *Handler) problem(w http.ResponseWriter, r *http.Request, p *problem) {
	p.Type = "https://github.com/ratioflow/ratioflow/blob/main/docs/api.md#" + p.Code
	p.Title = http.StatusText(p.Status)
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	if h.Logger != nil {
		h.Logger.LogAttrs(r.Context(), slog.LevelInfo, "flow api error", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", p.Status), slog.String("code", p.Code))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func seconds(d time.Duration) int {
	return int(math.Ceil(max(d, time.Second).Seconds()))
}
