package openapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/internal/openapi"
)

func TestValidateRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   error // nil, or the sentinel the error must match
	}{
		{"start ok", "POST", "/v1/auth/cryptoWallet:start", `{"walletAddress":"0xabc","walletType":"EVM"}`, nil},
		{"start bad enum", "POST", "/v1/auth/cryptoWallet:start", `{"walletAddress":"0xabc","walletType":"SOLANA"}`, openapi.ErrSchema},
		{"start missing required", "POST", "/v1/auth/cryptoWallet:start", `{"walletAddress":"0xabc"}`, openapi.ErrSchema},
		{"start wrong type", "POST", "/v1/auth/cryptoWallet:start", `{"walletAddress":12,"walletType":"EVM"}`, openapi.ErrSchema},
		{"start null", "POST", "/v1/auth/cryptoWallet:start", `{"walletAddress":null,"walletType":"EVM"}`, openapi.ErrSchema},
		{"start not an object", "POST", "/v1/auth/cryptoWallet:start", `[1]`, openapi.ErrSchema},
		{"not JSON", "POST", "/v1/auth/cryptoWallet:start", `{"walletAddress":`, openapi.ErrSchema},
		{"missing required body", "POST", "/v1/auth/otp/sms:send", ``, openapi.ErrSchema},
		{"extra properties allowed", "POST", "/v1/auth/otp/sms:send", `{"phoneNumber":"+12025550123","x":1}`, nil},
		{"create user ok", "POST", "/v1/users", `{"firstName":"A","lastName":"B","email":"a@b.co","country":"US","phone":"+12025550123","acceptedTerms":true}`, nil},
		{"create user terms as string", "POST", "/v1/users", `{"firstName":"A","lastName":"B","email":"a@b.co","country":"US","phone":"+12025550123","acceptedTerms":"true"}`, openapi.ErrSchema},
		{"GET without body", "GET", "/v1/users/0b5d8c1e-0000-4000-8000-000000000000", ``, nil},
		{"GET with a query string", "GET", "/v1/users/u1/wallets?pageSize=2", ``, nil},
		{"GET with a body", "GET", "/v1/users/u1", `{}`, openapi.ErrSchema},
		{"unknown path", "POST", "/v1/auth/nope", `{}`, openapi.ErrUnknownOperation},
		{"unknown method", "DELETE", "/v1/users", ``, openapi.ErrUnknownOperation},
		{"template with a literal suffix", "POST", "/v1/users/u1:calculateAchLimits", ``, nil},
		{"webhook minLength", "POST", "/v1/webhooks", `{"url":"https://x.example","events":["KYC_UPDATED"],"name":"ab"}`, openapi.ErrSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := openapi.ValidateRequest(tt.method, tt.path, []byte(tt.body))
			if tt.want == nil && err != nil {
				t.Fatalf("ValidateRequest(%s %s, %s) = %v, want nil", tt.method, tt.path, tt.body, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("ValidateRequest(%s %s, %s) = %v, want %v", tt.method, tt.path, tt.body, err, tt.want)
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	user := `{"id":"u","createTime":"t","firstName":"A","kyc":{"status":"NOT_STARTED"},"flags":["F0000"]}`
	tests := []struct {
		name   string
		method string
		path   string
		status int
		body   string
		want   error
	}{
		{"challenge", "POST", "/v1/auth/cryptoWallet:start", 200, `{"challenge":"Signing in with Ratio: x"}`, nil},
		{"challenge missing", "POST", "/v1/auth/cryptoWallet:start", 200, `{}`, openapi.ErrSchema},
		{"auth with mask", "POST", "/v1/auth/cryptoWallet:authenticate", 200, `{"sessionJwt":"e","userMask":{"id":"u","phoneMask":"0123","preferredMfaMethod":"OTP_SMS"}}`, nil},
		{"auth mask wrong type", "POST", "/v1/auth/cryptoWallet:authenticate", 200, `{"sessionJwt":"e","userMask":{"id":5}}`, openapi.ErrSchema},
		{"nested user enum", "POST", "/v1/auth/otp/sms:authenticate", 200, `{"sessionJwt":"e","user":{"kyc":{"status":"MAYBE"}}}`, openapi.ErrSchema},
		{"array item enum on the array", "GET", "/v1/users/u1", 200, `{"flags":["F9999"]}`, openapi.ErrSchema},
		{"user ok", "GET", "/v1/users/u1", 200, user, nil},
		{"created user", "POST", "/v1/users", 201, user, nil},
		{"email send needs mask", "POST", "/v1/auth/otp/email:send", 200, `{"emailId":"email-test-1"}`, openapi.ErrSchema},
		{"wallets items", "GET", "/v1/users/u1/wallets", 200, `{"items":[{"id":"w","createTime":"t","updateTime":"t","address":"0x1","type":"EVM"}]}`, nil},
		{"wallet missing address", "GET", "/v1/users/u1/wallets", 200, `{"items":[{"id":"w","createTime":"t","updateTime":"t","type":"EVM"}]}`, openapi.ErrSchema},
		{"no content: empty", "POST", "/v1/auth/cryptoWallet:addToUser", 200, ``, nil},
		{"no content: {}", "POST", "/v1/auth/cryptoWallet:addToUser", 200, `{}`, nil},
		{"no content: something", "POST", "/v1/auth/cryptoWallet:addToUser", 200, `{"ok":true}`, openapi.ErrSchema},
		{"documented error", "POST", "/v1/auth/otp/sms:send", 400, `{"code":"INVALID_PHONE","message":"m","createTime":"t"}`, nil},
		{"allow-listed 409", "POST", "/v1/auth/otp/sms:send", 409, `{"code":"ALREADY_EXISTS_PHONE"}`, nil},
		{"allow-listed 401", "POST", "/v1/auth/cryptoWallet:authenticate", 401, `{"code":"INVALID_SIGNATURE"}`, nil},
		{"allow-listed error body wrong", "POST", "/v1/auth/otp/sms:send", 409, `{"code":409}`, openapi.ErrSchema},
		{"error data must be an object", "POST", "/v1/auth/otp/sms:send", 400, `{"code":"X","data":[1]}`, openapi.ErrSchema},
		{"undocumented status", "POST", "/v1/auth/cryptoWallet:start", 418, `{}`, openapi.ErrUndocumentedStatus},
		{"undocumented 409 on start", "POST", "/v1/auth/cryptoWallet:start", 409, `{}`, openapi.ErrUndocumentedStatus},
		{"unknown path", "GET", "/v1/nope", 200, `{}`, openapi.ErrUnknownOperation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := openapi.ValidateResponse(tt.method, tt.path, tt.status, []byte(tt.body))
			if tt.want == nil && err != nil {
				t.Fatalf("ValidateResponse(%s %s, %d, %s) = %v, want nil", tt.method, tt.path, tt.status, tt.body, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("ValidateResponse(%s %s, %d, %s) = %v, want %v", tt.method, tt.path, tt.status, tt.body, err, tt.want)
			}
		})
	}
}

func TestValidate_ReportsEveryViolation(t *testing.T) {
	err := openapi.ValidateRequest("POST", "/v1/users", []byte(`{"firstName":1,"acceptedTerms":"yes"}`))
	if err == nil {
		t.Fatal("ValidateRequest = nil, want errors")
	}
	for _, want := range []string{"$.firstName", "$.acceptedTerms", "$.lastName", "$.email", "$.country", "$.phone"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateRequest error %q does not name %s", err, want)
		}
	}
}
