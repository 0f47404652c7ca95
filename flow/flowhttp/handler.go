// Package flowhttp exposes ratioflow's engine to a wallet app's frontend as
// a JSON API, as an http.Handler a service mounts where it likes.
//
//	POST   /v1/flows                      {"kind":"link","walletAddress":"0x..."}  201 view
//	GET    /v1/flows?running=true         the caller's flows, oldest first         200 page of views
//	GET    /v1/flows/{id}                                                          200 view
//	POST   /v1/flows/{id}/events/{event}  the event's fields, {} for none          200 view
//	DELETE /v1/flows/{id}                 cancel                                   200 view
//
// Every answer about a flow is its view (flow.View): id, kind, state,
// version, expiresAt, next (the events the user may send and their fields),
// the challenge to sign, masks. Never a JWT or any other secret. Errors are
// RFC 9457 problem+json documents with a stable "code" and, when there is
// one, the flow's view. GET /v1/flows answers a page of the caller's flows
// (flow.Page), so that a frontend that lost its flow's id finds it again. The
// caller's identity comes from a pluggable SubjectFunc; a flow started by one
// subject is not found for every other. A POST repeated with the same
// Idempotency-Key header returns the first answer without doing the step
// again: per process by default, across replicas with NewStoreIdempotency on
// their shared flow store. Input is read strictly, so that no request can
// be read two ways: one subject header, a canonical path, well-formed
// query pairs, one JSON object with exact field names (docs/api.md lists
// the rules).
package flowhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/transitions"
)

// SubjectFunc returns the identity of a request's caller, or an error if
// the request carries none (answered 401).
type SubjectFunc func(r *http.Request) (string, error)

// Errors of HeaderSubject. A SubjectFunc may return them too: the handler
// answers ErrAmbiguousSubject with 400 ambiguous_subject, and any other
// error with 401 unauthenticated.
var (
	// ErrNoSubject: the request does not carry the subject's header, or
	// carries it empty.
	ErrNoSubject = errors.New("no subject")
	// ErrAmbiguousSubject: the request carries the subject's header more
	// than once, as when a proxy appends its header to the client's
	// instead of replacing it.
	ErrAmbiguousSubject = errors.New("ambiguous subject")
)

// HeaderSubject reads the subject from a request header, such as
// X-Ratioflow-Subject set by an authenticating proxy in front of the API.
// A request with the header twice is ErrAmbiguousSubject, whatever the
// values: a client must not choose its identity by adding one.
func HeaderSubject(name string) SubjectFunc {
	return func(r *http.Request) (string, error) {
		vals := r.Header.Values(name)
		if len(vals) > 1 {
			return "", fmt.Errorf("%w: header %s is given %d times", ErrAmbiguousSubject, name, len(vals))
		}
		s := strings.TrimSpace(r.Header.Get(name))
		if s == "" {
			return "", fmt.Errorf("%w: header %s is missing", ErrNoSubject, name)
		}
		return s, nil
	}
}

// Handler serves the flow API.
type Handler struct {
	engine  *flow.Engine
	subject SubjectFunc
	// Idempotency keeps the first answer of each Idempotency-Key. New sets
	// an in-memory store; services running several replicas set a shared
	// one, such as NewStoreIdempotency on their flow store.
	Idempotency IdempotencyStore
	// Logger receives one record per failed request (never a secret), and
	// the failures of Idempotency to keep an answer; nil means none.
	Logger *slog.Logger
	// Propagator reads the trace context of incoming requests (W3C
	// traceparent and tracestate), so that the engine's spans join the
	// caller's trace; nil means the global one, otel.GetTextMapPropagator().
	// A handler wrapped in a server span (otelhttp) keeps that span's.
	Propagator propagation.TextMapPropagator
	mux        *http.ServeMux
	doc        func() []byte      // the OpenAPI document, built once
	kinds      []transitions.Kind // the engine's, in order
}

func (h *Handler) propagator() propagation.TextMapPropagator {
	if h.Propagator != nil {
		return h.Propagator
	}
	return otel.GetTextMapPropagator()
}

// maxBody bounds request bodies.
const maxBody = 64 << 10

// New returns a handler serving e's flows to the callers subject identifies.
func New(e *flow.Engine, subject SubjectFunc) *Handler {
	h := &Handler{engine: e, subject: subject, Idempotency: NewMemoryIdempotency(0, 0), mux: http.NewServeMux()}
	flows := e.Flows()
	for _, f := range flows {
		h.kinds = append(h.kinds, f.Kind)
	}
	h.doc = sync.OnceValue(func() []byte {
		if !slices.Equal(flows, transitions.All()) {
			return encodeOpenAPI(flows)
		}
		return openAPIDoc()
	})
	h.mux.HandleFunc("POST /v1/flows", h.idempotent(h.create))
	h.mux.HandleFunc("GET /v1/flows", h.list)
	h.mux.HandleFunc("GET /v1/flows/{id}", h.get)
	h.mux.HandleFunc("POST /v1/flows/{id}/events/{event}", h.idempotent(h.step))
	h.mux.HandleFunc("DELETE /v1/flows/{id}", h.cancel)
	h.mux.HandleFunc("GET /openapi.json", h.openAPI)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.problem(w, r, &problem{Code: "no_route", Detail: r.Method + " " + r.URL.Path + " is not part of the flow API"})
	})
	return h
}

