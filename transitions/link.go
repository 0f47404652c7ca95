package transitions

import "github.com/ratioflow/ratioflow/states"

// Link is "New Signing Wallet First" (seeds 000, 001, 002): a returning user
// arrives with a new wallet. The wallet authenticates as if it were a new
// user; when the user's phone turns out to belong to their existing account
// Ratio answers 409 ALREADY_EXISTS_PHONE, and the flow walks them through SMS
// as the first factor, email as the second, and attaches the wallet with
// the two-factor JWT. The messages reproduce the seed's sequence diagram.
var Link = &Flow{
	Kind:    KindLink,
	Title:   "Link a new signing wallet to an existing user (new signing wallet first)",
	Seeds:   []string{"000", "001", "002"},
	Initial: states.New,
	Start:   []Field{fieldWalletAddress},
	Opening: []Message{
		msg(User, Sync, Activate, Wallet, "Open Ratio"),
	},
	Transitions: append([]Transition{
		{
			Event: Start, From: []states.State{states.New}, Auto: true,
			Input: []Field{fieldWalletAddress}, Call: CallStartWallet,
			Doc: "Ask Ratio for a challenge for the new wallet.",
			Messages: []Message{
				msg(Wallet, Sync, Activate, Ratio, "Start wallet auth"),
			},
			Edges: errorEdges(
				ok(states.ChallengeIssued,
					msg(Ratio, Sync, Deactivate, Wallet, "Return challenge"),
					msg(Wallet, Sync, Activate, User, "Request signature")),
				on(InvalidInput, states.Failed, "400 wallet refused"),
			),
		},
		{
			Event: NewChallenge, From: []states.State{states.ChallengeIssued},
			Call: CallStartWallet,
			Doc:  "Ask for a fresh challenge; the previous one expires after 5 minutes.",
			Edges: errorEdges(
				on(OK, states.ChallengeIssued, "new challenge"),
			),
		},
		{
			Event: Sign, From: []states.State{states.ChallengeIssued},
			Input: []Field{fieldSignature}, Call: CallAuthenticateWallet,
			Doc: "Authenticate the wallet with its signature of the challenge. Ratio answers " +
				"without a userMask: to Ratio the wallet is a new user.",
			Messages: []Message{
				msg(User, Sync, Deactivate, Wallet, "Sign challenge"),
				msg(Wallet, Sync, Activate, Ratio, "Authenticate wallet"),
			},
			Edges: errorEdges(
				ok(states.WalletAuthed,
					msg(Ratio, Sync, Deactivate, Wallet, "Return JWT"),
					msg(Wallet, Sync, Activate, User, "Request Phone Number")),
				on(InvalidInput, Stay, "bad signature"),
			),
		},
		{
			Event: SubmitPhone, From: []states.State{states.WalletAuthed},
			Input: []Field{fieldPhoneNumber}, Call: CallSendSMS, Bearer: true,
			Doc: "Send an SMS code with the wallet's JWT. If the phone belongs to another " +
				"account, Ratio answers 409 ALREADY_EXISTS_PHONE.",
			Messages: []Message{
				msg(User, Sync, Deactivate, Wallet, "Submit Phone Number"),
				msg(Wallet, Sync, Keep, Ratio, "Send SMS OTP with JWT"),
			},
			Edges: errorEdges(
				branch(ok(states.SmsSent), "user provides phone that matches auth'd wallet",
					msg(Ratio, Async, Activate, User, "Send SMS"),
					msg(Ratio, Sync, Activate, Wallet, "Return 200 and phone id")),
				branch(on(Conflict, states.PhoneConflict, "409 ALREADY_EXISTS_PHONE"),
					"user provides phone that matches another account",
					msg(Ratio, Sync, Keep, Wallet, "Return 409")),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			),
		},
		{
			Event: SubmitOTP, From: []states.State{states.SmsSent},
			Input: []Field{fieldOTP}, Call: CallAuthenticateSMS, Bearer: true,
			Doc: "Verify the SMS code within the wallet's session: the session is two-factor.",
			Messages: []Message{
				msg(User, Sync, Deactivate, Wallet, "Enter OTP"),
				msg(Wallet, Sync, Deactivate, Ratio, "Authenticate OTP with JWT"),
			},
			Edges: errorEdges(append(otpEdges(),
				ok(states.Authenticated,
					msg(Ratio, Sync, Keep, Wallet, "Return 200 with final JWT")),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			)...),
		},
		{
			Event: ResendOTP, From: []states.State{states.SmsSent},
			Call: CallSendSMS, Bearer: true, Guards: []Guard{GuardResendCooldown},
			Doc: "Send a new SMS code (it voids the previous one) once the cooldown passed.",
			Edges: errorEdges(
				on(OK, states.SmsSent, "code re-sent"),
				on(Refused, Stay, "cooldown"),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			),
		},
		{
			Event: ConfirmPhone, From: []states.State{states.PhoneConflict},
			Call: CallSendSMS,
			Doc: "The user confirms the phone is theirs: send the SMS code again without the " +
				"wallet's JWT, SMS as the first factor. Ratio may answer 429: back off exponentially.",
			Messages: []Message{
				msg(Wallet, Sync, Activate, Ratio, "Send SMS OTP without JWT"),
			},
			Edges: errorEdges(
				ok(states.SmsFirstSent,
					msg(Ratio, Async, Activate, User, "Send SMS"),
					msg(Ratio, Sync, Activate, Wallet, "Return 200 and phone id")),
			),
		},
		{
			Event: SubmitOTP, From: []states.State{states.SmsFirstSent},
			Input: []Field{fieldOTP}, Call: CallAuthenticateSMS,
			Doc: "Verify the SMS code without a JWT: Ratio identifies the existing user.",
			Messages: []Message{
				msg(User, Sync, Deactivate, Wallet, "Enter OTP"),
				msg(Wallet, Sync, Deactivate, Ratio, "Authenticate OTP without JWT"),
			},
			Edges: errorEdges(append(otpEdges(),
				ok(states.SmsVerified,
					msg(Ratio, Sync, Keep, Wallet, "Return 200 with new JWT")),
				on(NewUser, states.Failed, "phone has no Ratio user"),
			)...),
		},
		{
			Event: ResendOTP, From: []states.State{states.SmsFirstSent},
			Call: CallSendSMS, Guards: []Guard{GuardResendCooldown},
			Doc: "Send a new SMS code without a JWT once the cooldown passed.",
			Edges: errorEdges(
				on(OK, states.SmsFirstSent, "code re-sent"),
				on(Refused, Stay, "cooldown"),
			),
		},
		{
			Event: SubmitEmail, From: []states.State{states.SmsVerified},
			Input: []Field{fieldEmailAddress}, Call: CallSendEmail, Bearer: true,
			Doc: "Send an email code with the SMS session's JWT, for the second factor.",
			Messages: []Message{
				msg(Wallet, Sync, Activate, Ratio, "Send Email OTP with new JWT"),
			},
			Edges: errorEdges(
				ok(states.EmailSent,
					msg(Ratio, Async, Activate, User, "Send Email"),
					msg(Ratio, Sync, Activate, Wallet, "Return 200 and email id")),
				on(ExpiredJWT, states.PhoneConflict, "JWT expired: SMS again"),
			),
		},
		{
			Event: SubmitOTP, From: []states.State{states.EmailSent},
			Input: []Field{fieldOTP}, Call: CallAuthenticateEmail, Bearer: true,
			Doc: "Verify the email code: the session is two-factor (SMS + email).",
			Messages: []Message{
				msg(User, Sync, Deactivate, Wallet, "Enter OTP"),
				msg(Wallet, Sync, Deactivate, Ratio, "Authenticate OTP with new JWT"),
			},
			Edges: errorEdges(append(otpEdges(),
				ok(states.EmailVerified,
					msg(Ratio, Sync, Keep, Wallet, "Return 200 with final JWT")),
				on(ExpiredJWT, states.PhoneConflict, "JWT expired: SMS again"),
			)...),
		},
		{
			Event: ResendOTP, From: []states.State{states.EmailSent},
			Call: CallSendEmail, Bearer: true, Guards: []Guard{GuardResendCooldown},
			Doc: "Send a new email code once the cooldown passed.",
			Edges: errorEdges(
				on(OK, states.EmailSent, "code re-sent"),
				on(Refused, Stay, "cooldown"),
				on(ExpiredJWT, states.PhoneConflict, "JWT expired: SMS again"),
			),
		},
		{
			Event: AddWallet, From: []states.State{states.EmailVerified}, Auto: true,
			Input: []Field{fieldWalletAddress}, Call: CallAddWalletToUser, Bearer: true,
			Guards: []Guard{GuardTwoFactor},
			Doc: "Attach the new wallet to the user with the two-factor JWT. It stays " +
				"unverified at Ratio until the user signs in with it.",
			Messages: []Message{
				msg(Wallet, Sync, Activate, Ratio, "Add new wallet to user"),
			},
			Edges: errorEdges(
				ok(states.Linked,
					msg(Ratio, Sync, Deactivate, Wallet, "Return 200 Success")),
				on(Conflict, states.Failed, "409 wallet verified on another user"),
				on(InvalidInput, states.Failed, "400 wallet refused"),
				on(ExpiredJWT, states.PhoneConflict, "JWT expired: SMS again"),
				on(Refused, states.Failed, "not a valid factor pair"),
			),
		},
	}, endings(states.New, states.ChallengeIssued, states.WalletAuthed, states.SmsSent,
		states.PhoneConflict, states.SmsFirstSent, states.SmsVerified, states.EmailSent,
		states.EmailVerified)...),
	Endings: withEndings(map[states.State]string{
		states.Linked: "The new wallet is now an authentication method of the person's Ratio account: " +
			"they can sign in with it.",
		states.Authenticated: "Ratio verified the wallet and the phone number in one session, so nothing needed " +
			"linking. When the view names signup as the next flow, neither belongs to a Ratio user yet: sign the " +
			"person up. Otherwise the wallet already signs in to the account that holds the phone number.",
	}),
	Closing: closing,
}
