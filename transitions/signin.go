package transitions

import "github.com/ratioflow/ratioflow/states"

// SignIn is wallet-then-SMS sign-in (seed 003): the wallet Ratio knows is the
// first factor, SMS the second; then the user and their wallets are read. A
// wallet Ratio does not know ends in UnknownWallet, which tells the app to
// run the link flow.
var SignIn = &Flow{
	Kind:    KindSignIn,
	Title:   "Sign in with a wallet and SMS",
	Seeds:   []string{"003"},
	Initial: states.New,
	Start:   []Field{fieldWalletAddress},
	Opening: []Message{
		msg(User, Sync, Activate, Wallet, "Open Ratio"),
	},
	Transitions: append([]Transition{
		{
			Event: Start, From: []states.State{states.New}, Auto: true,
			Input: []Field{fieldWalletAddress}, Call: CallStartWallet,
			Doc: "Ask Ratio for a challenge for the wallet.",
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
			Doc: "Authenticate the wallet. A userMask in the answer means Ratio knows the " +
				"wallet's user; without it the wallet must first be linked.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Sign challenge"),
				msg(Wallet, Sync, Keep, Ratio, "Authenticate wallet"),
			},
			Edges: errorEdges(
				branch(ok(states.WalletAuthed), "Ratio knows the wallet",
					msg(Ratio, Sync, Keep, Wallet, "Return JWT and userMask"),
					msg(Wallet, Sync, Keep, User, "Request Phone Number")),
				branch(on(NewUser, states.UnknownWallet, "no userMask: link the wallet first"),
					"Ratio does not know the wallet",
					msg(Ratio, Sync, Keep, Wallet, "Return JWT without userMask"),
					msg(Wallet, Sync, Keep, User, "Link this wallet to your account first")),
				on(InvalidInput, Stay, "bad signature"),
			),
		},
		{
			Event: SubmitPhone, From: []states.State{states.WalletAuthed},
			Input: []Field{fieldPhoneNumber}, Call: CallSendSMS, Bearer: true,
			Doc: "Send an SMS code with the wallet's JWT, for the second factor.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Submit Phone Number"),
				msg(Wallet, Sync, Keep, Ratio, "Send SMS OTP with JWT"),
			},
			Edges: errorEdges(
				ok(states.SmsSent,
					msg(Ratio, Async, Keep, User, "Send SMS"),
					msg(Ratio, Sync, Keep, Wallet, "Return 200 and phone id")),
				on(Conflict, Stay, "409 phone of another account"),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			),
		},
		{
			Event: SubmitOTP, From: []states.State{states.SmsSent},
			Input: []Field{fieldOTP}, Call: CallAuthenticateSMS, Bearer: true,
			Doc: "Verify the SMS code within the wallet's session: the session is two-factor.",
			Messages: []Message{
				msg(User, Sync, Keep, Wallet, "Enter OTP"),
				msg(Wallet, Sync, Keep, Ratio, "Authenticate OTP with JWT"),
			},
			Edges: errorEdges(append(otpEdges(),
				ok(states.TwoFactorAuthed,
					msg(Ratio, Sync, Keep, Wallet, "Return 200 with final JWT")),
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
			Event: LoadUser, From: []states.State{states.TwoFactorAuthed}, Auto: true,
			Call: CallGetUser, Bearer: true,
			Doc: "Read the signed-in user (GET /v1/users/{userId}).",
			Messages: []Message{
				msg(Wallet, Sync, Keep, Ratio, "Get user"),
			},
			Edges: errorEdges(
				ok(states.UserLoaded,
					msg(Ratio, Sync, Keep, Wallet, "Return user")),
				on(InvalidInput, states.Failed, "user not readable"),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			),
		},
		{
			Event: LoadWallets, From: []states.State{states.UserLoaded}, Auto: true,
			Call: CallListWallets, Bearer: true,
			Doc: "Read the user's wallets (GET /v1/users/{userId}/wallets).",
			Messages: []Message{
				msg(Wallet, Sync, Keep, Ratio, "Get user's wallets"),
			},
			Edges: errorEdges(
				ok(states.SignedIn,
					msg(Ratio, Sync, Keep, Wallet, "Return wallets")),
				on(InvalidInput, states.Failed, "wallets not readable"),
				on(ExpiredJWT, states.New, "JWT expired: new challenge"),
			),
		},
	}, endings(states.New, states.ChallengeIssued, states.WalletAuthed, states.SmsSent,
		states.TwoFactorAuthed, states.UserLoaded)...),
	Endings: withEndings(map[states.State]string{
		states.SignedIn: "The person is signed in with their wallet and an SMS code; the view holds their " +
			"user and wallets.",
		states.UnknownWallet: "Ratio knows no user with this wallet. If the person has an account, link the " +
			"wallet to it with the link flow (the view names it as the next flow); otherwise sign them up.",
	}),
	Closing: closing,
}