// ServeHTTP routes a request, once its path, subject, query and media
// type are ones the API reads unambiguously (see docs/api.md).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !trace.SpanContextFromContext(r.Context()).IsValid() {
		// No server span around this handler: the engine's spans join the
		// caller's trace, from its W3C traceparent header.
		r = r.WithContext(h.propagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
	}
	if p := h.refuse(r); p != nil {
		h.problem(w, r, p)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) who(r *http.Request) string {
	s, _ := h.subject(r)
	return s
}

// createRequest is the body of POST /v1/flows: the kind and the flow's
// start fields.
type createRequest struct {
	Kind transitions.Kind `json:"kind"`
	flow.Input
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !h.decode(w, r, &req) {
		return
	}
	if req.Kind == "" {
		h.problem(w, r, invalid("kind", "missing: one of "+h.kindList()))
		return
	}
	if !slices.Contains(h.kinds, req.Kind) {
		h.problem(w, r, h.unknownKind(req.Kind))
		return
	}
	// With an Idempotency-Key the flow's ID follows from the key, so a
	// create retried after its answer was lost finds the flow it made.
	v, err := h.engine.StartKeyed(r.Context(), req.Kind, h.who(r), r.Header.Get("Idempotency-Key"), req.Input)
	if err != nil && v == nil {
		h.fail(w, r, err, nil)
		return
	}
	w.Header().Set("Location", "/v1/flows/"+v.ID)
	if err != nil {
		h.fail(w, r, err, v)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	v, err := h.engine.Get(r.Context(), r.PathValue("id"), h.who(r))
	h.answer(w, r, v, err)
}

// list answers the caller's flows, oldest first, a page at a time.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q, p := h.listQuery(r.URL.Query())
	if p != nil {
		h.problem(w, r, p)
		return
	}
	page, err := h.engine.List(r.Context(), h.who(r), q)
	if err != nil {
		h.fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// listParams are the query parameters of GET /v1/flows.
const listParams = "kind, running, limit, pageToken"

// listQuery reads the query parameters of GET /v1/flows strictly: an
// unknown, repeated or malformed parameter is refused, naming it.
func (h *Handler) listQuery(params url.Values) (flow.ListQuery, *problem) {
	var q flow.ListQuery
	for _, name := range slices.Sorted(maps.Keys(params)) {
		vals := params[name]
		if len(vals) != 1 {
			return q, invalid(name, "given more than once")
		}
		v := vals[0]
		switch name {
		case "kind":
			if !slices.Contains(h.kinds, transitions.Kind(v)) {
				return q, h.unknownKind(transitions.Kind(v))
			}
			q.Kind = transitions.Kind(v)
		case "running":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return q, invalid("running", fmt.Sprintf("%q is not true or false", v))
			}
			q.Running = b
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > flow.MaxListLimit {
				return q, invalid("limit", fmt.Sprintf("%q is not a whole number from 1 to %d", v, flow.MaxListLimit))
			}
			q.Limit = n
		case "pageToken":
			q.PageToken = v
		default:
			return q, invalid(name, "not a parameter of GET /v1/flows (they are "+listParams+")")
		}
	}
	return q, nil
}

func (h *Handler) step(w http.ResponseWriter, r *http.Request) {
	var in flow.Input
	if !h.decode(w, r, &in) {
		return
	}
	// With an Idempotency-Key, a step whose answer was lost (a process that
	// died after the step's write) answers as it did when retried.
	v, err := h.engine.StepKeyed(r.Context(), r.PathValue("id"), h.who(r), transitions.Event(r.PathValue("event")),
		r.Header.Get("Idempotency-Key"), in)
	h.answer(w, r, v, err)
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	v, err := h.engine.Cancel(r.Context(), r.PathValue("id"), h.who(r))
	h.answer(w, r, v, err)
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request, v *flow.View, err error) {
	if err != nil {
		h.fail(w, r, err, v)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// decode reads a JSON body strictly: one object, with exact field names
// given once and nothing after it (strictJSON); unknown fields and wrong
// types are refused naming the field. An empty body is an empty object.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, dst any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		h.problem(w, r, &problem{Code: "body_too_large", Detail: fmt.Sprintf("the body exceeds %d bytes", maxBody)})
		return false
	}
	if err != nil {
		// The client stopped sending (it went away, or the server's read
		// timeout passed): nothing was done.
		h.problem(w, r, &problem{Code: "body_unreadable", Detail: "the body could not be read whole"})
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if p := strictJSON(body, jsonFields(dst)); p != nil {
		h.problem(w, r, p)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		h.problem(w, r, badJSON(err))
		return false
	}
	return true
}

// unknownKind refuses a kind that no flow of the engine has, listing the
// kinds there are.
func (h *Handler) unknownKind(k transitions.Kind) *problem {
	return invalid("kind", fmt.Sprintf("%q is not a flow kind: one of %s", k, h.kindList()))
}

func (h *Handler) kindList() string {
	var ks []string
	for _, k := range h.kinds {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
