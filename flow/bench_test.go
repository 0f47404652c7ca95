package flow

import (
	"context"
	"testing"
	"time"

	"github.com/looplab/fsm"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/transitions"
)

// noopRatio answers every call at once, as a Ratio with no latency would.
type noopRatio struct{}

func (noopRatio) StartWallet(context.Context, ratio.Secret, ratio.StartWalletRequest) (*ratio.StartWalletResponse, error) {
	return &ratio.StartWalletResponse{Challenge: "Signing in with Ratio: x"}, nil
}

func (noopRatio) AuthenticateWallet(context.Context, ratio.Secret, ratio.AuthenticateWalletRequest) (*ratio.AuthResponse, error) {
	return &ratio.AuthResponse{SessionJWT: "jwt"}, nil
}

func (noopRatio) AddWalletToUser(context.Context, ratio.Secret, ratio.AddWalletRequest) (*ratio.AddWalletResponse, error) {
	return &ratio.AddWalletResponse{}, nil
}

func (noopRatio) SendSMS(context.Context, ratio.Secret, ratio.SendSMSRequest) (*ratio.SendSMSResponse, error) {
	return &ratio.SendSMSResponse{PhoneID: "phone-number-test-1", PhoneMask: "0123"}, nil
}

func (noopRatio) AuthenticateSMS(context.Context, ratio.Secret, ratio.AuthenticateSMSRequest) (*ratio.AuthResponse, error) {
	return &ratio.AuthResponse{SessionJWT: "jwt"}, nil
}

func (noopRatio) SendEmail(context.Context, ratio.Secret, ratio.SendEmailRequest) (*ratio.SendEmailResponse, error) {
	return &ratio.SendEmailResponse{EmailID: "email-test-1", EmailMask: "a...@example.com"}, nil
}

func (noopRatio) AuthenticateEmail(context.Context, ratio.Secret, ratio.AuthenticateEmailRequest) (*ratio.AuthResponse, error) {
	return &ratio.AuthResponse{SessionJWT: "jwt"}, nil
}

func (noopRatio) CreateUser(context.Context, ratio.Secret, ratio.CreateUserRequest) (*ratio.User, error) {
	return &ratio.User{ID: "u"}, nil
}

func (noopRatio) GetUser(context.Context, ratio.Secret, string) (*ratio.User, error) {
	return &ratio.User{ID: "u"}, nil
}

func (noopRatio) ListWallets(context.Context, ratio.Secret, string) (*ratio.Wallets, error) {
	return &ratio.Wallets{}, nil
}

// BenchmarkEngineStep measures one full step of the link flow,
// submit_phone from WalletAuthed to SmsSent: load, unseal, input check,
// pending-call write, the (no-op) Ratio call, a pooled looplab FSM, seal,
// the result write with its history entry, the view. Compare with
// BenchmarkLooplabEvent, its floor: go test ./flow -run X -bench 'EngineStep|LooplabEvent'
func BenchmarkEngineStep(b *testing.B) {
	st := memstore.New()
	e, err := New(st, noopRatio{}, []byte("bench-seal-key-bench-seal-key-32"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ids := make([]string, b.N)
	now := time.Now()
	version := transitions.Link.Version()
	for i := range ids {
		rec := &store.Record{ID: newID(), Kind: string(transitions.KindLink), GraphVersion: version,
			State: states.WalletAuthed, Subject: "bench", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		d := &data{WalletAddress: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", JWT: "jwt", Factors: []string{factorWallet}, EnteredAt: now}
		if rec.Data, err = e.sealer.seal(rec.ID, d); err != nil {
			b.Fatal(err)
		}
		if err := st.Create(ctx, rec); err != nil {
			b.Fatal(err)
		}
		ids[i] = rec.ID
	}
	in := Input{PhoneNumber: "+12025550123"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		v, err := e.Step(ctx, ids[i], "bench", transitions.SubmitPhone, in)
		if err != nil || v.State != states.SmsSent {
			b.Fatalf("Step = %v, %v", v, err)
		}
	}
}

// BenchmarkLooplabEvent is the floor the issue names: a fresh looplab FSM
// built from the same declared table (the whole link flow) and the same
// event fired on it. The engine used to build exactly this per step.
func BenchmarkLooplabEvent(b *testing.B) {
	benchLooplab(b, fsmEvents(transitions.Link))
}

// BenchmarkLooplabEventFromState is the floor of what the engine builds
// now: a fresh looplab FSM from the rows of the table that leave the
// current state, which are all that can fire there (9 to 19 event
// descriptions instead of 99 for the link flow), and the same event.
// Run both with EngineStep:
//
//	go test ./flow -run X -bench 'EngineStep|LooplabEvent' -count 5
func BenchmarkLooplabEventFromState(b *testing.B) {
	benchLooplab(b, compile(transitions.Link).from[states.WalletAuthed])
}

func benchLooplab(b *testing.B, events fsm.Events) {
	ctx := context.Background()
	b.ReportAllocs()
	for range b.N {
		m := fsm.NewFSM(string(states.WalletAuthed), events, nil)
		if err := m.Event(ctx, fsmEvent(transitions.SubmitPhone, transitions.OK)); err != nil || m.Current() != string(states.SmsSent) {
			b.Fatalf("Event = %v, state %s", err, m.Current())
		}
	}
}
