// Package ratio is a typed client for Ratio's end-user authentication API
// (api.ratio.me): wallet challenge and signature, SMS and email one-time
// codes, linking a wallet to a user, creating and reading users.
//
// The client retries on github.com/hashicorp/go-retryablehttp with a policy
// that never repeats a side effect: a 429 is retried with exponential
// back-off and jitter (honouring Retry-After up to a cap), a transient
// failure of a read or an authentication is retried, but an SMS or email
// send, an addToUser or a user creation that fails ambiguously (timeout,
// reset connection, 5xx) is returned to the caller as ErrAmbiguous after
// its one request, because the SMS may already be on its way. Only a
// request that provably never left (the connection could not be opened)
// is retried for those too.
//
// Client implements API, the interface the engine depends on.
//
// Errors are typed: Ratio's error body becomes an *APIError, matched with
// errors.Is against sentinels such as ErrPhoneConflict (409
// ALREADY_EXISTS_PHONE), ErrRateLimited and ErrInvalidOTP. Secrets (the
// client secret, session JWTs, one-time codes) are of type Secret and never
// reach a log, an error string or a panic.
//
// The package also holds the input checks the engine and the sandbox share
// (wallet address with EIP-55, signature, US E.164 phone, email, country)
// and EIP-191 personal_sign hashing and recovery on go-ethereum's crypto
// package.
//
// Ratio's API is documented only in part. Where this package relies on
// what Ratio's documentation does not state (status codes of some errors,
// the error code of a wrong OTP), the comment says GUESS.
package ratio
