package ratio

import "context"

// API is Ratio's authentication API as the engine uses it.
// TEMPORARY: replaced by the client branch's api.go at merge.
type API interface {
	StartWallet(ctx context.Context, jwt Secret, req StartWalletRequest) (*StartWalletResponse, error)
	AuthenticateWallet(ctx context.Context, jwt Secret, req AuthenticateWalletRequest) (*AuthResponse, error)
	AddWalletToUser(ctx context.Context, jwt Secret, req AddWalletRequest) (*AddWalletResponse, error)
	SendSMS(ctx context.Context, jwt Secret, req SendSMSRequest) (*SendSMSResponse, error)
	AuthenticateSMS(ctx context.Context, jwt Secret, req AuthenticateSMSRequest) (*AuthResponse, error)
	SendEmail(ctx context.Context, jwt Secret, req SendEmailRequest) (*SendEmailResponse, error)
	AuthenticateEmail(ctx context.Context, jwt Secret, req AuthenticateEmailRequest) (*AuthResponse, error)
	CreateUser(ctx context.Context, jwt Secret, req CreateUserRequest) (*User, error)
	GetUser(ctx context.Context, jwt Secret, userID string) (*User, error)
	ListWallets(ctx context.Context, jwt Secret, userID string) (*Wallets, error)
}
