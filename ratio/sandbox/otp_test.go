package sandbox_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

func TestSendSMS(t *testing.T) {
	e := newEnv(t)
	userPhone, otherPhone := newPhone(), newPhone()
	userWallet := newWallet(t)
	e.seed(t, userPhone, "owner@example.com", userWallet)
	e.seed(t, otherPhone, "someone@example.com")
	userJWT := jwtOf(e.walletAuth(t, userWallet, ""))
	newWalletJWT := jwtOf(e.walletAuth(t, newWallet(t), ""))
	fresh := newPhone()
	tests := []struct {
		name       string
		jwt        string
		raw        string
		wantStatus int
		wantCode   string
	}{
		{"new phone, no JWT", "", `{"phoneNumber":"` + fresh + `"}`, 200, ""},
		{"a user's phone, no JWT (SMS first)", "", `{"phoneNumber":"` + userPhone + `"}`, 200, ""},
		{"the user's phone with the user's JWT", userJWT, `{"phoneNumber":"` + userPhone + `"}`, 200, ""},
		{"new phone with a new wallet's JWT", newWalletJWT, `{"phoneNumber":"` + newPhone() + `"}`, 200, ""},
		{"a user's phone with a new wallet's JWT", newWalletJWT, `{"phoneNumber":"` + userPhone + `"}`, 409, ratio.CodeAlreadyExistsPhone},
		{"another user's phone with the user's JWT", userJWT, `{"phoneNumber":"` + otherPhone + `"}`, 409, ratio.CodeAlreadyExistsPhone},
		{"a new phone with the user's JWT", userJWT, `{"phoneNumber":"` + newPhone() + `"}`, 400, ratio.CodeMismatchPhone},
		{"not E.164", "", `{"phoneNumber":"2025550123"}`, 400, ratio.CodeInvalidPhone},
		{"spaces", "", `{"phoneNumber":"+1 202 555 0123"}`, 400, ratio.CodeInvalidPhone},
		{"the docs' Toronto number", "", `{"phoneNumber":"+14165551234"}`, 400, ratio.CodeInvalidPhoneCountryCode},
		{"a UK mobile", "", `{"phoneNumber":"+447911123456"}`, 400, ratio.CodeInvalidPhoneCountryCode},
		{"missing", "", `{}`, 400, ratio.CodeMissingPhone},
		{"malformed JSON", "", `{"phoneNumber":`, 400, ratio.CodeInvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postRaw(t, ratio.OpSendSMS, tt.jwt, tt.raw)
			if tt.wantCode != "" {
				r.wantError(t, tt.wantStatus, tt.wantCode)
				return
			}
			var sr ratio.SendSMSResponse
			r.decode(t, &sr)
			if !strings.HasPrefix(sr.PhoneID, "phone-number-test-") || len(sr.PhoneID) != len("phone-number-test-")+36 {
				t.Errorf("phoneId %q, want phone-number-test-<uuid>", sr.PhoneID)
			}
			if len(sr.PhoneMask) != 4 || !strings.HasSuffix(tt.raw, sr.PhoneMask+`"}`) {
				t.Errorf("phoneMask %q, want the last 4 digits of %s", sr.PhoneMask, tt.raw)
			}
		})
	}
	t.Run("phoneId is stable per number", func(t *testing.T) {
		if a, b := e.sendSMS(t, fresh, ""), e.sendSMS(t, fresh, ""); a != b {
			t.Errorf("phoneId %s then %s, want the same", a, b)
		}
	})
}

// otpCase is one try at an OTP authenticate.
type otpCase struct {
	name string
	// try sends codes as needed and returns the id and code to authenticate.
	try        func(t *testing.T, e *env, to string) (id, code string)
	wantStatus int
	wantCode   string
}

