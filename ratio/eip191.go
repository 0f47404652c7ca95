package ratio

import (
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// EIP-191 personal_sign, the way every Ethereum wallet signs Ratio's
// challenge. Only go-ethereum's crypto and common packages are used
// (accounts would pull in dozens of packages for one function).

type bigInt = big.Int

// secp256k1halfN is half the order of the secp256k1 curve: a signature's s
// must not exceed it (EIP-2).
var secp256k1halfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// ErrSignatureMismatch means a well-formed signature was made by another key
// than the wallet address's. It matches ErrInvalidSignature.
var ErrSignatureMismatch = &InputError{Field: FieldSignature, Reason: "was not made by the wallet address's key over this challenge"}

// PersonalSignHash returns the EIP-191 (version 0x45) hash of msg:
// Keccak-256 of "\x19Ethereum Signed Message:\n", the decimal length of msg,
// and msg.
func PersonalSignHash(msg []byte) []byte {
	prefix := "\x19Ethereum Signed Message:\n" + strconv.Itoa(len(msg))
	return crypto.Keccak256([]byte(prefix), msg)
}

// RecoverAddress returns the address whose key made sig over msg with
// personal_sign. sig is a hex signature as ParseSignature accepts it.
func RecoverAddress(msg, sig string) (common.Address, error) {
	raw, err := ParseSignature(sig)
	if err != nil {
		return common.Address{}, err
	}
	pub, err := crypto.SigToPub(PersonalSignHash([]byte(msg)), raw)
	if err != nil {
		return common.Address{}, inputErr(FieldSignature, "no public key can be recovered from it")
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// VerifySignature checks that sig is address's personal_sign signature of
// msg. It returns an *InputError for a malformed signature and
// ErrSignatureMismatch for another signer.
func VerifySignature(address common.Address, msg, sig string) error {
	got, err := RecoverAddress(msg, sig)
	if err != nil {
		return err
	}
	if got != address {
		return ErrSignatureMismatch
	}
	return nil
}

// SignPersonal signs msg with key as a wallet's personal_sign does and
// returns the signature as wallets send it: 0x and 130 hex digits, v 27 or 28.
// Tests, the demo and the load generator use it to play the user's wallet.
func SignPersonal(key *ecdsa.PrivateKey, msg string) (string, error) {
	if key == nil {
		return "", errors.New("ratio: SignPersonal: nil key")
	}
	sig, err := crypto.Sign(PersonalSignHash([]byte(msg)), key)
	if err != nil {
		return "", err
	}
	sig[64] += 27
	return hexutil.Encode(sig), nil
}
