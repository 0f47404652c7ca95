package ratio

// Request and response bodies of the endpoints ratioflow uses. Field names
// follow Ratio's published schema (ratio-openapi-2023.yaml); where the
// documentation and the schema disagree the comment says which is followed.

// WalletTypeEVM is the only wallet type Ratio's 2023 schema knows.
const WalletTypeEVM = "EVM"

// Wallet networks of the legacy walletNetwork field (2022 schema and the
// May 2023 docs), still accepted by Ratio's sandbox in July 2023.
const (
	WalletNetworkEthereum = "ETHEREUM"
	WalletNetworkPolygon  = "POLYGON"
)

// Meta is what the client learns about a call besides its body. It is
// embedded in every response type and never encoded.
type Meta struct {
	// RefreshedJWT is the new session JWT Ratio sent in the
	// ratio-authentication-refresh response header, or empty. When it is
	// set the caller should use it instead of the JWT it sent.
	RefreshedJWT Secret `json:"-"`
	// Attempts is how many HTTP requests the call took (1 without retries).
	Attempts int `json:"-"`
}

// StartWalletRequest is the body of POST /v1/auth/cryptoWallet:start.
type StartWalletRequest struct {
	WalletAddress string `json:"walletAddress"`
	// WalletType is "EVM" (2023 schema). The client sets it when empty.
	WalletType string `json:"walletType,omitempty"`
	// WalletNetwork is the legacy field ("ETHEREUM" or "POLYGON").
	WalletNetwork string `json:"walletNetwork,omitempty"`
}

// StartWalletResponse is the answer of cryptoWallet:start.
type StartWalletResponse struct {
	Meta
	// Challenge is the exact text the wallet must sign with personal_sign:
	// "Signing in with Ratio: " and 80 base64url characters.
	Challenge string `json:"challenge"`
}

// AuthenticateWalletRequest is the body of POST /v1/auth/cryptoWallet:authenticate.
type AuthenticateWalletRequest struct {
	WalletAddress string `json:"walletAddress"`
	WalletType    string `json:"walletType,omitempty"`
	WalletNetwork string `json:"walletNetwork,omitempty"`
	// Signature is the EIP-191 personal_sign signature of the challenge,
	// 65 bytes as hex (the client sends it with a 0x prefix).
	Signature string `json:"signature"`
}

// AuthResponse is the answer of every authenticate endpoint.
type AuthResponse struct {
	Meta
	SessionJWT Secret `json:"sessionJwt"`
	// UserMask is absent when the session belongs to no Ratio user yet: for
	// a wallet, that is how Ratio says it does not know the wallet.
	UserMask *UserMask `json:"userMask,omitempty"`
	User     *User     `json:"user,omitempty"`
}

// UserMask is the partial view of a user that authentication returns.
type UserMask struct {
	ID                 string `json:"id,omitempty"`
	CreateTime         string `json:"createTime,omitempty"`
	UpdateTime         string `json:"updateTime,omitempty"`
	PhoneMask          string `json:"phoneMask,omitempty"`
	EmailMask          string `json:"emailMask,omitempty"`
	PreferredMfaMethod string `json:"preferredMfaMethod,omitempty"`
}

// AddWalletRequest is the body of POST /v1/auth/cryptoWallet:addToUser.
type AddWalletRequest struct {
	WalletAddress string `json:"walletAddress"`
	WalletType    string `json:"walletType,omitempty"`
}

// AddWalletResponse is the (empty) answer of cryptoWallet:addToUser.
type AddWalletResponse struct {
	Meta
}

// SendSMSRequest is the body of POST /v1/auth/otp/sms:send.
type SendSMSRequest struct {
	PhoneNumber string `json:"phoneNumber"`
}

// SendSMSResponse is the answer of sms:send.
type SendSMSResponse struct {
	Meta
	PhoneID   string `json:"phoneId"`
	PhoneMask string `json:"phoneMask,omitempty"`
}

// AuthenticateSMSRequest is the body of POST /v1/auth/otp/sms:authenticate.
type AuthenticateSMSRequest struct {
	PhoneID string `json:"phoneId"`
	OTP     Secret `json:"otp"`
}

