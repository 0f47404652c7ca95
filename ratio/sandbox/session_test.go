package sandbox_test

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

var uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

func TestSessionJWT_Claims(t *testing.T) {
	e := newEnv(t)
	w, phone := newWallet(t), newPhone()
	first := e.walletAuth(t, w, "")
	joined := e.smsAuth(t, phone, jwtOf(first))

	hdr := strings.Split(joined.SessionJWT.Reveal(), ".")[0]
	if raw, _ := base64.RawURLEncoding.DecodeString(hdr); !strings.Contains(string(raw), `"alg":"HS256"`) {
		t.Errorf("JWT header %s, want alg HS256", raw)
	}
	c := claims(t, joined.SessionJWT)
	checks := []struct {
		claim string
		re    string
	}{
		{"iss", `^stytch\.com/project-test-` + uuidRE + `$`},
		{"sub", `^user-test-` + uuidRE + `$`},
	}
	for _, ck := range checks {
		if s, _ := c[ck.claim].(string); !regexp.MustCompile(ck.re).MatchString(s) {
			t.Errorf("claim %s = %v, want %s", ck.claim, c[ck.claim], ck.re)
		}
	}
	if aud, _ := c["aud"].([]any); len(aud) != 1 || "stytch.com/"+aud[0].(string) != c["iss"] {
		t.Errorf("aud %v, want [the project of iss %v]", c["aud"], c["iss"])
	}
	iat, nbf, exp := c["iat"].(float64), c["nbf"].(float64), c["exp"].(float64)
	if iat != float64(epoch.Unix()) || nbf != iat || exp-iat != 300 {
		t.Errorf("iat %v nbf %v exp %v, want iat = the clock, nbf = iat, exp - iat = 300", iat, nbf, exp)
	}
	if claims(t, first.SessionJWT)["sub"] != c["sub"] {
		t.Errorf("sub changed when the SMS factor joined: %v then %v", claims(t, first.SessionJWT)["sub"], c["sub"])
	}

	s := stytchSession(t, joined.SessionJWT)
	if !regexp.MustCompile(`^session-test-` + uuidRE + `$`).MatchString(s["id"].(string)) {
		t.Errorf("session id %v, want session-test-<uuid>", s["id"])
	}
	if s["id"] == sessionID(t, first.SessionJWT) {
		t.Error("joining a factor kept the session id, want a new session")
	}
	if s["started_at"] != "2023-07-13T19:06:20Z" || s["expires_at"] != "2023-07-13T19:16:20Z" {
		t.Errorf("started_at %v expires_at %v, want the clock and 10 minutes later", s["started_at"], s["expires_at"])
	}
	got := s["authentication_factors"]
	want := []any{
		map[string]any{"type": "crypto", "delivery_method": "crypto_wallet", "last_authenticated_at": "2023-07-13T19:06:20Z",
			"crypto_wallet_factor": map[string]any{"crypto_wallet_address": w.addr, "crypto_wallet_type": "ethereum"}},
		map[string]any{"type": "otp", "delivery_method": "sms", "last_authenticated_at": "2023-07-13T19:06:20Z",
			"phone_number_factor": map[string]any{"phone_id": e.sendSMS(t, phone, ""), "phone_number": phone}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("authentication_factors (-want +got):\n%s", diff)
	}
}

func TestSessionJWT_SubjectIsTheUsers(t *testing.T) {
	e := newEnv(t)
	w := newWallet(t)
	e.seed(t, newPhone(), "sub@example.com", w)
	a, b := e.walletAuth(t, w, ""), e.emailAuth(t, "sub@example.com", "")
	if sa, sb := claims(t, a.SessionJWT)["sub"], claims(t, b.SessionJWT)["sub"]; sa != sb {
		t.Errorf("two sign-ins of one user have sub %v and %v, want the same", sa, sb)
	}
}

func TestBearer(t *testing.T) {
	e := newEnv(t)
	phone, email := newPhone(), "bearer@example.com"
	u := e.seed(t, phone, email)
	jwt := jwtOf(e.smsAuth(t, phone, ""))
	foreign := jwtOf(newEnv(t).smsAuth(t, newPhone(), ""))
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		strings.Split(jwt, ".")[1] + "."
	tampered := jwt[:len(jwt)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(jwt, "AA")]
	tests := []struct {
		name     string
		header   string
		wantCode string
	}{
		{"missing", "", ratio.CodeMissingAuthorization},
		{"not a bearer", "Basic " + jwt, ratio.CodeInvalidAuthorization},
		{"empty bearer", "Bearer ", ratio.CodeInvalidAuthorization},
		{"garbage", "Bearer not.a.jwt", ratio.CodeInvalidAuthorization},
		{"another sandbox's JWT", "Bearer " + foreign, ratio.CodeInvalidAuthorization},
		{"alg none", "Bearer " + none, ratio.CodeInvalidAuthorization},
		{"tampered signature", "Bearer " + tampered, ratio.CodeInvalidAuthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.header != "" {
				h["Authorization"] = tt.header
			}
			r := e.do(t, req{method: http.MethodGet, path: "/v1/users/" + u.ID, header: h})
			r.wantError(t, 401, tt.wantCode)
		})
	}
	t.Run("valid", func(t *testing.T) {
		if r := e.get(t, "/v1/users/"+u.ID, jwt); r.status != 200 {
			t.Fatalf("GET user: %d %s", r.status, r.body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(5 * time.Minute)
		e.get(t, "/v1/users/"+u.ID, jwt).wantError(t, 401, ratio.CodeExpiredAuthorization)
		e.post(t, ratio.OpSendEmail, jwt, ratio.SendEmailRequest{EmailAddress: email}).wantError(t, 401, ratio.CodeExpiredAuthorization)
		// Optional on auth calls, but refused when presented.
		e.post(t, ratio.OpStartWallet, jwt, ratio.StartWalletRequest{WalletAddress: newWallet(t).addr, WalletType: "EVM"}).
			wantError(t, 401, ratio.CodeExpiredAuthorization)
	})
}

func TestBearer_SessionIdle(t *testing.T) {
	e := newEnv(t, sandbox.Config{JWTLifetime: time.Hour, SessionIdle: 10 * time.Minute})
	phone := newPhone()
	u := e.seed(t, phone, "idle@example.com")
	jwt := jwtOf(e.smsAuth(t, phone, ""))
	e.clock.Advance(9 * time.Minute)
	if r := e.get(t, "/v1/users/"+u.ID, jwt); r.status != 200 {
		t.Fatalf("after 9 idle minutes: %d %s", r.status, r.body)
	}
	e.clock.Advance(9 * time.Minute) // 9 minutes since the last use: still alive
	if r := e.get(t, "/v1/users/"+u.ID, jwt); r.status != 200 {
		t.Fatalf("9 minutes after the last use: %d %s", r.status, r.body)
	}
	e.clock.Advance(10 * time.Minute)
	eb := e.get(t, "/v1/users/"+u.ID, jwt).wantError(t, 401, ratio.CodeExpiredAuthorization)
	if !strings.Contains(eb.Message, "without use") {
		t.Errorf("message %q, want it to say the session idled out", eb.Message)
	}
}

func TestRefreshHeader(t *testing.T) {
	tests := []struct {
		name    string
		window  time.Duration
		after   time.Duration
		refresh bool
	}{
		{"61 seconds left", 0, 4*time.Minute - time.Second, false},
		{"59 seconds left", 0, 4*time.Minute + time.Second, true},
		{"window of 2 minutes", 2 * time.Minute, 3*time.Minute + time.Second, true},
		{"refresh off", -1, 4*time.Minute + 59*time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Config{RefreshWindow: tt.window})
			phone := newPhone()
			u := e.seed(t, phone, "refresh@example.com")
			jwt := e.smsAuth(t, phone, "").SessionJWT
			e.clock.Advance(tt.after)
			r := e.get(t, "/v1/users/"+u.ID, jwt.Reveal())
			fresh := ratio.Secret(r.header.Get("ratio-authentication-refresh"))
			if got := !fresh.IsZero(); got != tt.refresh {
				t.Fatalf("refresh header present = %v, want %v", got, tt.refresh)
			}
			if !tt.refresh {
				return
			}
			if sessionID(t, fresh) != sessionID(t, jwt) {
				t.Error("the refreshed JWT names another session")
			}
			c := claims(t, fresh)
			if c["iat"].(float64) != float64(epoch.Add(tt.after).Unix()) || c["exp"].(float64)-c["iat"].(float64) != 300 {
				t.Errorf("refreshed iat %v exp %v, want issued now for 300 s", c["iat"], c["exp"])
			}
			e.clock.Advance(2 * time.Minute) // the old JWT has expired
			e.get(t, "/v1/users/"+u.ID, jwt.Reveal()).wantError(t, 401, ratio.CodeExpiredAuthorization)
			if r := e.get(t, "/v1/users/"+u.ID, fresh.Reveal()); r.status != 200 {
				t.Errorf("refreshed JWT: %d %s", r.status, r.body)
			}
		})
	}
}

