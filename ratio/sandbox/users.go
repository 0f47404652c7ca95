package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

// The user endpoints: create a user, read a user and their wallets.

// createUserBody is CreateUserRequest with acceptedTerms kept raw, so that
// anything but the JSON boolean true is INVALID_ACCEPTED_TERMS, not
// INVALID_BODY.
type createUserBody struct {
	FirstName     string          `json:"firstName"`
	MiddleName    string          `json:"middleName"`
	LastName      string          `json:"lastName"`
	Email         string          `json:"email"`
	Country       string          `json:"country"`
	Phone         string          `json:"phone"`
	AcceptedTerms json.RawMessage `json:"acceptedTerms"`
}

// checkCreateUser checks a create-user body as Ratio does and returns the
// phone in E.164.
func checkCreateUser(b createUserBody) (string, error) {
	req := ratio.CreateUserRequest{
		FirstName: b.FirstName, MiddleName: b.MiddleName, LastName: b.LastName,
		Email: b.Email, Country: b.Country, Phone: b.Phone,
		AcceptedTerms: string(bytes.TrimSpace(b.AcceptedTerms)) == "true",
	}
	if err := ratio.CheckCreateUser(req); err != nil {
		var ie *ratio.InputError
		if errors.As(err, &ie) && ie.Field == "phone" {
			_, err := checkPhone(b.Phone)
			return "", err
		}
		return "", inputFail(err)
	}
	return checkPhone(b.Phone)
}

// createUser serves POST /v1/users: the session's two factors must include
// SMS, the phone must be the SMS factor's; the session is bound to the new
// user and its wallet factor, if any, becomes the user's verified wallet.
func (h *Handler) createUser(c *call) (int, any, error) {
	cl, err := h.parseBearer(c, true)
	if err != nil {
		return 0, nil, err
	}
	var b createUserBody
	if err := decodeBody(c.body, &b); err != nil {
		return 0, nil, err
	}
	var out *ratio.User
	err = h.locked(func() error {
		s, err := h.useTwoFactor(c, cl)
		if err != nil {
			return err
		}
		phone, err := checkCreateUser(b)
		if err != nil {
			return err
		}
		if err := h.checkNewUser(s, phone, b.Email); err != nil {
			return err
		}
		u := h.addUser(c.now, s.subject, b.FirstName, b.MiddleName, b.LastName, b.Email, b.Country, phone)
		if wf, ok := s.factor(factorWallet); ok {
			h.attachWallet(wf.addr, u.id, true, c.now)
		}
		s.userID = u.id
		out = u.view()
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, out, nil
}

// checkNewUser checks that the session may create a user with phone and
// email. The caller holds h.mu.
func (h *Handler) checkNewUser(s *session, phone, email string) error {
	m := h.m
	if s.userID != "" {
		return fail(http.StatusConflict, ratio.CodeAlreadyExistsUser, "the session already belongs to a user")
	}
	if sms, _ := s.factor(factorSMS); sms.value != phone {
		return fail(http.StatusBadRequest, ratio.CodeMismatchPhone, "phone does not match the phone number the session authenticated")
	}
	if ef, ok := s.factor(factorEmail); ok && !strings.EqualFold(ef.value, email) {
		return fail(http.StatusBadRequest, ratio.CodeMismatchEmail, "email does not match the email address the session authenticated")
	}
	if m.userByPhone[phone] != nil {
		return fail(http.StatusConflict, ratio.CodeAlreadyExistsPhone, "the phone number already exists on another user")
	}
	if m.userByEmail[emailKey(email)] != nil {
		return fail(http.StatusConflict, ratio.CodeAlreadyExistsEmail, "the email address already exists on another user")
	}
	if wf, ok := s.factor(factorWallet); ok {
		if w := m.wallets[wf.addr]; w != nil && w.verified {
			return fail(http.StatusConflict, ratio.CodeAlreadyExistsWalletAddress, "the session's wallet is verified on another user")
		}
	}
	return nil
}

// addUser adds a user whose phone and email are free. stytchID is the
// Stytch user of the session that created it ("" to make one). The caller
// holds h.mu.
func (h *Handler) addUser(now time.Time, stytchID, first, middle, last, email, country, phone string) *user {
	if stytchID == "" {
		stytchID = "user-test-" + newUUID()
	}
	u := &user{
		id: newUUID(), stytchID: stytchID, created: now, updated: now,
		first: first, middle: middle, last: last, email: email, country: country, phone: phone,
	}
	h.m.users[u.id] = u
	h.m.userByPhone[phone] = u
	h.m.userByEmail[emailKey(email)] = u
	return u
}

// sessionUser returns the user of the path's {userId}, which the session
// must be bound to: 400 INVALID_USER_ID, 404 NOT_FOUND_USER, 403 otherwise.
// The caller holds h.mu.
func (h *Handler) sessionUser(c *call, cl *claims) (*user, error) {
	s, err := h.use(c, cl)
	if err != nil {
		return nil, err
	}
	u := h.m.users[c.userID]
	if u == nil {
		return nil, fail(http.StatusNotFound, ratio.CodeNotFoundUser, "user not found")
	}
	if s.userID != u.id {
		// Ratio documents no code for this; INVALID_AUTHORIZATION (GUESS).
		return nil, fail(http.StatusForbidden, ratio.CodeInvalidAuthorization, "the session does not belong to this user")
	}
	return u, nil
}

// userCall checks the bearer and the path's user ID of a user endpoint.
func (h *Handler) userCall(c *call) (*claims, error) {
	cl, err := h.parseBearer(c, true)
	if err != nil {
		return nil, err
	}
	if !isUUID(c.userID) {
		return nil, fail(http.StatusBadRequest, ratio.CodeInvalidUserID, "userId is not a valid UUID")
	}
	return cl, nil
}

// getUser serves GET /v1/users/{userId}.
func (h *Handler) getUser(c *call) (int, any, error) {
	cl, err := h.userCall(c)
	if err != nil {
		return 0, nil, err
	}
	var out *ratio.User
	err = h.locked(func() error {
		u, err := h.sessionUser(c, cl)
		if err == nil {
			out = u.view()
		}
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// listWallets serves GET /v1/users/{userId}/wallets: the user's signing
// wallets, verified or not, oldest first. GUESS: Ratio's list may hold only
// deposit wallets (contract 2.11).
func (h *Handler) listWallets(c *call) (int, any, error) {
	cl, err := h.userCall(c)
	if err != nil {
		return 0, nil, err
	}
	out := ratio.Wallets{Items: []ratio.Wallet{}}
	err = h.locked(func() error {
		u, err := h.sessionUser(c, cl)
		if err != nil {
			return err
		}
		for _, addr := range u.wallets {
			out.Items = append(out.Items, h.m.wallets[addr].view())
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}
