package sandbox

import (
	"encoding/base64"
	"net/http"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ratioflow/ratioflow/ratio"
)

// The crypto wallet endpoints: a challenge, its EIP-191 signature, and
// adding a wallet to a user.

// challengePrefix starts every challenge, as in Ratio's docs.
const challengePrefix = "Signing in with Ratio: "

// walletBody is the body of the three wallet calls, with the legacy
// walletNetwork field that addToUser's 2023 type lacks.
type walletBody struct {
	WalletAddress string `json:"walletAddress"`
	WalletType    string `json:"walletType"`
	WalletNetwork string `json:"walletNetwork"`
	Signature     string `json:"signature"`
}

// parseWallet checks a wallet address and its type: walletType "EVM", or
// the legacy walletNetwork "ETHEREUM" or "POLYGON" instead.
func parseWallet(b walletBody) (common.Address, error) {
	addr, err := ratio.ParseWalletAddress(b.WalletAddress)
	if err != nil {
		return common.Address{}, inputFail(err)
	}
	switch {
	case b.WalletType == ratio.WalletTypeEVM:
	case b.WalletType != "":
		return common.Address{}, fail(http.StatusBadRequest, ratio.CodeInvalidWalletType, "walletType must be %q", ratio.WalletTypeEVM)
	case b.WalletNetwork == ratio.WalletNetworkEthereum, b.WalletNetwork == ratio.WalletNetworkPolygon:
	case b.WalletNetwork != "":
		return common.Address{}, fail(http.StatusBadRequest, ratio.CodeInvalidWalletType, "walletNetwork must be %q or %q", ratio.WalletNetworkEthereum, ratio.WalletNetworkPolygon)
	default:
		return common.Address{}, fail(http.StatusBadRequest, ratio.CodeMissingWalletType, "walletType is missing")
	}
	return addr, nil
}

// newChallenge returns "Signing in with Ratio: " and 80 random base64url
// characters.
func (h *Handler) newChallenge() string {
	b := make([]byte, 60)
	h.readRand(b)
	return challengePrefix + base64.RawURLEncoding.EncodeToString(b)
}

// walletRequest reads what the three wallet calls start with, in the order
// Ratio checks it: the Bearer JWT (required or not), the body, the address.
func (h *Handler) walletRequest(c *call, bearerRequired bool) (*claims, walletBody, common.Address, error) {
	var b walletBody
	cl, err := h.parseBearer(c, bearerRequired)
	if err != nil {
		return nil, b, common.Address{}, err
	}
	if err := decodeBody(c.body, &b); err != nil {
		return nil, b, common.Address{}, err
	}
	addr, err := parseWallet(b)
	return cl, b, addr, err
}

