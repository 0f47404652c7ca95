package sandbox_test

import (
	"crypto/ecdsa"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

var challengeRE = regexp.MustCompile(`^Signing in with Ratio: [A-Za-z0-9_-]{80}$`)

func TestStartWallet(t *testing.T) {
	e := newEnv(t)
	w := newWallet(t)
	lower := strings.ToLower(w.addr)
	mixedBad := "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266" // ethersAddress with one letter's case changed
	tests := []struct {
		name       string
		raw        string
		wantStatus int
		wantCode   string
	}{
		{"walletType EVM", `{"walletAddress":"` + w.addr + `","walletType":"EVM"}`, 200, ""},
		{"legacy walletNetwork ETHEREUM", `{"walletAddress":"` + w.addr + `","walletNetwork":"ETHEREUM"}`, 200, ""},
		{"legacy walletNetwork POLYGON", `{"walletAddress":"` + w.addr + `","walletNetwork":"POLYGON"}`, 200, ""},
		{"all lower-case address", `{"walletAddress":"` + lower + `","walletType":"EVM"}`, 200, ""},
		{"missing address", `{"walletType":"EVM"}`, 400, ratio.CodeMissingWalletAddress},
		{"address not hex", `{"walletAddress":"0xzz","walletType":"EVM"}`, 400, ratio.CodeInvalidWalletAddress},
		{"address too short", `{"walletAddress":"0x1234","walletType":"EVM"}`, 400, ratio.CodeInvalidWalletAddress},
		{"address with a bad EIP-55 checksum", `{"walletAddress":"` + mixedBad + `","walletType":"EVM"}`, 400, ratio.CodeInvalidWalletAddress},
		{"walletType SOLANA", `{"walletAddress":"` + w.addr + `","walletType":"SOLANA"}`, 400, ratio.CodeInvalidWalletType},
		{"walletNetwork SOLANA", `{"walletAddress":"` + w.addr + `","walletNetwork":"SOLANA"}`, 400, ratio.CodeInvalidWalletType},
		{"no type nor network", `{"walletAddress":"` + w.addr + `"}`, 400, ratio.CodeMissingWalletType},
		{"malformed JSON", `{"walletAddress":`, 400, ratio.CodeInvalidBody},
		{"empty body", ``, 400, ratio.CodeInvalidBody},
		{"address is a number", `{"walletAddress":12,"walletType":"EVM"}`, 400, ratio.CodeInvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postRaw(t, ratio.OpStartWallet, "", tt.raw)
			if tt.wantCode != "" {
				r.wantError(t, tt.wantStatus, tt.wantCode)
				return
			}
			var sr ratio.StartWalletResponse
			r.decode(t, &sr)
			if !challengeRE.MatchString(sr.Challenge) {
				t.Errorf("challenge %q, want %s", sr.Challenge, challengeRE)
			}
		})
	}
}

