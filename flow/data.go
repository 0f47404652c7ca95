package flow

import (
	"slices"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

// data is what the engine keeps about one flow between steps. It is stored
// sealed (AES-GCM) as a whole in store.Record.Data, so the session JWT and
// the user's phone and email never reach the store in the clear.
type data struct {
	// Given at the start or by the user.
	WalletAddress string   `json:"walletAddress,omitempty"`
	PhoneNumber   string   `json:"phoneNumber,omitempty"`
	EmailAddress  string   `json:"emailAddress,omitempty"`
	Profile       *profile `json:"profile,omitempty"`

	// Learned from Ratio.
	Challenge          string    `json:"challenge,omitempty"`
	ChallengeExpiresAt time.Time `json:"challengeExpiresAt,omitzero"`
	JWT                string    `json:"jwt,omitempty"`
	Factors            []string  `json:"factors,omitempty"`
	UserID             string    `json:"userId,omitempty"`
	PhoneID            string    `json:"phoneId,omitempty"`
	PhoneMask          string    `json:"phoneMask,omitempty"`
	EmailID            string    `json:"emailId,omitempty"`
	EmailMask          string    `json:"emailMask,omitempty"`
	User               *userInfo `json:"user,omitempty"`
	Wallets            []string  `json:"wallets,omitempty"`

	// Pacing.
	EnteredAt   time.Time `json:"enteredAt,omitzero"`
	OTPAttempts int       `json:"otpAttempts,omitempty"`
	LastSentAt  time.Time `json:"lastSentAt,omitzero"`
	Backoffs    int       `json:"backoffs,omitempty"`
	RetryAt     time.Time `json:"retryAt,omitzero"`
	// UncertainSendAt is when a code send whose outcome is unknown was made
	// (a 5xx, a timeout, a process that died): the code may still arrive,
	// so no new one is sent before the cooldown passes.
	UncertainSendAt time.Time `json:"uncertainSendAt,omitzero"`
	// CreateUncertain marks a user creation whose answer was lost.
	CreateUncertain bool `json:"createUncertain,omitempty"`
	// Keyed is the latest user step made with a request key (StepKeyed),
	// and its outcome, so that the same request retried after its answer
	// was lost answers as it did. See replay.go.
	Keyed *keyedStep `json:"keyed,omitempty"`
	// UncertainAuth names the authentication call (a one-time code or a
	// wallet signature) whose answer was lost: the code or challenge it
	// sent may be spent. See spent.go.
	UncertainAuth string `json:"uncertainAuth,omitempty"`

	// The last step's result, for the view.
	Last *lastStep `json:"last,omitempty"`
}

// profile is the sign-up data, validated at the start.
type profile struct {
	FirstName     string `json:"firstName"`
	MiddleName    string `json:"middleName,omitempty"`
	LastName      string `json:"lastName"`
	Country       string `json:"country"`
	AcceptedTerms bool   `json:"acceptedTerms"`
}

// userInfo is what the view shows of a signed-in or created user.
type userInfo struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	KYCStatus string `json:"kycStatus,omitempty"`
}

// lastStep records the outcome of the latest step.
// keyedStep is a user step made with a request key: the key's hash and
// the step's outcome.
type keyedStep struct {
	Key  string   `json:"key"`
	Step lastStep `json:"step"`
	// Failed reports that the step answered an error: a failure that left
	// the flow where it was, or the last wrong code. A failure outcome
	// that moved the flow (a 409 leading to PhoneConflict) was no error.
	Failed bool `json:"failed,omitempty"`
	// Spent reports that the error was a spent code or challenge (see
	// spent.go), which costs no attempt.
	Spent bool `json:"spent,omitempty"`
}

type lastStep struct {
	Event   string `json:"event"`
	Outcome string `json:"outcome"`
	Status  int    `json:"status,omitempty"`
	Code    string `json:"code,omitempty"`
	// Message is ratioflow's own explanation, never Ratio's text (which is
	// not ours to vouch for) and never a secret.
	Message string `json:"message,omitempty"`
}

// Factor names, as Ratio's session claims call them.
const (
	factorWallet = "wallet"
	factorSMS    = "sms"
	factorEmail  = "email"
)

// addFactor records a factor: joined to the session's when the call carried
// the JWT, else starting a new session.
func (d *data) addFactor(f string, joined bool) {
	if !joined {
		d.Factors = nil
	}
	if !slices.Contains(d.Factors, f) {
		d.Factors = append(d.Factors, f)
		slices.Sort(d.Factors)
	}
}

func (d *data) has(f string) bool { return slices.Contains(d.Factors, f) }

// twoFactor reports whether the session's factors form a valid pair:
// SMS+Email or SMS+Wallet. Email+Wallet never counts (seed 004).
func (d *data) twoFactor() bool {
	return d.has(factorSMS) && (d.has(factorEmail) || d.has(factorWallet))
}

func (d *data) jwt() ratio.Secret { return ratio.Secret(d.JWT) }

// sent records a code sent at now: attempts start over.
func (d *data) sent(now time.Time) {
	d.LastSentAt, d.UncertainSendAt, d.OTPAttempts = now, time.Time{}, 0
	d.UncertainAuth = "" // a refusal of the new code is the person's
}

// forget drops what an ended flow no longer needs, secrets first.
func (d *data) forget() {
	d.JWT, d.Challenge, d.ChallengeExpiresAt = "", "", time.Time{}
	d.PhoneID, d.EmailID, d.RetryAt = "", "", time.Time{}
}
