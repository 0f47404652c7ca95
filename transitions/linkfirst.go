package transitions

import "github.com/ratioflow/ratioflow/states"

// LinkFactorsFirst is "SMS and Email First" (seed 000): the app already
// knows the user has a Ratio account. SMS then email authenticate the user;
// the wallet challenge is then requested and signed with the two-factor JWT,
// and Ratio links the new wallet to the account by itself.
var LinkFactorsFirst = &Flow{
	Kind:    KindLinkFactorsFirst,
	Title:   "Link a new signing wallet to an existing user (SMS and email first)",
	Seeds:   []string{"000"},
	Initial: states.New,
	Start:   []Field{fieldWalletAddress},
	Opening: []Message{
		msg(User, Sync, Activate, Wallet, "Open Ratio"),
		msg(Wallet, Sync, Keep, User, "Request Phone Number"),
	},
	Transitions: append([]Transition{
		{
			Event: SubmitPhone, From: []states.State{states.New},
			Input: []Field{fieldPhoneNumber}, Call: CallSendSMS,
			Doc: "Send an SMS code without a JWT: SMS is the first factor.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Submit Phone Number"),
				msg(Wallet, Sync, Keep, Ratio, "Send SMS OTP without JWT"),
			},
			Edges: errorEdges(
				ok(states.SmsFirstSent,
					msg(Ratio, Async, Keep, User, "Send SMS"),
					msg(Ratio, Sync, Keep, Wallet, "Return 200 and phone id")),
			),
		},
		{
			Event: SubmitOTP, From: []states.State{states.SmsFirstSent},
			Input: []Field{fieldOTP}, Call: CallAuthenticateSMS,
			Doc: "Verify the SMS code: Ratio identifies the existing user.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Enter OTP"),
				msg(Wallet, Sync, Keep, Ratio, "Authenticate OTP without JWT"),
			},
			Edges: errorEdges(append(otpEdges(),
				ok(states.SmsVerified,
					msg(Ratio, Sync, Keep, Wallet, "Return 200 with JWT"),
					msg(Wallet, Sync, Keep, User, "Request Email Address")),
				on(NewUser, states.Failed, "phone has no Ratio user"),
			)...),
		},
		{
			Event: ResendOTP, From: []states.State{states.SmsFirstSent},
			Call: CallSendSMS, Guards: []Guard{GuardResendCooldown},
			Doc: "Send a new SMS code once the cooldown passed.",
			Edges: errorEdges(
				on(OK, states.SmsFirstSent, "code re-sent"),
				on(Refused, Stay, "cooldown"),
			),
		},
		{
			Event: SubmitEmail, From: []states.State{states.SmsVerified},
			Input: []Field{fieldEmailAddress}, Call: CallSendEmail, Bearer: true,
			Doc: "Send an email code with the SMS session's JWT.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Submit Email Address"),
				msg(Wallet, Sync, Keep, Ratio, "Send Email OTP with JWT"),
			},
			Edges: errorEdges(
				ok(states.EmailSent,
					msg(Ratio, Async, Keep, User, "Send Email"),
					msg(Ratio, Sync, Keep, Wallet, "Return 200 and email id")),
				on(ExpiredJWT, states.New, "JWT expired: SMS again"),
			),
		},
		{
			Event: SubmitOTP, From: []states.State{states.EmailSent},
			Input: []Field{fieldOTP}, Call: CallAuthenticateEmail, Bearer: true,
			Doc: "Verify the email code: the session is two-factor (SMS + email).",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Enter OTP"),
				msg(Wallet, Sync, Keep, Ratio, "Authenticate OTP with JWT"),
			},
			Edges: errorEdges(append(otpEdges(),
				ok(states.EmailVerified,
					msg(Ratio, Sync, Keep, Wallet, "Return 200 with two-factor JWT")),
				on(ExpiredJWT, states.New, "JWT expired: SMS again"),
			)...),
		},
		{
			Event: ResendOTP, From: []states.State{states.EmailSent},
			Call: CallSendEmail, Bearer: true, Guards: []Guard{GuardResendCooldown},
			Doc: "Send a new email code once the cooldown passed.",
			Edges: errorEdges(
				on(OK, states.EmailSent, "code re-sent"),
				on(Refused, Stay, "cooldown"),
				on(ExpiredJWT, states.New, "JWT expired: SMS again"),
			),
		},
		{
			Event: StartWallet, From: []states.State{states.EmailVerified}, Auto: true,
			Input: []Field{fieldWalletAddress}, Call: CallStartWallet, Bearer: true,
			Guards: []Guard{GuardTwoFactor},
			Doc:    "Request a challenge for the new wallet within the two-factor session.",
			Messages: []Message{
				msg(Wallet, Sync, Keep, Ratio, "Start wallet auth with two-factor JWT"),
			},
			Edges: errorEdges(
				ok(states.ChallengeIssued,
					msg(Ratio, Sync, Keep, Wallet, "Return challenge"),
					msg(Wallet, Sync, Keep, User, "Request signature")),
				on(InvalidInput, states.Failed, "400 wallet refused"),
				on(ExpiredJWT, states.New, "JWT expired: SMS again"),
				on(Refused, states.Failed, "not a valid factor pair"),
			),
		},
		{
			Event: NewChallenge, From: []states.State{states.ChallengeIssued},
			Call: CallStartWallet, Bearer: true,
			Doc: "Ask for a fresh challenge within the two-factor session.",
			Edges: errorEdges(
				on(OK, states.ChallengeIssued, "new challenge"),
				on(ExpiredJWT, states.New, "JWT expired: SMS again"),
			),
		},
		{
			Event: Sign, From: []states.State{states.ChallengeIssued},
			Input: []Field{fieldSignature}, Call: CallAuthenticateWallet, Bearer: true,
			Doc: "Authenticate the wallet with the two-factor JWT: Ratio links the wallet " +
				"to the user's account.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Sign challenge"),
				msg(Wallet, Sync, Keep, Ratio, "Authenticate wallet with two-factor JWT"),
			},
			Edges: errorEdges(
				ok(states.Linked,
					msg(Ratio, Sync, Keep, Wallet, "Return 200, wallet linked")),
				on(NewUser, states.Failed, "wallet not linked to a user"),
				on(Conflict, states.Failed, "409 wallet verified on another user"),
				on(InvalidInput, Stay, "bad signature"),
				on(ExpiredJWT, states.New, "JWT expired: SMS again"),
			),
		},
	}, endings(states.New, states.SmsFirstSent, states.SmsVerified, states.EmailSent,
		states.EmailVerified, states.ChallengeIssued)...),
	Endings: withEndings(map[states.State]string{
		states.Linked: "The new wallet is now an authentication method of the person's Ratio account: " +
			"they can sign in with it.",
	}),
	Closing: closing,
}
