package flow

import (
	"slices"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// View is what a frontend sees of a flow after each step: where it is and
// what the user must do next. It never holds a JWT, a one-time code or any
// other secret.
type View struct {
	ID        string           `json:"id"`
	Kind      transitions.Kind `json:"kind"`
	State     states.State     `json:"state"`
	Version   int64            `json:"version"`
	Terminal  bool             `json:"terminal"`
	CreatedAt time.Time        `json:"createdAt"`
	ExpiresAt time.Time        `json:"expiresAt"`
	Next      []Next           `json:"next"`
	// Challenge is the text the wallet must sign (personal_sign), when the
	// next event is sign.
	Challenge          string     `json:"challenge,omitempty"`
	ChallengeExpiresAt *time.Time `json:"challengeExpiresAt,omitempty"`
	// WalletAddress is the wallet the flow is about.
	WalletAddress string `json:"walletAddress,omitempty"`
	// PhoneMask and EmailMask show where the codes went.
	PhoneMask string `json:"phoneMask,omitempty"`
	EmailMask string `json:"emailMask,omitempty"`
	// AttemptsLeft counts the tries left for the code just sent.
	AttemptsLeft *int `json:"attemptsLeft,omitempty"`
	// RetryAt is when a rate-limited or cooled-down send may be tried again.
	RetryAt *time.Time `json:"retryAt,omitempty"`
	// Last is the outcome of the latest step.
	Last *LastStep `json:"last,omitempty"`
	// User is the signed-in or created user; Wallets their wallets.
	User    *User    `json:"user,omitempty"`
	Wallets []string `json:"wallets,omitempty"`
	// NextFlow names the flow to run instead, when this one ended with a
	// pointer to it (a sign-in with a wallet Ratio does not know: "link";
	// a link whose wallet and phone belong to no Ratio user: "signup").
	NextFlow transitions.Kind `json:"nextFlow,omitempty"`
	// Message says, once the flow has ended, what happened and what the
	// person or the app does next (the flow's declared ending).
	Message string `json:"message,omitempty"`
}

// Next is an event the user (or the app) may send now, with the fields it
// needs, named as Ratio names them.
type Next struct {
	Event  transitions.Event `json:"event"`
	Fields []string          `json:"fields"`
	// Auto marks a step the engine fires by itself; it is listed so that a
	// step that failed transiently can be retried.
	Auto bool `json:"auto,omitempty"`
}

// LastStep is the outcome of the latest step.
type LastStep struct {
	Event   transitions.Event   `json:"event"`
	Outcome transitions.Outcome `json:"outcome"`
	Status  int                 `json:"status,omitempty"`
	Code    string              `json:"code,omitempty"`
	Message string              `json:"message,omitempty"`
}

// User is what a view shows of a Ratio user.
type User struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	KYCStatus string `json:"kycStatus,omitempty"`
}

// nextEvents lists what a view of a flow of f in state s offers the user:
// every event permitted there but expiry, with its input fields.
func nextEvents(f *transitions.Flow, s states.State) []Next {
	next := []Next{}
	for _, t := range f.Permitted(s) {
		if t.Event == transitions.Expire {
			continue
		}
		n := Next{Event: t.Event, Fields: []string{}, Auto: t.Auto}
		if !t.Auto {
			for _, in := range t.Input {
				n.Fields = append(n.Fields, in.Name)
			}
		}
		next = append(next, n)
	}
	return next
}

// copyNext returns a deep copy of next in two allocations, so that a
// caller may change its view without touching the template.
func copyNext(next []Next) []Next {
	n := 0
	for _, x := range next {
		n += len(x.Fields)
	}
	out, fields := slices.Clone(next), make([]string, 0, n)
	for i, x := range out {
		start := len(fields)
		fields = append(fields, x.Fields...)
		out[i].Fields = fields[start:len(fields):len(fields)]
	}
	return out
}

func (e *Engine) view(c *compiled, rec *store.Record, d *data) *View {
	f := c.flow
	v := &View{
		ID: rec.ID, Kind: f.Kind, State: rec.State, Version: rec.Version,
		Terminal: rec.State.Terminal(), CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt,
		Next: []Next{}, WalletAddress: d.WalletAddress,
		PhoneMask: d.PhoneMask, EmailMask: d.EmailMask, Wallets: d.Wallets,
	}
	if !v.Terminal {
		if next, ok := c.next[rec.State]; ok {
			v.Next = copyNext(next)
		} else {
			v.Next = nextEvents(f, rec.State) // a state the table does not name: nothing but cancel, if that
		}
		if rec.State == states.ChallengeIssued && d.Challenge != "" {
			v.Challenge = d.Challenge
			v.ChallengeExpiresAt = timePtr(d.ChallengeExpiresAt)
		}
		if d.PhoneID != "" || d.EmailID != "" {
			if _, otp := f.Find(rec.State, transitions.SubmitOTP); otp {
				left := max(e.policy.OTPAttempts-d.OTPAttempts, 0)
				v.AttemptsLeft = &left
			}
		}
		if d.RetryAt.After(e.now()) {
			v.RetryAt = timePtr(d.RetryAt)
		}
	}
	if d.Last != nil {
		v.Last = &LastStep{Event: transitions.Event(d.Last.Event), Outcome: transitions.Outcome(d.Last.Outcome),
			Status: d.Last.Status, Code: d.Last.Code, Message: d.Last.Message}
	}
	if d.User != nil {
		v.User = &User{ID: d.User.ID, FirstName: d.User.FirstName, LastName: d.User.LastName, KYCStatus: d.User.KYCStatus}
	}
	switch {
	case rec.State == states.UnknownWallet:
		v.NextFlow = transitions.KindLink
	case rec.State == states.Authenticated && d.UserID == "" && f.Kind != transitions.KindSignUp:
		// Ratio answered both factors with no user: they belong to nobody yet.
		v.NextFlow = transitions.KindSignUp
	}
	if v.Terminal {
		v.Message = f.Endings[rec.State]
	}
	return v
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Allows reports whether event is one of the view's next events, that is
// whether the flow, as the view shows it, takes event now. An app uses it
// to choose the form to show.
func (v *View) Allows(event transitions.Event) bool {
	for _, n := range v.Next {
		if n.Event == event {
			return true
		}
	}
	return false
}
