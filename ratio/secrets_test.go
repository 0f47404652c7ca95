package ratio_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

// ratioJWT is a session JWT Ratio answers with: a secret too.
const ratioJWT = "eyJhbGciOiJSUzI1NiJ9.from-ratio-Np3sKd"

// basePassword is a password in the base URL's user information.
const basePassword = "base-pw-Hx9Zr"

var secrets = []string{testSecret.Reveal(), testJWT.Reveal(), testRefresh.Reveal(), testOTP.Reveal(), ratioJWT, basePassword}

func checkNoSecret(t *testing.T, where, s string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the secret %q:\n%s", where, secret, s)
		}
	}
}

// TestClient_NeverLeaksSecrets runs calls that succeed, retry and fail,
// logging at Debug, and searches the logs and every error's text for the
// client secret, the JWTs, the one-time code and a base URL password.
func TestClient_NeverLeaksSecrets(t *testing.T) {
	authSMSWithJWT := func(ctx context.Context, api ratio.API) error {
		_, err := api.AuthenticateSMS(ctx, testJWT, ratio.AuthenticateSMSRequest{PhoneID: testPhoneID, OTP: testOTP})
		return err
	}
	authEmail := func(ctx context.Context, api ratio.API) error {
		_, err := api.AuthenticateEmail(ctx, testJWT, ratio.AuthenticateEmailRequest{EmailID: testEmailID, OTP: testOTP})
		return err
	}
	sendSMSWithJWT := func(ctx context.Context, api ratio.API) error {
		_, err := api.SendSMS(ctx, testJWT, ratio.SendSMSRequest{PhoneNumber: testPhone})
		return err
	}
	ok := `{"sessionJwt":"` + ratioJWT + `"}`
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, int)
		call    func(context.Context, ratio.API) error
		base    func(url string) string
	}{
		{"success with refresh", func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set(ratio.HeaderRefresh, testRefresh.Reveal())
			reply(w, 200, ok)
		}, authSMSWithJWT, nil},
		{"5xx then success", func(w http.ResponseWriter, _ *http.Request, n int) {
			if n == 1 {
				reply(w, 503, errorBody(ratio.CodeInternal, "busy"))
				return
			}
			reply(w, 200, ok)
		}, authEmail, nil},
		{"429 then success", func(w http.ResponseWriter, _ *http.Request, n int) {
			if n == 1 {
				reply(w, 429, errorBody(ratio.CodeTooManyRequests, ""))
				return
			}
			reply(w, 200, `{"phoneId":"p"}`)
		}, sendSMSWithJWT, nil},
		{"wrong OTP", always(401, errorBody(ratio.CodeInvalidOTP, "Invalid OTP")), authSMSWithJWT, nil},
		{"exhausted", always(500, errorBody(ratio.CodeInternal, "")), authEmail, nil},
		{"ambiguous", func(w http.ResponseWriter, _ *http.Request, _ int) { hangUp(w) }, sendSMSWithJWT, nil},
		{"malformed", always(200, `{"sessionJwt":`), authSMSWithJWT, nil},
		{"refused, password in base URL", nil, authSMSWithJWT, func(string) string {
			return "http://ratio:" + basePassword + "@ratio.invalid/"
		}},
		{"local OTP check", nil, func(ctx context.Context, api ratio.API) error {
			_, err := api.AuthenticateSMS(ctx, testJWT, ratio.AuthenticateSMSRequest{PhoneID: testPhoneID, OTP: testOTP + "9"})
			return err
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := "http://ratio.invalid"
			if tt.handler != nil {
				url = newFake(t, tt.handler).URL
			}
			if tt.base != nil {
				url = tt.base(url)
			}
			c, logs := newTestClient(url)
			if tt.handler == nil {
				c.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: refusingDialer(t, -1)}}
			}
			c.RetryMax = 1
			err := tt.call(context.Background(), c)
			if err != nil {
				checkNoSecret(t, "error", fmt.Sprintf("%v | %+v | %#v | %s | %q", err, err, err, err, err))
			}
			checkNoSecret(t, "log", logs.text())
			checkNoSecret(t, "client", fmt.Sprintf("%v %+v %#v %s", c, c, c, c))
		})
	}
}

func TestSecret_PrintsRedacted(t *testing.T) {
	values := []any{
		testSecret,
		ratio.AuthenticateSMSRequest{PhoneID: testPhoneID, OTP: testOTP},
		&ratio.AuthenticateEmailRequest{EmailID: testEmailID, OTP: testOTP},
		ratio.AuthResponse{SessionJWT: ratioJWT, Meta: ratio.Meta{RefreshedJWT: testRefresh}},
		&ratio.AuthResponse{SessionJWT: testJWT},
		ratio.NewClient("https://api.ratio.me", testClientID, testSecret),
	}
	for _, v := range values {
		checkNoSecret(t, fmt.Sprintf("%T", v), fmt.Sprintf("%v %+v %#v %s", v, v, v, v))
		var buf strings.Builder
		slog.New(slog.NewTextHandler(&buf, nil)).Info("value", "v", v)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("value", "v", v)
		checkNoSecret(t, fmt.Sprintf("slog of %T", v), buf.String())
	}
}

// TestClient_LogsTheUsefulParts checks what the log does say.
func TestClient_LogsTheUsefulParts(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			reply(w, 429, errorBody(ratio.CodeTooManyRequests, ""))
			return
		}
		reply(w, 200, `{"phoneId":"p"}`)
	})
	c, logs := newTestClient(f.URL)
	c.RetryWaitMin, c.RetryWaitMax = time.Millisecond, time.Millisecond
	if err := sendSMS(context.Background(), c); err != nil {
		t.Fatalf("SendSMS() = %v, want nil", err)
	}
	text := logs.text()
	for _, want := range []string{`op="POST /v1/auth/otp/sms:send"`, "attempt=2", "status=429", "code=TOO_MANY_REQUESTS", "wait="} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, f.URL) || strings.Contains(text, testPhone) {
		t.Errorf("log shows the URL or the phone number:\n%s", text)
	}
}
