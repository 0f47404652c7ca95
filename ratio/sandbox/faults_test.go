package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

func TestFailNext(t *testing.T) {
	tests := []struct {
		name           string
		status         int
		wantCode       string
		wantRetryAfter string
	}{
		{"503", http.StatusServiceUnavailable, ratio.CodeInternal, ""},
		{"500", http.StatusInternalServerError, ratio.CodeInternal, ""},
		{"429", http.StatusTooManyRequests, ratio.CodeTooManyRequests, "1"},
		{"400", http.StatusBadRequest, "INJECTED_FAULT", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			phone := newPhone()
			e.srv.FailNext(ratio.OpSendSMS, 2, tt.status)
			for range 2 {
				r := e.post(t, ratio.OpSendSMS, "", ratio.SendSMSRequest{PhoneNumber: phone})
				r.wantError(t, tt.status, tt.wantCode)
				if got := r.header.Get("Retry-After"); got != tt.wantRetryAfter {
					t.Errorf("Retry-After %q, want %q", got, tt.wantRetryAfter)
				}
			}
			if _, ok := e.srv.LastOTP(phone); ok {
				t.Error("a failed send sent a code")
			}
			e.sendSMS(t, phone, "") // the third call goes through
			e.walletAuth(t, newWallet(t), "")
			if got := e.srv.Stats().Calls[ratio.OpSendSMS.Route()]; got != 3 {
				t.Errorf("sms:send calls %d, want 3 (failed ones count)", got)
			}
		})
	}
}

func TestForceRateLimit(t *testing.T) {
	e := newEnv(t)
	e.srv.ForceRateLimit(ratio.OpAuthenticateSMS, 1, 2500*time.Millisecond)
	phone := newPhone()
	id := e.sendSMS(t, phone, "")
	r := e.post(t, ratio.OpAuthenticateSMS, "", ratio.AuthenticateSMSRequest{PhoneID: id, OTP: e.otp(t, phone)})
	r.wantError(t, http.StatusTooManyRequests, ratio.CodeTooManyRequests)
	if got := r.header.Get("Retry-After"); got != "3" {
		t.Errorf("Retry-After %q, want 3 (2.5 s rounded up)", got)
	}
	// The code was not touched by the refused call.
	if r := e.post(t, ratio.OpAuthenticateSMS, "", ratio.AuthenticateSMSRequest{PhoneID: id, OTP: e.otp(t, phone)}); r.status != 200 {
		t.Errorf("after the forced 429: %d %s", r.status, r.body)
	}
}

func TestSetLatency(t *testing.T) {
	e := newEnv(t)
	e.srv.SetLatency(ratio.OpStartWallet, time.Hour)

	// A caller that gives up is let go, and the sandbox is not blocked for
	// other calls meanwhile.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	body := `{"walletAddress":"` + newWallet(t).addr + `","walletType":"EVM"}`
	go func() {
		hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+ratio.OpStartWallet.Path(), strings.NewReader(body))
		hr.Header.Set("ratio-client-id", "c")
		hr.Header.Set("ratio-client-secret", "s")
		res, err := e.srv.Client().Do(hr)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	e.sendSMS(t, newPhone(), "")
	for e.srv.Stats().Calls[ratio.OpStartWallet.Route()] == 0 {
		time.Sleep(time.Millisecond) // wait for the slow call to arrive
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("slow call: %v, want context.Canceled", err)
	}

	e.srv.SetLatency(ratio.OpStartWallet, time.Millisecond)
	e.start(t, newWallet(t), "")
	e.srv.SetLatency(ratio.OpStartWallet, 0)
	e.start(t, newWallet(t), "")
}

func TestStatsAndRequests(t *testing.T) {
	e := newEnv(t)
	phone := newPhone()
	u := e.seed(t, phone, "stats@example.com")
	jwt := jwtOf(e.smsAuth(t, phone, ""))
	e.get(t, "/v1/users/"+u.ID, jwt)
	e.get(t, "/v1/users/"+u.ID+"/wallets", jwt)
	e.do(t, req{method: http.MethodGet, path: "/v1/nope"})
	e.do(t, req{method: http.MethodGet, path: "/_sandbox/stats"})

	want := map[string]int{
		"POST /v1/auth/otp/sms:send":         1,
		"POST /v1/auth/otp/sms:authenticate": 1,
		"GET /v1/users/{userId}":             1,
		"GET /v1/users/{userId}/wallets":     1,
	}
	got := e.srv.Stats().Calls
	if len(got) != len(want) {
		t.Errorf("Stats().Calls = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Stats().Calls[%q] = %d, want %d", k, got[k], v)
		}
	}

	reqs := e.srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("Requests() has %d, want 4: %+v", len(reqs), reqs)
	}
	auth := reqs[1]
	if auth.Method != "POST" || auth.Path != ratio.OpAuthenticateSMS.Path() || auth.Bearer || auth.Status != 200 ||
		auth.Body["otp"] != "[redacted]" || !strings.HasPrefix(auth.Body["phoneId"].(string), "phone-number-test-") {
		t.Errorf("Requests()[1] = %+v, want the SMS authenticate with its code redacted", auth)
	}
	if !reqs[2].Bearer || reqs[2].Body != nil {
		t.Errorf("Requests()[2] = %+v, want a GET with a bearer and no body", reqs[2])
	}

	e.srv.Reset()
	if s := e.srv.Stats(); len(s.Calls) != 0 || len(e.srv.Requests()) != 0 {
		t.Errorf("after Reset: %+v", s)
	}
	e.get(t, "/v1/users/"+u.ID, jwt).wantError(t, http.StatusUnauthorized, ratio.CodeInvalidAuthorization)
	if _, ok := e.srv.LastOTP(phone); ok {
		t.Error("LastOTP after Reset still has a code")
	}
}
