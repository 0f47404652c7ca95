package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

const walletAbout = `
A dev wallet, to play a user's wallet against a sandbox from a terminal
(the curl tour of the README does):

  new                    print a fresh key and its address
  sign --key KEY MESSAGE print the signature a wallet's personal_sign
                         (EIP-191) gives MESSAGE, e.g. a flow's challenge

The key is printed in the clear and anyone who reads it controls the
address: keep it for trying flows, never for funds. --key can also come
from RATIOFLOW_WALLET_KEY.
`

// envWalletKey is the variable --key of 'wallet sign' falls back on.
const envWalletKey = "RATIOFLOW_WALLET_KEY"

func runWallet(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("wallet", "wallet needs a subcommand: new or sign")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: ratioflow wallet new | sign --key KEY MESSAGE\n\n%s\n", strings.TrimSpace(walletAbout))
		return flag.ErrHelp
	case "new":
		return walletNew(e, args[1:])
	case "sign":
		return walletSign(e, args[1:])
	}
	return usageErrorf("wallet", "unknown wallet subcommand %q: new or sign", args[0])
}

// walletNew prints a fresh key and its address.
func walletNew(e *env, args []string) error {
	fs := flagSet(e, "wallet new", "", "Print a fresh dev key (64 hex digits) and its address, for 'wallet sign --key'.")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	w, err := sandbox.NewWallet()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "address  %s\nkey      %x\n", w.Address, crypto.FromECDSA(w.Key))
	fmt.Fprintln(e.stderr, "(a dev key in the clear: for trying flows, never for funds)")
	return nil
}

// walletSign prints the EIP-191 signature of the message with the key.
func walletSign(e *env, args []string) error {
	fs := flagSet(e, "wallet sign", "--key KEY MESSAGE",
		"Print the signature a wallet's personal_sign (EIP-191) gives MESSAGE: 0x and 130 hex digits,\n"+
			"the flow API's sign field. Quote MESSAGE so that the shell passes it whole.")
	keyHex := fs.String("key", "", "the key from 'wallet new': 64 hex digits ("+envWalletKey+" if not given)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := envFlags(fs, e.getenv, map[string]string{"key": envWalletKey}); err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usageErrorf("wallet sign", "missing the message to sign")
	case len(pos) > 1:
		return usageErrorf("wallet sign", "unexpected argument %q (quote the message so that it is one argument)", pos[1])
	case *keyHex == "":
		return usageErrorf("wallet sign", "give --key KEY (or set %s): the key 'ratioflow wallet new' printed", envWalletKey)
	}
	w, err := parseWalletKey(*keyHex)
	if err != nil {
		return usageErrorf("wallet sign", "--key: %v", err)
	}
	sig, err := w.Sign(pos[0])
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	fmt.Fprintln(e.stdout, sig)
	return nil
}

// parseWalletKey reads the wallet of a secp256k1 key of 64 hex digits, 0x
// or not. Its errors never repeat the key.
func parseWalletKey(s string) (*sandbox.Wallet, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	if len(s) != 64 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		return nil, fmt.Errorf("the key must be 64 hex digits, as 'ratioflow wallet new' prints (got %d characters)", len(s))
	}
	w, err := sandbox.ParseWallet(s)
	if err != nil {
		return nil, fmt.Errorf("not a valid secp256k1 key")
	}
	return w, nil
}
