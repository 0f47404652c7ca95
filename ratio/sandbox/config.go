package sandbox

import (
	"crypto/rand"
	"io"
	"log/slog"
	"time"
)

// Defaults of Config's zero values.
const (
	DefaultRefreshWindow     = 60 * time.Second
	DefaultOTPLifetime       = 2 * time.Minute
	DefaultMaxOTPAttempts    = 5
	DefaultChallengeLifetime = 5 * time.Minute
	DefaultJWTLifetime       = 5 * time.Minute
	DefaultSessionIdle       = 10 * time.Minute
	DefaultSendLimitMax      = 5
	DefaultSendLimitWindow   = 10 * time.Minute
)

// Config configures a sandbox. Every zero value means the default above.
type Config struct {
	// ClientID and ClientSecret are the expected ratio-client-id and
	// ratio-client-secret headers. Left empty, any non-empty value is
	// accepted; the headers are required either way.
	ClientID     string
	ClientSecret string

	// Now is the clock behind every lifetime: challenges, one-time codes,
	// JWTs, sessions, the send limit, timestamps. Tests pass a fake clock
	// (see Clock); nil means time.Now. Injected latency (SetLatency) is real
	// time.
	Now func() time.Time

	// Rand is the source of the challenges' random text and of the one-time
	// codes, so that a test can know them in advance; nil means
	// crypto/rand. IDs and the JWT signing key always come from
	// crypto/rand, so a predictable Rand cannot make two users collide.
	Rand io.Reader

	// RefreshWindow: a presented JWT with less than this left gets a fresh
	// JWT for the same session in the ratio-authentication-refresh response
	// header. Negative turns refreshing off.
	RefreshWindow time.Duration
	// OTPLifetime is how long a one-time code is valid.
	OTPLifetime time.Duration
	// MaxOTPAttempts is how many wrong codes void a one-time code.
	MaxOTPAttempts int
	// ChallengeLifetime is how long a wallet challenge can be signed.
	ChallengeLifetime time.Duration
	// JWTLifetime is the lifetime of a session JWT (exp - iat).
	JWTLifetime time.Duration
	// SessionIdle is how long a session lives without being used.
	SessionIdle time.Duration
	// SendLimit limits SMS and email sends per phone number and per email
	// address.
	SendLimit SendLimit

	// Logger receives one debug record per API call (operation, status,
	// error code), never a secret. nil is silent.
	Logger *slog.Logger
}

// SendLimit is the sandbox's rate limit on one-time code sends: at most Max
// sends to one phone number (or one email address) in any sliding Window.
// The send over the limit is answered 429 TOO_MANY_REQUESTS with a
// Retry-After header saying, in whole seconds, when a send frees up. The
// zero value is the default, on: 5 sends per 10 minutes.
type SendLimit struct {
	Max    int
	Window time.Duration
	// Off turns the limit off.
	Off bool
}

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.RefreshWindow == 0 {
		c.RefreshWindow = DefaultRefreshWindow
	}
	if c.OTPLifetime <= 0 {
		c.OTPLifetime = DefaultOTPLifetime
	}
	if c.MaxOTPAttempts <= 0 {
		c.MaxOTPAttempts = DefaultMaxOTPAttempts
	}
	if c.ChallengeLifetime <= 0 {
		c.ChallengeLifetime = DefaultChallengeLifetime
	}
	if c.JWTLifetime <= 0 {
		c.JWTLifetime = DefaultJWTLifetime
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = DefaultSessionIdle
	}
	if c.SendLimit.Max <= 0 {
		c.SendLimit.Max = DefaultSendLimitMax
	}
	if c.SendLimit.Window <= 0 {
		c.SendLimit.Window = DefaultSendLimitWindow
	}
	return c
}
