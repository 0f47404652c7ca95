package flowui

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// Sandbox is what the development hooks need of a Ratio sandbox running
// in the same process; *sandbox.Handler has it.
type Sandbox interface {
	SeedUser(seed sandbox.UserSeed) (ratio.User, error)
	LastOTP(to string) (string, bool)
	ForceRateLimit(op ratio.Op, n int, retryAfter time.Duration)
}

// DevCookie is the cookie holding the page's development identity.
const DevCookie = "ratioflow_dev_subject"

// devPrefix starts every development subject, so that one is told apart
// from a proxy's in logs.
const devPrefix = "dev-"

// devHooks serves the development endpoints against one sandbox. Each
// identity's wallet is derived from it and a key of this process, so
// none is stored and a reload keeps the same address.
type devHooks struct {
	sb  Sandbox
	key [32]byte
}

func newDevHooks(sb Sandbox) (*devHooks, error) {
	d := &devHooks{sb: sb}
	if _, err := rand.Read(d.key[:]); err != nil {
		return nil, fmt.Errorf("flowui: a key for the development wallets: %w", err)
	}
	return d, nil
}

// Subject returns the API's SubjectFunc: in development mode (New was
// given a Sandbox) the page's identity from DevCookie, which the page
// gets from GET Prefix+"dev/session"; otherwise proxy, such as the
// header an authenticating proxy sets.
func (h *Handler) Subject(proxy flowhttp.SubjectFunc) flowhttp.SubjectFunc {
	if h.dev == nil {
		return proxy
	}
	return func(r *http.Request) (string, error) {
		s, ok := devSubject(r)
		if !ok {
			return "", fmt.Errorf("%w: no development identity: open %s first", flowhttp.ErrNoSubject, Prefix)
		}
		return s, nil
	}
}

// devSubject reads a well-formed development identity from r's cookie.
func devSubject(r *http.Request) (string, bool) {
	c, err := r.Cookie(DevCookie)
	if err != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(c.Value, devPrefix)
	if b, err := hex.DecodeString(rest); !ok || err != nil || len(b) != 16 {
		return "", false
	}
	return c.Value, true
}

// wallet returns the development wallet of subject.
func (d *devHooks) wallet(subject string) (*sandbox.Wallet, error) {
	seed := sha256.Sum256(append(d.key[:], subject...))
	return sandbox.ParseWallet(hex.EncodeToString(seed[:]))
}

// devError is a hook's failure, answered as {"error": msg}.
type devError struct {
	status int
	msg    string
}

func (e *devError) Error() string { return e.msg }

func (d *devHooks) serve(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Set("Cache-Control", "no-store")
	subject, ok := devSubject(r)
	if !ok && name == "session" && r.Method == http.MethodGet {
		subject = newDevSubject()
		http.SetCookie(w, &http.Cookie{Name: DevCookie, Value: subject, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	} else if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "no development identity: open " + Prefix + " first"})
		return
	}
	status, v, err := d.hook(r, name, subject)
	var de *devError
	switch {
	case errors.As(err, &de):
		writeJSON(w, de.status, map[string]string{"error": de.msg})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, status, v)
	}
}

func newDevSubject() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return devPrefix + hex.EncodeToString(b)
}

// hook runs one development endpoint for subject.
func (d *devHooks) hook(r *http.Request, name, subject string) (int, any, error) {
	switch r.Method + " " + name {
	case "GET session":
		wl, err := d.wallet(subject)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{"subject": subject, "walletAddress": wl.Address, "ops": ratio.Ops()}, nil
	case "POST sign":
		return d.sign(r, subject)
	case "GET otp":
		to := r.URL.Query().Get("to")
		code, ok := d.sb.LastOTP(to)
		if !ok {
			return 0, nil, &devError{http.StatusNotFound, fmt.Sprintf("the sandbox sent no code to %q", to)}
		}
		return http.StatusOK, map[string]string{"otp": code}, nil
	case "POST users":
		var seed sandbox.UserSeed
		if err := decode(r, &seed); err != nil {
			return 0, nil, err
		}
		u, err := d.sb.SeedUser(seed)
		if err != nil {
			return 0, nil, seedError(err)
		}
		return http.StatusCreated, u, nil
	case "POST ratelimit":
		return d.rateLimit(r)
	}
	return 0, nil, &devError{http.StatusNotFound, "no development hook " + r.Method + " " + Prefix + "dev/" + name}
}

// sign signs the body's message with subject's development wallet.
func (d *devHooks) sign(r *http.Request, subject string) (int, any, error) {
	var in struct {
		Message string `json:"message"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Message == "" {
		return 0, nil, &devError{http.StatusBadRequest, "message: required, the challenge to sign"}
	}
	wl, err := d.wallet(subject)
	if err != nil {
		return 0, nil, err
	}
	sig, err := wl.Sign(in.Message)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]string{"signature": sig, "walletAddress": wl.Address}, nil
}

// rateLimit makes the sandbox answer the next calls of an operation 429.
func (d *devHooks) rateLimit(r *http.Request) (int, any, error) {
	var in struct {
		Op                string `json:"op"`
		Count             int    `json:"count"`
		RetryAfterSeconds int    `json:"retryAfterSeconds"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	switch op := ratio.Op(in.Op); {
	case !op.Known():
		return 0, nil, &devError{http.StatusBadRequest, fmt.Sprintf("op: %q is not one of %v", in.Op, ratio.Ops())}
	case in.Count < 1 || in.Count > 10:
		return 0, nil, &devError{http.StatusBadRequest, "count: from 1 to 10"}
	case in.RetryAfterSeconds < 1 || in.RetryAfterSeconds > 300:
		return 0, nil, &devError{http.StatusBadRequest, "retryAfterSeconds: from 1 to 300"}
	default:
		d.sb.ForceRateLimit(op, in.Count, time.Duration(in.RetryAfterSeconds)*time.Second)
	}
	return http.StatusOK, struct{}{}, nil
}

// decode reads r's JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &devError{http.StatusBadRequest, "the body is not the expected JSON object: " + err.Error()}
	}
	return nil
}

// seedError answers SeedUser's error with Ratio's status when it has one.
func seedError(err error) error {
	var ae *ratio.APIError
	if errors.As(err, &ae) {
		return &devError{ae.Status, ae.Message}
	}
	return &devError{http.StatusBadRequest, err.Error()}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
