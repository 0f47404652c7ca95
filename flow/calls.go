package flow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/transitions"
)

// challengeLifetime is how long a Ratio challenge is good for (GUESS: Ratio
// does not document it; its sandbox and Stytch's use minutes).
const challengeLifetime = 5 * time.Minute

// result is what one attempt of a transition produced.
type result struct {
	outcome    transitions.Outcome
	err        error // Ratio's error, if any
	status     int
	code       string
	retryAfter time.Duration
	message    string
	duration   time.Duration
	apply      func(d *data) // the data a success teaches
	// spent marks a refusal of input an earlier attempt whose answer was
	// lost may have spent (see spent.go).
	spent bool
}

// call makes t's Ratio call with the flow's data and the event's input and
// classifies the answer. It never writes the store.
func (e *Engine) call(ctx context.Context, t *transitions.Transition, d *data, in *Input, now time.Time) result {
	var jwt ratio.Secret
	if t.Bearer {
		jwt = d.jwt()
	}
	joined := t.Bearer
	switch t.Call {
	case transitions.CallStartWallet:
		resp, err := e.ratio.StartWallet(ctx, jwt, ratio.StartWalletRequest{WalletAddress: d.WalletAddress})
		if err != nil {
			return failed(t, err, d, now)
		}
		return done(resp.Meta, transitions.OK, func(d *data) {
			d.Challenge, d.ChallengeExpiresAt = resp.Challenge, now.Add(challengeLifetime)
		})
	case transitions.CallAuthenticateWallet:
		resp, err := e.ratio.AuthenticateWallet(ctx, jwt, ratio.AuthenticateWalletRequest{
			WalletAddress: d.WalletAddress, Signature: in.Signature})
		if err != nil {
			return failed(t, err, d, now)
		}
		return authenticated(resp, factorWallet, joined, func(d *data) { d.Challenge, d.ChallengeExpiresAt = "", time.Time{} })
	case transitions.CallSendSMS:
		phone := firstOf(in.PhoneNumber, d.PhoneNumber)
		resp, err := e.ratio.SendSMS(ctx, jwt, ratio.SendSMSRequest{PhoneNumber: phone})
		if err != nil {
			// Keep the number: after a 409 the user confirms it is theirs
			// and the code goes to the same number without the JWT.
			return remember(failed(t, err, d, now), func(d *data) { d.PhoneNumber = phone })
		}
		return done(resp.Meta, transitions.OK, func(d *data) {
			d.PhoneNumber, d.PhoneID, d.PhoneMask = phone, resp.PhoneID, resp.PhoneMask
			d.sent(now)
		})
	case transitions.CallAuthenticateSMS:
		resp, err := e.ratio.AuthenticateSMS(ctx, jwt, ratio.AuthenticateSMSRequest{PhoneID: d.PhoneID, OTP: in.OTP})
		if err != nil {
			return failed(t, err, d, now)
		}
		return authenticated(resp, factorSMS, joined, nil)
	case transitions.CallSendEmail:
		email := firstOf(in.EmailAddress, d.EmailAddress)
		resp, err := e.ratio.SendEmail(ctx, jwt, ratio.SendEmailRequest{EmailAddress: email})
		if err != nil {
			return remember(failed(t, err, d, now), func(d *data) { d.EmailAddress = email })
		}
		return done(resp.Meta, transitions.OK, func(d *data) {
			d.EmailAddress, d.EmailID, d.EmailMask = email, resp.EmailID, resp.EmailMask
			d.sent(now)
		})
	case transitions.CallAuthenticateEmail:
		resp, err := e.ratio.AuthenticateEmail(ctx, jwt, ratio.AuthenticateEmailRequest{EmailID: d.EmailID, OTP: in.OTP})
		if err != nil {
			return failed(t, err, d, now)
		}
		return authenticated(resp, factorEmail, joined, nil)
	case transitions.CallAddWalletToUser:
		resp, err := e.ratio.AddWalletToUser(ctx, jwt, ratio.AddWalletRequest{WalletAddress: d.WalletAddress})
		if err != nil {
			return failed(t, err, d, now)
		}
		return done(resp.Meta, transitions.OK, nil)
	case transitions.CallCreateUser:
		return e.createUser(ctx, t, jwt, d, now)
	case transitions.CallGetUser:
		u, err := e.ratio.GetUser(ctx, jwt, d.UserID)
		if err != nil {
			return failed(t, err, d, now)
		}
		return done(u.Meta, transitions.OK, func(d *data) { d.User = userInfoOf(u) })
	case transitions.CallListWallets:
		ws, err := e.ratio.ListWallets(ctx, jwt, d.UserID)
		if err != nil {
			return failed(t, err, d, now)
		}
		return done(ws.Meta, transitions.OK, func(d *data) {
			d.Wallets = d.Wallets[:0]
			for _, w := range ws.Items {
				d.Wallets = append(d.Wallets, w.Address)
			}
		})
	}
	return result{outcome: transitions.Transient, message: "unknown Ratio call " + string(t.Call)}
}

