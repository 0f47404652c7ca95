package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/transitions"
)

// replay makes the Ratio calls of one flow with plain net/http and
// encoding/json, as a hand-written client with no engine would: no store,
// no state machine, no retries. It is the yardstick the bench holds the
// engine to, against the same Ratio, with the same codes.
type replay struct {
	base       string
	id, secret string
	hc         *http.Client
	codes      pilot.Codes

	// table, if set, keeps the flow durably (the hand-written durable
	// baseline): flow flowID's row moves on by a compare-and-swap after each
	// call, from version.
	table   durableTable
	flowID  string
	version int64
}

// rawAnswer is the fields of Ratio's answers the replay reads.
type rawAnswer struct {
	Challenge  string          `json:"challenge"`
	SessionJWT string          `json:"sessionJwt"`
	PhoneID    string          `json:"phoneId"`
	EmailID    string          `json:"emailId"`
	UserMask   *ratio.UserMask `json:"userMask"`
	ID         string          `json:"id"`
}

// call makes one call and checks its status.
func (r *replay) call(ctx context.Context, op ratio.Op, jwt, userID string, in any, want int) (*rawAnswer, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	url := r.base + strings.Replace(op.Path(), "{userId}", userID, 1)
	req, err := http.NewRequestWithContext(ctx, op.Method(), url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("ratio-client-id", r.id)
	req.Header.Set("ratio-client-secret", string(r.secret))
	if jwt != "" {
		req.Header.Set("Authorization", "Bearer "+jwt)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s: status %d, want %d: %s", op, resp.StatusCode, want, bytes.TrimSpace(data))
	}
	if r.table != nil {
		if err := r.table.cas(ctx, r.flowID, r.version, string(op), data); err != nil {
			return nil, fmt.Errorf("%s: keep the answer: %w", op, err)
		}
		r.version++
	}
	var a rawAnswer
	if want < 300 && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	return &a, nil
}

// fly replays the calls of a flow of kind for person p.
func (r *replay) fly(ctx context.Context, kind transitions.Kind, p pilot.Persona) error {
	switch kind {
	case transitions.KindLink:
		return r.link(ctx, p)
	case transitions.KindLinkFactorsFirst:
		return r.linkFactorsFirst(ctx, p)
	case transitions.KindSignIn:
		return r.signIn(ctx, p)
	case transitions.KindSignUp:
		return r.signUp(ctx, p)
	}
	return fmt.Errorf("no replay for flow %s", kind)
}

// flyDurably replays the calls of a flow of kind for person p as fly
// does, keeping the flow as row id of table after each one.
func (r *replay) flyDurably(ctx context.Context, table durableTable, id string, kind transitions.Kind, p pilot.Persona) error {
	if err := table.create(ctx, id); err != nil {
		return fmt.Errorf("durable baseline: create flow %s: %w", id, err)
	}
	d := *r
	d.table, d.flowID, d.version = table, id, 1
	return d.fly(ctx, kind, p)
}

// wallet runs cryptoWallet:start and :authenticate, with jwt if given,
// and returns the session JWT.
func (r *replay) wallet(ctx context.Context, p pilot.Persona, jwt string) (*rawAnswer, error) {
	addr := p.Wallet()
	a, err := r.call(ctx, ratio.OpStartWallet, jwt, "", map[string]string{"walletAddress": addr, "walletType": ratio.WalletTypeEVM}, 200)
	if err != nil {
		return nil, err
	}
	sig, err := ratio.SignPersonal(p.Key, a.Challenge)
	if err != nil {
		return nil, err
	}
	return r.call(ctx, ratio.OpAuthenticateWallet, jwt, "",
		map[string]string{"walletAddress": addr, "walletType": ratio.WalletTypeEVM, "signature": sig}, 200)
}

// sms sends a code to p's phone and checks it, with jwt if given.
func (r *replay) sms(ctx context.Context, p pilot.Persona, jwt string) (string, error) {
	a, err := r.call(ctx, ratio.OpSendSMS, jwt, "", map[string]string{"phoneNumber": p.Phone}, 200)
	if err != nil {
		return "", err
	}
	code, err := r.codes.Code(ctx, p.Phone)
	if err != nil {
		return "", err
	}
	a, err = r.call(ctx, ratio.OpAuthenticateSMS, jwt, "", map[string]string{"phoneId": a.PhoneID, "otp": code.Reveal()}, 200)
	if err != nil {
		return "", err
	}
	return a.SessionJWT, nil
}

// email sends a code to p's email and checks it within jwt's session.
func (r *replay) email(ctx context.Context, p pilot.Persona, jwt string) (string, error) {
	a, err := r.call(ctx, ratio.OpSendEmail, jwt, "", map[string]string{"emailAddress": p.Email}, 200)
	if err != nil {
		return "", err
	}
	code, err := r.codes.Code(ctx, p.Email)
	if err != nil {
		return "", err
	}
	a, err = r.call(ctx, ratio.OpAuthenticateEmail, jwt, "", map[string]string{"emailId": a.EmailID, "otp": code.Reveal()}, 200)
	if err != nil {
		return "", err
	}
	return a.SessionJWT, nil
}

// link: the wallet, the 409 on the phone, SMS first, email, addToUser.
func (r *replay) link(ctx context.Context, p pilot.Persona) error {
	w, err := r.wallet(ctx, p, "")
	if err != nil {
		return err
	}
	if _, err := r.call(ctx, ratio.OpSendSMS, w.SessionJWT, "", map[string]string{"phoneNumber": p.Phone}, http.StatusConflict); err != nil {
		return err
	}
	jwt, err := r.sms(ctx, p, "")
	if err != nil {
		return err
	}
	if jwt, err = r.email(ctx, p, jwt); err != nil {
		return err
	}
	_, err = r.call(ctx, ratio.OpAddWalletToUser, jwt, "", map[string]string{"walletAddress": p.Wallet(), "walletType": ratio.WalletTypeEVM}, 200)
	return err
}

// linkFactorsFirst: SMS, email, then the wallet within the two-factor session.
func (r *replay) linkFactorsFirst(ctx context.Context, p pilot.Persona) error {
	jwt, err := r.sms(ctx, p, "")
	if err != nil {
		return err
	}
	if jwt, err = r.email(ctx, p, jwt); err != nil {
		return err
	}
	_, err = r.wallet(ctx, p, jwt)
	return err
}

// signIn: the wallet, SMS within its session, then the user and wallets.
func (r *replay) signIn(ctx context.Context, p pilot.Persona) error {
	w, err := r.wallet(ctx, p, "")
	if err != nil {
		return err
	}
	if w.UserMask == nil {
		return fmt.Errorf("sign-in: Ratio does not know wallet %s", p.Wallet())
	}
	jwt, err := r.sms(ctx, p, w.SessionJWT)
	if err != nil {
		return err
	}
	if _, err := r.call(ctx, ratio.OpGetUser, jwt, w.UserMask.ID, nil, 200); err != nil {
		return err
	}
	_, err = r.call(ctx, ratio.OpListWallets, jwt, w.UserMask.ID, nil, 200)
	return err
}

// signUp: the wallet, SMS within its session, then the user's creation.
func (r *replay) signUp(ctx context.Context, p pilot.Persona) error {
	w, err := r.wallet(ctx, p, "")
	if err != nil {
		return err
	}
	jwt, err := r.sms(ctx, p, w.SessionJWT)
	if err != nil {
		return err
	}
	_, err = r.call(ctx, ratio.OpCreateUser, jwt, "", map[string]any{"firstName": p.FirstName, "lastName": p.LastName,
		"email": p.Email, "country": p.Country, "phone": p.Phone, "acceptedTerms": true}, http.StatusCreated)
	return err
}
