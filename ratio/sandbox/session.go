package sandbox

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ratioflow/ratioflow/ratio"
)

// Sessions and the bearer JWT. A session lives in the model; a JWT names it
// (claim https://stytch.com/session.id) and lasts JWTLifetime, while the
// session lasts SessionIdle past its last use. Authenticating a factor with
// a JWT makes a new session holding the JWT's factors and the new one, as
// Stytch does; the presented session stays valid.

// parseBearer checks the Authorization header's JWT: signature, issuer,
// audience, expiry. It returns nil claims and no error when there is no
// header and required is false. It takes no lock.
func (h *Handler) parseBearer(c *call, required bool) (*claims, error) {
	hdr := c.r.Header.Get("Authorization")
	if hdr == "" {
		if required {
			return nil, fail(http.StatusUnauthorized, ratio.CodeMissingAuthorization, "the Authorization header is missing: this call needs a session JWT")
		}
		return nil, nil
	}
	tok, ok := strings.CutPrefix(hdr, "Bearer ")
	if !ok || tok == "" {
		return nil, fail(http.StatusUnauthorized, ratio.CodeInvalidAuthorization, "the Authorization header is not a bearer token")
	}
	cl := new(claims)
	if _, err := h.parser.ParseWithClaims(tok, cl, h.keyFunc); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, fail(http.StatusUnauthorized, ratio.CodeExpiredAuthorization, "the session JWT expired: use a refreshed JWT or authenticate again")
		}
		return nil, fail(http.StatusUnauthorized, ratio.CodeInvalidAuthorization, "the bearer token is not a valid session JWT of this sandbox")
	}
	if cl.Session.ID == "" {
		return nil, fail(http.StatusUnauthorized, ratio.CodeInvalidAuthorization, "the session JWT names no session")
	}
	c.bearerExp = cl.ExpiresAt.Time
	return cl, nil
}

// use returns the live session a checked JWT names and marks it used. When
// the JWT is about to expire it arranges the refresh header. The caller
// holds h.mu.
func (h *Handler) use(c *call, cl *claims) (*session, error) {
	m := h.m
	s := m.sessions[cl.Session.ID]
	if s == nil {
		return nil, fail(http.StatusUnauthorized, ratio.CodeInvalidAuthorization, "the session JWT names an unknown session")
	}
	if !c.now.Before(s.expires(h.cfg.SessionIdle)) {
		delete(m.sessions, s.id)
		return nil, fail(http.StatusUnauthorized, ratio.CodeExpiredAuthorization, "the session expired after %s without use: authenticate again", h.cfg.SessionIdle)
	}
	s.lastAccess = c.now
	if h.cfg.RefreshWindow > 0 && c.bearerExp.Sub(c.now) < h.cfg.RefreshWindow {
		t := h.token(s)
		c.refresh = &t
	}
	return s, nil
}

// useOptional returns the live session of an optional JWT (nil for none). The
// caller holds h.mu.
func (h *Handler) useOptional(c *call, cl *claims) (*session, error) {
	if cl == nil {
		return nil, nil
	}
	return h.use(c, cl)
}

// newSession starts a session. subject is the JWTs' sub: the user's Stytch
// ID, or a new one for a session of nobody yet. The caller holds h.mu.
func (h *Handler) newSession(now time.Time, subject, userID string, factors []factor) *session {
	m := h.m
	if n := len(m.sessions); n > 2*m.lastSwept+1024 {
		for id, s := range m.sessions {
			if !now.Before(s.expires(h.cfg.SessionIdle)) {
				delete(m.sessions, id)
			}
		}
		m.lastSwept = len(m.sessions)
	}
	if subject == "" {
		subject = "user-test-" + newUUID()
	}
	s := &session{id: "session-test-" + newUUID(), subject: subject, userID: userID, started: now, lastAccess: now, factors: factors}
	m.sessions[s.id] = s
	return s
}

// join starts the session that authenticating f makes: from the presented
// session prev (nil for none) with f added, bound to userID. The caller
// holds h.mu.
func (h *Handler) join(now time.Time, prev *session, f factor, userID string) *session {
	subject := ""
	if u := h.m.users[userID]; u != nil {
		subject = u.stytchID
	}
	if prev == nil {
		return h.newSession(now, subject, userID, []factor{f})
	}
	if subject == "" {
		subject = prev.subject
	}
	return h.newSession(now, subject, userID, prev.withFactor(f))
}

// useTwoFactor is use for a write call: the session must also hold two
// factors (403 MFA_REQUIRED otherwise, saying why). Called with h.mu held.
func (h *Handler) useTwoFactor(c *call, cl *claims) (*session, error) {
	s, err := h.use(c, cl)
	if err != nil {
		return nil, err
	}
	if why := mfaProblem(s); why != "" {
		return nil, fail(http.StatusForbidden, ratio.CodeMFARequired, "%s", why)
	}
	return s, nil
}

// mfaProblem says why s is not a two-factor session fit for a write call,
// or returns "". Two factors are SMS and email, or SMS and wallet (seed
// 004); creating a user needs SMS, which both pairs have.
func mfaProblem(s *session) string {
	sms, email, wallet := s.has(factorSMS), s.has(factorEmail), s.has(factorWallet)
	switch {
	case email && wallet && !sms:
		return "email and wallet are not a valid factor pair: SMS must be one of the two factors"
	case !sms && (email || wallet):
		return "SMS must be one of the two factors"
	case !email && !wallet:
		return "a second authentication factor is required: SMS and email, or SMS and wallet"
	}
	return ""
}

// authAnswer is what an authenticate endpoint answers, with the JWT still
// to be signed (outside the lock).
type authAnswer struct {
	tok  token
	mask *ratio.UserMask
	user *ratio.User
}

// answer builds the authenticate answer for s. The caller holds h.mu.
func (h *Handler) answer(s *session) authAnswer {
	a := authAnswer{tok: h.token(s)}
	if u := h.m.users[s.userID]; u != nil {
		a.mask, a.user = u.mask(), u.view()
	}
	return a
}

// response signs the answer's JWT. It takes no lock.
func (h *Handler) response(now time.Time, a authAnswer) (int, any, error) {
	jwt, err := h.sign(a.tok, now)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ratio.AuthResponse{SessionJWT: ratio.Secret(jwt), UserMask: a.mask, User: a.user}, nil
}
