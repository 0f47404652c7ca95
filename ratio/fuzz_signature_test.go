package ratio_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ratioflow/ratioflow/ratio"
)

var (
	curveN     = crypto.S256().Params().N
	curveHalfN = new(big.Int).Rsh(curveN, 1)
)

func FuzzParseSignature(f *testing.F) {
	low := strings.TrimPrefix(testSignature, "0x")
	for _, s := range []string{testSignature, low, "0X" + strings.ToUpper(low), low[:128] + "00", low[:128] + "01",
		low[:128] + "1d", low[:128] + "ff", "", "0x", testSignature[:131], testSignature + "00",
		"0x" + strings.Repeat("0", 130), "0x" + strings.Repeat("f", 128) + "1b", testSignature[:130] + "g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ratio.ParseSignature(s)
		if err != nil {
			wantInputError(t, "ParseSignature", err, ratio.FieldSignature)
			if !errors.Is(err, ratio.ErrInvalidSignature) {
				t.Fatalf("ParseSignature(%q) = %v, want it to match ErrInvalidSignature", s, err)
			}
			return
		}
		checkLowS(t, s, sig)
		// The forms of one signature (prefix, case, v as 0/1 or 27/28)
		// normalise to the same bytes.
		wallet := append(bytes.Clone(sig[:64]), sig[64]+27)
		for _, again := range []string{hex.EncodeToString(sig), "0x" + hex.EncodeToString(wallet),
			"0X" + strings.ToUpper(hex.EncodeToString(wallet))} {
			got, err := ratio.ParseSignature(again)
			if err != nil || !bytes.Equal(got, sig) {
				t.Fatalf("ParseSignature(%q) = %x, %v; want %x as for %q", again, got, err, sig, s)
			}
		}
	})
}

// checkLowS fails unless sig is 65 bytes with r and s in range, s in the
// lower half of the curve order and v 0 or 1.
func checkLowS(t *testing.T, s string, sig []byte) {
	t.Helper()
	if len(sig) != 65 {
		t.Fatalf("ParseSignature(%q) = %d bytes, want 65", s, len(sig))
	}
	r, sv := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if r.Sign() == 0 || r.Cmp(curveN) >= 0 || sv.Sign() == 0 || sv.Cmp(curveHalfN) > 0 || sig[64] > 1 {
		t.Fatalf("ParseSignature(%q) = %x: r, s or v out of range, or high S", s, sig)
	}
}

// FuzzVerifySignature signs a message with a key made from the input, as
// a wallet would, and checks that the signature verifies in every form a
// wallet may send it, that its malleated high-S twin is refused, and that
// a mutated copy never verifies as another valid signature of the same
// wallet and message.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("wallet"), testChallenge, uint8(0), byte(1))
	f.Add([]byte("wallet"), "", uint8(64), byte(27)) // v 27 -> 0: the same signature
	f.Add([]byte{}, "hello", uint8(64), byte(1))
	f.Add([]byte("k"), "\x19Ethereum Signed Message:\n", uint8(40), byte(0x80))
	f.Fuzz(func(t *testing.T, seed []byte, msg string, pos uint8, flip byte) {
		key, err := crypto.ToECDSA(crypto.Keccak256(seed))
		if err != nil {
			return // a hash beyond the curve order: not a key
		}
		addr := crypto.PubkeyToAddress(key.PublicKey)
		sig, err := ratio.SignPersonal(key, msg)
		if err != nil {
			t.Fatalf("SignPersonal() = %v", err)
		}
		if got := addressOf(t, addr.Hex()); ratio.VerifySignature(got, msg, sig) != nil {
			t.Fatalf("VerifySignature(%s, %q, %s) = %v, want nil", addr.Hex(), msg, sig, ratio.VerifySignature(got, msg, sig))
		}
		norm, err := ratio.ParseSignature(sig)
		if err != nil {
			t.Fatalf("ParseSignature(SignPersonal()) = %v", err)
		}
		checkLowS(t, sig, norm)
		if err := ratio.VerifySignature(addr, msg+"\x00", sig); !errors.Is(err, ratio.ErrSignatureMismatch) {
			t.Fatalf("VerifySignature over another message = %v, want ErrSignatureMismatch", err)
		}

		// The malleated twin (N-s, the other recovery id) recovers the same
		// key and must be refused as high-S.
		twin := bytes.Clone(norm)
		new(big.Int).Sub(curveN, new(big.Int).SetBytes(norm[32:64])).FillBytes(twin[32:64])
		twin[64] ^= 1
		err = ratio.VerifySignature(addr, msg, "0x"+hex.EncodeToString(twin))
		wantInputError(t, "VerifySignature(high-S twin)", err, ratio.FieldSignature)

		// A mutated copy: refused, or another signer, unless it normalises
		// to the very same signature (v 27 sent as 0).
		raw, _ := hex.DecodeString(sig[2:])
		raw[int(pos)%len(raw)] ^= max(flip, 1)
		mutated := "0x" + hex.EncodeToString(raw)
		if m, err := ratio.ParseSignature(mutated); err == nil && bytes.Equal(m, norm) {
			return
		}
		if err := ratio.VerifySignature(addr, msg, mutated); err == nil {
			t.Fatalf("VerifySignature(%s, %q) accepted %s, a mutation of %s", addr.Hex(), msg, mutated, sig)
		} else if !errors.Is(err, ratio.ErrInvalidSignature) {
			t.Fatalf("VerifySignature(mutated) = %v, want an error matching ErrInvalidSignature", err)
		}
	})
}
