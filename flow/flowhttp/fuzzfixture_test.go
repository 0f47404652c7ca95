package flowhttp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/transitions"
)

// The fixture of FuzzHandler: the flow API in front of a real engine on
// memstore and the sandbox, called in-process (no network), on a fake
// clock that never moves, holding two flows of the owner that every
// fuzzed request may target.

const (
	fuzzOwner = "user-1"
	fuzzPhone = "+12025550123"
	fuzzEmail = "ratiouser@example.com"
	// fuzzCode is every one-time code the sandbox's zero Rand gives.
	fuzzCode = "000000"
	// fuzzKey is the wallet's key: with the zero Rand, its flows' challenge,
	// hence the signature, is the same in every run.
	fuzzKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	// fuzzReuse is how many requests one fixture serves before a new one
	// is made, bounding what the created flows and sessions pile up.
	fuzzReuse = 500
)

// zeros is a sandbox Rand that reads zeros.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// inProcess is a RoundTripper that serves requests with a handler.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	res := w.Result()
	res.Request = r // as http.Transport sets it
	return res, nil
}

// fuzzAPI serves the fuzzed requests. Its flows are $NEW, waiting for
// the wallet's signature, and $OTP, waiting for the SMS code; a request
// that moves one gets it replaced before the next, so every request finds
// them in the same state.
type fuzzAPI struct {
	h       http.Handler
	engine  *flow.Engine
	store   store.Store
	sandbox *sandbox.Handler
	addr    string
	ids     [2]string // $NEW, $OTP
	want    [2]string // their state@version when new
	vars    *strings.Replacer
	uses    int
}

func newFuzzAPI(tb testing.TB) *fuzzAPI {
	tb.Helper()
	clock := sandbox.NewClock(flowtest.Epoch)
	sb := sandbox.NewHandler(sandbox.Config{Now: clock.Now, Rand: zeros{}, SendLimit: sandbox.SendLimit{Off: true}})
	if _, err := sb.SeedUser(sandbox.UserSeed{PhoneNumber: fuzzPhone, EmailAddress: fuzzEmail}); err != nil {
		tb.Fatal(err)
	}
	client := ratio.NewClient("http://ratio.test", "fuzz", "fuzz-secret")
	client.HTTPClient = &http.Client{Transport: inProcess{sb}}
	client.RetryMax, client.RetryWaitMin, client.RetryWaitMax = 0, time.Millisecond, time.Millisecond
	st := memstore.New()
	e, err := flow.New(st, client, flowtest.SealKey, flow.Options{Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	a := &fuzzAPI{h: flowhttp.New(e, flowhttp.HeaderSubject(subjectHeader)), engine: e, store: st, sandbox: sb,
		addr: crypto.PubkeyToAddress(fuzzWallet().PublicKey).Hex()}
	a.ids[0], a.ids[1] = a.newFlow(tb, 0), a.newFlow(tb, 1)
	a.want = a.snapshot(tb).flows
	a.setVars(tb)
	return a
}

// newFlow starts fixture flow i ($NEW or $OTP) and returns its ID.
func (a *fuzzAPI) newFlow(tb testing.TB, i int) string {
	tb.Helper()
	ctx := context.Background()
	v, err := a.engine.Start(ctx, "link", fuzzOwner, flow.Input{WalletAddress: a.addr})
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	if i == 0 {
		return v.ID
	}
	for _, s := range []struct {
		event transitions.Event
		in    flow.Input
	}{{"sign", flow.Input{Signature: fuzzSignature(tb)}}, {"submit_phone", flow.Input{PhoneNumber: fuzzPhone}}, {"confirm_phone", flow.Input{}}} {
		if v, err = a.engine.Step(ctx, v.ID, fuzzOwner, s.event, s.in); err != nil {
			tb.Fatalf("%s: %v", s.event, err)
		}
	}
	if v.State != states.SmsFirstSent {
		tb.Fatalf("fixture flow in %s, want %s", v.State, states.SmsFirstSent)
	}
	return v.ID
}

func (a *fuzzAPI) setVars(tb testing.TB) {
	a.vars = strings.NewReplacer("$NEW", a.ids[0], "$OTP", a.ids[1], "$SIG", fuzzSignature(tb), "$ADDR", a.addr)
}

// restore replaces the fixture flows that the last request moved.
func (a *fuzzAPI) restore(tb testing.TB, now snapshot) {
	tb.Helper()
	moved := false
	for i := range a.ids {
		if now.flows[i] != a.want[i] {
			a.ids[i], moved = a.newFlow(tb, i), true
		}
	}
	if moved {
		a.setVars(tb)
	}
}

func fuzzWallet() *ecdsa.PrivateKey {
	k, err := crypto.HexToECDSA(fuzzKey)
	if err != nil {
		panic(err)
	}
	return k
}

// fuzzSignature signs the challenge every flow of the fuzz wallet gets.
func fuzzSignature(tb testing.TB) string {
	sig, err := ratio.SignPersonal(fuzzWallet(), "Signing in with Ratio: "+strings.Repeat("A", 80))
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// request builds the fuzzed request. hdr's low three bits choose the
// subject headers (the owner, another subject, none, blank, the owner
// twice, the owner and another, subject as given); bit 3 adds an
// Idempotency-Key.
func (a *fuzzAPI) request(method, target string, hdr uint8, subject, contentType string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", bytes.NewReader(body))
	r.Method = method
	p, query, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	r.URL.Path, r.URL.RawQuery, r.RequestURI = p, query, ""
	switch hdr & 7 {
	case 0, 6:
		r.Header.Set(subjectHeader, fuzzOwner)
	case 7:
		if validHeaderValue(subject) {
			r.Header.Set(subjectHeader, subject)
		}
	case 1:
		r.Header.Set(subjectHeader, "user-2")
	case 3:
		r.Header.Set(subjectHeader, " \t")
	case 4:
		r.Header[subjectHeader] = []string{fuzzOwner, fuzzOwner}
	case 5:
		r.Header[subjectHeader] = []string{fuzzOwner, "user-2"}
	}
	if hdr&8 != 0 {
		r.Header.Set("Idempotency-Key", "key-1")
	}
	if contentType != "" && validHeaderValue(contentType) {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// snapshot is what a refusal must not change: each fixture flow's state
// and version as stored, and the Ratio calls made.
type snapshot struct {
	flows [2]string
	calls map[string]int
}

func (a *fuzzAPI) snapshot(tb testing.TB) snapshot {
	tb.Helper()
	var s snapshot
	for i, id := range a.ids {
		rec, err := a.store.Get(context.Background(), id)
		if err != nil {
			tb.Fatalf("Get(%s) = %v", id, err)
		}
		s.flows[i] = string(rec.State) + "@" + strconv.FormatInt(rec.Version, 10)
	}
	s.calls = a.sandbox.Stats().Calls
	return s
}

// validHeaderValue reports whether net/http would deliver v as a header
// value: no control character but tab.
func validHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r != '\t' && (r < ' ' || r == 0x7f) })
}
