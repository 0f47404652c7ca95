package flow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// A story is the path a person walks through one flow, as steps, with the
// world it needs (a seeded user, a linked wallet). The tables of this
// package start from stories and branch off them.
type story struct {
	name  string
	kind  transitions.Kind
	setup func(h *flowtest.Harness) // seeds the sandbox
	steps []flowtest.Step
	// phone and email receive the codes.
	phone, email string
	wallet       *flowtest.Wallet
}

// stories returns fresh stories (new wallet, new person) covering every
// state of the four flows.
func stories(t *testing.T) []story {
	t.Helper()
	return []story{linkConflictStory(t), linkMatchingStory(t), factorsFirstStory(t), signInStory(t),
		signInUnknownStory(t), signUpStory(t)}
}

func linkConflictStory(t *testing.T) story {
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	return story{name: "link: 409 then SMS first", kind: transitions.KindLink, wallet: w, phone: p.Phone, email: p.Email,
		setup: func(h *flowtest.Harness) { h.SeedUser(p) }, steps: linkConflict(w, p)}
}

func linkMatchingStory(t *testing.T) story {
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	return story{name: "link: the phone matches the wallet's session", kind: transitions.KindLink, wallet: w, phone: p.Phone,
		steps: []flowtest.Step{
			{Name: "start", Input: flow.Input{WalletAddress: w.Address}, Want: flowtest.Want{State: states.ChallengeIssued}},
			{Name: "sign", Event: transitions.Sign, Fill: flowtest.SignWith(w), Want: flowtest.Want{State: states.WalletAuthed}},
			{Name: "a phone nobody owns", Event: transitions.SubmitPhone, Input: flow.Input{PhoneNumber: p.Phone},
				Want: flowtest.Want{State: states.SmsSent, Next: nextSmsSent, Last: "submit_phone:ok"}},
			{Name: "the code, with the JWT", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Phone),
				Want: flowtest.Want{State: states.Authenticated, Next: nextEnded, Last: "submit_otp:ok"}},
		}}
}

func factorsFirstStory(t *testing.T) story {
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	return story{name: "link-factors-first", kind: transitions.KindLinkFactorsFirst, wallet: w, phone: p.Phone, email: p.Email,
		setup: func(h *flowtest.Harness) { h.SeedUser(p) },
		steps: []flowtest.Step{
			{Name: "start", Input: flow.Input{WalletAddress: w.Address},
				Want: flowtest.Want{State: states.New, Next: []string{"submit_phone(phoneNumber)", "cancel()"}}},
			{Name: "phone, SMS first", Event: transitions.SubmitPhone, Input: flow.Input{PhoneNumber: p.Phone},
				Want: flowtest.Want{State: states.SmsFirstSent, Next: nextSmsSent, Last: "submit_phone:ok"}},
			{Name: "SMS code", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Phone),
				Want: flowtest.Want{State: states.SmsVerified, Next: nextSmsVerifed}},
			{Name: "email", Event: transitions.SubmitEmail, Input: flow.Input{EmailAddress: p.Email},
				Want: flowtest.Want{State: states.EmailSent, Next: nextEmailSent}},
			{Name: "email code; the challenge follows by itself", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Email),
				Want: flowtest.Want{State: states.ChallengeIssued, Next: nextChallenge, Challenge: true, Last: "start_wallet:ok"}},
			{Name: "sign with the two-factor JWT: linked", Event: transitions.Sign, Fill: flowtest.SignWith(w),
				Want: flowtest.Want{State: states.Linked, Next: nextEnded, Last: "sign:ok"}},
		}}
}

func signInStory(t *testing.T) story {
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	return story{name: "signin", kind: transitions.KindSignIn, wallet: w, phone: p.Phone,
		setup: func(h *flowtest.Harness) { h.SeedUser(p, w) },
		steps: []flowtest.Step{
			{Name: "start", Input: flow.Input{WalletAddress: w.Address},
				Want: flowtest.Want{State: states.ChallengeIssued, Next: nextChallenge, Challenge: true}},
			{Name: "sign: Ratio knows the wallet", Event: transitions.Sign, Fill: flowtest.SignWith(w),
				Want: flowtest.Want{State: states.WalletAuthed, Next: nextPhone, Last: "sign:ok"}},
			{Name: "phone with the wallet's JWT", Event: transitions.SubmitPhone, Input: flow.Input{PhoneNumber: p.Phone},
				Want: flowtest.Want{State: states.SmsSent, Next: nextSmsSent}},
			{Name: "code: two factors, then user and wallets are read", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Phone),
				Want: flowtest.Want{State: states.SignedIn, Next: nextEnded, Last: "load_wallets:ok"}},
		}}
}

func signInUnknownStory(t *testing.T) story {
	w := flowtest.NewWallet(t)
	return story{name: "signin with a wallet Ratio does not know", kind: transitions.KindSignIn, wallet: w,
		steps: []flowtest.Step{
			{Name: "start", Input: flow.Input{WalletAddress: w.Address}, Want: flowtest.Want{State: states.ChallengeIssued}},
			{Name: "sign: no userMask", Event: transitions.Sign, Fill: flowtest.SignWith(w),
				Want: flowtest.Want{State: states.UnknownWallet, Next: nextEnded, Last: "sign:new_user", NextFlow: transitions.KindLink}},
		}}
}

