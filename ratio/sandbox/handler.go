package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ratioflow/ratioflow/ratio"
)

// Handler is the sandbox as an http.Handler: Ratio's endpoints under /v1/
// and the test hooks under /_sandbox/. Its methods (SeedUser, LastOTP,
// Stats, FailNext...) are the same hooks in Go. It is safe for concurrent
// use.
type Handler struct {
	cfg     Config
	key     []byte // the HS256 key of session JWTs
	project string // "project-test-<uuid>", the JWTs' audience
	kid     string
	parser  *jwt.Parser

	randMu sync.Mutex // guards reads of a caller's cfg.Rand

	mu sync.Mutex // guards m
	m  *model

	hooksMu sync.Mutex // guards the fields below
	faults  map[ratio.Op]fault
	latency map[ratio.Op]time.Duration
	calls   map[string]int
	adds    map[string]int
	reqs    []Request // the last maxRequests requests, a ring
	reqNext int       // where the ring's next request goes
}

// NewHandler returns a sandbox configured by cfg, with no users.
func NewHandler(cfg Config) *Handler {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	h := &Handler{
		cfg:     cfg.withDefaults(),
		key:     key,
		project: "project-test-" + newUUID(),
		kid:     "jwk-test-" + newUUID(),
		m:       newModel(),
	}
	h.parser = h.newParser()
	h.resetHooks()
	return h
}

// endpoint serves one Ratio operation once the client is authenticated. It
// returns the status and the value to encode, or an error (*apiError).
type endpoint func(h *Handler, c *call) (int, any, error)

var endpoints = map[ratio.Op]endpoint{
	ratio.OpStartWallet:        (*Handler).startWallet,
	ratio.OpAuthenticateWallet: (*Handler).authenticateWallet,
	ratio.OpAddWalletToUser:    (*Handler).addWalletToUser,
	ratio.OpSendSMS:            (*Handler).sendSMS,
	ratio.OpAuthenticateSMS:    (*Handler).authenticateSMS,
	ratio.OpSendEmail:          (*Handler).sendEmail,
	ratio.OpAuthenticateEmail:  (*Handler).authenticateEmail,
	ratio.OpCreateUser:         (*Handler).createUser,
	ratio.OpGetUser:            (*Handler).getUser,
	ratio.OpListWallets:        (*Handler).listWallets,
}

// staticRoutes maps "METHOD /path" to the operations without a path
// parameter.
var staticRoutes = func() map[string]ratio.Op {
	m := map[string]ratio.Op{}
	for _, op := range ratio.Ops() {
		if !strings.Contains(op.Path(), "{") {
			m[op.Route()] = op
		}
	}
	return m
}()

// route finds the operation of method and path, and the path's user ID.
// Matching is exact: no trailing slash, no other method.
func route(method, path string) (ratio.Op, string, bool) {
	if op, ok := staticRoutes[method+" "+path]; ok {
		return op, "", true
	}
	rest, ok := strings.CutPrefix(path, "/v1/users/")
	if !ok || method != http.MethodGet {
		return "", "", false
	}
	id, sub, nested := strings.Cut(rest, "/")
	switch {
	case id == "":
		return "", "", false
	case !nested:
		return ratio.OpGetUser, id, true
	case sub == "wallets":
		return ratio.OpListWallets, id, true
	}
	return "", "", false
}

// call is one API request in flight.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	op        ratio.Op
	body      []byte
	userID    string    // the path's {userId}
	now       time.Time // the clock when the call was served
	bearerExp time.Time // the presented JWT's expiry
	refresh   *token    // set when the answer carries a refreshed JWT
}

// maxBody is the largest request body read.
const maxBody = 64 << 10

// ServeHTTP serves Ratio's API and the /_sandbox/ hooks.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, hookPrefix) {
		h.serveHook(w, r)
		return
	}
	op, userID, ok := route(r.Method, r.URL.Path)
	if !ok {
		writeError(w, h.cfg.Now(), fail(http.StatusNotFound, ratio.CodeNotFoundEndpoint, "API endpoint not found: %s %s", r.Method, r.URL.Path))
		return
	}
	latency, f := h.begin(op)
	c := &call{w: w, r: r, op: op, userID: userID}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	c.body = body
	status, code := 0, ""
	switch {
	case err != nil:
		status, code = 0, "body read failed" // the client is gone
	case len(body) > maxBody:
		e := writeError(w, h.cfg.Now(), fail(http.StatusBadRequest, ratio.CodeInvalidBody, "the request body is larger than %d bytes", maxBody))
		status, code = e.status, e.code
	default:
		status, code = h.serve(c, latency, f)
	}
	h.record(c, status)
	if l := h.cfg.Logger; l != nil {
		l.LogAttrs(r.Context(), slog.LevelDebug, "ratio sandbox call",
			slog.String("op", op.Route()), slog.Int("status", status), slog.String("code", code))
	}
}

// serve runs the call through injected latency and faults, the client
// credentials and the endpoint, and writes the answer. It returns the
// status and error code written (status 0 when the client went away).
func (h *Handler) serve(c *call, latency time.Duration, f *fault) (int, string) {
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
			return 0, "canceled"
		}
	}
	c.now = h.cfg.Now()
	var (
		status int
		v      any
		err    error
	)
	if f != nil {
		err = f.answer()
	} else if err = h.checkClient(c.r); err == nil {
		status, v, err = endpoints[c.op](h, c)
	}
	if c.refresh != nil {
		if jwt, serr := h.sign(*c.refresh, c.now); serr == nil {
			c.w.Header().Set("ratio-authentication-refresh", jwt)
		}
	}
	if err != nil {
		e := writeError(c.w, c.now, err)
		return e.status, e.code
	}
	writeJSON(c.w, status, v)
	return status, ""
}

// checkClient checks the ratio-client-id and ratio-client-secret headers.
func (h *Handler) checkClient(r *http.Request) error {
	id, secret := r.Header.Get("ratio-client-id"), r.Header.Get("ratio-client-secret")
	switch {
	case id == "":
		return fail(http.StatusUnauthorized, ratio.CodeMissingClientID, "the ratio-client-id header is missing")
	case secret == "":
		return fail(http.StatusUnauthorized, ratio.CodeMissingClientSecret, "the ratio-client-secret header is missing")
	case h.cfg.ClientID != "" && subtle.ConstantTimeCompare([]byte(id), []byte(h.cfg.ClientID)) != 1:
		return fail(http.StatusUnauthorized, ratio.CodeInvalidClientID, "the ratio-client-id header names no client")
	case h.cfg.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(h.cfg.ClientSecret)) != 1:
		return fail(http.StatusUnauthorized, ratio.CodeInvalidClientSecret, "the ratio-client-secret header is invalid")
	}
	return nil
}

// locked runs fn holding h.mu.
func (h *Handler) locked(fn func() error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fn()
}

// readRand fills b from cfg.Rand.
func (h *Handler) readRand(b []byte) {
	if h.cfg.Rand == rand.Reader {
		_, _ = rand.Read(b)
		return
	}
	h.randMu.Lock()
	defer h.randMu.Unlock()
	if _, err := io.ReadFull(h.cfg.Rand, b); err != nil {
		panic("sandbox: Config.Rand: " + err.Error())
	}
}
