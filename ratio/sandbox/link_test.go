package sandbox_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
)

// The stories of Ratio's guides, end to end over raw HTTP.

// TestLink_NewSigningWalletFirst is seed 000's "New Signing Wallet First":
// a returning user signs in with a new wallet, is told the phone belongs to
// another account, signs in by SMS and email instead and adds the wallet.
func TestLink_NewSigningWalletFirst(t *testing.T) {
	e := newEnv(t)
	phone, email := newPhone(), "returning@example.com"
	u := e.seed(t, phone, email, newWallet(t))
	w := newWallet(t)

	// 1. The new wallet authenticates, and Ratio sees a new user.
	first := e.walletAuth(t, w, "")
	if first.UserMask != nil || first.User != nil {
		t.Fatalf("new wallet: userMask %+v, want none", first.UserMask)
	}
	// 2-3. SMS with the wallet's JWT: the phone is another account's.
	e.post(t, ratio.OpSendSMS, jwtOf(first), ratio.SendSMSRequest{PhoneNumber: phone}).wantError(t, http.StatusConflict, ratio.CodeAlreadyExistsPhone)
	// 4-5. SMS again without the JWT, as the first factor: the user's JWT.
	sms := e.smsAuth(t, phone, "")
	if sms.UserMask == nil || sms.UserMask.ID != u.ID || sms.User == nil || sms.User.ID != u.ID {
		t.Fatalf("SMS first: userMask %+v user %+v, want user %s", sms.UserMask, sms.User, u.ID)
	}
	if sms.UserMask.PhoneMask != phone[len(phone)-4:] || sms.UserMask.EmailMask != "ret...@example.com" {
		t.Errorf("userMask %+v, want phone and email masks", sms.UserMask)
	}
	// 6-7. Email with that JWT: the two-factor JWT.
	final := e.emailAuth(t, email, jwtOf(sms))
	if got := factors(t, final.SessionJWT); !slices.Equal(got, []string{"email", "sms"}) {
		t.Fatalf("final JWT factors %v, want [email sms]", got)
	}
	if final.UserMask == nil || final.UserMask.ID != u.ID {
		t.Fatalf("final userMask %+v, want user %s", final.UserMask, u.ID)
	}
	// 8. Add the wallet.
	r := e.post(t, ratio.OpAddWalletToUser, jwtOf(final), ratio.AddWalletRequest{WalletAddress: w.addr, WalletType: ratio.WalletTypeEVM})
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "{}" {
		t.Fatalf("addToUser: %d %s, want 200 {}", r.status, r.body)
	}
	s := e.srv.Stats()
	if s.AddToUser[w.addr] != 1 || s.Calls[ratio.OpSendSMS.Route()] != 2 || s.Calls[ratio.OpAddWalletToUser.Route()] != 1 {
		t.Errorf("Stats() = %+v, want addToUser 1 for the wallet, 2 SMS sends, 1 addToUser call", s)
	}

	// The wallet now signs in as the user, which verifies it.
	again := e.walletAuth(t, w, "")
	if again.UserMask == nil || again.UserMask.ID != u.ID {
		t.Fatalf("wallet after linking: userMask %+v, want user %s", again.UserMask, u.ID)
	}
	// Verified, no other user can take it.
	otherPhone := newPhone()
	e.seed(t, otherPhone, "second@example.com")
	other := jwtOf(e.emailAuth(t, "second@example.com", jwtOf(e.smsAuth(t, otherPhone, ""))))
	e.post(t, ratio.OpAddWalletToUser, other, ratio.AddWalletRequest{WalletAddress: w.addr, WalletType: ratio.WalletTypeEVM}).
		wantError(t, http.StatusConflict, ratio.CodeAlreadyExistsWalletAddress)
	ch := e.start(t, w, other)
	e.post(t, ratio.OpAuthenticateWallet, other, ratio.AuthenticateWalletRequest{WalletAddress: w.addr, WalletType: ratio.WalletTypeEVM, Signature: w.sign(t, ch)}).
		wantError(t, http.StatusConflict, ratio.CodeAlreadyExistsWalletAddress)
}

// TestLink_SMSAndEmailFirst is seed 000's "SMS and Email First": with the
// two-factor JWT, signing a challenge links the wallet automatically.
func TestLink_SMSAndEmailFirst(t *testing.T) {
	e := newEnv(t)
	phone, email := newPhone(), "first@example.com"
	u := e.seed(t, phone, email)
	jwt := jwtOf(e.emailAuth(t, email, jwtOf(e.smsAuth(t, phone, ""))))
	w := newWallet(t)
	linked := e.walletAuth(t, w, jwt)
	if linked.UserMask == nil || linked.UserMask.ID != u.ID {
		t.Fatalf("wallet with the user's JWT: userMask %+v, want user %s", linked.UserMask, u.ID)
	}
	if got := factors(t, linked.SessionJWT); !slices.Equal(got, []string{"crypto_wallet", "email", "sms"}) {
		t.Errorf("factors %v, want all three", got)
	}
	var ws ratio.Wallets
	e.get(t, "/v1/users/"+u.ID+"/wallets", jwtOf(linked)).decode(t, &ws)
	if len(ws.Items) != 1 || ws.Items[0].Address != w.addr {
		t.Errorf("wallets %+v, want %s", ws.Items, w.addr)
	}
	if again := e.walletAuth(t, w, ""); again.UserMask == nil || again.UserMask.ID != u.ID {
		t.Errorf("the linked wallet alone: userMask %+v, want user %s", again.UserMask, u.ID)
	}
	if s := e.srv.Stats(); len(s.AddToUser) != 0 {
		t.Errorf("AddToUser %v, want none: the link is not an addToUser", s.AddToUser)
	}
}

// TestSignupThenSignin is seeds 003 and 004: wallet then SMS to create a
// user, then signing in with the same two factors.
func TestSignupThenSignin(t *testing.T) {
	e := newEnv(t)
	s := e.newSignup(t, "signup@example.com")
	var u ratio.User
	e.post(t, ratio.OpCreateUser, s.jwt, s.req).decode(t, &u)

	in := e.walletAuth(t, s.wallet, "")
	if in.UserMask == nil || in.UserMask.ID != u.ID {
		t.Fatalf("sign-in wallet: userMask %+v, want user %s", in.UserMask, u.ID)
	}
	both := e.smsAuth(t, s.req.Phone, jwtOf(in))
	if both.User == nil || both.User.ID != u.ID {
		t.Fatalf("sign-in SMS: user %+v, want %s", both.User, u.ID)
	}
	if got := factors(t, both.SessionJWT); !slices.Equal(got, []string{"crypto_wallet", "sms"}) {
		t.Errorf("factors %v, want [crypto_wallet sms]", got)
	}
	r := e.post(t, ratio.OpAddWalletToUser, jwtOf(both), ratio.AddWalletRequest{WalletAddress: newWallet(t).addr, WalletType: ratio.WalletTypeEVM})
	if r.status != http.StatusOK {
		t.Errorf("addToUser with SMS and wallet: %d %s", r.status, r.body)
	}
}