func TestAuthenticateWallet(t *testing.T) {
	e := newEnv(t)
	other := newWallet(t)
	type sigFunc func(t *testing.T, w wallet, challenge string) string
	signed := func(t *testing.T, w wallet, ch string) string { return w.sign(t, ch) }
	tests := []struct {
		name       string
		seeded     bool          // the wallet is a user's verified wallet
		noStart    bool          // no cryptoWallet:start first
		advance    time.Duration // clock moves after the start
		sig        sigFunc
		wantStatus int
		wantCode   string
	}{
		{name: "new wallet", sig: signed, wantStatus: 200},
		{name: "a user's wallet", seeded: true, sig: signed, wantStatus: 200},
		{name: "signature without 0x", sig: func(t *testing.T, w wallet, ch string) string {
			return strings.TrimPrefix(w.sign(t, ch), "0x")
		}, wantStatus: 200},
		{name: "v as 0 or 1", sig: func(t *testing.T, w wallet, ch string) string {
			return withV(t, w.sign(t, ch), -27)
		}, wantStatus: 200},
		{name: "just before the challenge expires", advance: 5*time.Minute - time.Second, sig: signed, wantStatus: 200},
		{name: "missing signature", sig: func(*testing.T, wallet, string) string { return "" },
			wantStatus: 400, wantCode: ratio.CodeMissingSignature},
		{name: "signature too short", sig: func(t *testing.T, w wallet, ch string) string { return w.sign(t, ch)[:100] },
			wantStatus: 400, wantCode: ratio.CodeInvalidSignature},
		{name: "signature not hex", sig: func(t *testing.T, w wallet, ch string) string { return "0x" + strings.Repeat("zz", 65) },
			wantStatus: 400, wantCode: ratio.CodeInvalidSignature},
		{name: "bad v", sig: func(t *testing.T, w wallet, ch string) string { return withV(t, w.sign(t, ch), 10) },
			wantStatus: 400, wantCode: ratio.CodeInvalidSignature},
		{name: "signed by another key", sig: func(t *testing.T, _ wallet, ch string) string { return other.sign(t, ch) },
			wantStatus: 401, wantCode: ratio.CodeInvalidSignature},
		{name: "signed another text", sig: func(t *testing.T, w wallet, ch string) string { return w.sign(t, ch+".") },
			wantStatus: 401, wantCode: ratio.CodeInvalidSignature},
		{name: "tampered signature", sig: func(t *testing.T, w wallet, ch string) string { return tamper(t, w.sign(t, ch)) },
			wantStatus: 401, wantCode: ratio.CodeInvalidSignature},
		{name: "no challenge", noStart: true, sig: func(t *testing.T, w wallet, _ string) string { return w.sign(t, "Signing in with Ratio: x") },
			wantStatus: 401, wantCode: ratio.CodeInvalidSignature},
		{name: "expired challenge", advance: 5 * time.Minute, sig: signed, wantStatus: 401, wantCode: ratio.CodeInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWallet(t)
			if tt.seeded {
				e.seed(t, newPhone(), "u"+w.addr[2:10]+"@example.com", w)
			}
			ch := ""
			if !tt.noStart {
				ch = e.start(t, w, "")
			}
			e.clock.Advance(tt.advance)
			sig := tt.sig(t, w, ch)
			r := e.post(t, ratio.OpAuthenticateWallet, "", ratio.AuthenticateWalletRequest{WalletAddress: w.addr, WalletType: ratio.WalletTypeEVM, Signature: sig})
			if tt.wantCode != "" {
				eb := r.wantError(t, tt.wantStatus, tt.wantCode)
				if sig != "" && strings.Contains(strings.ToLower(eb.Message), strings.ToLower(strings.TrimPrefix(sig, "0x"))[:16]) {
					t.Errorf("error message %q echoes the signature", eb.Message)
				}
				return
			}
			var ar ratio.AuthResponse
			r.decode(t, &ar)
			if ar.SessionJWT.IsZero() {
				t.Fatal("no sessionJwt")
			}
			if got := ar.UserMask != nil; got != tt.seeded {
				t.Errorf("userMask present = %v, want %v (a wallet Ratio does not know gets none)", got, tt.seeded)
			}
			if got := factors(t, ar.SessionJWT); len(got) != 1 || got[0] != "crypto_wallet" {
				t.Errorf("factors %v, want [crypto_wallet]", got)
			}
		})
	}
}

func TestAuthenticateWallet_ChallengeIsSingleUseAndSuperseded(t *testing.T) {
	e := newEnv(t)
	w := newWallet(t)
	auth := func(sig string) resp {
		return e.post(t, ratio.OpAuthenticateWallet, "", ratio.AuthenticateWalletRequest{WalletAddress: w.addr, WalletType: ratio.WalletTypeEVM, Signature: sig})
	}
	first := e.start(t, w, "")
	second := e.start(t, w, "")
	if first == second {
		t.Fatal("two starts gave the same challenge")
	}
	auth(w.sign(t, first)).wantError(t, 401, ratio.CodeInvalidSignature)
	sig := w.sign(t, second)
	if r := auth(sig); r.status != 200 {
		t.Fatalf("authenticate with the active challenge: %d %s", r.status, r.body)
	}
	auth(sig).wantError(t, 401, ratio.CodeInvalidSignature)
}