// otpCases are the rules SMS and email share; send sends a code to to and
// returns its id.
func otpCases(send func(t *testing.T, e *env, to string) string) []otpCase {
	right := func(t *testing.T, e *env, to string) (string, string) {
		return send(t, e, to), e.otp(t, to).Reveal()
	}
	wrong := func(code string) string { return fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000) }
	return []otpCase{
		{name: "right code", try: right, wantStatus: 200},
		{name: "wrong code", try: func(t *testing.T, e *env, to string) (string, string) {
			id, code := right(t, e, to)
			return id, wrong(code)
		}, wantStatus: 401, wantCode: ratio.CodeInvalidOTP},
		{name: "just before expiry", try: func(t *testing.T, e *env, to string) (string, string) {
			id, code := right(t, e, to)
			e.clock.Advance(2*time.Minute - time.Second)
			return id, code
		}, wantStatus: 200},
		{name: "expired", try: func(t *testing.T, e *env, to string) (string, string) {
			id, code := right(t, e, to)
			e.clock.Advance(2 * time.Minute)
			return id, code
		}, wantStatus: 401, wantCode: ratio.CodeInvalidOTP},
		{name: "a code voided by a new send", try: func(t *testing.T, e *env, to string) (string, string) {
			id, old := right(t, e, to)
			for e.otp(t, to).Reveal() == old {
				send(t, e, to)
			}
			return id, old
		}, wantStatus: 401, wantCode: ratio.CodeInvalidOTP},
		{name: "4 wrong tries, then the right code", try: func(t *testing.T, e *env, to string) (string, string) {
			id, code := right(t, e, to)
			for range 4 {
				e.authOTP(t, id, wrong(code)).wantError(t, 401, ratio.CodeInvalidOTP)
			}
			return id, code
		}, wantStatus: 200},
		{name: "5 wrong tries void the code", try: func(t *testing.T, e *env, to string) (string, string) {
			id, code := right(t, e, to)
			for range 5 {
				e.authOTP(t, id, wrong(code)).wantError(t, 401, ratio.CodeInvalidOTP)
			}
			return id, code
		}, wantStatus: 401, wantCode: ratio.CodeInvalidOTP},
		{name: "used twice", try: func(t *testing.T, e *env, to string) (string, string) {
			id, code := right(t, e, to)
			if r := e.authOTP(t, id, code); r.status != 200 {
				t.Fatalf("first use: %d %s", r.status, r.body)
			}
			return id, code
		}, wantStatus: 401, wantCode: ratio.CodeInvalidOTP},
		{name: "code of 5 digits", try: func(t *testing.T, e *env, to string) (string, string) {
			return send(t, e, to), "12345"
		}, wantStatus: 400, wantCode: ratio.CodeInvalidOTP},
		{name: "no code", try: func(t *testing.T, e *env, to string) (string, string) {
			return send(t, e, to), ""
		}, wantStatus: 400, wantCode: ratio.CodeMissingOTP},
	}
}

