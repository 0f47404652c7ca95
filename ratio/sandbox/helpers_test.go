package sandbox_test

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ratioflow/ratioflow/internal/openapi"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// env is a sandbox on a fake clock, driven over raw HTTP.
type env struct {
	srv   *ratiotest.Server
	clock *sandbox.Clock
}

// epoch is the fake clock's start: the time of the real tokens in the
// contract.
var epoch = time.Date(2023, 7, 13, 19, 6, 20, 0, time.UTC)

// newEnv starts a sandbox configured by cfg (Now is set to a fake clock
// when cfg has none).
func newEnv(tb testing.TB, cfg ...sandbox.Config) *env {
	tb.Helper()
	var c sandbox.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	clock := sandbox.NewClock(epoch)
	if c.Now == nil {
		c.Now = clock.Now
	}
	return &env{srv: ratiotest.NewServer(tb, c), clock: clock}
}

// req is one request to the sandbox.
type req struct {
	method string
	path   string
	jwt    string
	body   any    // marshalled as JSON; must conform to Ratio's spec
	raw    string // sent as is instead of body, not checked against the spec
	header map[string]string
	noAuth bool // send no client credentials
}

// resp is an answer, already checked against Ratio's spec.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends r with client credentials, checks the request body and the
// answer against Ratio's OpenAPI file, and returns the answer.
func (e *env) do(tb testing.TB, r req) resp {
	tb.Helper()
	var body []byte
	switch {
	case r.raw != "":
		body = []byte(r.raw)
	case r.body != nil:
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			tb.Fatalf("marshal %T: %v", r.body, err)
		}
		if err := openapi.ValidateRequest(r.method, r.path, body); err != nil {
			tb.Errorf("request does not conform to Ratio's spec: %v", err)
		}
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if len(body) > 0 {
		hr.Header.Set("Content-Type", "application/json")
	}
	if !r.noAuth {
		hr.Header.Set("ratio-client-id", "client-1")
		hr.Header.Set("ratio-client-secret", "secret-1")
	}
	if r.jwt != "" {
		hr.Header.Set("Authorization", "Bearer "+r.jwt)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		tb.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("%s %s: Content-Type %q, want application/json", r.method, r.path, ct)
	}
	if !strings.HasPrefix(r.path, "/_sandbox/") && !isUnknownRoute(res.StatusCode, out) {
		if err := openapi.ValidateResponse(r.method, r.path, res.StatusCode, out); err != nil {
			tb.Errorf("answer does not conform to Ratio's spec: %v\nbody: %s", err, out)
		}
	}
	return resp{status: res.StatusCode, header: res.Header, body: out}
}

func isUnknownRoute(status int, body []byte) bool {
	var eb ratio.ErrorBody
	return status == http.StatusNotFound && json.Unmarshal(body, &eb) == nil && eb.Code == ratio.CodeNotFoundEndpoint
}

// post sends a conforming body to op.
func (e *env) post(tb testing.TB, op ratio.Op, jwt string, body any) resp {
	tb.Helper()
	return e.do(tb, req{method: http.MethodPost, path: op.Path(), jwt: jwt, body: body})
}

// postRaw sends a body as is (deliberately malformed or legacy) to op.
func (e *env) postRaw(tb testing.TB, op ratio.Op, jwt string, raw string) resp {
	tb.Helper()
	return e.do(tb, req{method: http.MethodPost, path: op.Path(), jwt: jwt, raw: raw})
}

func (e *env) get(tb testing.TB, path, jwt string) resp {
	tb.Helper()
	return e.do(tb, req{method: http.MethodGet, path: path, jwt: jwt})
}