func TestAuthenticateWallet_LegacyWalletNetwork(t *testing.T) {
	e := newEnv(t)
	w := newWallet(t)
	var sr ratio.StartWalletResponse
	e.postRaw(t, ratio.OpStartWallet, "", `{"walletAddress":"`+w.addr+`","walletNetwork":"POLYGON"}`).decode(t, &sr)
	r := e.postRaw(t, ratio.OpAuthenticateWallet, "", `{"walletAddress":"`+strings.ToLower(w.addr)+`","walletNetwork":"ETHEREUM","signature":"`+w.sign(t, sr.Challenge)+`"}`)
	if r.status != 200 {
		t.Fatalf("legacy authenticate: %d %s", r.status, r.body)
	}
}

// A signature made by ethers.js 6.17.0, a standard Ethereum wallet
// library: new ethers.Wallet(ethersKey).signMessage(ethersChallenge). With
// a Rand that reads zeros the sandbox issues exactly that challenge.
const (
	ethersKey       = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	ethersAddress   = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
	ethersChallenge = "Signing in with Ratio: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	ethersSignature = "0xbcf7aa0c02ece20b9c125e5052b9aba404146dde0b3999bbfee5411df38948d71604b346b968e1321209ca7747765d899e0ed32baa3e0576b9ae3e05c192f5111c"
)

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestAuthenticateWallet_EthersSignature(t *testing.T) {
	e := newEnv(t, sandbox.Config{Rand: zeroReader{}})
	var sr ratio.StartWalletResponse
	e.post(t, ratio.OpStartWallet, "", ratio.StartWalletRequest{WalletAddress: ethersAddress, WalletType: ratio.WalletTypeEVM}).decode(t, &sr)
	if sr.Challenge != ethersChallenge {
		t.Fatalf("challenge %q, want %q", sr.Challenge, ethersChallenge)
	}
	r := e.post(t, ratio.OpAuthenticateWallet, "", ratio.AuthenticateWalletRequest{WalletAddress: ethersAddress, WalletType: ratio.WalletTypeEVM, Signature: ethersSignature})
	if r.status != 200 {
		t.Fatalf("ethers.js signature refused: %d %s", r.status, r.body)
	}
	// The same key through go-ethereum signs the same bytes (RFC 6979).
	key, err := hexKey(ethersKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ratio.SignPersonal(key, ethersChallenge); got != ethersSignature {
		t.Errorf("SignPersonal = %s, want ethers.js's %s", got, ethersSignature)
	}
}

func hexKey(k string) (*ecdsa.PrivateKey, error) {
	return crypto.HexToECDSA(strings.TrimPrefix(k, "0x"))
}

// withV returns sig with its last byte (v) changed: by delta if negative,
// set to it otherwise.
func withV(t *testing.T, sig string, v int) string {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(sig, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	if v < 0 {
		b[64] = byte(int(b[64]) + v)
	} else {
		b[64] = byte(v)
	}
	return "0x" + hex.EncodeToString(b)
}

// tamper flips a bit of r.
func tamper(t *testing.T, sig string) string {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(sig, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	b[10] ^= 0x01
	return "0x" + hex.EncodeToString(b)
}

func TestAddToUser(t *testing.T) {
	e := newEnv(t)
	phone, email := newPhone(), "linker@example.com"
	u := e.seed(t, phone, email)
	twoFactor := jwtOf(e.emailAuth(t, email, jwtOf(e.smsAuth(t, phone, ""))))
	smsOnly := jwtOf(e.smsAuth(t, phone, ""))
	linked := newWallet(t) // linked, verified, by authenticating it with the user's JWT
	emailWallet := jwtOf(e.walletAuth(t, linked, jwtOf(e.emailAuth(t, email, ""))))
	nobody := jwtOf(e.smsAuth(t, newPhone(), jwtOf(e.walletAuth(t, newWallet(t), ""))))

	otherPhone := newPhone()
	verifiedElsewhere := newWallet(t)
	e.seed(t, otherPhone, "other@example.com", verifiedElsewhere)
	otherTwoFactor := jwtOf(e.emailAuth(t, "other@example.com", jwtOf(e.smsAuth(t, otherPhone, ""))))
	unverifiedElsewhere := newWallet(t)
	add := func(jwt string, w wallet) resp {
		return e.post(t, ratio.OpAddWalletToUser, jwt, ratio.AddWalletRequest{WalletAddress: w.addr, WalletType: ratio.WalletTypeEVM})
	}
	if r := add(otherTwoFactor, unverifiedElsewhere); r.status != 200 {
		t.Fatalf("add to the other user: %d %s", r.status, r.body)
	}
	mine := newWallet(t)

	tests := []struct {
		name       string
		jwt        string
		w          wallet
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"no JWT", "", newWallet(t), 401, ratio.CodeMissingAuthorization, ""},
		{"malformed JWT", "not-a-jwt", newWallet(t), 401, ratio.CodeInvalidAuthorization, ""},
		{"SMS only", smsOnly, newWallet(t), 403, ratio.CodeMFARequired, "second authentication factor"},
		{"email and wallet", emailWallet, newWallet(t), 403, ratio.CodeMFARequired, "email and wallet are not a valid factor pair"},
		{"two factors but no user", nobody, newWallet(t), 403, ratio.CodeMFARequired, "no user"},
		{"new wallet", twoFactor, mine, 200, "", ""},
		{"same wallet again", twoFactor, mine, 409, ratio.CodeAlreadyExistsWalletAddress, "already on this user"},
		{"verified wallet of another user", twoFactor, verifiedElsewhere, 409, ratio.CodeAlreadyExistsWalletAddress, "verified on another user"},
		{"unverified wallet of another user moves", twoFactor, unverifiedElsewhere, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := add(tt.jwt, tt.w)
			if tt.wantCode == "" {
				if r.status != tt.wantStatus || strings.TrimSpace(string(r.body)) != "{}" {
					t.Fatalf("addToUser = %d %s, want %d {}", r.status, r.body, tt.wantStatus)
				}
				return
			}
			eb := r.wantError(t, tt.wantStatus, tt.wantCode)
			if !strings.Contains(eb.Message, tt.wantMsg) {
				t.Errorf("message %q, want it to say %q", eb.Message, tt.wantMsg)
			}
		})
	}
	t.Run("bad bodies", func(t *testing.T) {
		e.postRaw(t, ratio.OpAddWalletToUser, twoFactor, `{"walletAddress":"0x12","walletType":"EVM"}`).wantError(t, 400, ratio.CodeInvalidWalletAddress)
		e.postRaw(t, ratio.OpAddWalletToUser, twoFactor, `{"walletAddress":"`+newWallet(t).addr+`"}`).wantError(t, 400, ratio.CodeMissingWalletType)
	})
	t.Run("lists and stats", func(t *testing.T) {
		var ws ratio.Wallets
		e.get(t, "/v1/users/"+u.ID+"/wallets", twoFactor).decode(t, &ws)
		got := map[string]bool{}
		for _, w := range ws.Items {
			got[w.Address] = true
		}
		if len(ws.Items) != 3 || !got[linked.addr] || !got[mine.addr] || !got[unverifiedElsewhere.addr] {
			t.Errorf("wallets %+v, want %s, %s and %s", ws.Items, linked.addr, mine.addr, unverifiedElsewhere.addr)
		}
		s := e.srv.Stats()
		if s.AddToUser[mine.addr] != 1 || s.AddToUser[unverifiedElsewhere.addr] != 2 || s.AddToUser[verifiedElsewhere.addr] != 0 {
			t.Errorf("Stats().AddToUser = %v", s.AddToUser)
		}
	})
}
