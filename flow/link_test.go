package flow_test

import (
	"context"
	"os"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

func TestMain(m *testing.M) { os.Exit(flowtest.Main(m)) }

// The events each waiting state of the link flow offers, as Want.Next.
var (
	nextChallenge  = []string{"new_challenge()", "sign(signature)", "cancel()"}
	nextPhone      = []string{"submit_phone(phoneNumber)", "cancel()"}
	nextSmsSent    = []string{"submit_otp(otp)", "resend_otp()", "cancel()"}
	nextConflict   = []string{"confirm_phone()", "cancel()"}
	nextSmsVerifed = []string{"submit_email(emailAddress)", "cancel()"}
	nextEmailSent  = []string{"submit_otp(otp)", "resend_otp()", "cancel()"}
	nextEnded      = []string{}
)

// linkConflict is the spec's story (seeds 000-002): a returning user with a
// new wallet, 409 on the phone, SMS first, email, addToUser.
func linkConflict(w *flowtest.Wallet, p flowtest.Person) []flowtest.Step {
	return []flowtest.Step{
		{Name: "start with the new wallet", Input: flow.Input{WalletAddress: w.Address},
			Want: flowtest.Want{State: states.ChallengeIssued, Next: nextChallenge, Challenge: true, Last: "start:ok"}},
		{Name: "sign the challenge", Event: transitions.Sign, Fill: flowtest.SignWith(w),
			Want: flowtest.Want{State: states.WalletAuthed, Next: nextPhone, Last: "sign:ok"}},
		{Name: "phone of the existing account: 409", Event: transitions.SubmitPhone, Input: flow.Input{PhoneNumber: p.Phone},
			Want: flowtest.Want{State: states.PhoneConflict, Next: nextConflict, Last: "submit_phone:conflict"}},
		{Name: "confirm: SMS first, without the JWT", Event: transitions.ConfirmPhone,
			Want: flowtest.Want{State: states.SmsFirstSent, Next: nextSmsSent, Last: "confirm_phone:ok", AttemptsLeft: flowtest.Ptr(3)}},
		{Name: "the SMS code", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Phone),
			Want: flowtest.Want{State: states.SmsVerified, Next: nextSmsVerifed, Last: "submit_otp:ok"}},
		{Name: "email with the SMS JWT", Event: transitions.SubmitEmail, Input: flow.Input{EmailAddress: p.Email},
			Want: flowtest.Want{State: states.EmailSent, Next: nextEmailSent, Last: "submit_email:ok"}},
		{Name: "the email code; addToUser follows by itself", Event: transitions.SubmitOTP, Fill: flowtest.CodeSentTo(p.Email),
			Want: flowtest.Want{State: states.Linked, Next: nextEnded, Last: "add_wallet:ok"}},
	}
}

func TestLink_ConflictBranch(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v := h.Run(transitions.KindLink, linkConflict(w, p))
	if got := h.Sandbox.Stats().AddToUser[w.Address]; got != 1 {
		t.Errorf("sandbox addToUser count for %s = %d, want 1", w.Address, got)
	}
	// The wallet now signs the user in: Ratio knows it.
	h.Run(transitions.KindSignIn, []flowtest.Step{
		{Name: "start", Input: flow.Input{WalletAddress: w.Address}, Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "sign", Event: transitions.Sign, Fill: flowtest.SignWith(w), Want: flowtest.Want{State: states.WalletAuthed}},
	})
	_ = v
}

// TestLink_EndingsSayWhatComesNext: an ended flow's view says what
// happened and what comes next. A link whose wallet and phone belong to no
// Ratio user ends Authenticated with nothing linked, and points to signup.
func TestLink_EndingsSayWhatComesNext(t *testing.T) {
	h := flowtest.New(t)
	s := linkMatchingStory(t)
	v := h.Run(s.kind, s.steps)
	if v.State != states.Authenticated || v.NextFlow != transitions.KindSignUp ||
		v.Message != transitions.Link.Endings[states.Authenticated] || v.Message == "" {
		t.Errorf("a link with a new user's wallet and phone ended %s, nextFlow %q, message %q; want Authenticated pointing to signup",
			v.State, v.NextFlow, v.Message)
	}
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v = h.Run(transitions.KindLink, linkConflict(w, p))
	if v.NextFlow != "" || v.Message != transitions.Link.Endings[states.Linked] {
		t.Errorf("a linked flow: nextFlow %q, message %q; want no next flow and Linked's ending", v.NextFlow, v.Message)
	}
	running, err := h.Engine.Start(context.Background(), transitions.KindLink, h.Subject, flow.Input{WalletAddress: w.Address})
	if err != nil || running.Message != "" {
		t.Errorf("a running flow's message = %q, %v; want none", running.Message, err)
	}
}