// decode decodes the answer into v, which must be a 2xx.
func (r resp) decode(tb testing.TB, v any) {
	tb.Helper()
	if r.status/100 != 2 {
		tb.Fatalf("status %d, want 2xx; body %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
}

// wantError checks that the answer is Ratio's error body with status and
// code, stamped with the fake clock.
func (r resp) wantError(tb testing.TB, status int, code string) ratio.ErrorBody {
	tb.Helper()
	var eb ratio.ErrorBody
	if err := json.Unmarshal(r.body, &eb); err != nil {
		tb.Fatalf("error body %s: %v", r.body, err)
	}
	if r.status != status || eb.Code != code {
		tb.Fatalf("answer %d %s (%s), want %d %s", r.status, eb.Code, eb.Message, status, code)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", eb.CreateTime); err != nil || eb.Message == "" {
		tb.Errorf("error body %s: want createTime in RFC 3339 millis and a message", r.body)
	}
	return eb
}

// wallet is a test wallet.
type wallet struct {
	key  *ecdsa.PrivateKey
	addr string // EIP-55
}

func newWallet(tb testing.TB) wallet {
	tb.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return wallet{key: k, addr: crypto.PubkeyToAddress(k.PublicKey).Hex()}
}

func (w wallet) sign(tb testing.TB, msg string) string {
	tb.Helper()
	sig, err := ratio.SignPersonal(w.key, msg)
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// start gets a challenge for w.
func (e *env) start(tb testing.TB, w wallet, jwt string) string {
	tb.Helper()
	var sr ratio.StartWalletResponse
	e.post(tb, ratio.OpStartWallet, jwt, ratio.StartWalletRequest{WalletAddress: w.addr, WalletType: ratio.WalletTypeEVM}).decode(tb, &sr)
	return sr.Challenge
}

// walletAuth signs in with w (with jwt as bearer if not empty).
func (e *env) walletAuth(tb testing.TB, w wallet, jwt string) ratio.AuthResponse {
	tb.Helper()
	ch := e.start(tb, w, jwt)
	var ar ratio.AuthResponse
	e.post(tb, ratio.OpAuthenticateWallet, jwt, ratio.AuthenticateWalletRequest{
		WalletAddress: w.addr, WalletType: ratio.WalletTypeEVM, Signature: w.sign(tb, ch),
	}).decode(tb, &ar)
	return ar
}

// sendSMS sends a code to phone and returns its phoneId.
func (e *env) sendSMS(tb testing.TB, phone, jwt string) string {
	tb.Helper()
	var sr ratio.SendSMSResponse
	e.post(tb, ratio.OpSendSMS, jwt, ratio.SendSMSRequest{PhoneNumber: phone}).decode(tb, &sr)
	return sr.PhoneID
}

// smsAuth signs in with phone's code (with jwt as bearer if not empty).
func (e *env) smsAuth(tb testing.TB, phone, jwt string) ratio.AuthResponse {
	tb.Helper()
	id := e.sendSMS(tb, phone, jwt)
	var ar ratio.AuthResponse
	e.post(tb, ratio.OpAuthenticateSMS, jwt, ratio.AuthenticateSMSRequest{PhoneID: id, OTP: e.otp(tb, phone)}).decode(tb, &ar)
	return ar
}

func (e *env) sendEmail(tb testing.TB, addr, jwt string) string {
	tb.Helper()
	var sr ratio.SendEmailResponse
	e.post(tb, ratio.OpSendEmail, jwt, ratio.SendEmailRequest{EmailAddress: addr}).decode(tb, &sr)
	return sr.EmailID
}

func (e *env) emailAuth(tb testing.TB, addr, jwt string) ratio.AuthResponse {
	tb.Helper()
	id := e.sendEmail(tb, addr, jwt)
	var ar ratio.AuthResponse
	e.post(tb, ratio.OpAuthenticateEmail, jwt, ratio.AuthenticateEmailRequest{EmailID: id, OTP: e.otp(tb, addr)}).decode(tb, &ar)
	return ar
}

func (e *env) otp(tb testing.TB, to string) ratio.Secret {
	tb.Helper()
	code, ok := e.srv.LastOTP(to)
	if !ok {
		tb.Fatalf("LastOTP(%q): no code", to)
	}
	return ratio.Secret(code)
}

// seed creates a user with the phone, the email and verified wallets.
func (e *env) seed(tb testing.TB, phone, email string, wallets ...wallet) ratio.User {
	tb.Helper()
	s := sandbox.UserSeed{PhoneNumber: phone, EmailAddress: email, FirstName: "Paul", LastName: "Reilly"}
	for _, w := range wallets {
		s.Wallets = append(s.Wallets, w.addr)
	}
	u, err := e.srv.SeedUser(s)
	if err != nil {
		tb.Fatalf("SeedUser: %v", err)
	}
	return u
}

// claims decodes a JWT's payload (without checking it).
func claims(tb testing.TB, jwt ratio.Secret) map[string]any {
	tb.Helper()
	parts := strings.Split(jwt.Reveal(), ".")
	if len(parts) != 3 {
		tb.Fatalf("JWT has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func stytchSession(tb testing.TB, jwt ratio.Secret) map[string]any {
	tb.Helper()
	s, ok := claims(tb, jwt)["https://stytch.com/session"].(map[string]any)
	if !ok {
		tb.Fatal("JWT has no https://stytch.com/session claim")
	}
	return s
}

// factors returns the delivery methods of a JWT's factors, sorted.
func factors(tb testing.TB, jwt ratio.Secret) []string {
	tb.Helper()
	var out []string
	for _, f := range stytchSession(tb, jwt)["authentication_factors"].([]any) {
		out = append(out, f.(map[string]any)["delivery_method"].(string))
	}
	sort.Strings(out)
	return out
}

func sessionID(tb testing.TB, jwt ratio.Secret) string {
	tb.Helper()
	return stytchSession(tb, jwt)["id"].(string)
}

// phones hands out distinct valid US numbers.
var phoneSeq atomic.Int64

func newPhone() string {
	n := phoneSeq.Add(1)
	return fmt.Sprintf("+1202555%04d", n%10000)
}

func jwtOf(a ratio.AuthResponse) string { return a.SessionJWT.Reveal() }
