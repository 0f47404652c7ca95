package sandbox_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ratioflow/ratioflow/internal/openapi"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// The sandbox's request decoding under fuzzing: any method, path, query,
// credentials and body reach its handler directly (no network), and every
// answer must be well formed: never a panic, never a 5xx (no fault is
// injected before the request), and every error in Ratio's error body.

const (
	fuzzClientID = "client-1"
	fuzzSecret   = "secret-1"
	fuzzPhone    = "+12025550123"
	fuzzEmail    = "ratiouser@example.com"
	// fuzzKey is the wallet's key; with the zero Rand below, the
	// challenge, hence its signature, is the same in every run.
	fuzzKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	// fuzzCode is every one-time code the zero Rand gives.
	fuzzCode = "000000"
)

// zeros is a Config.Rand that reads zeros: codes and challenges are known
// in advance.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// fixture is a sandbox one step into each flow: a user, a wallet's
// challenge, a pending SMS code and a pending email code, and the user's
// SMS session. Its placeholders ($PHONE_ID...) stand for the values a
// fuzzed request cannot know in advance.
type fixture struct {
	h    *sandbox.Handler
	jwt  string
	vars *strings.Replacer
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	clock := sandbox.NewClock(epoch)
	h := sandbox.NewHandler(sandbox.Config{ClientID: fuzzClientID, ClientSecret: fuzzSecret, Now: clock.Now, Rand: zeros{}})
	u, err := h.SeedUser(sandbox.UserSeed{PhoneNumber: fuzzPhone, EmailAddress: fuzzEmail})
	if err != nil {
		tb.Fatal(err)
	}
	fx := &fixture{h: h}
	fx.call(tb, ratio.OpStartWallet, ratio.StartWalletRequest{WalletAddress: fuzzAddress(tb), WalletType: ratio.WalletTypeEVM}, nil)
	var sms ratio.SendSMSResponse
	fx.call(tb, ratio.OpSendSMS, ratio.SendSMSRequest{PhoneNumber: fuzzPhone}, &sms)
	var auth ratio.AuthResponse
	fx.call(tb, ratio.OpAuthenticateSMS, ratio.AuthenticateSMSRequest{PhoneID: sms.PhoneID, OTP: fuzzCode}, &auth)
	fx.jwt = auth.SessionJWT.Reveal()
	var email ratio.SendEmailResponse
	fx.call(tb, ratio.OpSendEmail, ratio.SendEmailRequest{EmailAddress: fuzzEmail}, &email)
	fx.call(tb, ratio.OpSendSMS, ratio.SendSMSRequest{PhoneNumber: fuzzPhone}, &sms)
	fx.vars = strings.NewReplacer("$PHONE_ID", sms.PhoneID, "$EMAIL_ID", email.EmailID, "$USER_ID", u.ID,
		"$JWT", fx.jwt, "$SIG", fuzzSignature(tb))
	return fx
}

// call makes a conforming call that must succeed, decoding into out.
func (fx *fixture) call(tb testing.TB, op ratio.Op, body, out any) {
	tb.Helper()
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(op.Method(), op.Path(), bytes.NewReader(b))
	r.Header.Set("ratio-client-id", fuzzClientID)
	r.Header.Set("ratio-client-secret", fuzzSecret)
	if fx.jwt != "" {
		r.Header.Set("Authorization", "Bearer "+fx.jwt)
	}
	w := httptest.NewRecorder()
	fx.h.ServeHTTP(w, r)
	if w.Code/100 != 2 {
		tb.Fatalf("%s: %d %s", op, w.Code, w.Body)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			tb.Fatalf("%s: %v", op, err)
		}
	}
}

func fuzzAddress(tb testing.TB) string {
	k, err := crypto.HexToECDSA(fuzzKey)
	if err != nil {
		tb.Fatal(err)
	}
	return crypto.PubkeyToAddress(k.PublicKey).Hex()
}

