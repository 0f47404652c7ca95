// Package flowtest drives ratioflow's flows step by step in table tests,
// for the project's own tests and for the services that embed the engine.
//
// A Harness wires an Engine to the Ratio sandbox and an in-memory store
// (or any store), with one fake clock for both, so that OTP and JWT
// lifetimes, back-offs and deadlines pass in an instant. A test declares a
// table of Steps (event, input, how to compute it, what to expect) and Run
// fires them in order; a failure shows a go-cmp diff of the whole view.
// Every transition a step takes is recorded, and Main reports the edge
// coverage of the declared flows, failing the run when a declared
// transition was never exercised.
package flowtest

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/transitions"
)

// Epoch is the fake clock's starting time.
var Epoch = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// SealKey is the seal key harnesses use (32 bytes, AES-256). Tests only.
var SealKey = []byte("flowtest-seal-key-32-bytes-long!")

// Options configure a Harness. The zero value is usable.
type Options struct {
	// Store persists flows; nil means a fresh memstore.
	Store store.Store
	// Policy is the engine's policy; zero fields take flow.DefaultPolicy's.
	Policy flow.Policy
	// Flows are the declared flows; nil means transitions.All().
	Flows []*transitions.Flow
	// Sandbox configures the sandbox; its Now is replaced by the harness clock.
	Sandbox sandbox.Config
	// Logger receives the engine's and the client's logs; nil means none.
	Logger *slog.Logger
}

// Harness is an engine on the sandbox with a fake clock.
type Harness struct {
	tb testing.TB
	// Clock drives the engine and the sandbox. The engines read it in
	// another zone and with nanoseconds, as time.Now gives it.
	Clock *sandbox.Clock
	// Sandbox is the fake Ratio.
	Sandbox *ratiotest.Server
	// Ratio is the client the engine calls the sandbox with.
	Ratio *ratio.Client
	// Store holds the flows.
	Store store.Store
	// Engine is the engine under test.
	Engine *flow.Engine
	// Subject is the identity the harness's steps run as.
	Subject string

	opts   Options
	reader *flow.Engine // reads each step's flow back, as another process would
}

var subjects atomic.Int64

// New returns a harness for tb. The sandbox and the store are closed when
// the test ends.
func New(tb testing.TB, opts ...Options) *Harness {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	clock := sandbox.NewClock(Epoch)
	sc := o.Sandbox
	sc.Now = clock.Now
	sb := ratiotest.NewServer(tb, sc)
	client := ratio.NewClient(sb.URL, "flowtest", "flowtest-secret")
	client.HTTPClient = sb.Client()
	// Retries and back-offs are the engine's to schedule in these tests: the
	// client gives up on the first 429 rather than sleep in real time.
	client.RetryMax, client.RetryWaitMin, client.RetryWaitMax = 2, time.Millisecond, 2*time.Millisecond
	client.MaxRetryAfter = time.Millisecond
	client.Logger = o.Logger
	st := o.Store
	if st == nil {
		st = memstore.New()
	}
	tb.Cleanup(func() { _ = st.Close() })
	h := &Harness{tb: tb, Clock: clock, Sandbox: sb, Ratio: client, Store: st, opts: o,
		Subject: fmt.Sprintf("subject-%d", subjects.Add(1))}
	h.Engine = h.NewEngine()
	return h
}

// NewEngine returns another engine on the harness's store, sandbox and
// clock, as a second process (or a restarted one) would have.
func (h *Harness) NewEngine() *flow.Engine {
	h.tb.Helper()
	e, err := flow.New(h.Store, h.Ratio, SealKey, flow.Options{
		Flows: h.opts.Flows, Policy: h.opts.Policy, Now: h.engineNow, Logger: h.opts.Logger})
	if err != nil {
		h.tb.Fatalf("flow.New: %v", err)
	}
	return e
}

// engineZone is the zone of the engines' clock: not UTC, as time.Now's is
// not on most servers.
var engineZone = time.FixedZone("UTC+05:30", 5*3600+30*60)

// engineNow is the harness clock as the engines read it: the instant of
// Clock and 789 ns more, in engineZone, as time.Now gives a zone and
// nanoseconds where the stores keep UTC microseconds. The engine must
// normalise what it reads, or the views it answers would differ from the
// stored flows' (see checkReload).
func (h *Harness) engineNow() time.Time {
	return h.Clock.Now().In(engineZone).Add(789 * time.Nanosecond)
}

// Wallet is a user's Ethereum key, playing the wallet app's signer: the
// sandbox's development wallet, with helpers that fail the test instead
// of returning errors.
type Wallet struct {
	sandbox.Wallet
}

// NewWallet returns a fresh random wallet (sandbox.NewWallet).
func NewWallet(tb testing.TB) *Wallet {
	tb.Helper()
	w, err := sandbox.NewWallet()
	if err != nil {
		tb.Fatal(err)
	}
	return &Wallet{Wallet: *w}
}

// Sign returns the wallet's personal_sign signature of msg.
func (w *Wallet) Sign(tb testing.TB, msg string) string {
	tb.Helper()
	sig, err := w.Wallet.Sign(msg)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return sig
}

// Person is a Ratio user's data as the tests use it.
type Person struct {
	Phone, Email, FirstName, LastName, Country string
}

var people atomic.Int64

// NewPerson returns a person with a unique US phone number and email.
func NewPerson() Person {
	n := people.Add(1)
	return Person{
		// 202-555-01xx numbers are reserved for fiction; vary the exchange
		// too so many people never collide.
		Phone:     fmt.Sprintf("+1202%03d%04d", 200+n/10000%800, n%10000),
		Email:     fmt.Sprintf("person%d@example.com", n),
		FirstName: "Ada", LastName: fmt.Sprintf("Lovelace%d", n), Country: "US",
	}
}

// SeedUser creates p as an existing Ratio user in the sandbox, with the
// given verified signing wallets, and returns the user's ID.
func (h *Harness) SeedUser(p Person, wallets ...*Wallet) string {
	h.tb.Helper()
	seed := sandbox.UserSeed{PhoneNumber: p.Phone, EmailAddress: p.Email, FirstName: p.FirstName,
		LastName: p.LastName, Country: p.Country}
	for _, w := range wallets {
		seed.Wallets = append(seed.Wallets, w.Address)
	}
	u, err := h.Sandbox.SeedUser(seed)
	if err != nil {
		h.tb.Fatalf("seed user: %v", err)
	}
	return u.ID
}

// OTP returns the last code the sandbox sent to a phone or an email.
func (h *Harness) OTP(to string) ratio.Secret {
	h.tb.Helper()
	code, ok := h.Sandbox.LastOTP(to)
	if !ok {
		h.tb.Fatalf("no code was sent to %s", to)
	}
	return ratio.Secret(code)
}

// WrongOTP returns a well-formed code that differs from the last one sent to.
func (h *Harness) WrongOTP(to string) ratio.Secret {
	h.tb.Helper()
	code := h.OTP(to).Reveal()
	wrong := []byte(code)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	return ratio.Secret(wrong)
}
