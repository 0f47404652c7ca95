package ratio

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes Ratio sends in ErrorBody.Code. The names are Ratio's
// (docs/api-reference/error-codes.md); which HTTP status goes with which
// code is documented only for ALREADY_EXISTS_PHONE (409) and the OTP and
// phone errors, the rest is our best reading of the contract (GUESS).
const (
	CodeAlreadyExistsPhone         = "ALREADY_EXISTS_PHONE"
	CodeAlreadyExistsEmail         = "ALREADY_EXISTS_EMAIL"
	CodeAlreadyExistsUser          = "ALREADY_EXISTS_USER"
	CodeAlreadyExistsWalletAddress = "ALREADY_EXISTS_WALLET_ADDRESS"
	CodeExpiredAuthorization       = "EXPIRED_AUTHORIZATION"
	CodeInvalidAuthorization       = "INVALID_AUTHORIZATION"
	CodeMissingAuthorization       = "MISSING_AUTHORIZATION"
	CodeMFARequired                = "MFA_REQUIRED"
	CodeInvalidClientID            = "INVALID_CLIENT_ID"
	CodeMissingClientID            = "MISSING_CLIENT_ID"
	CodeInvalidClientSecret        = "INVALID_CLIENT_SECRET"
	CodeMissingClientSecret        = "MISSING_CLIENT_SECRET"
	CodeInvalidBody                = "INVALID_BODY"
	CodeInvalidWalletAddress       = "INVALID_WALLET_ADDRESS"
	CodeMissingWalletAddress       = "MISSING_WALLET_ADDRESS"
	CodeInvalidWalletType          = "INVALID_WALLET_TYPE"
	CodeMissingWalletType          = "MISSING_WALLET_TYPE"
	CodeInvalidSignature           = "INVALID_SIGNATURE"
	CodeMissingSignature           = "MISSING_SIGNATURE"
	CodeInvalidPhone               = "INVALID_PHONE"
	CodeInvalidPhoneCountryCode    = "INVALID_PHONE_COUNTRY_CODE"
	CodeInvalidPhoneType           = "INVALID_PHONE_TYPE"
	CodeMissingPhone               = "MISSING_PHONE"
	CodeInvalidPhoneID             = "INVALID_PHONE_ID"
	CodeMissingPhoneID             = "MISSING_PHONE_ID"
	CodeInvalidEmailID             = "INVALID_EMAIL_ID"
	CodeMissingEmailID             = "MISSING_EMAIL_ID"
	CodeInvalidOTP                 = "INVALID_OTP"
	CodeMissingOTP                 = "MISSING_OTP"
	CodeInvalidEmail               = "INVALID_EMAIL"
	CodeMissingEmail               = "MISSING_EMAIL"
	CodeInvalidFirstName           = "INVALID_FIRST_NAME"
	CodeMissingFirstName           = "MISSING_FIRST_NAME"
	CodeInvalidLastName            = "INVALID_LAST_NAME"
	CodeMissingLastName            = "MISSING_LAST_NAME"
	CodeInvalidMiddleName          = "INVALID_MIDDLE_NAME"
	CodeInvalidCountry             = "INVALID_COUNTRY"
	CodeMissingCountry             = "MISSING_COUNTRY"
	CodeInvalidAcceptedTerms       = "INVALID_ACCEPTED_TERMS"
	CodeMismatchPhone              = "MISMATCH_PHONE"
	CodeMismatchEmail              = "MISMATCH_EMAIL"
	CodeInvalidUserID              = "INVALID_USER_ID"
	CodeNotFoundUser               = "NOT_FOUND_USER"
	CodeNotFoundEndpoint           = "NOT_FOUND_ENDPOINT"
	CodeExceedsLimitWallets        = "EXCEEDS_LIMIT_WALLETS"
	// CodeTooManyRequests is what ratioflow's sandbox sends with a 429.
	// Ratio documents no code for 429 (GUESS: it passes Stytch's
	// too_many_requests through in its own error shape).
	CodeTooManyRequests = "TOO_MANY_REQUESTS"
	// CodeInternal is what the sandbox sends with an injected 5xx.
	CodeInternal = "INTERNAL"
)

// Sentinel errors for the conditions callers branch on. An *APIError
// matches every sentinel that describes it (errors.Is), and an
// *InputError matches ErrInvalidInput.
var (
	// ErrPhoneConflict: 409 ALREADY_EXISTS_PHONE, the phone belongs to another
	// account than the session's.
	ErrPhoneConflict = errors.New("phone number belongs to another account")
	// ErrWalletConflict: 409 ALREADY_EXISTS_WALLET_ADDRESS.
	ErrWalletConflict = errors.New("wallet address already exists")
	// ErrConflict: any 409.
	ErrConflict = errors.New("conflict")
	// ErrRateLimited: 429. APIError.RetryAfter says how long Ratio asked to wait.
	ErrRateLimited = errors.New("rate limited")
	// ErrInvalidOTP: a wrong or expired one-time code (401 on an OTP authenticate).
	ErrInvalidOTP = errors.New("invalid one-time code")
	// ErrInvalidSignature: the wallet signature does not match the challenge
	// and address, or the challenge is unknown, used or expired.
	ErrInvalidSignature = errors.New("invalid wallet signature")
	// ErrMFARequired: the session JWT lacks a second factor (MFA_REQUIRED).
	ErrMFARequired = errors.New("multi-factor authentication required")
	// ErrUnauthorized: any 401 or 403 that is not an invalid OTP or
	// signature, and any EXPIRED_AUTHORIZATION.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrExpiredJWT: the session JWT expired (EXPIRED_AUTHORIZATION). It also
	// matches ErrUnauthorized.
	ErrExpiredJWT = errors.New("session JWT expired")
	// ErrInvalidInput: Ratio refused the request body (400, 422), or a local
	// input check did (*InputError).
	ErrInvalidInput = errors.New("invalid input")
	// ErrNotFound: 404.
	ErrNotFound = errors.New("not found")
	// ErrTransient: a 5xx, or a call that got no usable answer
	// (*TransportError): trying again later may work.
	ErrTransient = errors.New("transient failure")
	// ErrAmbiguous: a call with a side effect failed in a way that does not
	// say whether Ratio applied it (timeout, connection lost, 5xx). The
	// client never retries it; the caller decides. It also matches
	// ErrTransient.
	ErrAmbiguous = errors.New("outcome unknown: the request may have been applied")
)

