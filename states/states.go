// Package states names the states of ratioflow's flows.
//
// A state is a plain string so that it can be stored, compared and drawn
// without conversion. Every name is a valid Mermaid state identifier
// (letters only, never a Mermaid keyword), so diagrams can use the names
// verbatim. The spec's linking states keep the names of the project's design
// card: WalletAuthed, PhoneConflict, SmsFirstSent, SmsVerified, EmailVerified
// and Linked.
package states

import "slices"

// State is the name of a state in a flow's declared graph.
type State string

// The states of the four flows. Which flow uses which state is declared by
// package transitions; this package only names them.
const (
	// New is the initial state of every flow: created, nothing sent yet.
	New State = "New"
	// ChallengeIssued: Ratio returned a wallet challenge that the user must sign.
	ChallengeIssued State = "ChallengeIssued"
	// WalletAuthed: the wallet signature was accepted and Ratio returned a session JWT.
	WalletAuthed State = "WalletAuthed"
	// SmsSent: an SMS code was sent with the wallet's session JWT (the phone
	// belongs to the wallet's user or to nobody).
	SmsSent State = "SmsSent"
	// PhoneConflict: Ratio answered 409 ALREADY_EXISTS_PHONE; the flow waits
	// for the user to confirm that the phone number is theirs.
	PhoneConflict State = "PhoneConflict"
	// SmsFirstSent: an SMS code was sent without a JWT, SMS as the first factor.
	SmsFirstSent State = "SmsFirstSent"
	// SmsVerified: the SMS code was accepted; the session now has the SMS factor.
	SmsVerified State = "SmsVerified"
	// EmailSent: an email code was sent.
	EmailSent State = "EmailSent"
	// EmailVerified: the email code was accepted; the session is two-factor.
	EmailVerified State = "EmailVerified"
	// TwoFactorAuthed: wallet and SMS were both verified in one session.
	TwoFactorAuthed State = "TwoFactorAuthed"
	// UserLoaded: the signed-in user's profile was read; their wallets follow.
	UserLoaded State = "UserLoaded"

	// Linked (terminal): the new signing wallet was added to the existing user.
	Linked State = "Linked"
	// Authenticated (terminal): the phone matched the authenticated wallet's
	// account; the session is two-factor and nothing needed linking.
	Authenticated State = "Authenticated"
	// SignedIn (terminal): wallet and SMS verified, user and wallets read.
	SignedIn State = "SignedIn"
	// UserCreated (terminal): a new Ratio user was created.
	UserCreated State = "UserCreated"
	// UnknownWallet (terminal): sign-in with a wallet Ratio does not know; the
	// user must run the link flow to attach it to their account.
	UnknownWallet State = "UnknownWallet"
	// Failed (terminal): the flow cannot go on (attempts exhausted, a
	// conflict that ends the flow, a guard refused).
	Failed State = "Failed"
	// Expired (terminal): the flow or its current state passed its deadline.
	Expired State = "Expired"
	// Canceled (terminal): the user or an operator canceled the flow.
	Canceled State = "Canceled"
)

var all = []State{
	New, ChallengeIssued, WalletAuthed, SmsSent, PhoneConflict, SmsFirstSent,
	SmsVerified, EmailSent, EmailVerified, TwoFactorAuthed, UserLoaded,
	Linked, Authenticated, SignedIn, UserCreated, UnknownWallet, Failed, Expired, Canceled,
}

var terminal = []State{Linked, Authenticated, SignedIn, UserCreated, UnknownWallet, Failed, Expired, Canceled}

// All returns every state name, in declaration order. The caller owns the slice.
func All() []State { return slices.Clone(all) }

// Terminal reports whether s ends a flow: no event leaves a terminal state.
func (s State) Terminal() bool { return slices.Contains(terminal, s) }

// Known reports whether s is one of the declared state names.
func (s State) Known() bool { return slices.Contains(all, s) }

// String returns the state's name.
func (s State) String() string { return string(s) }