// SendEmailRequest is the body of POST /v1/auth/otp/email:send.
type SendEmailRequest struct {
	EmailAddress string `json:"emailAddress"`
}

// SendEmailResponse is the answer of email:send.
type SendEmailResponse struct {
	Meta
	EmailID   string `json:"emailId"`
	EmailMask string `json:"emailMask"`
}

// AuthenticateEmailRequest is the body of POST /v1/auth/otp/email:authenticate.
type AuthenticateEmailRequest struct {
	EmailID string `json:"emailId"`
	OTP     Secret `json:"otp"`
}

// CreateUserRequest is the body of POST /v1/users.
type CreateUserRequest struct {
	FirstName  string `json:"firstName"`
	MiddleName string `json:"middleName,omitempty"`
	LastName   string `json:"lastName"`
	Email      string `json:"email"`
	// Country is ISO 3166 alpha-2, e.g. "US".
	Country string `json:"country"`
	// Phone is E.164, e.g. "+12025550123".
	Phone string `json:"phone"`
	// AcceptedTerms must be true: the user ticked "I agree to the Ratio terms of use."
	AcceptedTerms bool `json:"acceptedTerms"`
}

// User is a Ratio user (the 2023 schema's User; KYC and bank details are
// kept as Ratio sends them).
type User struct {
	Meta
	ID                    string        `json:"id,omitempty"`
	CreateTime            string        `json:"createTime,omitempty"`
	UpdateTime            string        `json:"updateTime,omitempty"`
	FirstName             string        `json:"firstName,omitempty"`
	MiddleName            string        `json:"middleName,omitempty"`
	LastName              string        `json:"lastName,omitempty"`
	Email                 string        `json:"email,omitempty"`
	Country               string        `json:"country,omitempty"`
	Phone                 string        `json:"phone,omitempty"`
	Nationality           string        `json:"nationality,omitempty"`
	Occupation            string        `json:"occupation,omitempty"`
	KYC                   *KYC          `json:"kyc,omitempty"`
	ConnectedBankAccounts []BankAccount `json:"connectedBankAccounts,omitempty"`
	Flags                 []string      `json:"flags,omitempty"`
}

// KYC is a user's identity verification status.
type KYC struct {
	CreateTime    string `json:"createTime,omitempty"`
	UpdateTime    string `json:"updateTime,omitempty"`
	Status        string `json:"status,omitempty"`
	AddressResult string `json:"addressResult,omitempty"`
	DobResult     string `json:"dobResult,omitempty"`
	FraudResult   string `json:"fraudResult,omitempty"`
	IdvResult     string `json:"idvResult,omitempty"`
}

// BankAccount is a bank account connected to a user.
type BankAccount struct {
	ID                 string `json:"id,omitempty"`
	CreateTime         string `json:"createTime,omitempty"`
	UpdateTime         string `json:"updateTime,omitempty"`
	Name               string `json:"name,omitempty"`
	Mask               string `json:"mask,omitempty"`
	LinkStatus         string `json:"linkStatus,omitempty"`
	VerificationStatus string `json:"verificationStatus,omitempty"`
}

// Wallet is one of a user's wallets.
type Wallet struct {
	ID         string `json:"id"`
	CreateTime string `json:"createTime"`
	UpdateTime string `json:"updateTime"`
	Address    string `json:"address"`
	Name       string `json:"name,omitempty"`
	Type       string `json:"type"`
}

// Wallets is the answer of GET /v1/users/{userId}/wallets.
type Wallets struct {
	Meta
	Items         []Wallet `json:"items"`
	NextPageToken string   `json:"nextPageToken,omitempty"`
}

// ErrorBody is Ratio's error body, sent with every 4xx and 5xx answer.
type ErrorBody struct {
	CreateTime string         `json:"createTime,omitempty"`
	Message    string         `json:"message,omitempty"`
	Code       string         `json:"code,omitempty"`
	Data       map[string]any `json:"data,omitempty"`
}
