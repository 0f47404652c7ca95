package ratio

import "net/http"

// Op names one Ratio operation the way Ratio's paths spell it. Ops are what
// the engine records as a pending call and in the audit history, and what
// the sandbox counts.
type Op string

// The operations ratioflow uses.
const (
	OpStartWallet        Op = "cryptoWallet:start"
	OpAuthenticateWallet Op = "cryptoWallet:authenticate"
	OpAddWalletToUser    Op = "cryptoWallet:addToUser"
	OpSendSMS            Op = "otp/sms:send"
	OpAuthenticateSMS    Op = "otp/sms:authenticate"
	OpSendEmail          Op = "otp/email:send"
	OpAuthenticateEmail  Op = "otp/email:authenticate"
	OpCreateUser         Op = "users:create"
	OpGetUser            Op = "users:get"
	OpListWallets        Op = "users.wallets:list"
)

// Ops lists every operation, in the order above.
func Ops() []Op {
	return []Op{OpStartWallet, OpAuthenticateWallet, OpAddWalletToUser, OpSendSMS, OpAuthenticateSMS,
		OpSendEmail, OpAuthenticateEmail, OpCreateUser, OpGetUser, OpListWallets}
}

// Method returns the operation's HTTP method.
func (o Op) Method() string {
	if o == OpGetUser || o == OpListWallets {
		return http.MethodGet
	}
	return http.MethodPost
}

// Path returns the operation's path; "{userId}" stands for the user ID.
func (o Op) Path() string {
	switch o {
	case OpCreateUser:
		return "/v1/users"
	case OpGetUser:
		return "/v1/users/{userId}"
	case OpListWallets:
		return "/v1/users/{userId}/wallets"
	}
	return "/v1/auth/" + string(o)
}

// Route returns "METHOD PATH", e.g. "POST /v1/auth/otp/sms:send", the form
// the sandbox's call counters use.
func (o Op) Route() string { return o.Method() + " " + o.Path() }

// SideEffect reports whether the operation changes something that a second
// try cannot undo: sends an SMS or an email, adds a wallet, creates a
// user, or authenticates, which spends its one-time code or wallet
// challenge (Ratio's are single use, so the same code or signature sent
// again is refused). Such a call is never retried after an ambiguous
// failure: the caller learns that it may have been applied.
func (o Op) SideEffect() bool {
	switch o {
	case OpSendSMS, OpSendEmail, OpAddWalletToUser, OpCreateUser,
		OpAuthenticateWallet, OpAuthenticateSMS, OpAuthenticateEmail:
		return true
	}
	return false
}

// Safe reports whether the operation only reads (an HTTP GET: the user, the
// user's wallets): making it twice changes nothing and answers alike, so
// a caller need not record it before making it, and may repeat it after
// any failure.
func (o Op) Safe() bool { return o.Method() == http.MethodGet }

// Known reports whether o is one of the operations above.
func (o Op) Known() bool {
	for _, k := range Ops() {
		if o == k {
			return true
		}
	}
	return false
}