// fuzzSignature signs the challenge every fixture's wallet gets.
func fuzzSignature(tb testing.TB) string {
	k, _ := crypto.HexToECDSA(fuzzKey)
	sig, err := ratio.SignPersonal(k, "Signing in with Ratio: "+strings.Repeat("A", 80))
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// request builds the fuzzed request. auth's low two bits choose the client
// credentials (valid, none, no secret, wrong secret), the next two the
// Authorization header (none, the session's JWT, authz as given, the JWT
// cut short).
func (fx *fixture) request(method, target string, auth uint8, authz string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", bytes.NewReader(body))
	r.Method = method
	path, query, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	r.URL.Path, r.URL.RawQuery, r.RequestURI = path, query, ""
	switch auth & 3 {
	case 0:
		r.Header.Set("ratio-client-id", fuzzClientID)
		r.Header.Set("ratio-client-secret", fuzzSecret)
	case 2:
		r.Header.Set("ratio-client-id", fuzzClientID)
	case 3:
		r.Header.Set("ratio-client-id", fuzzClientID)
		r.Header.Set("ratio-client-secret", fuzzSecret+"x")
	}
	switch auth >> 2 & 3 {
	case 1:
		r.Header.Set("Authorization", "Bearer "+fx.jwt)
	case 2:
		if validHeaderValue(authz) {
			r.Header.Set("Authorization", authz)
		}
	case 3:
		r.Header.Set("Authorization", "Bearer "+fx.jwt[:len(fx.jwt)-3])
	}
	return r
}

// httpToken is what net/http accepts as a method.
var httpToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// validHeaderValue reports whether net/http would deliver v as a header
// value: no control character but tab.
func validHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r != '\t' && (r < ' ' || r == 0x7f) })
}

// errorCode is the shape of Ratio's error codes.
var errorCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func FuzzHandler(f *testing.F) {
	ops := map[ratio.Op]string{
		ratio.OpStartWallet:        `{"walletAddress":"` + fuzzAddress(f) + `","walletType":"EVM"}`,
		ratio.OpAuthenticateWallet: `{"walletAddress":"` + fuzzAddress(f) + `","walletType":"EVM","signature":"$SIG"}`,
		ratio.OpAddWalletToUser:    `{"walletAddress":"` + fuzzAddress(f) + `","walletType":"EVM"}`,
		ratio.OpSendSMS:            `{"phoneNumber":"` + fuzzPhone + `"}`,
		ratio.OpAuthenticateSMS:    `{"phoneId":"$PHONE_ID","otp":"` + fuzzCode + `"}`,
		ratio.OpSendEmail:          `{"emailAddress":"` + fuzzEmail + `"}`,
		ratio.OpAuthenticateEmail:  `{"emailId":"$EMAIL_ID","otp":"` + fuzzCode + `"}`,
		ratio.OpCreateUser: `{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","country":"US",` +
			`"phone":"+12025550188","acceptedTerms":true}`,
	}
	add := func(method, target string, auth uint8, body []byte) { f.Add(method, target, auth, "", body) }
	for _, authz := range []string{"Bearer eyJhbGciOiJub25lIn0.e30.", "bearer $JWT", "Bearer  $JWT ", "Basic $JWT", "Bearer", "$JWT"} {
		f.Add("POST", ratio.OpSendEmail.Path(), uint8(8), authz, []byte(ops[ratio.OpSendEmail]))
	}
	for op, body := range ops {
		for auth := range uint8(16) {
			if auth%5 == 0 || auth == 4 {
				add(op.Method(), op.Path(), auth, []byte(body))
			}
		}
		add(op.Method(), op.Path(), uint8(4), []byte(body[:len(body)/2]))
		add(op.Method(), op.Path(), uint8(4), []byte(`{"walletAddress":1,"phoneId":[],"otp":{},"acceptedTerms":"yes"}`))
	}
	for _, p := range []string{"/v1/users/$USER_ID", "/v1/users/$USER_ID/wallets", "/v1/users/", "/v1/users/x/y",
		"/v1/users/$USER_ID?pageToken=%zz", "/_sandbox/otp?to=%2B12025550123", "/_sandbox/otp?to=+12025550123",
		"/_sandbox/stats", "/_sandbox/requests", "/v1/auth/nope", "/"} {
		add("GET", p, uint8(4), []byte(nil))
	}
	for _, b := range []string{`{"phoneNumber":"+12025550124","emailAddress":"b@example.com"}`, `{"op":"otp/sms:send","count":2,"status":503}`,
		`{"op":"otp/sms:send","latencyMs":-1}`, `{"op":"users:get","status":429,"retryAfterSeconds":3}`, `{}`} {
		add("POST", "/_sandbox/users", uint8(0), []byte(b))
		add("POST", "/_sandbox/faults", uint8(0), []byte(b))
	}
	add("POST", "/_sandbox/reset", uint8(0), []byte(nil))
	add("PUT", "/v1/auth/otp/sms:send", uint8(0), []byte(`{}`))
	f.Fuzz(func(t *testing.T, method, target string, auth uint8, authz string, body []byte) {
		if !httpToken.MatchString(method) {
			method = http.MethodPost // net/http delivers no other method
		}
		fx := newFixture(t)
		target, authz, body = fx.vars.Replace(target), fx.vars.Replace(authz), []byte(fx.vars.Replace(string(body)))
		w := httptest.NewRecorder()
		r := fx.request(method, target, auth, authz, body)
		fx.h.ServeHTTP(w, r)
		checkAnswer(t, fx, r, target, body, w)
	})
}