// authOTP authenticates a code for a phoneId or an emailId.
func (e *env) authOTP(t *testing.T, id, code string) resp {
	t.Helper()
	if strings.HasPrefix(id, "email-") {
		return e.post(t, ratio.OpAuthenticateEmail, "", ratio.AuthenticateEmailRequest{EmailID: id, OTP: ratio.Secret(code)})
	}
	return e.post(t, ratio.OpAuthenticateSMS, "", ratio.AuthenticateSMSRequest{PhoneID: id, OTP: ratio.Secret(code)})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func runOTPCases(t *testing.T, newTo func() string, send func(t *testing.T, e *env, to string) string) {
	e := newEnv(t, sandbox.Config{SendLimit: sandbox.SendLimit{Off: true}})
	for _, tt := range otpCases(send) {
		t.Run(tt.name, func(t *testing.T) {
			to := newTo()
			id, code := tt.try(t, e, to)
			r := e.authOTP(t, id, code)
			if tt.wantCode != "" {
				eb := r.wantError(t, tt.wantStatus, tt.wantCode)
				if code != "" && strings.Contains(eb.Message, code) {
					t.Errorf("message %q echoes the code", eb.Message)
				}
				if tt.wantStatus == 401 && eb.Message != "invalid or expired code" {
					t.Errorf("message %q, want %q", eb.Message, "invalid or expired code")
				}
				return
			}
			var ar ratio.AuthResponse
			r.decode(t, &ar)
			if ar.SessionJWT.IsZero() || ar.UserMask != nil || ar.User != nil {
				t.Errorf("answer %s: want a JWT and no user (nobody owns %s)", r.body, to)
			}
		})
	}
}

func TestAuthenticateSMS_Codes(t *testing.T) {
	runOTPCases(t, newPhone, func(t *testing.T, e *env, to string) string { return e.sendSMS(t, to, "") })
}

func TestAuthenticateEmail_Codes(t *testing.T) {
	n := 0
	runOTPCases(t, func() string { n++; return fmt.Sprintf("codes%d@example.com", n) },
		func(t *testing.T, e *env, to string) string { return e.sendEmail(t, to, "") })
}

func TestAuthenticateOTP_Identifiers(t *testing.T) {
	e := newEnv(t)
	phone := newPhone()
	phoneID := e.sendSMS(t, phone, "")
	emailID := e.sendEmail(t, "ids@example.com", "")
	tests := []struct {
		name     string
		op       ratio.Op
		raw      string
		wantCode string
	}{
		{"unknown phoneId", ratio.OpAuthenticateSMS, `{"phoneId":"phone-number-test-nope","otp":"123456"}`, ratio.CodeInvalidPhoneID},
		{"an emailId as phoneId", ratio.OpAuthenticateSMS, `{"phoneId":"` + emailID + `","otp":"123456"}`, ratio.CodeInvalidPhoneID},
		{"missing phoneId", ratio.OpAuthenticateSMS, `{"otp":"123456"}`, ratio.CodeMissingPhoneID},
		{"missing otp", ratio.OpAuthenticateSMS, `{"phoneId":"` + phoneID + `"}`, ratio.CodeMissingOTP},
		{"otp as a number", ratio.OpAuthenticateSMS, `{"phoneId":"` + phoneID + `","otp":123456}`, ratio.CodeInvalidBody},
		{"unknown emailId", ratio.OpAuthenticateEmail, `{"emailId":"email-test-nope","otp":"123456"}`, ratio.CodeInvalidEmailID},
		{"a phoneId as emailId", ratio.OpAuthenticateEmail, `{"emailId":"` + phoneID + `","otp":"123456"}`, ratio.CodeInvalidEmailID},
		{"missing emailId", ratio.OpAuthenticateEmail, `{"otp":"123456"}`, ratio.CodeMissingEmailID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.postRaw(t, tt.op, "", tt.raw).wantError(t, 400, tt.wantCode)
		})
	}
}

func TestSendEmail(t *testing.T) {
	e := newEnv(t)
	userPhone := newPhone()
	e.seed(t, userPhone, "ratiouser@example.com")
	e.seed(t, newPhone(), "someone.else@example.com")
	userJWT := jwtOf(e.smsAuth(t, userPhone, ""))
	nobodyJWT := jwtOf(e.smsAuth(t, newPhone(), ""))
	tests := []struct {
		name       string
		jwt        string
		raw        string
		wantStatus int
		wantCode   string
		wantMask   string
	}{
		{"new address", "", `{"emailAddress":"ratiouser2@example.com"}`, 200, "", "rat...@example.com"},
		{"short local part", "", `{"emailAddress":"ab@example.com"}`, 200, "", "ab...@example.com"},
		{"a user's address, no JWT", "", `{"emailAddress":"ratiouser@example.com"}`, 200, "", "rat...@example.com"},
		{"the user's address with the user's JWT", userJWT, `{"emailAddress":"ratiouser@example.com"}`, 200, "", "rat...@example.com"},
		{"the user's address, other case", userJWT, `{"emailAddress":"RatioUser@Example.com"}`, 200, "", "rat...@example.com"},
		{"another address with the user's JWT", userJWT, `{"emailAddress":"new@example.com"}`, 400, ratio.CodeMismatchEmail, ""},
		{"another user's address with the user's JWT", userJWT, `{"emailAddress":"someone.else@example.com"}`, 409, ratio.CodeAlreadyExistsEmail, ""},
		{"a user's address with a JWT of nobody", nobodyJWT, `{"emailAddress":"ratiouser@example.com"}`, 409, ratio.CodeAlreadyExistsEmail, ""},
		{"a new address with a JWT of nobody", nobodyJWT, `{"emailAddress":"fresh@example.com"}`, 200, "", "fre...@example.com"},
		{"not an address", "", `{"emailAddress":"ratio user"}`, 400, ratio.CodeInvalidEmail, ""},
		{"display name", "", `{"emailAddress":"Ratio <r@example.com>"}`, 400, ratio.CodeInvalidEmail, ""},
		{"missing", "", `{}`, 400, ratio.CodeMissingEmail, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postRaw(t, ratio.OpSendEmail, tt.jwt, tt.raw)
			if tt.wantCode != "" {
				r.wantError(t, tt.wantStatus, tt.wantCode)
				return
			}
			var sr ratio.SendEmailResponse
			r.decode(t, &sr)
			if !strings.HasPrefix(sr.EmailID, "email-test-") || sr.EmailMask != tt.wantMask {
				t.Errorf("answer %+v, want email-test-<uuid> and mask %q", sr, tt.wantMask)
			}
		})
	}
}

func TestSendLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit sandbox.SendLimit
		sends int // sends allowed in a burst
		wait  time.Duration
	}{
		{"default: 5 per 10 minutes", sandbox.SendLimit{}, 5, 10 * time.Minute},
		{"2 per minute", sandbox.SendLimit{Max: 2, Window: time.Minute}, 2, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Config{SendLimit: tt.limit})
			phone, email := newPhone(), "limited@example.com"
			for i := range tt.sends {
				e.sendSMS(t, phone, "")
				e.sendEmail(t, email, "")
				if i == 0 {
					e.clock.Advance(time.Second) // the first send frees up a second before the others
				}
			}
			r := e.post(t, ratio.OpSendSMS, "", ratio.SendSMSRequest{PhoneNumber: phone})
			r.wantError(t, 429, ratio.CodeTooManyRequests)
			if got, want := r.header.Get("Retry-After"), fmt.Sprint(int((tt.wait - time.Second).Seconds())); got != want {
				t.Errorf("Retry-After %q, want %q", got, want)
			}
			e.post(t, ratio.OpSendEmail, "", ratio.SendEmailRequest{EmailAddress: email}).wantError(t, 429, ratio.CodeTooManyRequests)
			e.sendSMS(t, newPhone(), "") // another number is not limited

			e.clock.Advance(tt.wait - 1500*time.Millisecond)
			r = e.post(t, ratio.OpSendSMS, "", ratio.SendSMSRequest{PhoneNumber: phone})
			r.wantError(t, 429, ratio.CodeTooManyRequests)
			if got := r.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After %q half a second before a send frees up, want 1", got)
			}
			e.clock.Advance(500 * time.Millisecond)
			e.sendSMS(t, phone, "") // the first send left the window
			e.post(t, ratio.OpSendSMS, "", ratio.SendSMSRequest{PhoneNumber: phone}).wantError(t, 429, ratio.CodeTooManyRequests)
		})
	}
	t.Run("off", func(t *testing.T) {
		e := newEnv(t, sandbox.Config{SendLimit: sandbox.SendLimit{Off: true}})
		phone := newPhone()
		for range 20 {
			e.sendSMS(t, phone, "")
		}
	})
}

// TestOTP checks that OTP gives the last code sent, as LastOTP does, and
// nothing before a code is sent.
func TestOTP(t *testing.T) {
	e := newEnv(t)
	const phone = "+12025550177"
	if got := e.srv.OTP(phone); got != "" {
		t.Fatalf("OTP before any send = %q, want empty", got.Reveal())
	}
	e.sendSMS(t, phone, "")
	want, _ := e.srv.LastOTP(phone)
	if got := e.srv.OTP(phone); got.Reveal() != want || len(want) != 6 {
		t.Fatalf("OTP = %q, want LastOTP's %q", got.Reveal(), want)
	}
}
