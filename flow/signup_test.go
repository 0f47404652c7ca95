package flow_test

import (
	"context"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

func TestSignUp_StartInputIsValidated(t *testing.T) {
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	valid := signUpInput(w, p)
	tests := []struct {
		name  string
		edit  func(in *flow.Input)
		field string
	}{
		{"terms not accepted", func(in *flow.Input) { in.AcceptedTerms = flowtest.Ptr(false) }, "acceptedTerms"},
		{"terms absent", func(in *flow.Input) { in.AcceptedTerms = nil }, "acceptedTerms"},
		{"no first name", func(in *flow.Input) { in.FirstName = "" }, "firstName"},
		{"no last name", func(in *flow.Input) { in.LastName = "" }, "lastName"},
		{"a name without a letter", func(in *flow.Input) { in.LastName = "1234" }, "lastName"},
		{"country not ISO alpha-2", func(in *flow.Input) { in.Country = "USA" }, "country"},
		{"country unknown", func(in *flow.Input) { in.Country = "XX" }, "country"},
		{"the spec's Toronto phone", func(in *flow.Input) { in.PhoneNumber = "+14165551234" }, "phoneNumber"},
		{"email without a domain", func(in *flow.Input) { in.EmailAddress = "ada@localhost" }, "emailAddress"},
		{"no wallet", func(in *flow.Input) { in.WalletAddress = "" }, "walletAddress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := flowtest.New(t)
			in := valid
			tt.edit(&in)
			_, err := h.Engine.Start(context.Background(), transitions.KindSignUp, h.Subject, in)
			if !flowtest.InputErrorOn(tt.field).(flowtest.Matcher).MatchError(err) {
				t.Fatalf("Start() = %v, want an input error naming %s", err, tt.field)
			}
			page, _ := h.Store.List(context.Background(), store.Query{})
			if len(page.Records) != 0 || len(h.Sandbox.Stats().Calls) != 0 {
				t.Errorf("a refused start left %d flows and %v Ratio calls", len(page.Records), h.Sandbox.Stats().Calls)
			}
		})
	}
}

func TestSignUp_WalletAlreadyHasAUser(t *testing.T) {
	h := flowtest.New(t)
	w, p, q := flowtest.NewWallet(t), flowtest.NewPerson(), flowtest.NewPerson()
	h.SeedUser(q, w)
	h.Run(transitions.KindSignUp, []flowtest.Step{
		{Name: "start", Input: signUpInput(w, p), Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "sign: Ratio knows the wallet, so no sign-up", Event: transitions.Sign, Fill: flowtest.SignWith(w),
			Want: flowtest.Want{State: states.Failed, Last: "sign:ok"}},
	})
}

func TestSignUp_PhoneAlreadyHasAUser(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	h.Run(transitions.KindSignUp, []flowtest.Step{
		{Name: "start", Input: signUpInput(w, p), Want: flowtest.Want{State: states.ChallengeIssued}},
		{Name: "sign; the SMS to a phone of another user is a 409", Event: transitions.Sign, Fill: flowtest.SignWith(w),
			Want: flowtest.Want{State: states.Failed, Last: "send_sms:conflict"}},
	})
}

func TestLinkFactorsFirst_PhoneWithoutAUser(t *testing.T) {
	h := flowtest.New(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.Run(transitions.KindLinkFactorsFirst, []flowtest.Step{
		{Name: "start", Input: flow.Input{WalletAddress: w.Address}, Want: flowtest.Want{State: states.New}},
		{Name: "a phone Ratio has no user for", Event: transitions.SubmitPhone, Input: flow.Input{PhoneNumber: p.Phone},
			Want: flowtest.Want{State: states.SmsFirstSent}},
		{Name: "the code proves the phone, but there is no account to link to", Event: transitions.SubmitOTP,
			Fill: flowtest.CodeSentTo(p.Phone), Want: flowtest.Want{State: states.Failed, Last: "submit_otp:new_user"}},
	})
}