// checkAnswer holds an answer to the properties every answer has.
func checkAnswer(t *testing.T, fx *fixture, r *http.Request, target string, body []byte, w *httptest.ResponseRecorder) {
	t.Helper()
	what := r.Method + " " + target
	if w.Code >= 500 || w.Code < 200 {
		t.Fatalf("%s: status %d, want no 5xx without an injected fault: %s", what, w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" || !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%s: Content-Type %q, body %q; want JSON", what, ct, w.Body)
	}
	hook := strings.HasPrefix(r.URL.Path, "/_sandbox/")
	if w.Code < 300 {
		return
	}
	var eb ratio.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil || !errorCode.MatchString(eb.Code) || eb.Message == "" {
		t.Fatalf("%s: %d %s, want Ratio's error body with a code and a message (%v)", what, w.Code, w.Body, err)
	}
	if at, err := time.Parse("2006-01-02T15:04:05.000Z", eb.CreateTime); err != nil || !at.Equal(epoch) {
		t.Fatalf("%s: createTime %q, want the sandbox clock's time in RFC 3339 with milliseconds", what, eb.CreateTime)
	}
	if w.Code == http.StatusTooManyRequests {
		if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("%s: 429 with Retry-After %q, want whole seconds", what, w.Header().Get("Retry-After"))
		}
	}
	// A secret may come back only as the client sent it elsewhere than in
	// its place (a method, a path, a field name), never from a header.
	sent := r.Method + " " + target + strings.ReplaceAll(string(body), `"otp":"`+fuzzCode+`"`, "")
	for _, secret := range []string{fuzzSecret, fx.jwt, fuzzCode} {
		if !strings.Contains(sent, secret) && strings.Contains(eb.Message+eb.Code, secret) {
			t.Fatalf("%s: the error repeats a secret: %s", what, w.Body)
		}
	}
	if !hook && eb.Code != ratio.CodeNotFoundEndpoint {
		if err := openapi.ValidateResponse(r.Method, r.URL.Path, w.Code, w.Body.Bytes()); err != nil &&
			!errors.Is(err, openapi.ErrUnknownOperation) {
			t.Fatalf("%s: %d %s does not conform to Ratio's spec: %v", what, w.Code, w.Body, err)
		}
	}
}
