package ratio_test

import (
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ratioflow/ratioflow/ratio"
)

func TestPersonalSignHash(t *testing.T) {
	// The value every wallet library gives for personal_sign("hello"),
	// e.g. ethers.hashMessage("hello").
	const want = "50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750"
	if got := hex.EncodeToString(ratio.PersonalSignHash([]byte("hello"))); got != want {
		t.Errorf("PersonalSignHash(hello) = %s, want %s", got, want)
	}
}

// TestSignPersonal_MatchesEthers: both sides use RFC 6979 nonces, so the
// signature of a fixed key and message is the same byte for byte.
func TestSignPersonal_MatchesEthers(t *testing.T) {
	key, err := crypto.HexToECDSA(testKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ratio.SignPersonal(key, testChallenge)
	if err != nil || got != testSignature {
		t.Errorf("SignPersonal() = %s, %v, want ethers' %s", got, err, testSignature)
	}
	addr, err := ratio.RecoverAddress(testChallenge, got)
	if err != nil || addr != common.HexToAddress(testAddress) {
		t.Errorf("RecoverAddress(SignPersonal()) = %s, %v, want %s", addr, err, testAddress)
	}
	if _, err := ratio.SignPersonal(nil, "x"); err == nil {
		t.Errorf("SignPersonal(nil key) = nil error, want an error")
	}
}

func TestSignPersonal_RoundTrip(t *testing.T) {
	key, err := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	if err != nil {
		t.Fatal(err)
	}
	want := crypto.PubkeyToAddress(key.PublicKey)
	for _, msg := range []string{"", "hello", testChallenge, strings.Repeat("é", 300)} {
		sig, err := ratio.SignPersonal(key, msg)
		if err != nil {
			t.Fatalf("SignPersonal(%q) = %v", msg, err)
		}
		if err := ratio.VerifySignature(want, msg, sig); err != nil {
			t.Errorf("VerifySignature(SignPersonal(%q)) = %v, want nil", msg, err)
		}
	}
}

func TestVerifySignature(t *testing.T) {
	addr := common.HexToAddress(testAddress)
	other := common.HexToAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
	tampered := []byte(testSignature)
	tampered[10] ^= 0x01 // one hex digit of r
	tests := []struct {
		name         string
		addr         common.Address
		msg, sig     string
		wantMismatch bool
		wantErr      bool
	}{
		{"ethers signature", addr, testChallenge, testSignature, false, false},
		{"without 0x", addr, testChallenge, testSignature[2:], false, false},
		{"other message", addr, testChallenge + ".", testSignature, true, true},
		{"other address", other, testChallenge, testSignature, true, true},
		{"tampered r", addr, testChallenge, string(tampered), false, true},
		{"malformed", addr, testChallenge, "0x1234", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ratio.VerifySignature(tt.addr, tt.msg, tt.sig)
			if (err != nil) != tt.wantErr {
				t.Fatalf("VerifySignature() = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ratio.ErrInvalidSignature) || !errors.Is(err, ratio.ErrInvalidInput) {
				t.Errorf("VerifySignature() = %v, want ErrInvalidSignature and ErrInvalidInput", err)
			}
			if tt.wantMismatch && !errors.Is(err, ratio.ErrSignatureMismatch) {
				t.Errorf("VerifySignature() = %v, want ErrSignatureMismatch", err)
			}
		})
	}
}

// withV returns testSignature with its last byte replaced.
func withV(v byte) string {
	return testSignature[:130] + hex.EncodeToString([]byte{v})
}

// highS returns the malleated twin of a signature: s replaced by N-s and
// v flipped. It recovers the same key, which is why EIP-2 refuses it.
func highS(t *testing.T, sig string) string {
	t.Helper()
	raw, err := hex.DecodeString(strings.TrimPrefix(sig, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	s := new(big.Int).SetBytes(raw[32:64])
	s.Sub(crypto.S256().Params().N, s)
	s.FillBytes(raw[32:64])
	raw[64] = 27 + 28 - raw[64] // 27 <-> 28
	twin := "0x" + hex.EncodeToString(raw)

	// The twin is a valid signature by the same key to a lax verifier.
	raw[64] -= 27
	pub, err := crypto.SigToPub(ratio.PersonalSignHash([]byte(testChallenge)), raw)
	if err != nil || crypto.PubkeyToAddress(*pub) != common.HexToAddress(testAddress) {
		t.Fatalf("the high-S twin does not recover the signer (%v): the test is wrong", err)
	}
	return twin
}

func TestParseSignature(t *testing.T) {
	tests := []struct {
		name    string
		sig     string
		wantV   byte
		wantErr string // part of the reason; "" for success
	}{
		{"0x prefix", testSignature, 1, ""},
		{"no prefix", testSignature[2:], 1, ""},
		{"0X prefix", "0X" + testSignature[2:], 1, ""},
		{"v 0", withV(0), 0, ""},
		{"v 1", withV(1), 1, ""},
		{"v 27", withV(27), 0, ""},
		{"v 28", withV(28), 1, ""},
		{"v 2", withV(2), 0, "recovery id"},
		{"v 29", withV(29), 0, "recovery id"},
		{"missing", "", 0, "missing"},
		{"short", testSignature[:128], 0, "65 bytes"},
		{"long", testSignature + "00", 0, "65 bytes"},
		{"double prefix", "0x0X" + testSignature[6:], 0, "65 bytes"},
		{"not hex", testSignature[:20] + "zz" + testSignature[22:], 0, "hexadecimal"},
		{"base58 of the docs", "2djd2cFZ9VU2zDWvUGqeHwvbiJZfTt3BMzDctDsEW7vM2QUTgTHjeM2rpFX9ZULeic3KptUh5ehipXDFcK5ecYiX", 0, "65 bytes"},
		{"zero r", "0x" + strings.Repeat("0", 64) + testSignature[66:], 0, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ratio.ParseSignature(tt.sig)
			checkInputErr(t, "ParseSignature", err, ratio.FieldSignature, tt.wantErr)
			if err == nil && (len(got) != 65 || got[64] != tt.wantV) {
				t.Errorf("ParseSignature() = %x, want 65 bytes ending in v=%d", got, tt.wantV)
			}
		})
	}
	t.Run("high S", func(t *testing.T) {
		_, err := ratio.ParseSignature(highS(t, testSignature))
		checkInputErr(t, "ParseSignature", err, ratio.FieldSignature, "high-S")
		if !errors.Is(err, ratio.ErrInvalidSignature) {
			t.Errorf("ParseSignature(high S) = %v, want ErrInvalidSignature", err)
		}
	})
}

// checkInputErr fails unless err is nil (wantReason "") or an *InputError
// on field whose reason contains wantReason.
func checkInputErr(t *testing.T, fn string, err error, field, wantReason string) {
	t.Helper()
	if wantReason == "" {
		if err != nil {
			t.Errorf("%s() = %v, want nil", fn, err)
		}
		return
	}
	var ie *ratio.InputError
	if !errors.As(err, &ie) || ie.Field != field || !strings.Contains(ie.Reason, wantReason) {
		t.Errorf("%s() = %v, want an *InputError on %s saying %q", fn, err, field, wantReason)
	}
	if !errors.Is(err, ratio.ErrInvalidInput) {
		t.Errorf("%s() = %v, want ErrInvalidInput", fn, err)
	}
}
