package transitions_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

func TestValidate_DeclaredFlows(t *testing.T) {
	if err := transitions.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	for _, f := range transitions.All() {
		if len(f.Endings) == 0 {
			t.Errorf("flow %s declares no endings: its ended views would say nothing", f.Kind)
		}
	}
}

// clone returns a deep enough copy of a flow for a test to break it.
func clone(f *transitions.Flow) *transitions.Flow {
	c := *f
	c.Transitions = make([]transitions.Transition, len(f.Transitions))
	for i, t := range f.Transitions {
		t.From = slices.Clone(t.From)
		t.Edges = slices.Clone(t.Edges)
		t.Guards = slices.Clone(t.Guards)
		t.Input = slices.Clone(t.Input)
		c.Transitions[i] = t
	}
	return &c
}

// find returns the index of the transition of event e from state s.
func find(tb testing.TB, f *transitions.Flow, s states.State, e transitions.Event) int {
	tb.Helper()
	for i, t := range f.Transitions {
		if t.Event == e && t.Fires(s) {
			return i
		}
	}
	tb.Fatalf("no transition %s from %s in %s", e, s, f.Kind)
	return -1
}

func dropEdge(t *transitions.Transition, o transitions.Outcome) {
	t.Edges = slices.DeleteFunc(t.Edges, func(e transitions.Edge) bool { return e.Outcome == o })
}

func setEdge(t *transitions.Transition, o transitions.Outcome, to states.State) {
	for i := range t.Edges {
		if t.Edges[i].Outcome == o {
			t.Edges[i].To = to
		}
	}
}

