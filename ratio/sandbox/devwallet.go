package sandbox

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ratioflow/ratioflow/ratio"
)

// Wallet is a development wallet: a secp256k1 key that plays the user's
// wallet app in demos and tests, against the sandbox or any server that
// checks EIP-191 signatures. Its key is in memory only; never use it for
// funds.
type Wallet struct {
	// Key is the wallet's private key.
	Key *ecdsa.PrivateKey
	// Address is the key's Ethereum address in its EIP-55 checksummed
	// form, 0x and 40 hex digits, as a wallet app shows it.
	Address string
}

// NewWallet returns a wallet with a fresh random key.
func NewWallet() (*Wallet, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("sandbox: generate a wallet key: %w", err)
	}
	return walletOf(key), nil
}

// ParseWallet returns the wallet of a private key given as 64 hex digits,
// with or without 0x, so that a demo can keep one address across runs. A
// malformed key is an error that does not repeat it.
func ParseWallet(hexKey string) (*Wallet, error) {
	key, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(hexKey), "0x"))
	if err != nil {
		return nil, errors.New("sandbox: a wallet key is 64 hex digits, a secp256k1 private key")
	}
	return walletOf(key), nil
}

// walletOf returns key's wallet.
func walletOf(key *ecdsa.PrivateKey) *Wallet {
	return &Wallet{Key: key, Address: crypto.PubkeyToAddress(key.PublicKey).Hex()}
}

// Sign signs msg, such as a cryptoWallet:start challenge, the way a
// wallet's personal_sign does (EIP-191, version 0x45), and returns the
// signature as wallets send it: 0x and 130 hex digits, v 27 or 28.
func (w *Wallet) Sign(msg string) (string, error) {
	return ratio.SignPersonal(w.Key, msg)
}
