package ratio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
)

var allSentinels = []error{
	ratio.ErrPhoneConflict, ratio.ErrWalletConflict, ratio.ErrConflict, ratio.ErrRateLimited,
	ratio.ErrInvalidOTP, ratio.ErrInvalidSignature, ratio.ErrMFARequired, ratio.ErrUnauthorized,
	ratio.ErrExpiredJWT, ratio.ErrInvalidInput, ratio.ErrNotFound, ratio.ErrTransient, ratio.ErrAmbiguous,
}

// checkSentinels fails unless err matches exactly the sentinels in want.
func checkSentinels(t *testing.T, call string, err error, want ...error) {
	t.Helper()
	for _, s := range allSentinels {
		wantIs := false
		for _, w := range want {
			wantIs = wantIs || w == s
		}
		if got := errors.Is(err, s); got != wantIs {
			t.Errorf("errors.Is(%s() = %v, %q) = %v, want %v", call, err, s, got, wantIs)
		}
	}
}

func errorBody(code, message string) string {
	return fmt.Sprintf(`{"createTime":"2023-07-13T19:06:20.000Z","message":%q,"code":%q,"data":{"field":"x"}}`, message, code)
}

// TestClient_Endpoints_ErrorStatuses answers every endpoint with every
// status Ratio documents and checks the *APIError and the sentinels that
// follow from the status alone.
func TestClient_Endpoints_ErrorStatuses(t *testing.T) {
	statuses := []struct {
		status int
		code   string
		want   []error
	}{
		{400, ratio.CodeInvalidBody, []error{ratio.ErrInvalidInput}},
		{401, ratio.CodeInvalidAuthorization, []error{ratio.ErrUnauthorized}},
		{403, "USER_BLOCKED", []error{ratio.ErrUnauthorized}},
		{404, ratio.CodeNotFoundUser, []error{ratio.ErrNotFound}},
		{409, ratio.CodeAlreadyExistsUser, []error{ratio.ErrConflict}},
		{422, "INVALID_NETWORK", []error{ratio.ErrInvalidInput}},
		{429, ratio.CodeTooManyRequests, []error{ratio.ErrRateLimited}},
		{500, ratio.CodeInternal, []error{ratio.ErrTransient}},
	}
	for _, ep := range endpointCases() {
		for _, st := range statuses {
			t.Run(fmt.Sprintf("%s/%d", ep.name, st.status), func(t *testing.T) {
				f := newFake(t, always(st.status, errorBody(st.code, "it went wrong")))
				c, _ := newTestClient(f.URL)
				c.RetryMax = 1
				_, err := ep.call(context.Background(), c, testJWT)
				var ae *ratio.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("%s() = %v, want an *APIError", ep.name, err)
				}
				if ae.Op != ep.op.Route() || ae.Status != st.status || ae.Code != st.code || ae.Message != "it went wrong" ||
					ae.CreateTime != "2023-07-13T19:06:20.000Z" || ae.Data["field"] != "x" || ae.SideEffect != ep.op.SideEffect() {
					t.Errorf("%s() = %#v, want op %q, status %d, code %s and the body", ep.name, ae, ep.op.Route(), st.status, st.code)
				}
				want := st.want
				if st.status == 500 && ep.op.SideEffect() {
					want = append(want, ratio.ErrAmbiguous)
				}
				checkSentinels(t, ep.name, err, want...)
				if !strings.Contains(err.Error(), ep.op.Route()) || !strings.Contains(err.Error(), st.code) {
					t.Errorf("%s() error %q does not name the operation and code", ep.name, err)
				}
			})
		}
	}
}

