package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/storeurl"
	"github.com/ratioflow/ratioflow/transitions"
)

// The scenarios of this file and of crash_test.go and chaos_test.go drive
// serve's own handler over real HTTP, as a wallet app would, on SQLite and
// on PostgreSQL, and check from the sandbox's counters and the flows'
// views that a person loses nothing to a failure on the way: no attempt
// spent, no signature refused, no second flow, no side effect doubled.

// backends are the durable stores the scenarios run on.
var backends = []string{"sqlite", "postgres"}

// newStoreURL returns the URL of a new, empty store of backend: a SQLite
// file, or a PostgreSQL schema of the test's own (skipped without
// RATIOFLOW_TEST_POSTGRES, failed without it under CI=true).
func newStoreURL(t *testing.T, backend string) string {
	t.Helper()
	if backend == "postgres" {
		return pgtest.Schema(t)
	}
	return sqliteStore(t)
}

// openTestStore opens url, closed when the test ends.
func openTestStore(t *testing.T, url string) store.Store {
	t.Helper()
	st, err := storeurl.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// served is serve's handler (serveHandler) on a loopback port, over st,
// calling Ratio through gate.
type served struct {
	gate *ratioGate
	url  string
	gone *watcher
}

// newServed serves serve's handler over st until the test ends.
func newServed(t *testing.T, st store.Store, gate *ratioGate, opts flow.Options) *served {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	h, _, err := serveHandler(st, ratio.NewClient(gate.url, "ratioflow", "sandbox"), key, opts,
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{gone: map[string]<-chan struct{}{}}
	srv := httptest.NewServer(w.wrap(h))
	t.Cleanup(srv.Close)
	return &served{gate: gate, url: srv.URL, gone: w}
}

// client returns a client of s for subject.
func (s *served) client(subject string) *apiClient {
	return &apiClient{base: func() string { return s.url }, subject: subject}
}

// watcher tells when serve saw the caller of a request leave: the end of
// the server side's context of the first request with each
// Idempotency-Key.
type watcher struct {
	mu   sync.Mutex // guards gone
	gone map[string]<-chan struct{}
}

func (w *watcher) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if k := r.Header.Get("Idempotency-Key"); k != "" {
			w.mu.Lock()
			if _, ok := w.gone[k]; !ok {
				w.gone[k] = r.Context().Done()
			}
			w.mu.Unlock()
		}
		h.ServeHTTP(rw, r)
	})
}

// left returns a channel closed when serve saw the caller of key leave.
func (w *watcher) left(key string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gone[key]
}

// ratioStep is a step of a flow that calls Ratio, as a person's step
// (person.next names them) and the Ratio call it makes.
type ratioStep struct {
	name string
	step string
	op   ratio.Op
	// want is where the step leads (with the automatic steps after it).
	want states.State
	// kind is the step's flow; empty means the link flow.
	kind transitions.Kind
	// detour: the step is an event the person sends once in this state,
	// beside the clean run's.
	detour states.State
}

// person returns the i-th person of a test, to take step rs.
func (rs ratioStep) person(t *testing.T, api *apiClient, sb *sandbox.Handler, i int, tl *tally) *person {
	p := newPersonOf(t, cmp.Or(rs.kind, transitions.KindLink), api, sb, i, tl)
	if rs.detour != "" {
		p.detours = map[states.State]transitions.Event{rs.detour: transitions.Event(rs.step)}
	}
	return p
}

// adds is how many times a flow taking rs adds its wallet to a user.
func (rs ratioStep) adds() int {
	if rs.kind == "" {
		return 1
	}
	return 0
}

// cleanRuns count the calls of a flow of each kind that meets no failure.
var cleanRuns = map[transitions.Kind]map[string]int{
	transitions.KindSignUp: {ratio.OpStartWallet.Route(): 1, ratio.OpAuthenticateWallet.Route(): 1,
		ratio.OpSendSMS.Route(): 1, ratio.OpAuthenticateSMS.Route(): 1, ratio.OpCreateUser.Route(): 1},
	transitions.KindSignIn: {ratio.OpStartWallet.Route(): 1, ratio.OpAuthenticateWallet.Route(): 1,
		ratio.OpSendSMS.Route(): 1, ratio.OpAuthenticateSMS.Route(): 1, ratio.OpGetUser.Route(): 1,
		ratio.OpListWallets.Route(): 1},
	transitions.KindLinkFactorsFirst: {ratio.OpSendSMS.Route(): 1, ratio.OpAuthenticateSMS.Route(): 1,
		ratio.OpSendEmail.Route(): 1, ratio.OpAuthenticateEmail.Route(): 1, ratio.OpStartWallet.Route(): 1,
		ratio.OpAuthenticateWallet.Route(): 1},
}