func (e *Engine) createUser(ctx context.Context, t *transitions.Transition, jwt ratio.Secret, d *data, now time.Time) result {
	p := d.Profile
	if p == nil {
		p = &profile{}
	}
	u, err := e.ratio.CreateUser(ctx, jwt, ratio.CreateUserRequest{
		FirstName: p.FirstName, MiddleName: p.MiddleName, LastName: p.LastName, Email: d.EmailAddress,
		Country: p.Country, Phone: d.PhoneNumber, AcceptedTerms: p.AcceptedTerms})
	var apiErr *ratio.APIError
	if err != nil && d.CreateUncertain && errors.As(err, &apiErr) && apiErr.Code == ratio.CodeAlreadyExistsUser {
		// A create whose answer was lost (the process died, or a timeout)
		// had landed: the session is bound to the new user already. GUESS:
		// Ratio answers ALREADY_EXISTS_USER then, as the sandbox does.
		return result{outcome: transitions.OK, status: apiErr.Status, code: apiErr.Code,
			message: "the user was created by an earlier attempt whose answer was lost",
			apply:   func(d *data) { d.CreateUncertain = false }}
	}
	if err != nil {
		return failed(t, err, d, now)
	}
	return done(u.Meta, transitions.OK, func(d *data) {
		d.UserID, d.User, d.CreateUncertain = u.ID, userInfoOf(u), false
	})
}

// remember adds to a result a data update made whatever the outcome.
func remember(res result, keep func(d *data)) result {
	then := res.apply
	res.apply = func(d *data) {
		keep(d)
		if then != nil {
			then(d)
		}
	}
	return res
}

// done is a successful result; a JWT Ratio refreshed is kept.
func done(m ratio.Meta, o transitions.Outcome, apply func(d *data)) result {
	return result{outcome: o, apply: func(d *data) {
		if !m.RefreshedJWT.IsZero() {
			d.JWT = m.RefreshedJWT.Reveal()
		}
		if apply != nil {
			apply(d)
		}
	}}
}

// authenticated is the result of an authenticate call: the new session JWT
// and its factors, and new_user when Ratio has no user for the session.
func authenticated(resp *ratio.AuthResponse, factor string, joined bool, more func(d *data)) result {
	o := transitions.OK
	if resp.UserMask == nil && resp.User == nil {
		o = transitions.NewUser
	}
	return done(resp.Meta, o, func(d *data) {
		d.JWT = resp.SessionJWT.Reveal()
		d.addFactor(factor, joined)
		d.OTPAttempts = 0
		if resp.UserMask != nil {
			d.UserID = firstOf(resp.UserMask.ID, d.UserID)
			d.PhoneMask = firstOf(resp.UserMask.PhoneMask, d.PhoneMask)
			d.EmailMask = firstOf(resp.UserMask.EmailMask, d.EmailMask)
		}
		if resp.User != nil {
			d.UserID = firstOf(resp.User.ID, d.UserID)
		}
		if more != nil {
			more(d)
		}
	})
}

