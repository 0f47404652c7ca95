package ratio

import (
	"fmt"
	"log/slog"
)

// Secret is a string that must never reach a log, an error or a panic: a
// client secret, a session JWT, a one-time code. Printing it with any fmt
// verb, or logging it with log/slog, shows "[redacted]". JSON encoding
// writes the real value, because that is how it travels to Ratio; use
// Reveal where the plain value is needed.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", so %#v does not print the value either.
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// encoding/json writes a Secret's real value, so slog's JSONHandler would
// print the secret inside any struct it marshals. The types that hold a
// Secret therefore implement slog.LogValuer. (A slice or map of Secrets
// still marshals in the clear: log a Secret itself, or such a type.)

// LogValue implements slog.LogValuer, redacting the one-time code.
func (r AuthenticateSMSRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("phoneId", r.PhoneID), slog.Any("otp", r.OTP))
}

// LogValue implements slog.LogValuer, redacting the one-time code.
func (r AuthenticateEmailRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("emailId", r.EmailID), slog.Any("otp", r.OTP))
}

// LogValue implements slog.LogValuer, redacting the JWTs.
func (r AuthResponse) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("sessionJwt", r.SessionJWT), slog.Any("userMask", r.UserMask),
		slog.Any("user", r.User), slog.Any("refreshedJwt", r.RefreshedJWT), slog.Int("attempts", r.Attempts))
}
