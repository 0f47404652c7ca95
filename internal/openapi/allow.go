package openapi

// The allow-list: response statuses Ratio's 2023 file does not list for an
// operation, but that Ratio's guides document, or that ratioflow's sandbox
// gives on purpose where Ratio's real answer is unknown. An allowed status
// must carry the Error schema. Keep every entry commented with where it comes from.

// anyOperation lists statuses any operation may answer.
var anyOperation = map[int]string{
	// Missing or wrong client credentials, and a missing, malformed or
	// expired bearer JWT (MISSING_/INVALID_CLIENT_ID, ..._SECRET,
	// EXPIRED_AUTHORIZATION...: codes FOUND in error-codes.md, status GUESS).
	401: "client credentials or bearer JWT refused",
	// Stytch's rate limits, which Ratio passes through (FOUND for sms:send
	// in the linking guide, GUESS elsewhere), and the sandbox's
	// ForceRateLimit / FailNext(429) fault injection.
	429: "rate limited",
	// The sandbox's FailNext fault injection.
	500: "injected fault",
	502: "injected fault",
	503: "injected fault",
	504: "injected fault",
}

// perOperation lists statuses particular operations may answer, keyed
// "METHOD /template".
var perOperation = map[string]map[int]string{
	"POST /v1/auth/cryptoWallet:authenticate": {
		// A signature that does not match the active challenge, or no
		// active challenge: 401 INVALID_SIGNATURE (GUESS, contract 2.2).
		// Covered by anyOperation's 401; repeated here for the record.
		401: "wrong signer or no active challenge",
		// Authenticating, with a user's JWT, a wallet another user has
		// verified: 409 ALREADY_EXISTS_WALLET_ADDRESS (sandbox; the guides
		// only say the wallet is linked automatically).
		409: "wallet verified by another user",
	},
	"POST /v1/auth/cryptoWallet:addToUser": {
		// A JWT without two factors: MFA_REQUIRED (code FOUND, status GUESS).
		403: "two-factor session required",
		// ALREADY_EXISTS_WALLET_ADDRESS (code FOUND, status GUESS).
		409: "wallet already on a user",
	},
	"POST /v1/auth/otp/sms:send": {
		// 409 ALREADY_EXISTS_PHONE: FOUND in the linking guide.
		409: "phone owned by another account",
	},
	"POST /v1/auth/otp/sms:authenticate": {
		// The same conflict as sms:send, when authenticate is called with
		// another JWT than the send (sandbox).
		409: "phone owned by another account",
	},
	"POST /v1/auth/otp/email:send": {
		// ALREADY_EXISTS_EMAIL (code FOUND, status GUESS).
		409: "email owned by another account",
	},
	"POST /v1/auth/otp/email:authenticate": {
		409: "email owned by another account",
	},
	"GET /v1/users/{userId}": {
		// INVALID_USER_ID: userId is not a UUID (code FOUND, status GUESS).
		400: "malformed user id",
	},
	"GET /v1/users/{userId}/wallets": {
		400: "malformed user id",
	},
}

// allowed returns why status is allowed for the operation key, or "".
func allowed(key string, status int) string {
	if why := perOperation[key][status]; why != "" {
		return why
	}
	return anyOperation[status]
}
