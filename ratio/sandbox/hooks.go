package sandbox

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ratioflow/ratioflow/ratio"
)

// The sandbox's hooks in Go: seeding users, reading codes, counters and
// the request log. /_sandbox/ serves the same over HTTP (sandboxhttp.go).

// UserSeed describes a user to create directly, as if they had signed up
// earlier.
type UserSeed struct {
	// PhoneNumber (US, E.164) and EmailAddress are required and must be
	// free.
	PhoneNumber  string `json:"phoneNumber"`
	EmailAddress string `json:"emailAddress"`
	// FirstName and LastName default to "Ratio" and "User", Country to "US".
	FirstName  string `json:"firstName"`
	MiddleName string `json:"middleName,omitempty"`
	LastName   string `json:"lastName"`
	Country    string `json:"country"`
	// Wallets are the user's verified signing wallets; none may be
	// verified on another user (an unverified one moves).
	Wallets []string `json:"wallets,omitempty"`
}

// SeedUser creates a user. It returns an *ratio.InputError for a field
// that fails Ratio's checks, and an error matching ratio.ErrConflict if the
// phone, the email or a wallet is taken.
func (h *Handler) SeedUser(seed UserSeed) (ratio.User, error) {
	seed = seedDefaults(seed)
	phone, err := checkCreateUser(createUserBody{
		FirstName: seed.FirstName, MiddleName: seed.MiddleName, LastName: seed.LastName,
		Email: seed.EmailAddress, Country: seed.Country, Phone: seed.PhoneNumber,
		AcceptedTerms: json.RawMessage("true"),
	})
	if err != nil {
		return ratio.User{}, seedError(err)
	}
	addrs := make([]common.Address, len(seed.Wallets))
	for i, w := range seed.Wallets {
		if addrs[i], err = ratio.ParseWalletAddress(w); err != nil {
			return ratio.User{}, err
		}
	}
	now := h.cfg.Now()
	var out *ratio.User
	err = h.locked(func() error {
		m := h.m
		switch {
		case m.userByPhone[phone] != nil:
			return fail(http.StatusConflict, ratio.CodeAlreadyExistsPhone, "the phone number already exists on another user")
		case m.userByEmail[emailKey(seed.EmailAddress)] != nil:
			return fail(http.StatusConflict, ratio.CodeAlreadyExistsEmail, "the email address already exists on another user")
		}
		for _, a := range addrs {
			if w := m.wallets[a]; w != nil && w.verified {
				return fail(http.StatusConflict, ratio.CodeAlreadyExistsWalletAddress, "wallet %s is verified on another user", a.Hex())
			}
		}
		u := h.addUser(now, "", seed.FirstName, seed.MiddleName, seed.LastName, seed.EmailAddress, seed.Country, phone)
		for _, a := range addrs {
			h.attachWallet(a, u.id, true, now)
		}
		out = u.view()
		return nil
	})
	if err != nil {
		return ratio.User{}, seedError(err)
	}
	return *out, nil
}

func seedDefaults(s UserSeed) UserSeed {
	if s.FirstName == "" {
		s.FirstName = "Ratio"
	}
	if s.LastName == "" {
		s.LastName = "User"
	}
	if s.Country == "" {
		s.Country = "US"
	}
	return s
}

// seedError turns an answer of the seeding checks into an *ratio.APIError,
// which matches ratio.ErrConflict or ratio.ErrInvalidInput.
func seedError(err error) error {
	var e *apiError
	if !errors.As(err, &e) {
		return err
	}
	return &ratio.APIError{Op: "SeedUser", Status: e.status, Code: e.code, Message: e.msg}
}

// LastOTP returns the last one-time code sent to to, a phone number (E.164)
// or an email address, as the person's inbox would show it: the code may
// since have been used, voided or have expired.
func (h *Handler) LastOTP(to string) (string, bool) {
	key := emailKey(to)
	if strings.HasPrefix(to, "+") {
		if e164, err := h.normalPhone(to); err == nil {
			key = e164
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	code, ok := h.m.lastCode[key]
	return code, ok
}

// OTP returns LastOTP's code as the person would type it into the app,
// ready for a step's input, or an empty Secret if no code was sent to to.
func (h *Handler) OTP(to string) ratio.Secret {
	code, _ := h.LastOTP(to)
	return ratio.Secret(code)
}

// Stats counts the API calls the sandbox has served.
type Stats struct {
	// Calls counts calls per operation route, e.g.
	// "POST /v1/auth/otp/sms:send" (ratio.Op.Route), failed ones included.
	// Calls to /_sandbox/ and to unknown routes are not counted.
	Calls map[string]int `json:"calls"`
	// AddToUser counts successful cryptoWallet:addToUser calls per wallet
	// address (EIP-55).
	AddToUser map[string]int `json:"addToUser"`
}

// Stats returns a copy of the counters.
func (h *Handler) Stats() Stats {
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	return Stats{Calls: maps.Clone(h.calls), AddToUser: maps.Clone(h.adds)}
}

func (h *Handler) countAdd(addr common.Address) {
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	h.adds[addr.Hex()]++
}

// Request is one API call as the sandbox received it.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Bearer reports whether an Authorization header was sent.
	Bearer bool `json:"bearer"`
	// Body is the decoded JSON body (nil if none or not JSON), with the
	// one-time code replaced by "[redacted]".
	Body map[string]any `json:"body,omitempty"`
	// Status is the status answered (0 if the client went away).
	Status int `json:"status"`
}

// maxRequests is how many requests Requests remembers.
const maxRequests = 1000

// Requests returns the last 1000 API calls, oldest first.
func (h *Handler) Requests() []Request {
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	if len(h.reqs) < maxRequests {
		return append([]Request(nil), h.reqs...)
	}
	return append(append([]Request(nil), h.reqs[h.reqNext:]...), h.reqs[:h.reqNext]...)
}

func (h *Handler) record(c *call, status int) {
	req := Request{Method: c.r.Method, Path: c.r.URL.Path, Bearer: c.r.Header.Get("Authorization") != "", Status: status}
	if len(c.body) > 0 && json.Unmarshal(c.body, &req.Body) == nil {
		if _, ok := req.Body[ratio.FieldOTP]; ok {
			req.Body[ratio.FieldOTP] = "[redacted]"
		}
	}
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	if len(h.reqs) < maxRequests {
		h.reqs = append(h.reqs, req)
		return
	}
	h.reqs[h.reqNext] = req
	h.reqNext = (h.reqNext + 1) % maxRequests
}

// Reset forgets every user, session, code, counter, fault and latency,
// as if the handler were new (the JWT key stays: old JWTs name unknown
// sessions).
func (h *Handler) Reset() {
	h.mu.Lock()
	h.m = newModel()
	h.mu.Unlock()
	h.resetHooks()
}

func (h *Handler) resetHooks() {
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	h.faults = map[ratio.Op]fault{}
	h.latency = map[ratio.Op]time.Duration{}
	h.calls = map[string]int{}
	h.adds = map[string]int{}
	h.reqs, h.reqNext = nil, 0
}