func signUpStory(t *testing.T) story {
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	return story{name: "signup", kind: transitions.KindSignUp, wallet: w, phone: p.Phone,
		steps: []flowtest.Step{
			{Name: "start with validated user data; the challenge follows", Input: signUpInput(w, p),
				Want: flowtest.Want{State: states.ChallengeIssued, Next: nextChallenge, Challenge: true}},
			{Name: "sign: a new wallet; the SMS follows by itself", Event: transitions.Sign, Fill: flowtest.SignWith(w),
				Want: flowtest.Want{State: states.SmsSent, Next: nextSmsSent, Last: "send_sms:ok"}},
			{Name: "code: wallet + SMS, then the user is created", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Phone),
				Want: flowtest.Want{State: states.UserCreated, Next: nextEnded, Last: "create_user:ok"}},
		}}
}

func signUpInput(w *flowtest.Wallet, p flowtest.Person) flow.Input {
	return flow.Input{WalletAddress: w.Address, FirstName: p.FirstName, LastName: p.LastName,
		EmailAddress: p.Email, Country: p.Country, PhoneNumber: p.Phone, AcceptedTerms: flowtest.Ptr(true)}
}

func TestStories(t *testing.T) {
	for _, s := range stories(t) {
		t.Run(s.name, func(t *testing.T) {
			h := flowtest.New(t)
			if s.setup != nil {
				s.setup(h)
			}
			h.Run(s.kind, s.steps)
		})
	}
}

// TestStories_ResumeEverywhere runs every story with a brand-new engine
// (as after a restart, or on another replica) before each step.
func TestStories_ResumeEverywhere(t *testing.T) {
	for _, s := range stories(t) {
		t.Run(s.name, func(t *testing.T) {
			h := flowtest.New(t)
			if s.setup != nil {
				s.setup(h)
			}
			steps := make([]flowtest.Step, len(s.steps))
			for i, st := range s.steps {
				st.Before = flowtest.Restart()
				steps[i] = st
			}
			h.Run(s.kind, steps)
		})
	}
}

// TestStories_CodesAndChallenges branches off every story at every state
// that waits for a code or a signature: a fresh challenge, a resent code,
// and wrong codes until the attempts run out.
func TestStories_CodesAndChallenges(t *testing.T) {
	for _, s := range stories(t) {
		for i, st := range s.steps {
			v := st.Want.State
			if st.Want.State == "" {
				continue
			}
			switch {
			case v == states.ChallengeIssued:
				t.Run(s.name+"/new challenge", func(t *testing.T) {
					h := flowtest.New(t)
					if s.setup != nil {
						s.setup(h)
					}
					steps := append(s.steps[:i+1:i+1], flowtest.Step{Name: "a fresh challenge", Event: transitions.NewChallenge,
						Want: flowtest.Want{State: states.ChallengeIssued, Challenge: true, Last: "new_challenge:ok"}})
					h.Run(s.kind, append(steps, s.steps[i+1:]...))
				})
			case v == states.SmsSent || v == states.SmsFirstSent || v == states.EmailSent:
				to := s.phone
				if v == states.EmailSent {
					to = s.email
				}
				t.Run(fmt.Sprintf("%s/%s/resend then wrong codes", s.name, v), func(t *testing.T) {
					h := flowtest.New(t)
					if s.setup != nil {
						s.setup(h)
					}
					h.Run(s.kind, append(s.steps[:i+1:i+1],
						flowtest.Step{Name: "resend at once: the cooldown refuses", Event: transitions.ResendOTP,
							WantErr: flow.ErrTooEarly, Want: flowtest.Want{State: v}},
						flowtest.Step{Name: "resend after the cooldown", Event: transitions.ResendOTP, Advance: 30 * time.Second,
							Want: flowtest.Want{State: v, Last: "resend_otp:ok", AttemptsLeft: flowtest.Ptr(3)}},
						flowtest.Step{Name: "wrong", Event: transitions.SubmitOTP, Fill: flowtest.WrongCodeFor(to),
							WantErr: ratio.ErrInvalidOTP, Want: flowtest.Want{State: v, AttemptsLeft: flowtest.Ptr(2)}},
						flowtest.Step{Name: "wrong", Event: transitions.SubmitOTP, Fill: flowtest.WrongCodeFor(to),
							WantErr: ratio.ErrInvalidOTP, Want: flowtest.Want{State: v, AttemptsLeft: flowtest.Ptr(1)}},
						flowtest.Step{Name: "wrong, the last attempt", Event: transitions.SubmitOTP, Fill: flowtest.WrongCodeFor(to),
							WantErr: flow.ErrAttemptsExhausted, Want: flowtest.Want{State: states.Failed, Last: "submit_otp:attempts_exhausted"}},
					))
				})
			}
		}
	}
}
