package ratio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/internal/openapi"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// specProxy sits between the client and the sandbox and checks every body
// that crosses it against Ratio's published schema (ratio-openapi-2023).
type specProxy struct {
	t       *testing.T
	next    http.Handler
	mu      sync.Mutex
	checked map[string]int // "METHOD path status" -> count
}

func (p *specProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 {
		if err := openapi.ValidateRequest(r.Method, r.URL.Path, body); err != nil {
			p.t.Errorf("client request %s %s does not conform: %v\n%s", r.Method, r.URL.Path, err, body)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, r)
	if err := openapi.ValidateResponse(r.Method, r.URL.Path, rec.Code, rec.Body.Bytes()); err != nil {
		p.t.Errorf("answer to %s %s (%d) does not conform: %v\n%s", r.Method, r.URL.Path, rec.Code, err, rec.Body.Bytes())
	}
	p.mu.Lock()
	p.checked[r.Method+" "+r.URL.Path[:min(len(r.URL.Path), 24)]+" "+http.StatusText(rec.Code)]++
	p.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// TestClient_ConformsToRatiosSchema drives every operation of the client
// through the spec-checking proxy: the link story of seed 000, a user's
// creation (seed 004), reads (seed 003), and error answers.
func TestClient_ConformsToRatiosSchema(t *testing.T) {
	sb := sandbox.NewHandler(sandbox.Config{})
	proxy := &specProxy{t: t, next: sb, checked: map[string]int{}}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	c := ratio.NewClient(srv.URL, "conformance", "secret")
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	code := func(to string) ratio.Secret {
		t.Helper()
		otp, ok := sb.LastOTP(to)
		if !ok {
			t.Fatalf("no code sent to %s", to)
		}
		return ratio.Secret(otp)
	}
	phone, email := "+12025550143", "grace@example.com"
	_, err := sb.SeedUser(sandbox.UserSeed{PhoneNumber: phone, EmailAddress: email, FirstName: "Grace", LastName: "Hopper", Country: "US"})
	must(err)
	key, _ := crypto.GenerateKey()
	wallet := crypto.PubkeyToAddress(key.PublicKey).Hex()

	// Seed 000: a new wallet, 409, SMS first, email, addToUser.
	ch, err := c.StartWallet(ctx, "", ratio.StartWalletRequest{WalletAddress: wallet})
	must(err)
	sig, _ := ratio.SignPersonal(key, ch.Challenge)
	walletAuth, err := c.AuthenticateWallet(ctx, "", ratio.AuthenticateWalletRequest{WalletAddress: wallet, Signature: sig})
	must(err)
	if _, err := c.SendSMS(ctx, walletAuth.SessionJWT, ratio.SendSMSRequest{PhoneNumber: phone}); !errors.Is(err, ratio.ErrPhoneConflict) {
		t.Fatalf("SendSMS with the new wallet's JWT = %v, want ErrPhoneConflict", err)
	}
	sms, err := c.SendSMS(ctx, "", ratio.SendSMSRequest{PhoneNumber: phone})
	must(err)
	if _, err := c.AuthenticateSMS(ctx, "", ratio.AuthenticateSMSRequest{PhoneID: sms.PhoneID, OTP: "000000"}); !errors.Is(err, ratio.ErrInvalidOTP) {
		t.Fatalf("AuthenticateSMS with a wrong code = %v, want ErrInvalidOTP", err)
	}
	smsAuth, err := c.AuthenticateSMS(ctx, "", ratio.AuthenticateSMSRequest{PhoneID: sms.PhoneID, OTP: code(phone)})
	must(err)
	em, err := c.SendEmail(ctx, smsAuth.SessionJWT, ratio.SendEmailRequest{EmailAddress: email})
	must(err)
	twoFactor, err := c.AuthenticateEmail(ctx, smsAuth.SessionJWT, ratio.AuthenticateEmailRequest{EmailID: em.EmailID, OTP: code(email)})
	must(err)
	_, err = c.AddWalletToUser(ctx, twoFactor.SessionJWT, ratio.AddWalletRequest{WalletAddress: wallet})
	must(err)
	if _, err := c.AddWalletToUser(ctx, twoFactor.SessionJWT, ratio.AddWalletRequest{WalletAddress: wallet}); !errors.Is(err, ratio.ErrWalletConflict) {
		t.Fatalf("a second addToUser = %v, want ErrWalletConflict", err)
	}
	// Seed 003: the user and their wallets.
	u, err := c.GetUser(ctx, twoFactor.SessionJWT, smsAuth.User.ID)
	must(err)
	ws, err := c.ListWallets(ctx, twoFactor.SessionJWT, u.ID)
	must(err)
	if len(ws.Items) != 1 {
		t.Errorf("wallets = %+v, want the one added", ws.Items)
	}
	if _, err := c.GetUser(ctx, twoFactor.SessionJWT, "3f9e1b2c-0000-4000-8000-000000000000"); err == nil {
		t.Errorf("GetUser of an unknown user succeeded")
	}
	// Seed 004: wallet + SMS, then POST /v1/users.
	newKey, _ := crypto.GenerateKey()
	newWallet := crypto.PubkeyToAddress(newKey.PublicKey).Hex()
	ch, err = c.StartWallet(ctx, "", ratio.StartWalletRequest{WalletAddress: newWallet})
	must(err)
	sig, _ = ratio.SignPersonal(newKey, ch.Challenge)
	wa, err := c.AuthenticateWallet(ctx, "", ratio.AuthenticateWalletRequest{WalletAddress: newWallet, Signature: sig})
	must(err)
	newPhone := "+12025550177"
	sms, err = c.SendSMS(ctx, wa.SessionJWT, ratio.SendSMSRequest{PhoneNumber: newPhone})
	must(err)
	sa, err := c.AuthenticateSMS(ctx, wa.SessionJWT, ratio.AuthenticateSMSRequest{PhoneID: sms.PhoneID, OTP: code(newPhone)})
	must(err)
	_, err = c.CreateUser(ctx, sa.SessionJWT, ratio.CreateUserRequest{FirstName: "Alan", LastName: "Turing",
		Email: "alan@example.com", Country: "US", Phone: newPhone, AcceptedTerms: true})
	must(err)
	if len(proxy.checked) < 12 {
		t.Errorf("checked only %d kinds of exchange: %v", len(proxy.checked), proxy.checked)
	}
}
