package transitions

import "github.com/ratioflow/ratioflow/states"

// Helpers that keep the tables short. They build plain data: the tables
// below are still literal lists of transitions and edges.

// ok is the success edge to a state, with the messages drawn when it is taken.
func ok(to states.State, msgs ...Message) Edge {
	return Edge{Outcome: OK, To: to, Messages: msgs}
}

// on is an edge for outcome o with a state-diagram label.
func on(o Outcome, to states.State, label string) Edge {
	return Edge{Outcome: o, To: to, Label: label}
}

// branch marks an edge as one branch of the sequence diagram's alt block.
func branch(e Edge, label string, msgs ...Message) Edge {
	e.Branch = label
	e.Messages = msgs
	return e
}

// errorEdges completes a transition's edges with one for every error class
// the given edges do not already declare: a class not named leaves the flow
// where it is (the user retries, fixes the input or waits out the back-off).
// Choosing to stay is a decision, so the defaults are written here once:
//
//	conflict       stay (the user may try another value)
//	rate_limited   stay, retry after the back-off ("429 back off")
//	invalid_otp    stay ("wrong OTP"; attempts are counted)
//	expired_jwt    stay (only for calls without a JWT, where it cannot happen;
//	               Validate refuses it for calls that carry one)
//	invalid_input  stay (the user fixes the input)
//	transient      stay, retry ("5xx or timeout")
func errorEdges(declared ...Edge) []Edge {
	labels := map[Outcome]string{
		Conflict:     "409 conflict",
		RateLimited:  "429 back off",
		InvalidOTP:   "wrong OTP",
		ExpiredJWT:   "JWT expired",
		InvalidInput: "400 invalid input",
		Transient:    "5xx or timeout",
	}
	out := append([]Edge(nil), declared...)
	for _, c := range ErrorClasses() {
		found := false
		for _, e := range declared {
			found = found || e.Outcome == c
		}
		if !found {
			out = append(out, Edge{Outcome: c, To: Stay, Label: labels[c]})
		}
	}
	return out
}

// otpEdges are the extra edges of a transition that verifies a one-time code.
func otpEdges() []Edge {
	return []Edge{
		on(InvalidOTP, Stay, "wrong OTP, attempts left"),
		on(AttemptsExhausted, states.Failed, "wrong OTP, no attempt left"),
	}
}

// endings returns the cancel and expire transitions from every given state.
func endings(from ...states.State) []Transition {
	return []Transition{
		{Event: Cancel, From: from, Edges: []Edge{on(OK, states.Canceled, "cancel")},
			Doc: "The user or an operator cancels the flow."},
		{Event: Expire, From: from, Edges: []Edge{on(OK, states.Expired, "deadline passed")},
			Doc: "The flow's time to live or the state's deadline passed."},
	}
}

// msg builds a sequence-diagram message.
func msg(from Participant, arrow Arrow, act Activation, to Participant, text string) Message {
	return Message{From: from, Arrow: arrow, Act: act, To: to, Text: text}
}

// Input fields, named as Ratio names them.
var (
	fieldWalletAddress = Field{Name: "walletAddress"}
	fieldSignature     = Field{Name: "signature"}
	fieldPhoneNumber   = Field{Name: "phoneNumber"}
	fieldOTP           = Field{Name: "otp", Secret: true}
	fieldEmailAddress  = Field{Name: "emailAddress"}
	fieldFirstName     = Field{Name: "firstName"}
	fieldMiddleName    = Field{Name: "middleName", Optional: true}
	fieldLastName      = Field{Name: "lastName"}
	fieldCountry       = Field{Name: "country"}
	fieldAcceptedTerms = Field{Name: "acceptedTerms"}
)

// FieldNames lists every input field name a table may use.
func FieldNames() []string {
	return []string{"walletAddress", "signature", "phoneNumber", "otp", "emailAddress",
		"firstName", "middleName", "lastName", "country", "acceptedTerms"}
}

// The messages every flow closes with: the app goes on using Ratio.
var closing = []Message{
	msg(Wallet, Sync, Activate, Ratio, "Regular Ratio Usage"),
	msg(Ratio, Sync, Deactivate, Wallet, "Complete Ratio Usage"),
	msg(Wallet, Sync, Deactivate, User, "Close Ratio"),
}
