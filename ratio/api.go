package ratio

import "context"

// API is Ratio's end-user authentication API as ratioflow uses it. *Client
// implements it over HTTP; the engine depends only on this interface, so
// tests and the sandbox can stand in for Ratio.
//
// jwt is the session JWT to send as "Authorization: Bearer"; an empty jwt
// sends none (on the auth endpoints that makes the factor a first factor).
// Every method checks its input before sending anything and returns an
// *InputError (matching ErrInvalidInput) without a request when it fails.
// Ratio's error answers are *APIError values, and a call without a usable
// answer is a *TransportError; both match the sentinels of errors.go with
// errors.Is. A call with a side effect (Op.SideEffect) that may have been
// applied but did not answer clearly matches ErrAmbiguous and is never
// retried by the client. Every response embeds Meta: the refreshed JWT, if
// Ratio sent one, and the number of attempts.
type API interface {
	// StartWallet asks for the challenge the wallet must sign
	// (cryptoWallet:start). WalletType defaults to "EVM" when neither
	// WalletType nor WalletNetwork is set. A malformed address is an
	// *InputError.
	StartWallet(ctx context.Context, jwt Secret, req StartWalletRequest) (*StartWalletResponse, error)
	// AuthenticateWallet sends the wallet's signature of the challenge
	// (cryptoWallet:authenticate). The answer has no UserMask when Ratio
	// knows no user with that wallet. A refused signature matches
	// ErrInvalidSignature; a malformed one is an *InputError that matches
	// it too.
	AuthenticateWallet(ctx context.Context, jwt Secret, req AuthenticateWalletRequest) (*AuthResponse, error)
	// AddWalletToUser adds an unverified wallet to the two-factor session's
	// user (cryptoWallet:addToUser). It returns ErrMFARequired for a
	// one-factor session (GUESS), ErrWalletConflict when the address is
	// another user's, and ErrAmbiguous when it may have been applied.
	AddWalletToUser(ctx context.Context, jwt Secret, req AddWalletRequest) (*AddWalletResponse, error)
	// SendSMS sends a one-time code to a US phone number in E.164
	// (otp/sms:send). It returns ErrPhoneConflict when the phone belongs to
	// another user than the session's, ErrRateLimited when Ratio throttles
	// (after the client's own retries), and ErrAmbiguous when the SMS may
	// have been sent.
	SendSMS(ctx context.Context, jwt Secret, req SendSMSRequest) (*SendSMSResponse, error)
	// AuthenticateSMS checks the code sent by SendSMS (otp/sms:authenticate).
	// A wrong or expired code returns ErrInvalidOTP.
	AuthenticateSMS(ctx context.Context, jwt Secret, req AuthenticateSMSRequest) (*AuthResponse, error)
	// SendEmail sends a one-time code to an email address (otp/email:send).
	// It returns ErrAmbiguous when the email may have been sent.
	SendEmail(ctx context.Context, jwt Secret, req SendEmailRequest) (*SendEmailResponse, error)
	// AuthenticateEmail checks the code sent by SendEmail
	// (otp/email:authenticate). A wrong or expired code returns
	// ErrInvalidOTP.
	AuthenticateEmail(ctx context.Context, jwt Secret, req AuthenticateEmailRequest) (*AuthResponse, error)
	// CreateUser creates the two-factor session's user (POST /v1/users).
	// It returns ErrConflict when the phone or email belongs to another user
	// and ErrAmbiguous when the user may have been created.
	CreateUser(ctx context.Context, jwt Secret, req CreateUserRequest) (*User, error)
	// GetUser reads a user (GET /v1/users/{userId}). It returns ErrNotFound
	// for an unknown user and ErrUnauthorized (and ErrExpiredJWT) for a
	// missing or expired session.
	GetUser(ctx context.Context, jwt Secret, userID string) (*User, error)
	// ListWallets lists a user's deposit wallets (GET
	// /v1/users/{userId}/wallets). It returns ErrNotFound for an unknown
	// user.
	ListWallets(ctx context.Context, jwt Secret, userID string) (*Wallets, error)
}

var _ API = (*Client)(nil)

// Field names, as Ratio spells them, of the identifiers the API methods
// check besides those of validate.go.
const (
	FieldPhoneID = "phoneId"
	FieldEmailID = "emailId"
	FieldUserID  = "userId"
)
