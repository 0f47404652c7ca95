package pilot_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

func newPilot(t *testing.T, h *flowtest.Harness) *pilot.Pilot {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	p := flowtest.NewPerson()
	return &pilot.Pilot{
		Engine: h.Engine, Codes: pilot.SandboxCodes{Sandbox: h.Sandbox.Handler}, Subject: h.Subject,
		Persona: pilot.Persona{Key: key, Phone: p.Phone, Email: p.Email, FirstName: p.FirstName, LastName: p.LastName, Country: p.Country},
		// The harness's clock is fake: waiting is moving it.
		Sleep: func(_ context.Context, d time.Duration) error { h.Clock.Advance(d); return nil },
	}
}

func seed(t *testing.T, h *flowtest.Harness, p pilot.Persona, wallet bool) {
	person := flowtest.Person{Phone: p.Phone, Email: p.Email, FirstName: p.FirstName, LastName: p.LastName, Country: p.Country}
	if wallet {
		h.SeedUser(person, &flowtest.Wallet{Wallet: sandbox.Wallet{Key: p.Key, Address: p.Wallet()}})
	} else {
		h.SeedUser(person)
	}
}

func TestPilot_FliesEveryFlow(t *testing.T) {
	tests := []struct {
		kind       transitions.Kind
		user, link bool
		want       states.State
	}{
		{transitions.KindLink, true, false, states.Linked},
		{transitions.KindLinkFactorsFirst, true, false, states.Linked},
		{transitions.KindSignIn, true, true, states.SignedIn},
		{transitions.KindSignUp, false, false, states.UserCreated},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			h := flowtest.New(t)
			p := newPilot(t, h)
			if tt.user {
				seed(t, h, p.Persona, tt.link)
			}
			var steps []pilot.Step
			p.Observe = func(s pilot.Step) { steps = append(steps, s) }
			v, err := p.Fly(context.Background(), tt.kind)
			if err != nil || v.State != tt.want {
				t.Fatalf("Fly(%s) = %v, %v; want %s", tt.kind, v.State, err, tt.want)
			}
			entries := 0
			for _, s := range steps {
				entries += len(s.Entries)
			}
			hist, _ := h.Engine.History(context.Background(), v.ID, h.Subject)
			if entries != len(hist) {
				t.Errorf("Observe saw %d audit entries, the flow has %d", entries, len(hist))
			}
		})
	}
}

func TestPilot_WaitsOutFaults(t *testing.T) {
	h := flowtest.New(t)
	p := newPilot(t, h)
	seed(t, h, p.Persona, false)
	// The first SMS send gets the 409; the confirm after it a 429, then a 503.
	var faulted bool
	p.Observe = func(s pilot.Step) {
		if s.View.State == states.PhoneConflict && !faulted {
			faulted = true
			h.Sandbox.ForceRateLimit(ratio.OpSendSMS, 1, 2*time.Second)
			h.Sandbox.FailNext(ratio.OpAddWalletToUser, 1, http.StatusServiceUnavailable)
		}
	}
	v, err := p.Fly(context.Background(), transitions.KindLink)
	if err != nil || v.State != states.Linked {
		t.Fatalf("Fly = %v, %v; want Linked", v.State, err)
	}
	if n := h.Sandbox.Stats().AddToUser[p.Persona.Wallet()]; n != 1 {
		t.Errorf("addToUser applied %d times, want 1", n)
	}
}

func TestPilot_ResumesAnAbandonedFlow(t *testing.T) {
	h := flowtest.New(t)
	p := newPilot(t, h)
	seed(t, h, p.Persona, false)
	p.MaxSteps = 3
	v, err := p.Fly(context.Background(), transitions.KindLink)
	if !errors.Is(err, pilot.ErrStuck) {
		t.Fatalf("Fly with 3 steps = %v, %v; want ErrStuck", v.State, err)
	}
	// Another process, another engine, another pilot for the same person.
	h.Engine = h.NewEngine()
	q := newPilot(t, h)
	q.Persona = p.Persona
	got, err := q.Resume(context.Background(), v.ID)
	if err != nil || got.State != states.Linked {
		t.Fatalf("Resume = %v, %v; want Linked", got.State, err)
	}
}

func TestPilot_AsksForANewChallengeWhenRatioLostIt(t *testing.T) {
	h := flowtest.New(t)
	p := newPilot(t, h)
	seed(t, h, p.Persona, false)
	v, err := h.Engine.Start(context.Background(), transitions.KindLink, h.Subject, p.Persona.StartInput(transitions.KindLink))
	if err != nil || v.State != states.ChallengeIssued {
		t.Fatalf("Start = %v, %v", v, err)
	}
	// The challenge is used up behind the engine's back, as by a step
	// whose process died before it recorded Ratio's answer.
	sig, err := ratio.SignPersonal(p.Persona.Key, v.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Ratio.AuthenticateWallet(context.Background(), "", ratio.AuthenticateWalletRequest{WalletAddress: p.Persona.Wallet(), Signature: sig}); err != nil {
		t.Fatal(err)
	}
	var events []transitions.Event
	p.Observe = func(s pilot.Step) { events = append(events, s.Event) }
	got, err := p.Continue(context.Background(), v)
	if err != nil || got.State != states.Linked {
		t.Fatalf("Continue = %v, %v; want Linked", got.State, err)
	}
	if len(events) < 3 || events[0] != transitions.Sign || events[1] != transitions.NewChallenge || events[2] != transitions.Sign {
		t.Errorf("events = %v, want sign, new_challenge, sign, ...", events)
	}
}
