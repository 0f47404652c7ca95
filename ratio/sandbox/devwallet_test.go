package sandbox_test

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// TestNewWalletSignsForItsAddress checks that a new wallet's address is
// EIP-55 and that its signatures recover to it the EIP-191 way.
func TestNewWalletSignsForItsAddress(t *testing.T) {
	w, err := sandbox.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	if !common.IsHexAddress(w.Address) || common.HexToAddress(w.Address).Hex() != w.Address {
		t.Fatalf("address %q is not in its EIP-55 form", w.Address)
	}
	other, err := sandbox.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	if other.Address == w.Address {
		t.Fatalf("two new wallets share the address %s", w.Address)
	}
	const msg = "Signing in with Ratio: abc"
	sig, err := w.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ratio.VerifySignature(common.HexToAddress(w.Address), msg, sig); err != nil {
		t.Fatalf("the wallet's own signature does not verify: %v", err)
	}
	if err := ratio.VerifySignature(common.HexToAddress(other.Address), msg, sig); err == nil {
		t.Fatal("the signature verifies for another wallet's address")
	}
}

// TestParseWallet checks that a known key gives its known address, and
// that a malformed key is refused without being echoed.
func TestParseWallet(t *testing.T) {
	// The key 0x...01 is secp256k1's generator; its address is well known.
	w, err := sandbox.ParseWallet("0x0000000000000000000000000000000000000000000000000000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if want := "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"; w.Address != want {
		t.Fatalf("address = %s, want %s", w.Address, want)
	}
	for _, bad := range []string{"", "0x12", "zz" + strings.Repeat("1", 62), strings.Repeat("f", 64)} {
		_, err := sandbox.ParseWallet(bad)
		if err == nil {
			t.Fatalf("ParseWallet(%q) took it", bad)
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Fatalf("the error repeats the key: %v", err)
		}
	}
}
