// Package transitions declares ratioflow's flows as data: one table per
// flow, listing every event, the states it leaves and reaches, the Ratio call
// it makes, an edge for every outcome of that call, its guards, whether it
// fires by itself, the input it needs and the messages it exchanges between
// the User, the Wallet (the embedding app) and Ratio.
//
// The same tables drive the engine (package flow, on looplab/fsm), the
// diagrams (package visualize) and the tests (flow/flowtest), so a diagram
// can never drift from the code that runs. Validate checks a table: every
// state reachable, no dead end but terminals, every Ratio-calling transition
// handling every error class, names valid.
//
// The four flows come from the spec's pages of Ratio's documentation:
// Link (New Signing Wallet First, seeds 000-002), LinkFactorsFirst (SMS and
// Email First, seed 000), SignIn (wallet then SMS, seed 003) and SignUp
// (create a user, seed 004).
package transitions

import "github.com/ratioflow/ratioflow/states"

// Kind names a flow.
type Kind string

// The four flows.
const (
	KindLink             Kind = "link"
	KindLinkFactorsFirst Kind = "link-factors-first"
	KindSignIn           Kind = "signin"
	KindSignUp           Kind = "signup"
)

// Event names a transition's trigger, as a frontend sends it
// (POST /v1/flows/{id}/events/{event}).
type Event string

// The events of the four flows.
const (
	// Start asks Ratio for a wallet challenge; it fires by itself from New
	// with the wallet address given when the flow was started.
	Start Event = "start"
	// NewChallenge asks for a fresh challenge when the previous one expired.
	NewChallenge Event = "new_challenge"
	// Sign submits the wallet's signature of the challenge.
	Sign Event = "sign"
	// SubmitPhone submits the phone number to receive an SMS code.
	SubmitPhone Event = "submit_phone"
	// SendSMS sends the SMS code to the phone number given at the start.
	SendSMS Event = "send_sms"
	// ConfirmPhone: the user confirms the conflicting phone number is
	// theirs; the code is sent again without the wallet's JWT.
	ConfirmPhone Event = "confirm_phone"
	// SubmitOTP submits the one-time code the user received.
	SubmitOTP Event = "submit_otp"
	// ResendOTP sends a new code to the same phone or address.
	ResendOTP Event = "resend_otp"
	// SubmitEmail submits the email address to receive an email code.
	SubmitEmail Event = "submit_email"
	// AddWallet attaches the new wallet to the two-factor user.
	AddWallet Event = "add_wallet"
	// StartWallet asks for a wallet challenge within the two-factor session.
	StartWallet Event = "start_wallet"
	// LoadUser reads the signed-in user.
	LoadUser Event = "load_user"
	// LoadWallets reads the signed-in user's wallets.
	LoadWallets Event = "load_wallets"
	// CreateUser creates the Ratio user from the validated sign-up data.
	CreateUser Event = "create_user"
	// Cancel ends the flow at the user's or an operator's request.
	Cancel Event = "cancel"
	// Expire ends a flow whose deadline passed; the engine and the sweeper fire it.
	Expire Event = "expire"
)

// Call names the Ratio operation a transition makes. The values are those of
// ratio.Op, so the engine maps one to the other without a table.
type Call string

// The Ratio operations the flows call.
const (
	NoCall                 Call = ""
	CallStartWallet        Call = "cryptoWallet:start"
	CallAuthenticateWallet Call = "cryptoWallet:authenticate"
	CallAddWalletToUser    Call = "cryptoWallet:addToUser"
	CallSendSMS            Call = "otp/sms:send"
	CallAuthenticateSMS    Call = "otp/sms:authenticate"
	CallSendEmail          Call = "otp/email:send"
	CallAuthenticateEmail  Call = "otp/email:authenticate"
	CallCreateUser         Call = "users:create"
	CallGetUser            Call = "users:get"
	CallListWallets        Call = "users.wallets:list"
)

// Outcome classifies the result of a transition. A transition without a
// call has the single outcome OK; one with a call has an edge for each
// outcome the call can produce.
type Outcome string

// Outcomes.
const (
	// OK: the call succeeded (or there was none).
	OK Outcome = "ok"
	// NewUser: a wallet authenticated but Ratio has no user for it (no
	// userMask in the answer). A transition that does not declare it treats
	// it as OK.
	NewUser Outcome = "new_user"

	// The error classes every Ratio-calling transition must handle.

	// Conflict: 409, e.g. ALREADY_EXISTS_PHONE.
	Conflict Outcome = "conflict"
	// RateLimited: 429 after the client's own back-off.
	RateLimited Outcome = "rate_limited"
	// InvalidOTP: a wrong or expired one-time code, attempts left.
	InvalidOTP Outcome = "invalid_otp"
	// ExpiredJWT: the session JWT expired (Ratio's JWT lives 5 minutes) or
	// was refused.
	ExpiredJWT Outcome = "expired_jwt"
	// InvalidInput: Ratio refused the input (400, 422, a bad signature).
	InvalidInput Outcome = "invalid_input"
	// Transient: a 5xx, a timeout or a lost connection.
	Transient Outcome = "transient"

	// AttemptsExhausted: a wrong code with no attempt left. Transitions
	// that verify a one-time code must declare it.
	AttemptsExhausted Outcome = "attempts_exhausted"
	// Refused: a guard refused the transition. Transitions with guards must
	// declare it.
	Refused Outcome = "refused"
)