// APIError is an error answer from Ratio: its status and error body.
// Message is Ratio's text; ratioflow's sandbox never echoes a secret into
// it, and the real Ratio is not known to.
type APIError struct {
	// Op is the operation, e.g. "POST /v1/auth/otp/sms:send" (never a query string).
	Op string
	// Status is the HTTP status code.
	Status int
	// Code, Message, CreateTime and Data are Ratio's error body.
	Code       string
	Message    string
	CreateTime string
	Data       map[string]any
	// RetryAfter is the wait the Retry-After header asked for, or zero.
	RetryAfter time.Duration
	// Attempts is how many requests were made before giving up.
	Attempts int
	// SideEffect reports whether the operation has a side effect (an SMS,
	// an email, a wallet or a user added).
	SideEffect bool
}

// Error returns "ratio: OP: STATUS CODE: MESSAGE".
func (e *APIError) Error() string {
	s := fmt.Sprintf("ratio: %s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Is reports whether e is described by the sentinel target.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrPhoneConflict:
		return e.Status == http.StatusConflict && e.Code == CodeAlreadyExistsPhone
	case ErrWalletConflict:
		return e.Status == http.StatusConflict && e.Code == CodeAlreadyExistsWalletAddress
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrInvalidOTP:
		return e.invalidOTP()
	case ErrInvalidSignature:
		return e.invalidSignature()
	case ErrMFARequired:
		return e.Code == CodeMFARequired
	case ErrExpiredJWT:
		return e.Code == CodeExpiredAuthorization
	case ErrUnauthorized:
		return (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
			e.Code == CodeExpiredAuthorization) && !e.invalidOTP() && !e.invalidSignature()
	case ErrInvalidInput:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrTransient:
		return e.Status >= 500
	case ErrAmbiguous:
		return e.SideEffect && e.Status >= 500
	}
	return false
}

// invalidOTP reports a wrong or expired one-time code: a 401 with code
// INVALID_OTP, or a 401 without a code from an OTP authenticate, which is
// all Ratio documents ("401 Invalid OTP"; the code string is a GUESS). A
// 401 without a code from any other operation is not an OTP problem.
func (e *APIError) invalidOTP() bool {
	if e.Status != http.StatusUnauthorized {
		return false
	}
	return e.Code == CodeInvalidOTP ||
		e.Code == "" && (e.Op == OpAuthenticateSMS.Route() || e.Op == OpAuthenticateEmail.Route())
}

// invalidSignature reports a refused wallet signature: a 400 or 401 with
// code INVALID_SIGNATURE, or a 401 without a code from
// cryptoWallet:authenticate (GUESS: Ratio documents no status for a wrong
// signature).
func (e *APIError) invalidSignature() bool {
	switch {
	case e.Code == CodeInvalidSignature:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusBadRequest
	case e.Code == "":
		return e.Status == http.StatusUnauthorized && e.Op == OpAuthenticateWallet.Route()
	}
	return false
}

// TransportError is a call that got no usable answer from Ratio: the
// connection could not be made or broke, the attempt timed out, the call
// was cancelled, or the answer could not be read or decoded. Err is the
// cause (it matches context.Canceled or context.DeadlineExceeded when the
// caller's context ended); any URL in it carries no query string or user
// information.
type TransportError struct {
	// Op is the operation, e.g. "POST /v1/auth/otp/sms:send".
	Op string
	// Attempts is how many requests were made.
	Attempts int
	// Ambiguous reports that the operation has a side effect and a request
	// may have reached Ratio, so it may have been applied. A request that
	// provably never left (no connection was made) is not ambiguous.
	Ambiguous bool
	Err       error
}

// Error returns "ratio: OP: CAUSE", noting the attempts and an unknown outcome.
func (e *TransportError) Error() string {
	cause := "no answer"
	if e.Err != nil {
		cause = e.Err.Error()
	}
	s := "ratio: " + e.Op + ": " + cause
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	if e.Ambiguous {
		s += " (outcome unknown: the request may have been applied)"
	}
	return s
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Is reports whether target is ErrTransient, which every TransportError
// matches (trying again may work, also after a cancellation), or
// ErrAmbiguous when Ambiguous.
func (e *TransportError) Is(target error) bool {
	return target == ErrTransient || target == ErrAmbiguous && e.Ambiguous
}

// InputError is a value that failed a local input check, before anything
// was sent. Field is named as Ratio names it (walletAddress, signature,
// phoneNumber, otp, emailAddress, country, ...). The error text never
// repeats the value when it may be a secret.
type InputError struct {
	Field  string
	Reason string
}

// Error returns "invalid FIELD: REASON".
func (e *InputError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

// Is reports whether target is ErrInvalidInput, or ErrInvalidSignature for
// a signature that failed its check.
func (e *InputError) Is(target error) bool {
	return target == ErrInvalidInput || (target == ErrInvalidSignature && e.Field == FieldSignature)
}

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