func TestClientCredentials(t *testing.T) {
	strict := newEnv(t, sandbox.Config{ClientID: "client-1", ClientSecret: "secret-1"})
	open := newEnv(t)
	body := ratio.StartWalletRequest{WalletAddress: newWallet(t).addr, WalletType: "EVM"}
	tests := []struct {
		name       string
		e          *env
		noAuth     bool
		header     map[string]string
		wantStatus int
		wantCode   string
	}{
		{"right pair", strict, false, nil, 200, ""},
		{"none", strict, true, nil, 401, ratio.CodeMissingClientID},
		{"id only", strict, true, map[string]string{"ratio-client-id": "client-1"}, 401, ratio.CodeMissingClientSecret},
		{"secret only", strict, true, map[string]string{"ratio-client-secret": "secret-1"}, 401, ratio.CodeMissingClientID},
		{"wrong id", strict, false, map[string]string{"ratio-client-id": "client-2"}, 401, ratio.CodeInvalidClientID},
		{"wrong secret", strict, false, map[string]string{"ratio-client-secret": "secret-2"}, 401, ratio.CodeInvalidClientSecret},
		{"any pair when none is configured", open, false, map[string]string{"ratio-client-id": "x", "ratio-client-secret": "y"}, 200, ""},
		{"still required when none is configured", open, true, nil, 401, ratio.CodeMissingClientID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.e.do(t, req{method: http.MethodPost, path: ratio.OpStartWallet.Path(), body: body, noAuth: tt.noAuth, header: tt.header})
			if tt.wantCode == "" {
				if r.status != tt.wantStatus {
					t.Fatalf("status %d %s, want %d", r.status, r.body, tt.wantStatus)
				}
				return
			}
			eb := r.wantError(t, tt.wantStatus, tt.wantCode)
			if strings.Contains(eb.Message, "secret-") {
				t.Errorf("message %q echoes a secret", eb.Message)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		method string
		path   string
	}{
		{"unknown path", http.MethodPost, "/v1/auth/otp/voice:send"},
		{"wrong method", http.MethodGet, "/v1/auth/otp/sms:send"},
		{"trailing slash", http.MethodPost, "/v1/auth/otp/sms:send/"},
		{"colon as a path separator", http.MethodPost, "/v1/auth/otp/sms/send"},
		{"users with a trailing slash", http.MethodGet, "/v1/users/"},
		{"deeper under a user", http.MethodGet, "/v1/users/0b5d8c1e-0000-4000-8000-000000000000/wallets/1"},
		{"deposit wallets are not served", http.MethodPost, "/v1/users/0b5d8c1e-0000-4000-8000-000000000000/wallets"},
		{"root", http.MethodGet, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, req{method: tt.method, path: tt.path}).wantError(t, 404, ratio.CodeNotFoundEndpoint)
		})
	}
}