// calls counts the calls of a flow that takes rs and meets no failure.
func (rs ratioStep) calls() map[string]int {
	calls := maps.Clone(cleanRun)
	if rs.kind != "" {
		calls = maps.Clone(cleanRuns[rs.kind])
	}
	if rs.detour != "" {
		calls[rs.op.Route()]++
	}
	return calls
}

// ratioSteps are the seven steps of the link flow, for a user whose phone
// Ratio knows, that call Ratio with something to lose.
var ratioSteps = []ratioStep{
	{name: "create", step: "create", op: ratio.OpStartWallet, want: states.ChallengeIssued},
	{name: "sign", step: "sign", op: ratio.OpAuthenticateWallet, want: states.WalletAuthed},
	{name: "confirm_phone", step: "confirm_phone", op: ratio.OpSendSMS, want: states.SmsFirstSent},
	{name: "submit_otp_sms", step: "submit_otp@SmsFirstSent", op: ratio.OpAuthenticateSMS, want: states.SmsVerified},
	{name: "submit_email", step: "submit_email", op: ratio.OpSendEmail, want: states.EmailSent},
	{name: "submit_otp_email", step: "submit_otp@EmailSent", op: ratio.OpAuthenticateEmail, want: states.Linked},
	{name: "add_wallet", step: "submit_otp@EmailSent", op: ratio.OpAddWalletToUser, want: states.Linked}, // automatic, after the code
}

// otherRatioSteps are the other steps that call Ratio with something to
// lose: a code sent with the wallet's JWT, codes sent again, a new
// challenge, and the Ratio calls of the three other flows, the reads
// included.
var otherRatioSteps = []ratioStep{
	{name: "submit_phone", step: "submit_phone", op: ratio.OpSendSMS, want: states.PhoneConflict},
	{name: "new_challenge", step: "new_challenge", op: ratio.OpStartWallet, want: states.ChallengeIssued, detour: states.ChallengeIssued},
	{name: "resend_otp_sms", step: "resend_otp", op: ratio.OpSendSMS, want: states.SmsFirstSent, detour: states.SmsFirstSent},
	{name: "resend_otp_email", step: "resend_otp", op: ratio.OpSendEmail, want: states.EmailSent, detour: states.EmailSent},
	{name: "signup_send_sms", step: "sign", op: ratio.OpSendSMS, want: states.SmsSent, kind: transitions.KindSignUp},
	{name: "signup_create_user", step: "submit_otp@SmsSent", op: ratio.OpCreateUser, want: states.UserCreated, kind: transitions.KindSignUp},
	{name: "signin_sign", step: "sign", op: ratio.OpAuthenticateWallet, want: states.WalletAuthed, kind: transitions.KindSignIn},
	{name: "signin_submit_otp", step: "submit_otp@SmsSent", op: ratio.OpAuthenticateSMS, want: states.SignedIn, kind: transitions.KindSignIn},
	{name: "signin_load_user", step: "submit_otp@SmsSent", op: ratio.OpGetUser, want: states.SignedIn, kind: transitions.KindSignIn},
	{name: "signin_load_wallets", step: "submit_otp@SmsSent", op: ratio.OpListWallets, want: states.SignedIn, kind: transitions.KindSignIn},
	{name: "first_submit_phone", step: "submit_phone", op: ratio.OpSendSMS, want: states.SmsFirstSent, kind: transitions.KindLinkFactorsFirst},
	{name: "first_submit_otp_email", step: "submit_otp@EmailSent", op: ratio.OpAuthenticateEmail, want: states.ChallengeIssued, kind: transitions.KindLinkFactorsFirst},
	{name: "first_start_wallet", step: "submit_otp@EmailSent", op: ratio.OpStartWallet, want: states.ChallengeIssued, kind: transitions.KindLinkFactorsFirst},
	{name: "first_sign", step: "sign", op: ratio.OpAuthenticateWallet, want: states.Linked, kind: transitions.KindLinkFactorsFirst},
}

// marker is what the body of p's call of op in st holds, for a trap to
// catch that call and no other person's.
func (p *person) marker(op ratio.Op, st step) string {
	switch op {
	case ratio.OpSendSMS:
		return p.phone
	case ratio.OpSendEmail, ratio.OpCreateUser:
		return p.email
	case ratio.OpAuthenticateSMS, ratio.OpAuthenticateEmail:
		return fmt.Sprint(st.body["otp"])
	case ratio.OpGetUser, ratio.OpListWallets:
		return p.userID // in the path
	}
	return p.wallet()
}

// cleanRun counts the calls of one link flow that meets no failure.
var cleanRun = map[string]int{
	ratio.OpStartWallet.Route(): 1, ratio.OpAuthenticateWallet.Route(): 1, ratio.OpSendSMS.Route(): 2,
	ratio.OpAuthenticateSMS.Route(): 1, ratio.OpSendEmail.Route(): 1, ratio.OpAuthenticateEmail.Route(): 1,
	ratio.OpAddWalletToUser.Route(): 1,
}

