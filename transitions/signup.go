package transitions

import "github.com/ratioflow/ratioflow/states"

// SignUp creates a Ratio user (seed 004): the user's data is validated
// before anything is sent (first and last name, email, ISO 3166 alpha-2
// country, US E.164 phone, terms accepted); the wallet is the first factor,
// SMS the second (sign-up requires SMS), then POST /v1/users.
var SignUp = &Flow{
	Kind:    KindSignUp,
	Title:   "Create a user with a wallet and SMS",
	Seeds:   []string{"004"},
	Initial: states.New,
	Start: []Field{fieldWalletAddress, fieldFirstName, fieldMiddleName, fieldLastName,
		fieldEmailAddress, fieldCountry, fieldPhoneNumber, fieldAcceptedTerms},
	Opening: []Message{
		msg(User, Sync, Activate, Wallet, "Open Ratio"),
		msg(User, Sync, Keep, Wallet, "Enter name, email, country, phone and accept the terms"),
	},
	Transitions: append([]Transition{
		{
			Event: Start, From: []states.State{states.New}, Auto: true,
			Input: []Field{fieldWalletAddress}, Call: CallStartWallet,
			Doc: "Ask Ratio for a challenge for the wallet, the first factor.",
			Messages: []Message{
				msg(Wallet, Sync, Keep, Ratio, "Start wallet auth"),
			},
			Edges: errorEdges(
				ok(states.ChallengeIssued,
					msg(Ratio, Sync, Keep, Wallet, "Return challenge"),
					msg(Wallet, Sync, Keep, User, "Request signature")),
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
			Doc: "Authenticate the wallet. Without a userMask it is new to Ratio, as a " +
				"sign-up needs; a wallet Ratio knows already has a user.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Sign challenge"),
				msg(Wallet, Sync, Keep, Ratio, "Authenticate wallet"),
			},
			Edges: errorEdges(
				Edge{Outcome: NewUser, To: states.WalletAuthed, Label: "no userMask: new user",
					Messages: []Message{msg(Ratio, Sync, Keep, Wallet, "Return JWT")}},
				on(OK, states.Failed, "wallet already has a user: sign in"),
				on(InvalidInput, Stay, "bad signature"),
			),
		},
		{
			Event: SendSMS, From: []states.State{states.WalletAuthed}, Auto: true,
			Input: []Field{fieldPhoneNumber}, Call: CallSendSMS, Bearer: true,
			Doc: "Send an SMS code to the sign-up phone with the wallet's JWT.",
			Messages: []Message{
				msg(Wallet, Sync, Keep, Ratio, "Send SMS OTP with JWT"),
			},
			Edges: errorEdges(
				ok(states.SmsSent,
					msg(Ratio, Async, Keep, User, "Send SMS"),
					msg(Ratio, Sync, Keep, Wallet, "Return 200 and phone id")),
				on(Conflict, states.Failed, "409 phone already has a user"),
				on(InvalidInput, states.Failed, "400 phone refused"),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			),
		},
		{
			Event: SubmitOTP, From: []states.State{states.SmsSent},
			Input: []Field{fieldOTP}, Call: CallAuthenticateSMS, Bearer: true,
			Doc: "Verify the SMS code within the wallet's session: wallet + SMS.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Enter OTP"),
				msg(Wallet, Sync, Keep, Ratio, "Authenticate OTP with JWT"),
			},
			Edges: errorEdges(append(otpEdges(),
				ok(states.TwoFactorAuthed,
					msg(Ratio, Sync, Keep, Wallet, "Return 200 with two-factor JWT")),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			)...),
		},
		{
			Event: ResendOTP, From: []states.State{states.SmsSent},
			Call: CallSendSMS, Bearer: true, Guards: []Guard{GuardResendCooldown},
			Doc: "Send a new SMS code once the cooldown passed.",
			Edges: errorEdges(
				on(OK, states.SmsSent, "code re-sent"),
				on(Refused, Stay, "cooldown"),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			),
		},
		{
			Event: CreateUser, From: []states.State{states.TwoFactorAuthed}, Auto: true,
			Input: []Field{fieldFirstName, fieldMiddleName, fieldLastName, fieldEmailAddress,
				fieldCountry, fieldPhoneNumber, fieldAcceptedTerms},
			Call: CallCreateUser, Bearer: true, Guards: []Guard{GuardTwoFactor, GuardSMSFactor},
			Doc: "Create the user (POST /v1/users) with the two-factor JWT that includes SMS.",
			Messages: []Message{
				msg(Wallet, Sync, Keep, Ratio, "Create user"),
			},
			Edges: errorEdges(
				ok(states.UserCreated,
					msg(Ratio, Sync, Keep, Wallet, "Return 201 and user"),
					msg(Wallet, Sync, Keep, User, "Account created")),
				on(Conflict, states.Failed, "409 user already exists"),
				on(InvalidInput, states.Failed, "400 user data refused"),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
				on(Refused, states.Failed, "SMS not among the factors"),
			),
		},
	}, endings(states.New, states.ChallengeIssued, states.WalletAuthed, states.SmsSent,
		states.TwoFactorAuthed)...),
	Endings: withEndings(map[states.State]string{
		states.UserCreated: "A new Ratio user was created, with the wallet and the phone number as its " +
			"authentication methods; the view holds the user.",
	}),
	Closing: closing,
}
