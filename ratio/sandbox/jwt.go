package sandbox

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Session JWTs laid out as the Stytch session JWTs Ratio hands out
// (contract 1.4): iss, aud, sub, iat, nbf, exp and the
// "https://stytch.com/session" claim with the session and its factors.
// Ratio signs RS256 with Stytch's keys; the sandbox signs HS256 with a
// random key of its own, which only it can check. Clients must treat the
// JWT as opaque anyway.

// claims is a session JWT's payload.
type claims struct {
	jwt.RegisteredClaims
	Session stytchSession `json:"https://stytch.com/session"`
}

type stytchSession struct {
	ID             string       `json:"id"`
	StartedAt      string       `json:"started_at"`
	LastAccessedAt string       `json:"last_accessed_at"`
	ExpiresAt      string       `json:"expires_at"`
	Attributes     attributes   `json:"attributes"`
	Factors        []authFactor `json:"authentication_factors"`
}

type attributes struct {
	UserAgent string `json:"user_agent"`
	IPAddress string `json:"ip_address"`
}

type authFactor struct {
	Type                string        `json:"type"`
	DeliveryMethod      string        `json:"delivery_method"`
	LastAuthenticatedAt string        `json:"last_authenticated_at"`
	CryptoWallet        *walletFactor `json:"crypto_wallet_factor,omitempty"`
	PhoneNumber         *phoneFactor  `json:"phone_number_factor,omitempty"`
	Email               *emailFactor  `json:"email_factor,omitempty"`
}

type walletFactor struct {
	Address string `json:"crypto_wallet_address"`
	Type    string `json:"crypto_wallet_type"`
}

type phoneFactor struct {
	PhoneID     string `json:"phone_id"`
	PhoneNumber string `json:"phone_number"`
}

type emailFactor struct {
	EmailID      string `json:"email_id"`
	EmailAddress string `json:"email_address"`
}

// token is what a JWT will say about a session, copied under h.mu so that
// signing can happen outside it.
type token struct {
	subject string
	session stytchSession
}

// stytchTime is how Stytch writes the session's times.
func stytchTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// token copies what a JWT for s says. The caller holds h.mu.
func (h *Handler) token(s *session) token {
	st := stytchSession{
		ID:             s.id,
		StartedAt:      stytchTime(s.started),
		LastAccessedAt: stytchTime(s.lastAccess),
		ExpiresAt:      stytchTime(s.expires(h.cfg.SessionIdle)),
		Factors:        make([]authFactor, 0, len(s.factors)),
	}
	for _, f := range s.factors {
		af := authFactor{LastAuthenticatedAt: stytchTime(f.at)}
		switch f.kind {
		case factorWallet:
			af.Type, af.DeliveryMethod = "crypto", "crypto_wallet"
			af.CryptoWallet = &walletFactor{Address: f.addr.Hex(), Type: "ethereum"}
		case factorSMS:
			af.Type, af.DeliveryMethod = "otp", "sms"
			af.PhoneNumber = &phoneFactor{PhoneID: f.methodID, PhoneNumber: f.value}
		case factorEmail:
			af.Type, af.DeliveryMethod = "otp", "email"
			af.Email = &emailFactor{EmailID: f.methodID, EmailAddress: f.value}
		}
		st.Factors = append(st.Factors, af)
	}
	return token{subject: s.subject, session: st}
}

// sign mints a JWT for t, issued now. It takes no lock.
func (h *Handler) sign(t token, now time.Time) (string, error) {
	cl := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    h.issuer(),
			Audience:  jwt.ClaimStrings{h.project},
			Subject:   t.subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(h.cfg.JWTLifetime)),
		},
		Session: t.session,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, cl)
	tok.Header["kid"] = h.kid
	s, err := tok.SignedString(h.key)
	if err != nil {
		return "", fmt.Errorf("sign session JWT: %w", err)
	}
	return s, nil
}

func (h *Handler) issuer() string { return "stytch.com/" + h.project }

func (h *Handler) keyFunc(*jwt.Token) (any, error) { return h.key, nil }

// newParser returns the parser that checks presented JWTs with the
// handler's clock.
func (h *Handler) newParser() *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(h.cfg.Now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(h.issuer()),
		jwt.WithAudience(h.project),
	)
}