// failed classifies Ratio's error into an outcome of the declared classes.
func failed(t *transitions.Transition, err error, d *data, now time.Time) result {
	res := result{outcome: classify(t.Call, err), err: err}
	var apiErr *ratio.APIError
	if errors.As(err, &apiErr) {
		res.status, res.code, res.retryAfter = apiErr.Status, apiErr.Code, apiErr.RetryAfter
	}
	res.message = explain(res.outcome, res.code)
	if errors.Is(err, ratio.ErrAmbiguous) || (res.outcome == transitions.Transient && sideEffect(t.Call)) {
		// The call may have been carried out: a send may have gone out
		// (pace the next one as if it had), a code or challenge may be
		// spent.
		res.apply = func(d *data) {
			switch t.Call {
			case transitions.CallSendSMS, transitions.CallSendEmail:
				d.UncertainSendAt = now
			case transitions.CallCreateUser:
				d.CreateUncertain = true
			case transitions.CallAuthenticateSMS, transitions.CallAuthenticateEmail, transitions.CallAuthenticateWallet:
				d.UncertainAuth = string(t.Call)
			}
		}
	}
	return res
}

// Possible reports whether the engine can reach outcome o of a transition
// making call c: a wrong code (and running out of attempts) only follows a
// one-time code check, a new user only an authentication, a refusal only a
// guard. Every other error class can follow any call. Tables declare an
// edge for every error class all the same (transitions.Validate).
func Possible(c transitions.Call, guarded bool, o transitions.Outcome) bool {
	otp := c == transitions.CallAuthenticateSMS || c == transitions.CallAuthenticateEmail
	switch o {
	case transitions.InvalidOTP, transitions.AttemptsExhausted:
		return otp
	case transitions.NewUser:
		return otp || c == transitions.CallAuthenticateWallet
	case transitions.Refused:
		return guarded
	case transitions.OK:
		return true
	}
	return c != transitions.NoCall
}

// classify maps a Ratio error to an outcome class.
func classify(call transitions.Call, err error) transitions.Outcome {
	otp := call == transitions.CallAuthenticateSMS || call == transitions.CallAuthenticateEmail
	switch {
	case otp && errors.Is(err, ratio.ErrInvalidOTP):
		return transitions.InvalidOTP
	case errors.Is(err, ratio.ErrRateLimited):
		return transitions.RateLimited
	case errors.Is(err, ratio.ErrConflict):
		return transitions.Conflict
	case errors.Is(err, ratio.ErrInvalidInput), errors.Is(err, ratio.ErrInvalidSignature), errors.Is(err, ratio.ErrNotFound):
		return transitions.InvalidInput
	case errors.Is(err, ratio.ErrExpiredJWT), errors.Is(err, ratio.ErrUnauthorized), errors.Is(err, ratio.ErrMFARequired):
		return transitions.ExpiredJWT
	}
	return transitions.Transient
}

func sideEffect(c transitions.Call) bool { return ratio.Op(c).SideEffect() }

// safe reports whether call c only reads: the engine makes it without
// recording it as pending first (no claim, no lease), since a process that
// dies during it leaves nothing to reconcile, and Resume makes it again.
func safe(c transitions.Call) bool { return ratio.Op(c).Safe() }

// explain is ratioflow's own one-line account of an outcome, for views.
func explain(o transitions.Outcome, code string) string {
	switch o {
	case transitions.Conflict:
		if code == ratio.CodeAlreadyExistsPhone {
			return "the phone number belongs to another Ratio account"
		}
		return "Ratio reports a conflict (" + code + ")"
	case transitions.RateLimited:
		return "Ratio asked to slow down; retry after the back-off"
	case transitions.InvalidOTP:
		return "wrong or expired code"
	case transitions.ExpiredJWT:
		return "the Ratio session expired or lacks a factor"
	case transitions.InvalidInput:
		return "Ratio refused the input" + strings.TrimSuffix(" ("+code+")", " ()")
	case transitions.Transient:
		return "Ratio failed or did not answer; retry"
	}
	return ""
}

func userInfoOf(u *ratio.User) *userInfo {
	info := &userInfo{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName}
	if u.KYC != nil {
		info.KYCStatus = u.KYC.Status
	}
	return info
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
