// Package sandbox is a local fake of Ratio's end-user authentication API
// (api.ratio.me), the sandbox that the ratioflow command serves and that
// demos, load tests and a service's own tests run against with no network.
// NewHandler returns it as an http.Handler to mount or serve on any
// listener. In a Go test, ratio/ratiotest.NewServer starts it on a local
// port and closes it when the test ends. NewWallet makes a development
// wallet that signs its challenges as a wallet app would.
//
// # What it serves
//
// The ten operations of ratio.Ops, with Ratio's paths, bodies and error
// body ({"createTime","message","code","data"}):
//
//	POST /v1/auth/cryptoWallet:start          challenge for a wallet
//	POST /v1/auth/cryptoWallet:authenticate   EIP-191 signature of it -> session JWT
//	POST /v1/auth/cryptoWallet:addToUser      unverified wallet for a two-factor session's user
//	POST /v1/auth/otp/sms:send                6-digit code to a US phone
//	POST /v1/auth/otp/sms:authenticate        the code -> session JWT
//	POST /v1/auth/otp/email:send              6-digit code to an email address
//	POST /v1/auth/otp/email:authenticate      the code -> session JWT
//	POST /v1/users                            create a user (two factors, SMS one of them)
//	GET  /v1/users/{userId}                   the session's user
//	GET  /v1/users/{userId}/wallets           the user's signing wallets
//
// Every call needs the ratio-client-id and ratio-client-secret headers. An
// unknown route is 404 NOT_FOUND_ENDPOINT. Requests and answers conform to
// Ratio's 2023 OpenAPI file (internal/openapi checks it in the tests).
//
// The model follows Ratio's documentation: any one factor
// (wallet, SMS, email) gives a session; presenting its JWT while
// authenticating another factor joins them into a new session; the valid
// pairs are SMS+email and SMS+wallet, never email+wallet. A wallet Ratio
// does not know authenticates without a userMask; a session of nobody that
// sends a code to a user's phone gets 409 ALREADY_EXISTS_PHONE; sending
// without the JWT signs in as that user; addToUser adds an unverified
// wallet that the wallet's next signature verifies, and which another
// user's two-factor session can still take until then. Authenticating a
// wallet with a user's JWT links it, verified.
//
// # Defaults (Config's zero values)
//
//   - challenge: "Signing in with Ratio: " and 80 base64url characters,
//     one per wallet (a new start supersedes it), single use, 5 minutes;
//   - one-time code: 6 digits, 2 minutes, voided by the next send to the
//     same phone or address and by 5 wrong tries, single use;
//   - sends: at most 5 per phone number or email address in any sliding
//     10 minutes, then 429 TOO_MANY_REQUESTS with Retry-After in whole
//     seconds (SendLimit; Off turns it off);
//   - session JWT: 5 minutes (exp - iat = 300); the session: 10 minutes
//     without use; a presented JWT with less than 60 seconds left gets a
//     fresh one for the same session in the ratio-authentication-refresh
//     response header;
//   - client credentials: any non-empty pair, unless Config sets them.
//
// Config.Now is the clock of every lifetime: tests move a Clock instead of
// sleeping. Config.Rand makes challenges and codes predictable.
//
// # Hooks
//
// In Go, on *Handler: SeedUser, LastOTP (OTP), Stats,
// Requests, FailNext, ForceRateLimit, SetLatency and Reset. Over HTTP,
// without credentials, under /_sandbox/: users, otp, stats, requests,
// faults and reset (see sandboxhttp.go). Nothing secret is logged
// (Config.Logger): no client secret, JWT or code.
//
// # How it differs from the real Ratio
//
// Facts come from Ratio's documentation and API reference; where they are
// silent the sandbox makes a choice, and a client must not depend on it:
//
//   - Status codes: 401 INVALID_SIGNATURE for a signature by another key or
//     with no live challenge (400 for a malformed one); 401 INVALID_OTP for
//     a wrong or expired code (Ratio documents "401 Invalid OTP" but not
//     the code string); 401 for client credentials and for a missing,
//     malformed or expired JWT (EXPIRED_AUTHORIZATION); 403 MFA_REQUIRED
//     for a write call without two valid factors or without a user; 403
//     INVALID_AUTHORIZATION for reading another user; 409 for every
//     ALREADY_EXISTS_* code; 400 MISMATCH_PHONE / MISMATCH_EMAIL when a
//     user's session sends a code to a phone or address that is not the
//     user's, or creates a user with other values than its factors'.
//   - 429 bodies carry code TOO_MANY_REQUESTS and a Retry-After header;
//     Ratio documents neither, nor its limits (5 per 10 minutes is ours).
//   - JWTs have the layout of Ratio's (Stytch's) session JWTs but are
//     signed HS256 with a per-handler key, not RS256.
//   - GET /v1/users/{userId}/wallets lists the user's signing wallets,
//     verified and unverified. Ratio's list may hold only deposit wallets.
//   - A new user's kyc is NOT_STARTED in every field.
//   - Only US numbers are accepted, but whether one is a mobile cannot be
//     told offline, so INVALID_PHONE_TYPE is never answered.
//   - The ratio-client-session-id (widget) flow, device fingerprints,
//     deposit wallets, KYC and payments are not served.
package sandbox