// startWallet serves cryptoWallet:start: a new challenge for the wallet,
// superseding the previous one.
func (h *Handler) startWallet(c *call) (int, any, error) {
	cl, _, addr, err := h.walletRequest(c, false)
	if err != nil {
		return 0, nil, err
	}
	text := h.newChallenge()
	err = h.locked(func() error {
		if _, err := h.useOptional(c, cl); err != nil {
			return err
		}
		h.m.challenges[addr] = challenge{text: text, expires: c.now.Add(h.cfg.ChallengeLifetime)}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ratio.StartWalletResponse{Challenge: text}, nil
}

// authenticateWallet serves cryptoWallet:authenticate. The signature is
// checked outside the lock, then the challenge is consumed if it is still
// the active one.
func (h *Handler) authenticateWallet(c *call) (int, any, error) {
	cl, b, addr, err := h.walletRequest(c, false)
	if err != nil {
		return 0, nil, err
	}
	if _, err := ratio.ParseSignature(b.Signature); err != nil {
		return 0, nil, inputFail(err)
	}
	var ch challenge
	err = h.locked(func() error {
		var ok bool
		ch, ok = h.m.challenges[addr]
		return activeChallenge(ch, ok, c.now)
	})
	if err != nil {
		return 0, nil, err
	}
	if err := ratio.VerifySignature(addr, ch.text, b.Signature); err != nil {
		return 0, nil, fail(http.StatusUnauthorized, ratio.CodeInvalidSignature, "the signature was not made by this wallet's key over its active challenge")
	}
	var a authAnswer
	err = h.locked(func() error {
		now, ok := h.m.challenges[addr]
		if err := activeChallenge(now, ok, c.now); err != nil {
			return err
		}
		if now.text != ch.text {
			return fail(http.StatusUnauthorized, ratio.CodeInvalidSignature, "the challenge was superseded by a newer cryptoWallet:start")
		}
		prev, err := h.useOptional(c, cl)
		if err != nil {
			return err
		}
		userID, err := h.walletOwner(addr, prev, c.now)
		if err != nil {
			return err
		}
		delete(h.m.challenges, addr)
		f := factor{kind: factorWallet, at: c.now, addr: addr}
		a = h.answer(h.join(c.now, prev, f, userID))
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return h.response(c.now, a)
}

// activeChallenge checks that a wallet has a challenge that has not
// expired.
func activeChallenge(ch challenge, ok bool, now time.Time) error {
	if !ok {
		return fail(http.StatusUnauthorized, ratio.CodeInvalidSignature, "the wallet has no active challenge: call cryptoWallet:start first")
	}
	if !now.Before(ch.expires) {
		return fail(http.StatusUnauthorized, ratio.CodeInvalidSignature, "the wallet's challenge expired: call cryptoWallet:start again")
	}
	return nil
}

// walletOwner applies a successful wallet signature to the model and
// returns the user the new session is bound to ("" for none):
//   - with a JWT of user U ("Existing Authentication Factor First"), the
//     wallet becomes U's verified wallet, unless another user verified it;
//   - with a JWT of nobody, a wallet that is a user's is a conflict (as a
//     user's phone is for sms:send);
//   - without a JWT, the wallet's user, if any; an unverified wallet is
//     verified by the signature.
//
// The caller holds h.mu.
func (h *Handler) walletOwner(addr common.Address, prev *session, now time.Time) (string, error) {
	w := h.m.wallets[addr]
	switch {
	case prev != nil && prev.userID != "":
		if w != nil && w.userID != prev.userID && w.verified {
			return "", fail(http.StatusConflict, ratio.CodeAlreadyExistsWalletAddress, "the wallet address is verified on another user")
		}
		h.attachWallet(addr, prev.userID, true, now)
		return prev.userID, nil
	case prev != nil && w != nil:
		return "", fail(http.StatusConflict, ratio.CodeAlreadyExistsWalletAddress, "the wallet address belongs to another account than the session's")
	case w != nil:
		if !w.verified {
			w.verified, w.updated = true, now
		}
		return w.userID, nil
	}
	return "", nil
}

// attachWallet makes addr a signing wallet of the user, verified or not,
// moving it from another user if needed (a moved wallet is a new record).
// The caller holds h.mu.
func (h *Handler) attachWallet(addr common.Address, userID string, verified bool, now time.Time) {
	m := h.m
	w := m.wallets[addr]
	if w != nil && w.userID != userID {
		if old := m.users[w.userID]; old != nil {
			old.wallets = slices.DeleteFunc(old.wallets, func(a common.Address) bool { return a == addr })
		}
		w = nil
	}
	if w == nil {
		m.wallets[addr] = &wallet{id: newUUID(), addr: addr, userID: userID, verified: verified, created: now, updated: now}
		if u := m.users[userID]; u != nil {
			u.wallets = append(u.wallets, addr)
		}
		return
	}
	if verified && !w.verified {
		w.verified, w.updated = true, now
	}
}

// addWalletToUser serves cryptoWallet:addToUser: an unverified wallet for
// the two-factor session's user.
func (h *Handler) addWalletToUser(c *call) (int, any, error) {
	cl, _, addr, err := h.walletRequest(c, true)
	if err != nil {
		return 0, nil, err
	}
	err = h.locked(func() error {
		s, err := h.useTwoFactor(c, cl)
		if err != nil {
			return err
		}
		if s.userID == "" {
			return fail(http.StatusForbidden, ratio.CodeMFARequired, "the session belongs to no user yet: create the user first")
		}
		if w := h.m.wallets[addr]; w != nil {
			if w.userID == s.userID {
				return fail(http.StatusConflict, ratio.CodeAlreadyExistsWalletAddress, "the wallet address is already on this user")
			}
			if w.verified {
				return fail(http.StatusConflict, ratio.CodeAlreadyExistsWalletAddress, "the wallet address is verified on another user")
			}
		}
		h.attachWallet(addr, s.userID, false, c.now)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	h.countAdd(addr)
	return http.StatusOK, struct{}{}, nil
}