// TestClient_ErrorCodes checks the sentinels that depend on the code.
func TestClient_ErrorCodes(t *testing.T) {
	ctx := context.Background()
	sendSMS := func(api ratio.API) error {
		_, err := api.SendSMS(ctx, testJWT, ratio.SendSMSRequest{PhoneNumber: testPhone})
		return err
	}
	authSMS := func(api ratio.API) error {
		_, err := api.AuthenticateSMS(ctx, testJWT, ratio.AuthenticateSMSRequest{PhoneID: testPhoneID, OTP: testOTP})
		return err
	}
	authEmail := func(api ratio.API) error {
		_, err := api.AuthenticateEmail(ctx, testJWT, ratio.AuthenticateEmailRequest{EmailID: testEmailID, OTP: testOTP})
		return err
	}
	authWallet := func(api ratio.API) error {
		_, err := api.AuthenticateWallet(ctx, "", ratio.AuthenticateWalletRequest{WalletAddress: testAddress, Signature: testSignature})
		return err
	}
	addWallet := func(api ratio.API) error {
		_, err := api.AddWalletToUser(ctx, testJWT, ratio.AddWalletRequest{WalletAddress: testAddress})
		return err
	}
	getUser := func(api ratio.API) error {
		_, err := api.GetUser(ctx, testJWT, testUserID)
		return err
	}
	tests := []struct {
		name   string
		call   func(ratio.API) error
		status int
		body   string
		want   []error
	}{
		{"SendSMS 409 ALREADY_EXISTS_PHONE", sendSMS, 409, errorBody(ratio.CodeAlreadyExistsPhone, "phone exists"),
			[]error{ratio.ErrPhoneConflict, ratio.ErrConflict}},
		{"SendSMS 409 ALREADY_EXISTS_EMAIL", sendSMS, 409, errorBody(ratio.CodeAlreadyExistsEmail, ""),
			[]error{ratio.ErrConflict}},
		{"AddWalletToUser 409 ALREADY_EXISTS_WALLET_ADDRESS", addWallet, 409, errorBody(ratio.CodeAlreadyExistsWalletAddress, ""),
			[]error{ratio.ErrWalletConflict, ratio.ErrConflict}},
		{"AddWalletToUser 403 MFA_REQUIRED", addWallet, 403, errorBody(ratio.CodeMFARequired, ""),
			[]error{ratio.ErrMFARequired, ratio.ErrUnauthorized}},
		{"AddWalletToUser 401 MFA_REQUIRED", addWallet, 401, errorBody(ratio.CodeMFARequired, ""),
			[]error{ratio.ErrMFARequired, ratio.ErrUnauthorized}},
		{"AuthenticateSMS 401 INVALID_OTP", authSMS, 401, errorBody(ratio.CodeInvalidOTP, "Invalid OTP"),
			[]error{ratio.ErrInvalidOTP}},
		{"AuthenticateSMS 401 without code", authSMS, 401, `{"message":"Invalid OTP"}`,
			[]error{ratio.ErrInvalidOTP}},
		{"AuthenticateEmail 401 INVALID_OTP", authEmail, 401, errorBody(ratio.CodeInvalidOTP, ""),
			[]error{ratio.ErrInvalidOTP}},
		{"AuthenticateSMS 400 INVALID_OTP is malformed input", authSMS, 400, errorBody(ratio.CodeInvalidOTP, ""),
			[]error{ratio.ErrInvalidInput}},
		{"AuthenticateSMS 401 EXPIRED_AUTHORIZATION", authSMS, 401, errorBody(ratio.CodeExpiredAuthorization, ""),
			[]error{ratio.ErrExpiredJWT, ratio.ErrUnauthorized}},
		{"AuthenticateWallet 401 INVALID_SIGNATURE", authWallet, 401, errorBody(ratio.CodeInvalidSignature, ""),
			[]error{ratio.ErrInvalidSignature}},
		{"AuthenticateWallet 400 INVALID_SIGNATURE", authWallet, 400, errorBody(ratio.CodeInvalidSignature, ""),
			[]error{ratio.ErrInvalidSignature, ratio.ErrInvalidInput}},
		{"AuthenticateWallet 401 without code", authWallet, 401, `{}`,
			[]error{ratio.ErrInvalidSignature}},
		{"GetUser 401 EXPIRED_AUTHORIZATION", getUser, 401, errorBody(ratio.CodeExpiredAuthorization, ""),
			[]error{ratio.ErrExpiredJWT, ratio.ErrUnauthorized}},
		{"GetUser 401 without code is not an OTP problem", getUser, 401, `{}`,
			[]error{ratio.ErrUnauthorized}},
		{"GetUser 404 NOT_FOUND_USER", getUser, 404, errorBody(ratio.CodeNotFoundUser, ""),
			[]error{ratio.ErrNotFound}},
		{"GetUser 502 not JSON", getUser, 502, `<html>Bad Gateway</html>`,
			[]error{ratio.ErrTransient}},
		{"SendSMS 502 not JSON", sendSMS, 502, `<html>Bad Gateway</html>`,
			[]error{ratio.ErrTransient, ratio.ErrAmbiguous}},
		{"SendSMS 429", sendSMS, 429, errorBody(ratio.CodeTooManyRequests, ""),
			[]error{ratio.ErrRateLimited}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, always(tt.status, tt.body))
			c, _ := newTestClient(f.URL)
			c.RetryMax = 0
			err := tt.call(c)
			var ae *ratio.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status {
				t.Fatalf("call = %v, want an *APIError with status %d", err, tt.status)
			}
			checkSentinels(t, tt.name, err, tt.want...)
		})
	}
}

func TestAPIError_Error(t *testing.T) {
	e := &ratio.APIError{Op: "POST /v1/auth/otp/sms:send", Status: 409, Code: ratio.CodeAlreadyExistsPhone, Message: "taken", Attempts: 2}
	want := "ratio: POST /v1/auth/otp/sms:send: 409 Conflict ALREADY_EXISTS_PHONE: taken (after 2 attempts)"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestTransportError_Is(t *testing.T) {
	tests := []struct {
		name string
		err  *ratio.TransportError
		want []error
	}{
		{"refused", &ratio.TransportError{Op: "GET /v1/users/{userId}", Err: errors.New("connection refused")},
			[]error{ratio.ErrTransient}},
		{"ambiguous", &ratio.TransportError{Op: "POST /v1/users", Ambiguous: true, Err: context.Canceled},
			[]error{ratio.ErrTransient, ratio.ErrAmbiguous}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSentinels(t, "TransportError", tt.err, tt.want...)
		})
	}
	if err := error(tests[1].err); !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false, want true", err)
	}
}

