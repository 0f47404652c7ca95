package sandbox_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// TestConcurrentFlows runs many sign-ups (wallet, SMS with its JWT, user
// creation, reading the wallets) and many linkings at once; run with -race.
func TestConcurrentFlows(t *testing.T) {
	const n = 32
	e := newEnv(t)
	var created atomic.Int64
	t.Run("flows", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint("signup", i), func(t *testing.T) {
				t.Parallel()
				s := e.newSignup(t, fmt.Sprintf("load%d@example.com", i))
				var u ratio.User
				e.post(t, ratio.OpCreateUser, s.jwt, s.req).decode(t, &u)
				var ws ratio.Wallets
				e.get(t, "/v1/users/"+u.ID+"/wallets", s.jwt).decode(t, &ws)
				if len(ws.Items) != 1 || ws.Items[0].Address != s.wallet.addr {
					t.Errorf("wallets %+v, want %s", ws.Items, s.wallet.addr)
				}
				created.Add(1)
			})
			t.Run(fmt.Sprint("link", i), func(t *testing.T) {
				t.Parallel()
				phone, email := newPhone(), fmt.Sprintf("link%d@example.com", i)
				e.seed(t, phone, email)
				w := newWallet(t)
				first := e.walletAuth(t, w, "")
				e.post(t, ratio.OpSendSMS, jwtOf(first), ratio.SendSMSRequest{PhoneNumber: phone}).wantError(t, http.StatusConflict, ratio.CodeAlreadyExistsPhone)
				jwt := jwtOf(e.emailAuth(t, email, jwtOf(e.smsAuth(t, phone, ""))))
				if r := e.post(t, ratio.OpAddWalletToUser, jwt, ratio.AddWalletRequest{WalletAddress: w.addr, WalletType: "EVM"}); r.status != 200 {
					t.Errorf("addToUser: %d %s", r.status, r.body)
				}
			})
		}
	})
	s := e.srv.Stats()
	if created.Load() != n || s.Calls[ratio.OpCreateUser.Route()] != n || s.Calls[ratio.OpAddWalletToUser.Route()] != n || len(s.AddToUser) != n {
		t.Errorf("after %d flows of each: created %d, Stats %+v", n, created.Load(), s)
	}
}

// TestConcurrentSendsRespectTheLimit sends to one number from many
// goroutines: exactly the limit gets through.
func TestConcurrentSendsRespectTheLimit(t *testing.T) {
	h := sandbox.NewHandler(sandbox.Config{})
	const n = 40
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			switch status := serveSMS(h, "+12025550199"); status {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != sandbox.DefaultSendLimitMax || limited.Load() != n-sandbox.DefaultSendLimitMax {
		t.Errorf("%d sends at once: %d sent, %d limited; want %d and %d", n, ok.Load(), limited.Load(), sandbox.DefaultSendLimitMax, n-sandbox.DefaultSendLimitMax)
	}
}

// serveSMS calls sms:send on h in process and returns the status.
func serveSMS(h http.Handler, phone string) int {
	r := httptest.NewRequest(http.MethodPost, ratio.OpSendSMS.Path(), strings.NewReader(`{"phoneNumber":"`+phone+`"}`))
	r.Header.Set("ratio-client-id", "c")
	r.Header.Set("ratio-client-secret", "s")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// BenchmarkSendAndAuthenticateSMS measures an SMS sign-in in process, from
// parallel goroutines, as the load generator drives it.
func BenchmarkSendAndAuthenticateSMS(b *testing.B) {
	h := sandbox.NewHandler(sandbox.Config{SendLimit: sandbox.SendLimit{Off: true}})
	var seq atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			phone := fmt.Sprintf("+1202555%04d", seq.Add(1)%10000)
			r := httptest.NewRequest(http.MethodPost, ratio.OpSendSMS.Path(), strings.NewReader(`{"phoneNumber":"`+phone+`"}`))
			r.Header.Set("ratio-client-id", "c")
			r.Header.Set("ratio-client-secret", "s")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			id := w.Body.String()[len(`{"phoneId":"`):][:len("phone-number-test-")+36]
			code, _ := h.LastOTP(phone)
			r = httptest.NewRequest(http.MethodPost, ratio.OpAuthenticateSMS.Path(), strings.NewReader(`{"phoneId":"`+id+`","otp":"`+code+`"}`))
			r.Header.Set("ratio-client-id", "c")
			r.Header.Set("ratio-client-secret", "s")
			w = httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 && w.Code != 401 { // 401: another goroutine re-sent to the same number
				b.Fatalf("sms:authenticate: %d %s", w.Code, w.Body)
			}
		}
	})
}