func TestValidate_RefusesBrokenTables(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(tb testing.TB, f *transitions.Flow)
		want   string
	}{
		{"missing error class", func(tb testing.TB, f *transitions.Flow) {
			dropEdge(&f.Transitions[find(tb, f, states.PhoneConflict, transitions.ConfirmPhone)], transitions.RateLimited)
		}, "does not handle error class rate_limited"},
		{"missing ok edge", func(tb testing.TB, f *transitions.Flow) {
			dropEdge(&f.Transitions[find(tb, f, states.EmailVerified, transitions.AddWallet)], transitions.OK)
		}, "no edge for outcome ok"},
		{"otp without attempt limit", func(tb testing.TB, f *transitions.Flow) {
			dropEdge(&f.Transitions[find(tb, f, states.SmsSent, transitions.SubmitOTP)], transitions.AttemptsExhausted)
		}, "no edge for attempts_exhausted"},
		{"expired JWT stuck", func(tb testing.TB, f *transitions.Flow) {
			setEdge(&f.Transitions[find(tb, f, states.SmsVerified, transitions.SubmitEmail)], transitions.ExpiredJWT, transitions.Stay)
		}, "an expired one must lead somewhere"},
		{"guard without refused edge", func(tb testing.TB, f *transitions.Flow) {
			dropEdge(&f.Transitions[find(tb, f, states.EmailVerified, transitions.AddWallet)], transitions.Refused)
		}, "has guards but no edge for outcome refused"},
		{"unknown guard", func(tb testing.TB, f *transitions.Flow) {
			tr := &f.Transitions[find(tb, f, states.EmailVerified, transitions.AddWallet)]
			tr.Guards = append(tr.Guards, "email_wallet_ok")
		}, `unknown guard "email_wallet_ok"`},
		{"unreachable state", func(tb testing.TB, f *transitions.Flow) {
			setEdge(&f.Transitions[find(tb, f, states.WalletAuthed, transitions.SubmitPhone)], transitions.Conflict, states.Failed)
		}, "state PhoneConflict: not reachable"},
		{"dead end", func(tb testing.TB, f *transitions.Flow) {
			f.Transitions = slices.DeleteFunc(f.Transitions, func(t transitions.Transition) bool {
				return t.Fires(states.PhoneConflict)
			})
		}, "state PhoneConflict: dead end"},
		{"terminal left by an event", func(tb testing.TB, f *transitions.Flow) {
			tr := &f.Transitions[find(tb, f, states.SmsSent, transitions.Cancel)]
			tr.From = append(tr.From, states.Linked)
		}, "leaves terminal state Linked"},
		{"duplicate event from a state", func(tb testing.TB, f *transitions.Flow) {
			f.Transitions = append(f.Transitions, f.Transitions[find(tb, f, states.ChallengeIssued, transitions.Sign)])
		}, "declared twice from ChallengeIssued"},
		{"invalid state name", func(tb testing.TB, f *transitions.Flow) {
			setEdge(&f.Transitions[find(tb, f, states.WalletAuthed, transitions.SubmitPhone)], transitions.Transient, "sms-retry")
		}, `state "sms-retry" is not a valid Mermaid identifier`},
		{"automatic with user input", func(tb testing.TB, f *transitions.Flow) {
			tr := &f.Transitions[find(tb, f, states.EmailVerified, transitions.AddWallet)]
			tr.Input = append(tr.Input, transitions.Field{Name: "otp", Secret: true})
		}, "automatic, but its input otp is not given at the start"},
		{"bad message text", func(tb testing.TB, f *transitions.Flow) {
			tr := &f.Transitions[find(tb, f, states.WalletAuthed, transitions.SubmitPhone)]
			tr.Messages = append(slices.Clone(tr.Messages), transitions.Message{
				From: transitions.User, Arrow: transitions.Sync, To: transitions.Wallet, Text: "a; b"})
		}, "must be one line without ; or #"},
		{"ending missing", func(tb testing.TB, f *transitions.Flow) {
			f.Endings = maps.Clone(f.Endings)
			delete(f.Endings, states.Authenticated)
		}, "terminal state Authenticated: no ending"},
		{"ending of a state never reached", func(tb testing.TB, f *transitions.Flow) {
			f.Endings = maps.Clone(f.Endings)
			f.Endings[states.SignedIn] = "signed in"
		}, "ending for SignedIn: not a terminal state the flow reaches"},
		{"no cancel", func(tb testing.TB, f *transitions.Flow) {
			tr := &f.Transitions[find(tb, f, states.SmsSent, transitions.Cancel)]
			tr.From = slices.DeleteFunc(tr.From, func(s states.State) bool { return s == states.SmsSent })
		}, "state SmsSent: cannot be canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := clone(transitions.Link)
			tt.break_(t, f)
			err := f.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidStateName(t *testing.T) {
	for _, s := range states.All() {
		if !transitions.ValidStateName(s) {
			t.Errorf("ValidStateName(%q) = false, want true", s)
		}
	}
	for _, s := range []states.State{"end", "Note", "class", "sms-sent", "1st", "", "Sms Sent"} {
		if transitions.ValidStateName(s) {
			t.Errorf("ValidStateName(%q) = true, want false", s)
		}
	}
}

func TestFlow_Version(t *testing.T) {
	base := transitions.Link.Version()
	if !strings.HasPrefix(base, "sha256:") {
		t.Fatalf("Version() = %q, want a sha256: prefix", base)
	}
	if got := clone(transitions.Link).Version(); got != base {
		t.Errorf("Version() of an identical copy = %q, want %q", got, base)
	}
	redrawn := clone(transitions.Link)
	tr := &redrawn.Transitions[find(t, redrawn, states.WalletAuthed, transitions.SubmitPhone)]
	tr.Doc = "reworded"
	tr.Messages = nil
	if got := redrawn.Version(); got != base {
		t.Errorf("Version() after changing only docs and messages = %q, want %q", got, base)
	}
	changed := clone(transitions.Link)
	setEdge(&changed.Transitions[find(t, changed, states.PhoneConflict, transitions.ConfirmPhone)], transitions.RateLimited, states.Failed)
	if got := changed.Version(); got == base {
		t.Errorf("Version() after changing an edge = %q, want a different version", got)
	}
	seen := map[string]transitions.Kind{}
	for _, f := range transitions.All() {
		if k, dup := seen[f.Version()]; dup {
			t.Errorf("flows %s and %s share version %s", k, f.Kind, f.Version())
		}
		seen[f.Version()] = f.Kind
	}
}

func TestFlows_SpecStates(t *testing.T) {
	// The spec's linking states keep their names in the link flow.
	got := transitions.Link.States()
	for _, s := range []states.State{states.WalletAuthed, states.PhoneConflict, states.SmsFirstSent,
		states.SmsVerified, states.EmailVerified, states.Linked, states.Authenticated} {
		if !slices.Contains(got, s) {
			t.Errorf("link flow states = %v, want %s among them", got, s)
		}
	}
	terminals := map[transitions.Kind]states.State{
		transitions.KindLink: states.Linked, transitions.KindLinkFactorsFirst: states.Linked,
		transitions.KindSignIn: states.SignedIn, transitions.KindSignUp: states.UserCreated,
	}
	for kind, want := range terminals {
		f, ok := transitions.Lookup(kind)
		if !ok {
			t.Fatalf("Lookup(%q) found nothing", kind)
		}
		if !slices.Contains(f.States(), want) {
			t.Errorf("flow %s states = %v, want the terminal %s", kind, f.States(), want)
		}
	}
}

func TestFlow_Auto(t *testing.T) {
	tests := []struct {
		flow  *transitions.Flow
		state states.State
		want  transitions.Event
	}{
		{transitions.Link, states.New, transitions.Start},
		{transitions.Link, states.EmailVerified, transitions.AddWallet},
		{transitions.Link, states.PhoneConflict, ""},
		{transitions.LinkFactorsFirst, states.New, ""},
		{transitions.LinkFactorsFirst, states.EmailVerified, transitions.StartWallet},
		{transitions.SignIn, states.TwoFactorAuthed, transitions.LoadUser},
		{transitions.SignUp, states.TwoFactorAuthed, transitions.CreateUser},
	}
	for _, tt := range tests {
		tr, ok := tt.flow.Auto(tt.state)
		var got transitions.Event
		if ok {
			got = tr.Event
		}
		if got != tt.want {
			t.Errorf("%s.Auto(%s) = %q, want %q", tt.flow.Kind, tt.state, got, tt.want)
		}
	}
}

// Example shows what the link flow's table says about the 409 branch.
func Example() {
	f, _ := transitions.Lookup(transitions.KindLink)
	tr, _ := f.Find(states.WalletAuthed, transitions.SubmitPhone)
	conflict, _ := tr.Edge(transitions.Conflict)
	fmt.Printf("%s from %s calls %s with the wallet's JWT\n", tr.Event, states.WalletAuthed, tr.Call)
	fmt.Printf("on %s (%s) it goes to %s\n", conflict.Outcome, conflict.Label, conflict.Dest(states.WalletAuthed))
	for _, next := range f.Permitted(states.PhoneConflict) {
		fmt.Println("then:", next.Event)
	}
	// Output:
	// submit_phone from WalletAuthed calls otp/sms:send with the wallet's JWT
	// on conflict (409 ALREADY_EXISTS_PHONE) it goes to PhoneConflict
	// then: confirm_phone
	// then: cancel
	// then: expire
}