// ErrorClasses lists the outcomes every Ratio-calling transition declares.
func ErrorClasses() []Outcome {
	return []Outcome{Conflict, RateLimited, InvalidOTP, ExpiredJWT, InvalidInput, Transient}
}

// Guard names a condition checked before a transition's call. The engine
// implements each; an unknown name fails Validate.
type Guard string

// Guards.
const (
	// GuardTwoFactor: the session holds two factors that form a valid pair:
	// SMS+Email or SMS+Wallet. Email+Wallet is never a valid pair.
	GuardTwoFactor Guard = "two_factor"
	// GuardSMSFactor: one of the session's factors is SMS (sign-up needs it).
	GuardSMSFactor Guard = "sms_factor"
	// GuardResendCooldown: the previous code was sent long enough ago.
	GuardResendCooldown Guard = "resend_cooldown"
)

// Guards lists every guard the engine implements.
func Guards() []Guard { return []Guard{GuardTwoFactor, GuardSMSFactor, GuardResendCooldown} }

// Field is an input a transition needs, named as Ratio names it.
type Field struct {
	// Name is the JSON name: walletAddress, signature, phoneNumber, otp,
	// emailAddress, firstName, lastName, middleName, country, acceptedTerms.
	Name string
	// Secret marks a value that must never be stored or shown (otp).
	Secret bool
	// Optional marks a field that may be absent.
	Optional bool
}

// Participant is a lifeline of the sequence diagrams.
type Participant string

// The three participants of the spec's sequence diagram.
const (
	User   Participant = "User"
	Wallet Participant = "Wallet"
	Ratio  Participant = "Ratio"
)

// Arrow is a Mermaid sequence arrow.
type Arrow string

// Arrows.
const (
	// Sync is a solid arrow: a request or its answer.
	Sync Arrow = "->>"
	// Async is a dotted arrow: something delivered out of band (an SMS, an email).
	Async Arrow = "-->>"
)

// Activation is a Mermaid activation mark on a message's receiver.
type Activation string

// Activation marks.
const (
	Keep       Activation = ""
	Activate   Activation = "+"
	Deactivate Activation = "-"
)

// Message is one arrow of a sequence diagram.
type Message struct {
	From  Participant
	Arrow Arrow
	Act   Activation
	To    Participant
	Text  string
}

// Edge is where one outcome of a transition leads.
type Edge struct {
	Outcome Outcome
	// To is the destination; Stay keeps the flow in the state it was in.
	To states.State
	// Label names the edge in state diagrams ("409 ALREADY_EXISTS_PHONE");
	// empty means the outcome's own name.
	Label string
	// Branch, on the edges that tell the spec's story, is the alt/else label
	// of the sequence diagram when a transition's outcomes branch it.
	Branch string
	// Messages are drawn when this edge is taken, after the transition's own.
	Messages []Message
}

// Stay as an edge's destination keeps the flow in its current state.
const Stay states.State = ""

// Transition is one declared step of a flow.
type Transition struct {
	Event Event
	// From lists the states the event may fire in.
	From []states.State
	// Input lists the fields the event needs. For an automatic transition
	// they come from the data given when the flow started.
	Input []Field
	// Call is the Ratio operation made, or NoCall.
	Call Call
	// Bearer says the call carries the session's current JWT. Without it the
	// call starts a new session (SMS as the first factor after a conflict).
	Bearer bool
	// Edges lists a destination per outcome; OK is required.
	Edges []Edge
	// Guards are checked, in order, before the call.
	Guards []Guard
	// Auto marks a transition that fires by itself as soon as its source
	// state is reached, with no user input.
	Auto bool
	// Messages are the sequence-diagram messages of the step, before the
	// taken edge's own.
	Messages []Message
	// Doc says what the step does, for docs and views.
	Doc string
}

// Flow is one declared flow.
type Flow struct {
	Kind Kind
	// Title and Seeds describe the flow for docs: the spec's pages it comes from.
	Title string
	Seeds []string
	// Initial is the state a flow starts in (states.New).
	Initial states.State
	// Start lists the fields given when the flow is started.
	Start []Field
	// Transitions is the table.
	Transitions []Transition
	// Opening are the messages drawn before the first step (the user opens
	// the app).
	Opening []Message
	// Closing are the messages drawn after the story ends (the app goes on
	// using Ratio and closes).
	Closing []Message
	// Migrations declare how flows started on an earlier version of this
	// graph resume on this one.
	Migrations []Migration
	// Endings say, for each terminal state the flow can reach, what
	// happened and what the person or the app does next; a view of an
	// ended flow carries its ending as its message. Like Title, they are
	// words for people: they are not part of the graph's version.
	Endings map[states.State]string
}

// Migration maps the states of a flow persisted under an earlier graph
// version to states of the current graph. A state not in States keeps its
// name (it must exist in the current graph).
type Migration struct {
	FromVersion string
	States      map[states.State]states.State
}

// Edge returns the edge t declares for outcome o. NewUser falls back to OK
// when not declared.
func (t *Transition) Edge(o Outcome) (Edge, bool) {
	for _, e := range t.Edges {
		if e.Outcome == o {
			return e, true
		}
	}
	if o == NewUser {
		return t.Edge(OK)
	}
	return Edge{}, false
}

// Fires reports whether t may fire in state s.
func (t *Transition) Fires(s states.State) bool {
	for _, f := range t.From {
		if f == s {
			return true
		}
	}
	return false
}

// Dest returns the state edge e leads to when taken from state from.
func (e Edge) Dest(from states.State) states.State {
	if e.To == Stay {
		return from
	}
	return e.To
}
