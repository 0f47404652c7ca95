package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// hook calls a /_sandbox/ hook without client credentials.
func (e *env) hook(t *testing.T, method, path, raw string) resp {
	t.Helper()
	return e.do(t, req{method: method, path: "/_sandbox/" + path, raw: raw, noAuth: true})
}

func TestSandboxHTTP_SeedAndCodes(t *testing.T) {
	e := newEnv(t)
	phone, w := newPhone(), newWallet(t)
	r := e.hook(t, "POST", "users", `{"phoneNumber":"`+phone+`","emailAddress":"hook@example.com","firstName":"Ann","lastName":"Hook","country":"US","wallets":["`+w.addr+`"]}`)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /_sandbox/users: %d %s", r.status, r.body)
	}
	var u ratio.User
	r.decode(t, &u)
	if !isUUID(u.ID) || u.FirstName != "Ann" || u.Phone != phone {
		t.Fatalf("seeded %+v", u)
	}
	if ar := e.walletAuth(t, w, ""); ar.UserMask == nil || ar.UserMask.ID != u.ID {
		t.Errorf("the seeded wallet signs in as %+v, want %s", ar.UserMask, u.ID)
	}

	id := e.sendSMS(t, phone, "")
	for _, q := range []string{url.QueryEscape(phone), phone} { // a raw "+" arrives as a space
		var got map[string]string
		e.hook(t, "GET", "otp?to="+q, "").decode(t, &got)
		if want, _ := e.srv.LastOTP(phone); got["otp"] != want || len(want) != 6 {
			t.Errorf("GET /_sandbox/otp?to=%s = %v, want %q", q, got, want)
		}
	}
	var got map[string]string
	e.hook(t, "GET", "otp?to="+url.QueryEscape(phone), "").decode(t, &got)
	var ar ratio.AuthResponse
	e.post(t, ratio.OpAuthenticateSMS, "", ratio.AuthenticateSMSRequest{PhoneID: id, OTP: ratio.Secret(got["otp"])}).decode(t, &ar)
	if ar.UserMask == nil || ar.UserMask.ID != u.ID {
		t.Errorf("SMS with the hook's code: userMask %+v, want %s", ar.UserMask, u.ID)
	}
	e.hook(t, "GET", "otp?to=nobody@example.com", "").wantError(t, http.StatusNotFound, "NOT_FOUND_OTP")

	tests := []struct {
		name       string
		raw        string
		wantStatus int
		wantCode   string
	}{
		{"taken phone", `{"phoneNumber":"` + phone + `","emailAddress":"x@example.com"}`, 409, ratio.CodeAlreadyExistsPhone},
		{"taken email", `{"phoneNumber":"` + newPhone() + `","emailAddress":"HOOK@example.com"}`, 409, ratio.CodeAlreadyExistsEmail},
		{"taken wallet", `{"phoneNumber":"` + newPhone() + `","emailAddress":"y@example.com","wallets":["` + w.addr + `"]}`, 409, ratio.CodeAlreadyExistsWalletAddress},
		{"bad phone", `{"phoneNumber":"555","emailAddress":"z@example.com"}`, 400, ratio.CodeInvalidPhone},
		{"non-US phone", `{"phoneNumber":"+14165551234","emailAddress":"z@example.com"}`, 400, ratio.CodeInvalidPhoneCountryCode},
		{"missing email", `{"phoneNumber":"` + newPhone() + `"}`, 400, ratio.CodeMissingEmail},
		{"bad wallet", `{"phoneNumber":"` + newPhone() + `","emailAddress":"z@example.com","wallets":["0x1"]}`, 400, ratio.CodeInvalidWalletAddress},
		{"not JSON", `{`, 400, ratio.CodeInvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.hook(t, "POST", "users", tt.raw).wantError(t, tt.wantStatus, tt.wantCode)
		})
	}
}

func TestSandboxHTTP_FaultsAndStats(t *testing.T) {
	e := newEnv(t, sandbox.Config{SendLimit: sandbox.SendLimit{Off: true}})
	phone := newPhone()
	send := func() resp { return e.post(t, ratio.OpSendSMS, "", ratio.SendSMSRequest{PhoneNumber: phone}) }

	tests := []struct {
		name           string
		raw            string
		wantStatus     int
		wantCode       string
		wantRetryAfter string
	}{
		{"503", `{"op":"otp/sms:send","count":1,"status":503}`, 503, ratio.CodeInternal, ""},
		{"429 with a wait", `{"op":"otp/sms:send","count":1,"status":429,"retryAfterSeconds":7}`, 429, ratio.CodeTooManyRequests, "7"},
		{"latency", `{"op":"otp/sms:send","latencyMs":1}`, 200, "", ""},
		{"latency off", `{"op":"otp/sms:send","latencyMs":0}`, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.hook(t, "POST", "faults", tt.raw); r.status != 200 {
				t.Fatalf("POST /_sandbox/faults: %d %s", r.status, r.body)
			}
			r := send()
			if tt.wantCode != "" {
				r.wantError(t, tt.wantStatus, tt.wantCode)
			} else if r.status != tt.wantStatus {
				t.Fatalf("send: %d %s", r.status, r.body)
			}
			if got := r.header.Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetryAfter)
			}
			if r := send(); r.status != 200 {
				t.Errorf("the next send: %d %s, want 200", r.status, r.body)
			}
		})
	}
	t.Run("bad fault", func(t *testing.T) {
		e.hook(t, "POST", "faults", `{"op":"otp/voice:send","status":503}`).wantError(t, 400, ratio.CodeInvalidBody)
		e.hook(t, "POST", "faults", `{"op":"otp/sms:send","status":200}`).wantError(t, 400, ratio.CodeInvalidBody)
	})
	t.Run("stats", func(t *testing.T) {
		wallet := newWallet(t)
		jwt := jwtOf(e.emailAuth(t, "st@example.com", jwtOf(e.smsAuth(t, phone, ""))))
		var u ratio.User
		e.post(t, ratio.OpCreateUser, jwt, ratio.CreateUserRequest{FirstName: "S", LastName: "T", Email: "st@example.com", Country: "US", Phone: phone, AcceptedTerms: true}).decode(t, &u)
		e.post(t, ratio.OpAddWalletToUser, jwt, ratio.AddWalletRequest{WalletAddress: wallet.addr, WalletType: "EVM"})

		var got struct {
			Calls     map[string]int `json:"calls"`
			AddToUser map[string]int `json:"addToUser"`
		}
		r := e.hook(t, "GET", "stats", "")
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Calls["POST /v1/auth/otp/sms:send"] != 9 || got.AddToUser[wallet.addr] != 1 || got.Calls["POST /v1/users"] != 1 {
			t.Errorf("GET /_sandbox/stats = %s", r.body)
		}
	})
	t.Run("requests and reset", func(t *testing.T) {
		var reqs []map[string]any
		e.hook(t, "GET", "requests", "").decode(t, &reqs)
		if len(reqs) == 0 || reqs[0]["path"] != ratio.OpSendSMS.Path() {
			t.Errorf("GET /_sandbox/requests: %v", reqs)
		}
		e.hook(t, "POST", "reset", "")
		if s := e.srv.Stats(); len(s.Calls) != 0 {
			t.Errorf("after POST /_sandbox/reset: %v", s)
		}
	})
	e.hook(t, "GET", "nope", "").wantError(t, 404, ratio.CodeNotFoundEndpoint)
}
