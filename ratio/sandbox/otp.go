package sandbox

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/ratioflow/ratioflow/ratio"
)

// One-time codes by SMS and email. A code is 6 digits, lives OTPLifetime,
// is voided by the next send to the same target and by MaxOTPAttempts
// wrong tries, and is used once. Sends are limited per target (SendLimit).

// newCode returns 6 random digits from cfg.Rand.
func (h *Handler) newCode() string {
	var b [8]byte
	h.readRand(b[:])
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1_000_000)
}

// checkPhone normalises a phone number to E.164, refusing what Ratio
// refuses: 400 MISSING_PHONE, INVALID_PHONE (not E.164) or
// INVALID_PHONE_COUNTRY_CODE (a valid number outside the US).
func checkPhone(number string) (string, error) {
	e164, err := ratio.NormalizePhone(number)
	if err == nil {
		return e164, nil
	}
	if rest, ok := strings.CutPrefix(number, "+"); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
		n, perr := phonenumbers.Parse(number, "")
		if perr == nil && phonenumbers.IsValidNumber(n) && phonenumbers.GetRegionCodeForNumber(n) != "US" {
			return "", fail(http.StatusBadRequest, ratio.CodeInvalidPhoneCountryCode, "%v", err)
		}
	}
	return "", inputFail(err)
}

// normalPhone is checkPhone; ratio.NormalizePhone caches valid numbers.
func (h *Handler) normalPhone(number string) (string, error) { return checkPhone(number) }

// otpRules are what differs between SMS and email.
type otpRules struct {
	kind     factorKind
	idPrefix string // of phoneId / emailId
	owner    func(m *model, to string) *user
	conflict string // 409 code: the target is another account's
	mismatch string // 400 code: the target is not the session's user's
	noun     string
}

var smsRules = otpRules{
	kind: factorSMS, idPrefix: "phone-number-test-",
	owner:    func(m *model, to string) *user { return m.userByPhone[to] },
	conflict: ratio.CodeAlreadyExistsPhone, mismatch: ratio.CodeMismatchPhone, noun: "phone number",
}

var emailRules = otpRules{
	kind: factorEmail, idPrefix: "email-test-",
	owner:    func(m *model, to string) *user { return m.userByEmail[emailKey(to)] },
	conflict: ratio.CodeAlreadyExistsEmail, mismatch: ratio.CodeMismatchEmail, noun: "email address",
}

// checkOwner applies the rules of a target presented with session s (nil
// for no JWT): with a JWT, the target must be the session's user's, or
// nobody's for a session of nobody. The caller holds h.mu.
func (h *Handler) checkOwner(r otpRules, to string, s *session) error {
	if s == nil {
		return nil
	}
	owner := r.owner(h.m, to)
	switch {
	case owner != nil && owner.id != s.userID:
		return fail(http.StatusConflict, r.conflict, "the %s belongs to another account than the session's: send without the JWT to sign in as that account", r.noun)
	case owner == nil && s.userID != "":
		return fail(http.StatusBadRequest, r.mismatch, "the %s does not match the one on record for the session's user", r.noun)
	}
	return nil
}

// send records a new code for the target to (E.164 number or email
// address) and returns the target. The caller holds h.mu.
func (h *Handler) send(c *call, r otpRules, to, code string) (*target, error) {
	m := h.m
	key := to
	index := m.phones
	if r.kind == factorEmail {
		key, index = emailKey(to), m.emails
	}
	t := index[key]
	if t == nil {
		t = &target{id: r.idPrefix + newUUID(), kind: r.kind, to: to}
		index[key] = t
		m.targets[t.id] = t
	}
	if err := h.allowSend(t.id, c.now); err != nil {
		return nil, err
	}
	t.code, t.expires, t.attempts = code, c.now.Add(h.cfg.OTPLifetime), 0
	m.lastCode[key] = code
	return t, nil
}

// allowSend applies SendLimit to one more send to target id. The caller
// holds h.mu.
func (h *Handler) allowSend(id string, now time.Time) error {
	l := h.cfg.SendLimit
	if l.Off {
		return nil
	}
	times := h.m.sends[id]
	i := 0
	for i < len(times) && !times[i].After(now.Add(-l.Window)) {
		i++
	}
	times = times[i:]
	if len(times) >= l.Max {
		h.m.sends[id] = times
		wait := times[0].Add(l.Window).Sub(now)
		return &apiError{
			status: http.StatusTooManyRequests, code: ratio.CodeTooManyRequests, retryAfter: wait,
			msg: fmt.Sprintf("too many codes sent to this destination: %d in %s; retry in %d seconds", l.Max, l.Window, retryAfterSeconds(wait)),
		}
	}
	h.m.sends[id] = append(times, now)
	return nil
}

