package ratio

import (
	"context"
	"strings"
)

// The API methods of Client: each checks its input, fills defaults and
// makes one call through do. Their documentation is on API.

// StartWallet implements API.
func (c *Client) StartWallet(ctx context.Context, jwt Secret, req StartWalletRequest) (*StartWalletResponse, error) {
	if _, err := ParseWalletAddress(req.WalletAddress); err != nil {
		return nil, err
	}
	if req.WalletType == "" && req.WalletNetwork == "" {
		req.WalletType = WalletTypeEVM
	}
	var out StartWalletResponse
	if err := c.do(ctx, OpStartWallet, "", jwt, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AuthenticateWallet implements API. The signature is sent with a 0x
// prefix, the form wallets produce.
func (c *Client) AuthenticateWallet(ctx context.Context, jwt Secret, req AuthenticateWalletRequest) (*AuthResponse, error) {
	if _, err := ParseWalletAddress(req.WalletAddress); err != nil {
		return nil, err
	}
	if _, err := ParseSignature(req.Signature); err != nil {
		return nil, err
	}
	if req.WalletType == "" && req.WalletNetwork == "" {
		req.WalletType = WalletTypeEVM
	}
	req.Signature = "0x" + strings.TrimPrefix(strings.TrimPrefix(req.Signature, "0x"), "0X")
	var out AuthResponse
	if err := c.do(ctx, OpAuthenticateWallet, "", jwt, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddWalletToUser implements API. Ratio answers 200 with an empty body or
// "{}"; both are accepted.
func (c *Client) AddWalletToUser(ctx context.Context, jwt Secret, req AddWalletRequest) (*AddWalletResponse, error) {
	if _, err := ParseWalletAddress(req.WalletAddress); err != nil {
		return nil, err
	}
	if req.WalletType == "" {
		req.WalletType = WalletTypeEVM
	}
	var out AddWalletResponse
	if err := c.do(ctx, OpAddWalletToUser, "", jwt, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SendSMS implements API. The number is sent in E.164 as NormalizePhone
// returns it.
func (c *Client) SendSMS(ctx context.Context, jwt Secret, req SendSMSRequest) (*SendSMSResponse, error) {
	phone, err := NormalizePhone(req.PhoneNumber)
	if err != nil {
		return nil, err
	}
	req.PhoneNumber = phone
	var out SendSMSResponse
	if err := c.do(ctx, OpSendSMS, "", jwt, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AuthenticateSMS implements API.
func (c *Client) AuthenticateSMS(ctx context.Context, jwt Secret, req AuthenticateSMSRequest) (*AuthResponse, error) {
	if err := checkOTPRequest(FieldPhoneID, req.PhoneID, req.OTP); err != nil {
		return nil, err
	}
	var out AuthResponse
	if err := c.do(ctx, OpAuthenticateSMS, "", jwt, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SendEmail implements API.
func (c *Client) SendEmail(ctx context.Context, jwt Secret, req SendEmailRequest) (*SendEmailResponse, error) {
	if err := CheckEmail(req.EmailAddress); err != nil {
		return nil, err
	}
	var out SendEmailResponse
	if err := c.do(ctx, OpSendEmail, "", jwt, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AuthenticateEmail implements API.
func (c *Client) AuthenticateEmail(ctx context.Context, jwt Secret, req AuthenticateEmailRequest) (*AuthResponse, error) {
	if err := checkOTPRequest(FieldEmailID, req.EmailID, req.OTP); err != nil {
		return nil, err
	}
	var out AuthResponse
	if err := c.do(ctx, OpAuthenticateEmail, "", jwt, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateUser implements API. Ratio answers 201 Created.
func (c *Client) CreateUser(ctx context.Context, jwt Secret, req CreateUserRequest) (*User, error) {
	if err := CheckCreateUser(req); err != nil {
		return nil, err
	}
	var out User
	if err := c.do(ctx, OpCreateUser, "", jwt, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetUser implements API.
func (c *Client) GetUser(ctx context.Context, jwt Secret, userID string) (*User, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	var out User
	if err := c.do(ctx, OpGetUser, userID, jwt, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListWallets implements API.
func (c *Client) ListWallets(ctx context.Context, jwt Secret, userID string) (*Wallets, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	var out Wallets
	if err := c.do(ctx, OpListWallets, userID, jwt, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func checkOTPRequest(idField, id string, otp Secret) error {
	if strings.TrimSpace(id) == "" {
		return inputErr(idField, "missing")
	}
	return CheckOTP(otp)
}

// checkUserID refuses an empty user ID, and "." and "..", which escaping
// leaves as they are and a server or proxy would resolve as a path step.
func checkUserID(id string) error {
	switch strings.TrimSpace(id) {
	case "":
		return inputErr(FieldUserID, "missing")
	case ".", "..":
		return inputErr(FieldUserID, "must not be %q", id)
	}
	return nil
}

// The fields without which a 2xx answer is of no use; decode reports the
// first one missing.

func (r *StartWalletResponse) missing() string { return missingIf(r.Challenge == "", "challenge") }
func (r *AuthResponse) missing() string        { return missingIf(r.SessionJWT.IsZero(), "sessionJwt") }
func (r *SendSMSResponse) missing() string     { return missingIf(r.PhoneID == "", "phoneId") }
func (r *SendEmailResponse) missing() string   { return missingIf(r.EmailID == "", "emailId") }
func (r *User) missing() string                { return missingIf(r.ID == "", "id") }

func missingIf(cond bool, field string) string {
	if cond {
		return field
	}
	return ""
}