// callsSince returns the calls made since the counters before.
func callsSince(before, after sandbox.Stats) map[string]int {
	d := maps.Clone(after.Calls)
	for k, n := range before.Calls {
		if d[k] -= n; d[k] == 0 {
			delete(d, k)
		}
	}
	return d
}

// TestScenario_CallerAbortsMidCall: on each of the seven Ratio-calling
// steps, the caller drops its request while Ratio has the call; the call
// goes on, the retry with the same Idempotency-Key replays the step's
// answer, a GET shows where it put the flow, and the flow then links with
// the calls of a clean run: no code, signature or attempt lost.
func TestScenario_CallerAbortsMidCall(t *testing.T) { abortEach(t, ratioSteps) }

// TestScenario_CallerAbortsMidCall_OtherSteps: the same on the other
// steps that call Ratio (resends, with a short cooldown).
func TestScenario_CallerAbortsMidCall_OtherSteps(t *testing.T) { abortEach(t, otherRatioSteps) }

// abortEach runs abortMidCall on each step, on each backend.
func abortEach(t *testing.T, steps []ratioStep) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			gate := newRatioGate(t, sandbox.Config{})
			s := newServed(t, openTestStore(t, newStoreURL(t, backend)), gate,
				flow.Options{Policy: flow.Policy{ResendCooldown: time.Nanosecond}})
			recovered := 0
			for i, rs := range steps {
				t.Run(rs.name, func(t *testing.T) {
					if abortMidCall(t, s, i, rs) {
						recovered++
					}
				})
			}
			t.Logf("%s: after a caller aborted mid-call, %d of %d steps recovered at no cost", backend, recovered, len(steps))
		})
	}
}

// abortMidCall flies a link flow whose caller aborts step rs mid-call and
// reports whether the person lost nothing.
func abortMidCall(t *testing.T, s *served, i int, rs ratioStep) bool {
	// A flight that loses nothing waits for nothing; one that does may
	// wait out a cooldown, and is cut short.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var tl tally
	p := rs.person(t, s.client(fmt.Sprintf("abort-%s-%d", rs.name, i)), s.gate.sandbox, i, &tl)
	var aborted, retried, got reply
	dropped, done := false, false
	p.first = func(ctx context.Context, st step) (reply, bool) {
		if st.name != rs.step || done {
			return reply{}, false
		}
		done = true
		tr := s.gate.set(rs.op, p.marker(rs.op, st), holdCall, nil)
		callerCtx, leave := context.WithCancel(ctx)
		answered := make(chan reply, 1)
		go func() { answered <- p.api.do(callerCtx, http.MethodPost, st.path, st.key, st.body) }()
		select {
		case <-tr.caught:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the %s call never reached Ratio", rs.name, rs.op)
		}
		leave()
		aborted = <-answered
		select {
		case <-s.gone.left(st.key):
		case <-time.After(10 * time.Second):
			t.Errorf("%s: serve never saw its caller leave", rs.name)
		}
		tr.Release()
		retried = p.api.do(ctx, http.MethodPost, st.path, st.key, st.body)
		got = p.api.do(ctx, http.MethodGet, "/v1/flows/"+retried.view.ID, "", nil)
		select {
		case <-tr.dropped:
			dropped = true
		default:
		}
		return retried, true
	}
	before := s.gate.sandbox.Stats()
	err := p.fly(ctx)
	calls := callsSince(before, s.gate.sandbox.Stats())
	ok := true
	check := func(good bool, format string, args ...any) {
		if !good {
			ok = false
			t.Errorf(rs.name+": "+format, args...)
		}
	}
	check(err == nil, "the flight failed: %v", err)
	check(aborted.err != nil, "the aborted request was answered: %s", aborted)
	check(!dropped, "the %s call was dropped with its caller", rs.op)
	check(retried.ok() && retried.replayed && retried.view.State == rs.want,
		"the retry with the same Idempotency-Key: %s, want the step's answer replayed, state %s", retried, rs.want)
	check(got.ok() && got.view.State == rs.want, "GET after the retry: %s, want state %s", got, rs.want)
	n, list := p.flows(t.Context())
	check(n == 1, "the person's flows: %s, want one", list)
	check(p.view.State == p.goal(), "the flow ended %s, want %s", p.view.State, p.goal())
	check(maps.Equal(calls, rs.calls()), "Ratio calls %v, want a clean run's %v", calls, rs.calls())
	check(s.gate.sandbox.Stats().AddToUser[p.wallet()] == rs.adds(), "wallet added %d times, want %d",
		s.gate.sandbox.Stats().AddToUser[p.wallet()], rs.adds())
	check(!tl.lost(), "cost: %s", &tl)
	return ok
}