// sendSMS serves otp/sms:send.
func (h *Handler) sendSMS(c *call) (int, any, error) {
	cl, err := h.parseBearer(c, false)
	if err != nil {
		return 0, nil, err
	}
	var req ratio.SendSMSRequest
	if err := decodeBody(c.body, &req); err != nil {
		return 0, nil, err
	}
	phone, err := h.normalPhone(req.PhoneNumber)
	if err != nil {
		return 0, nil, err
	}
	code := h.newCode()
	var t *target
	err = h.locked(func() error {
		s, err := h.useOptional(c, cl)
		if err != nil {
			return err
		}
		if err := h.checkOwner(smsRules, phone, s); err != nil {
			return err
		}
		t, err = h.send(c, smsRules, phone, code)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ratio.SendSMSResponse{PhoneID: t.id, PhoneMask: phoneMask(phone)}, nil
}

// sendEmail serves otp/email:send.
func (h *Handler) sendEmail(c *call) (int, any, error) {
	cl, err := h.parseBearer(c, false)
	if err != nil {
		return 0, nil, err
	}
	var req ratio.SendEmailRequest
	if err := decodeBody(c.body, &req); err != nil {
		return 0, nil, err
	}
	if err := ratio.CheckEmail(req.EmailAddress); err != nil {
		return 0, nil, inputFail(err)
	}
	code := h.newCode()
	var t *target
	err = h.locked(func() error {
		s, err := h.useOptional(c, cl)
		if err != nil {
			return err
		}
		if err := h.checkOwner(emailRules, req.EmailAddress, s); err != nil {
			return err
		}
		t, err = h.send(c, emailRules, req.EmailAddress, code)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ratio.SendEmailResponse{EmailID: t.id, EmailMask: emailMask(t.to)}, nil
}

// authenticateSMS serves otp/sms:authenticate.
func (h *Handler) authenticateSMS(c *call) (int, any, error) {
	var req ratio.AuthenticateSMSRequest
	if err := decodeBody(c.body, &req); err != nil {
		return 0, nil, err
	}
	return h.authenticateOTP(c, smsRules, req.PhoneID, req.OTP)
}

// authenticateEmail serves otp/email:authenticate.
func (h *Handler) authenticateEmail(c *call) (int, any, error) {
	var req ratio.AuthenticateEmailRequest
	if err := decodeBody(c.body, &req); err != nil {
		return 0, nil, err
	}
	return h.authenticateOTP(c, emailRules, req.EmailID, req.OTP)
}

// authenticateOTP checks a code sent to the target id and answers a
// session with the factor, joined with the JWT's session if one was sent,
// bound to the target's owner if any, else to the JWT session's user.
func (h *Handler) authenticateOTP(c *call, r otpRules, id string, code ratio.Secret) (int, any, error) {
	cl, err := h.parseBearer(c, false)
	if err != nil {
		return 0, nil, err
	}
	idField, missingID, invalidID := "phoneId", ratio.CodeMissingPhoneID, ratio.CodeInvalidPhoneID
	if r.kind == factorEmail {
		idField, missingID, invalidID = "emailId", ratio.CodeMissingEmailID, ratio.CodeInvalidEmailID
	}
	if id == "" {
		return 0, nil, fail(http.StatusBadRequest, missingID, "%s is missing", idField)
	}
	if err := ratio.CheckOTP(code); err != nil {
		return 0, nil, inputFail(err)
	}
	var a authAnswer
	err = h.locked(func() error {
		prev, err := h.useOptional(c, cl)
		if err != nil {
			return err
		}
		t := h.m.targets[id]
		if t == nil || t.kind != r.kind {
			return fail(http.StatusBadRequest, invalidID, "%s is unknown: it is not the ID of a %s a code was sent to", idField, r.noun)
		}
		if err := h.checkOwner(r, t.to, prev); err != nil {
			return err
		}
		if err := h.checkCode(t, code.Reveal(), c.now); err != nil {
			return err
		}
		userID := ""
		if owner := r.owner(h.m, t.to); owner != nil {
			userID = owner.id
		} else if prev != nil {
			userID = prev.userID
		}
		f := factor{kind: r.kind, at: c.now, methodID: t.id, value: t.to}
		a = h.answer(h.join(c.now, prev, f, userID))
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return h.response(c.now, a)
}

// checkCode checks and uses the target's live code. A wrong code counts an
// attempt; the last allowed wrong attempt voids the code. The caller holds
// h.mu.
func (h *Handler) checkCode(t *target, code string, now time.Time) error {
	invalid := fail(http.StatusUnauthorized, ratio.CodeInvalidOTP, "invalid or expired code")
	if t.code == "" || !now.Before(t.expires) {
		t.code = ""
		return invalid
	}
	if subtle.ConstantTimeCompare([]byte(code), []byte(t.code)) != 1 {
		t.attempts++
		if t.attempts >= h.cfg.MaxOTPAttempts {
			t.code = ""
		}
		return invalid
	}
	t.code = ""
	return nil
}