func TestInputError_Is(t *testing.T) {
	tests := []struct {
		err  error
		want []error
	}{
		{&ratio.InputError{Field: ratio.FieldOTP, Reason: "missing"}, []error{ratio.ErrInvalidInput}},
		{&ratio.InputError{Field: ratio.FieldSignature, Reason: "bad"}, []error{ratio.ErrInvalidInput, ratio.ErrInvalidSignature}},
		{ratio.ErrSignatureMismatch, []error{ratio.ErrInvalidInput, ratio.ErrInvalidSignature}},
	}
	for _, tt := range tests {
		checkSentinels(t, "InputError", tt.err, tt.want...)
	}
}

// TestClient_Endpoints_CheckInputFirst sends nothing when the input fails
// its check.
func TestClient_Endpoints_CheckInputFirst(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		call      func(ratio.API) error
		wantField string
	}{
		{"StartWallet bad address", func(api ratio.API) error {
			_, err := api.StartWallet(ctx, "", ratio.StartWalletRequest{WalletAddress: "0x123"})
			return err
		}, ratio.FieldWalletAddress},
		{"AuthenticateWallet bad address", func(api ratio.API) error {
			_, err := api.AuthenticateWallet(ctx, "", ratio.AuthenticateWalletRequest{WalletAddress: "", Signature: testSignature})
			return err
		}, ratio.FieldWalletAddress},
		{"AuthenticateWallet bad signature", func(api ratio.API) error {
			_, err := api.AuthenticateWallet(ctx, "", ratio.AuthenticateWalletRequest{WalletAddress: testAddress, Signature: "0x00"})
			return err
		}, ratio.FieldSignature},
		{"AddWalletToUser bad address", func(api ratio.API) error {
			_, err := api.AddWalletToUser(ctx, testJWT, ratio.AddWalletRequest{WalletAddress: "2c7536E3605D9C16a7a3D7b1898e529396a65c23"})
			return err
		}, ratio.FieldWalletAddress},
		{"SendSMS Canadian phone", func(api ratio.API) error {
			_, err := api.SendSMS(ctx, "", ratio.SendSMSRequest{PhoneNumber: "+14165551234"})
			return err
		}, ratio.FieldPhoneNumber},
		{"AuthenticateSMS no phoneId", func(api ratio.API) error {
			_, err := api.AuthenticateSMS(ctx, "", ratio.AuthenticateSMSRequest{OTP: testOTP})
			return err
		}, ratio.FieldPhoneID},
		{"AuthenticateSMS bad OTP", func(api ratio.API) error {
			_, err := api.AuthenticateSMS(ctx, "", ratio.AuthenticateSMSRequest{PhoneID: testPhoneID, OTP: "12345"})
			return err
		}, ratio.FieldOTP},
		{"SendEmail bad email", func(api ratio.API) error {
			_, err := api.SendEmail(ctx, "", ratio.SendEmailRequest{EmailAddress: "not-an-email"})
			return err
		}, ratio.FieldEmailAddress},
		{"AuthenticateEmail no emailId", func(api ratio.API) error {
			_, err := api.AuthenticateEmail(ctx, "", ratio.AuthenticateEmailRequest{EmailID: " ", OTP: testOTP})
			return err
		}, ratio.FieldEmailID},
		{"AuthenticateEmail no OTP", func(api ratio.API) error {
			_, err := api.AuthenticateEmail(ctx, "", ratio.AuthenticateEmailRequest{EmailID: testEmailID})
			return err
		}, ratio.FieldOTP},
		{"CreateUser terms not accepted", func(api ratio.API) error {
			u := validUser
			u.AcceptedTerms = false
			_, err := api.CreateUser(ctx, testJWT, u)
			return err
		}, ratio.FieldAcceptedTerms},
		{"GetUser empty userId", func(api ratio.API) error {
			_, err := api.GetUser(ctx, testJWT, "")
			return err
		}, ratio.FieldUserID},
		{"GetUser dot-dot userId", func(api ratio.API) error {
			_, err := api.GetUser(ctx, testJWT, "..")
			return err
		}, ratio.FieldUserID},
		{"ListWallets empty userId", func(api ratio.API) error {
			_, err := api.ListWallets(ctx, testJWT, "")
			return err
		}, ratio.FieldUserID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, always(200, `{}`))
			c, _ := newTestClient(f.URL)
			err := tt.call(c)
			var ie *ratio.InputError
			if !errors.As(err, &ie) || ie.Field != tt.wantField || !errors.Is(err, ratio.ErrInvalidInput) {
				t.Errorf("call = %v, want an *InputError on %s", err, tt.wantField)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("call made %d requests, want 0", n)
			}
		})
	}
}
