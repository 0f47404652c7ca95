// Package flowadmin is the admin JSON API of ratioflow's operator console:
// it lists the stored flows with filters, shows one flow's record, view,
// timeline and audit diagrams, counts the traffic of every edge
// (package flow/flowstats) and cancels or resumes a flow. Its OpenAPI
// document (OpenAPI) is served beside it.
//
// The API is for operators, never for end users: mount the Handler at
// Prefix on an admin listener of its own, not on the origin that serves
// the flow API (package flow/flowhttp). Set Token to require a bearer
// token; without one, serve it on a loopback address only, behind
// LoopbackOnly. The console page (package flow/flowconsole) calls it.
//
// Nothing it answers holds a secret, a phone number or an email: a flow
// shows the masks its view shows, and its history and diagrams hold none.
package flowadmin

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// Prefix is the path under which the handler serves: the API under
// Prefix+"v1/", its OpenAPI document at Prefix+"openapi.json".
const Prefix = "/admin/"

// Handler serves the admin API over one engine and its store.
type Handler struct {
	// Token, when not empty, is the bearer token every request must
	// carry (Authorization: Bearer TOKEN), compared in constant time; a
	// request without it is answered 401. It is never logged.
	Token string
	// Logger, when not nil, receives the actions taken (cancel, resume)
	// at INFO and the failures answered 500 at ERROR.
	Logger *slog.Logger
	// Now is the clock the age filters and the stats read; nil means
	// time.Now.
	Now func() time.Time

	engine *flow.Engine
	store  store.Store
	flows  map[transitions.Kind]*transitions.Flow
	mux    *http.ServeMux
	csrf   *http.CrossOriginProtection
	doc    func() []byte
}

// New returns the admin API of engine, which runs on st (the store the
// engine was made with: the API lists and reads its records directly).
func New(engine *flow.Engine, st store.Store) *Handler {
	h := &Handler{engine: engine, store: st, flows: map[transitions.Kind]*transitions.Flow{},
		mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	flows := engine.Flows()
	for _, f := range flows {
		h.flows[f.Kind] = f
	}
	h.doc = sync.OnceValue(func() []byte { return encodeOpenAPI(flows) })
	h.mux.HandleFunc("GET "+Prefix+"v1/flows", h.list)
	h.mux.HandleFunc("GET "+Prefix+"v1/flows/{id}", h.get)
	h.mux.HandleFunc("POST "+Prefix+"v1/flows/{id}/cancel", h.cancel)
	h.mux.HandleFunc("POST "+Prefix+"v1/flows/{id}/resume", h.resume)
	h.mux.HandleFunc("GET "+Prefix+"v1/stats", h.stats)
	h.mux.HandleFunc("GET "+Prefix+"openapi.json", h.openAPI)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.problem(w, r, &problem{Code: "no_route", Detail: r.Method + " " + r.URL.Path + " is not part of the admin API"})
	})
	return h
}

// ServeHTTP checks the bearer token when Token is set, refuses a
// cross-origin POST (a page elsewhere must not cancel a flow through the
// operator's browser), then routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if h.Token != "" && !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ratioflow admin"`)
		h.problem(w, r, &problem{Code: "unauthenticated", Detail: "the admin API needs the header Authorization: Bearer and the admin token"})
		return
	}
	if err := h.csrf.Check(r); err != nil {
		h.problem(w, r, &problem{Code: "cross_origin", Detail: "a request from another origin may not change a flow"})
		return
	}
	h.mux.ServeHTTP(w, r)
}

// authorized reports whether r carries the bearer token. Both sides are
// hashed first, so the comparison takes the same time whatever their
// lengths.
func (h *Handler) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(h.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// openAPI serves the document of the flows the engine runs.
func (h *Handler) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(h.doc())
}

// codes is the one list of the problem codes the admin API answers, each
// with its status; the OpenAPI document lists them.
var codes = map[string]int{
	"unauthenticated": http.StatusUnauthorized,
	"cross_origin":    http.StatusForbidden,
	"not_found":       http.StatusNotFound,
	"no_route":        http.StatusNotFound,
	"ended":           http.StatusConflict,
	"concurrent_step": http.StatusConflict,
	"invalid_input":   http.StatusUnprocessableEntity,
	"too_early":       http.StatusTooManyRequests,
	"internal":        http.StatusInternalServerError,
	"ratio_failed":    http.StatusBadGateway,
}

// problem is an RFC 9457 problem details document with a stable code.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	// Field names the query parameter at fault.
	Field string `json:"field,omitempty"`
	// cause is the error answered, logged (never answered) for a 5xx.
	cause error
}

func invalid(field, reason string) *problem {
	return &problem{Code: "invalid_input", Field: field, Detail: "invalid " + field + ": " + reason}
}

// classify turns an engine or store error into a problem.
func classify(err error) *problem {
	switch {
	case errors.Is(err, flow.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return &problem{Code: "not_found", Detail: "no such flow"}
	case errors.Is(err, flow.ErrEnded):
		return &problem{Code: "ended", Detail: "the flow has already ended"}
	case errors.Is(err, flow.ErrConcurrentStep), errors.Is(err, store.ErrConflict):
		return &problem{Code: "concurrent_step", Detail: "another step on this flow is in progress: try again"}
	case errors.Is(err, flow.ErrTooEarly):
		return &problem{Code: "too_early", Detail: err.Error()}
	case errors.Is(err, flow.ErrStepFailed):
		return &problem{Code: "ratio_failed", Detail: err.Error()}
	}
	return &problem{Code: "internal", Detail: "internal error", cause: err}
}

// problem answers p with the status of its code, and logs a 5xx.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, p *problem) {
	status, ok := codes[p.Code]
	if !ok {
		p = &problem{Code: "internal", Detail: "internal error", cause: fmt.Errorf("problem code %q is not in the table", p.Code)}
		status = codes[p.Code]
	}
	p.Status, p.Title = status, http.StatusText(status)
	p.Type = "https://github.com/ratioflow/ratioflow/blob/main/docs/console.md#" + p.Code
	if status >= 500 && h.Logger != nil {
		h.Logger.LogAttrs(r.Context(), slog.LevelError, "admin api error", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("code", p.Code),
			slog.String("err", cmp.Or(p.cause, errors.New("no error given")).Error()))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
