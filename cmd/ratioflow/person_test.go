package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// tally counts what the flows cost their people beyond a clean run.
type tally struct {
	mu sync.Mutex // guards the counts
	// attemptsSpent: answers invalid_otp or attempts_exhausted.
	attemptsSpent int
	// codeSpent: answers code_spent (a code Ratio had taken, no attempt).
	codeSpent int
	// challengeSpent: answers challenge_spent.
	challengeSpent int
	// badSignature: a signature refused as invalid_input.
	badSignature int
	// resends and newChallenges: codes and challenges asked for again.
	resends, newChallenges int
	// tooEarly: too_early answered to a request made after waiting as told.
	tooEarly int
	// notPermittedRetry: not_permitted answered to a retry of a step.
	notPermittedRetry int
	// failed: flows that ended otherwise than Linked.
	failed int
}

func (t *tally) add(f func(*tally)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(t)
}

// lost reports whether the flows cost anything.
func (t *tally) lost() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.attemptsSpent+t.codeSpent+t.challengeSpent+t.badSignature+t.resends+t.newChallenges+t.tooEarly+
		t.notPermittedRetry+t.failed > 0
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("attempts spent %d, code_spent %d, challenge_spent %d, signatures refused %d, "+
		"resends %d, new challenges %d, too_early after waiting %d, not_permitted on a retry %d, not linked %d",
		t.attemptsSpent, t.codeSpent, t.challengeSpent, t.badSignature, t.resends, t.newChallenges, t.tooEarly,
		t.notPermittedRetry, t.failed)
}

// step is one request of a person's flow: its name (the event, with the
// state for submit_otp), path, body and Idempotency-Key.
type step struct {
	name, path, key string
	body            map[string]any
}

// try is one request of a step and its answer.
type try struct {
	step, key string
	a         reply
	at        time.Time // when the answer came
}

// person plays one user running a flow through serve's HTTP API (most
// often linking a new wallet to their Ratio account, whose phone Ratio
// knows), as a wallet app does: each step has its own Idempotency-Key, reused while
// the step is retried after no answer, a 5xx, a concurrent step or a 429
// (waiting as told), and the codes are read from the sandbox.
type person struct {
	api          *apiClient
	sandbox      *sandbox.Handler
	key          *ecdsa.PrivateKey
	phone, email string
	userID       string // Ratio's, when the sandbox knew the person before
	tally        *tally
	kind         transitions.Kind
	// detours are events the person sends once on reaching their state,
	// before going on.
	detours map[states.State]transitions.Event
	// first, if set, may take over the first try of each step; it
	// returns false to let the step be sent as usual.
	first func(ctx context.Context, st step) (reply, bool)

	view  flow.View
	tries []try
	// sent counts the tries of the last step sent.
	sent int
}

// newPerson returns the i-th person of a test, seeded in the sandbox as
// an existing user with a phone and an email of their own, to link a
// new wallet.
func newPerson(tb testing.TB, api *apiClient, sb *sandbox.Handler, i int, t *tally) *person {
	return newPersonOf(tb, transitions.KindLink, api, sb, i, t)
}

// newPersonOf returns the i-th person of a test, to run a flow of kind:
// unknown to Ratio to sign up; a user with their wallet to sign in; a
// user with a phone and an email of their own to link a new wallet.
func newPersonOf(tb testing.TB, kind transitions.Kind, api *apiClient, sb *sandbox.Handler, i int, t *tally) *person {
	key, err := crypto.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	p := &person{api: api, sandbox: sb, key: key, phone: phone(uint64(3_000_000 + i)), kind: kind,
		email: fmt.Sprintf("person-%d-%s@example.com", i, newKey()[:6]), tally: t}
	seed := sandbox.UserSeed{PhoneNumber: p.phone, EmailAddress: p.email}
	switch kind {
	case transitions.KindSignUp:
		return p
	case transitions.KindSignIn:
		seed.Wallets = []string{p.wallet()}
	}
	u, err := sb.SeedUser(seed)
	if err != nil {
		tb.Fatal(err)
	}
	p.userID = u.ID
	return p
}

// goal is the state the person's flow ends in when all goes well.
func (p *person) goal() states.State {
	switch p.kind {
	case transitions.KindSignUp:
		return states.UserCreated
	case transitions.KindSignIn:
		return states.SignedIn
	}
	return states.Linked
}

// start is the body that starts the person's flow.
func (p *person) start() map[string]any {
	body := map[string]any{"kind": p.kind, "walletAddress": p.wallet()}
	if p.kind == transitions.KindSignUp {
		body["firstName"], body["lastName"], body["country"] = "Ada", "Lovelace", "US"
		body["emailAddress"], body["phoneNumber"], body["acceptedTerms"] = p.email, p.phone, true
	}
	return body
}

func (p *person) wallet() string { return crypto.PubkeyToAddress(p.key.PublicKey).Hex() }

// fly starts a link flow and flies it to its end.
func (p *person) fly(ctx context.Context) error { return p.flyUntil(ctx, "") }

// flyUntil starts a link flow and flies it to its end, or until the
// next step is named until.
func (p *person) flyUntil(ctx context.Context, until string) error {
	if p.view.ID == "" {
		a := p.send(ctx, step{name: "create", path: "/v1/flows", key: newKey(),
			body: p.start()})
		if a.status != http.StatusCreated {
			return fmt.Errorf("create: %s", a)
		}
		p.view = a.view
	}
	for range 40 {
		if p.view.Terminal {
			if p.view.State != p.goal() {
				p.tally.add(func(t *tally) { t.failed++ })
			}
			return nil
		}
		st, err := p.next()
		if err != nil || st.name == until {
			return err
		}
		if err := p.handle(ctx, st, p.send(ctx, st)); err != nil {
			return err
		}
	}
	return fmt.Errorf("flow %s did not end within 40 steps: %s", p.view.ID, p.view.State)
}

// next is the step the person takes in the view's state.
func (p *person) next() (step, error) {
	st := step{key: newKey(), body: map[string]any{}}
	if e, ok := p.detours[p.view.State]; ok {
		delete(p.detours, p.view.State)
		st.name, st.path = string(e), "/v1/flows/"+p.view.ID+"/events/"+string(e)
		return st, nil
	}
	can := map[transitions.Event]bool{}
	for _, n := range p.view.Next {
		can[n.Event] = true
		if n.Auto {
			st.name = string(n.Event) // an automatic step failed: run it again
		}
	}
	switch {
	case can[transitions.Sign]:
		sig, err := ratio.SignPersonal(p.key, p.view.Challenge)
		if err != nil {
			return st, err
		}
		st.name, st.body["signature"] = "sign", sig
	case can[transitions.SubmitPhone]:
		st.name, st.body["phoneNumber"] = "submit_phone", p.phone
	case can[transitions.ConfirmPhone]:
		st.name = "confirm_phone"
	case can[transitions.SubmitOTP]:
		to := p.phone
		if p.view.State == states.EmailSent {
			to = p.email
		}
		code, _ := p.sandbox.LastOTP(to)
		st.name, st.body["otp"] = "submit_otp@"+string(p.view.State), code
	case can[transitions.SubmitEmail]:
		st.name, st.body["emailAddress"] = "submit_email", p.email
	case st.name == "":
		return st, fmt.Errorf("nothing to do in state %s (next %v)", p.view.State, p.view.Next)
	}
	event, _, _ := strings.Cut(st.name, "@")
	st.path = "/v1/flows/" + p.view.ID + "/events/" + event
	return st, nil
}

// send sends st until it gets a final answer: it retries with the same
// key after no answer, a 5xx, a concurrent step or a 429, after the wait
// the answer asked for.
func (p *person) send(ctx context.Context, st step) reply {
	var a reply
	taken := false
	if p.first != nil {
		a, taken = p.first(ctx, st)
	}
	if !taken {
		a = p.api.do(ctx, http.MethodPost, st.path, st.key, st.body)
	}
	waited := false
	for p.sent = 1; p.sent <= 400; p.sent++ {
		p.tries = append(p.tries, try{st.name, st.key, a, time.Now()})
		if a.status == http.StatusTooManyRequests && a.prob.Code == "too_early" && waited {
			p.tally.add(func(t *tally) { t.tooEarly++ })
		}
		var wait time.Duration
		switch {
		case ctx.Err() != nil:
			return a
		case a.err != nil, a.status >= 500:
			wait = 50 * time.Millisecond // serve is down or failed: again, same key
		case a.status == http.StatusConflict && a.prob.Code == "concurrent_step",
			a.status == http.StatusTooManyRequests:
			wait = time.Duration(max(a.prob.header, 1)) * time.Second
		default:
			return a
		}
		waited = a.status == http.StatusTooManyRequests
		if sleepCtx(ctx, wait) != nil {
			return a
		}
		a = p.api.do(ctx, http.MethodPost, st.path, st.key, st.body)
	}
	return a
}

// handle takes the final answer a of st: it moves the person's view on,
// or asks again for what the answer says was spent.
func (p *person) handle(ctx context.Context, st step, a reply) error {
	retried := p.sent > 1
	switch {
	case a.ok():
		p.view = a.view
		return nil
	case a.prob.Code == "code_spent" || a.prob.Code == "invalid_otp":
		p.tally.add(func(t *tally) {
			if a.prob.Code == "code_spent" {
				t.codeSpent++
			} else {
				t.attemptsSpent++
			}
		})
		return p.again(ctx, "resend_otp")
	case a.prob.Code == "attempts_exhausted":
		p.tally.add(func(t *tally) { t.attemptsSpent++ })
	case a.prob.Code == "challenge_spent":
		p.tally.add(func(t *tally) { t.challengeSpent++ })
	case a.prob.Code == "invalid_input" && a.prob.Field == "signature":
		p.tally.add(func(t *tally) { t.badSignature++ })
		return p.again(ctx, "new_challenge")
	case a.prob.Code == "not_permitted" && retried:
		p.tally.add(func(t *tally) { t.notPermittedRetry++ })
	case a.prob.Code == "not_permitted", a.prob.Code == "expired", a.prob.Code == "ended":
	default:
		return fmt.Errorf("%s: %s", st.name, a)
	}
	return p.reload(ctx)
}

// again asks for a new code or a new challenge, then reloads the view.
func (p *person) again(ctx context.Context, event string) error {
	p.tally.add(func(t *tally) {
		if event == "resend_otp" {
			t.resends++
		} else {
			t.newChallenges++
		}
	})
	a := p.send(ctx, step{name: event, path: "/v1/flows/" + p.view.ID + "/events/" + event, key: newKey(), body: map[string]any{}})
	if !a.ok() && a.prob.Code != "not_permitted" {
		return fmt.Errorf("%s: %s", event, a)
	}
	return p.reload(ctx)
}

// reload reads the flow's view again.
func (p *person) reload(ctx context.Context) error {
	for range 400 {
		a := p.api.do(ctx, http.MethodGet, "/v1/flows/"+p.view.ID, "", nil)
		if a.ok() {
			p.view = a.view
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = sleepCtx(ctx, 50*time.Millisecond) // serve or its store is down
	}
	return fmt.Errorf("GET flow %s: no answer", p.view.ID)
}

// extras counts the codes and signatures the person needed beyond a
// clean run's two codes and one signature: the codes gate saw Ratio send
// them, and their steps (not tries) that submitted a signature.
func (p *person) extras(gate *ratioGate) (codes, signatures int) {
	seen := map[string]bool{}
	for _, tr := range p.tries {
		if !seen[tr.key] && tr.step == "sign" {
			signatures++
		}
		seen[tr.key] = true
	}
	return max(gate.sentTo(p.phone)+gate.sentTo(p.email)-2, 0), max(signatures-1, 0)
}

// flows counts the person's flows (GET /v1/flows), -1 if the answer is
// not a page of them.
func (p *person) flows(ctx context.Context) (int, reply) {
	a := p.api.do(ctx, http.MethodGet, "/v1/flows", "", nil)
	var page struct{ Flows []flow.View }
	if !a.ok() || json.Unmarshal([]byte(a.raw), &page) != nil {
		return -1, a
	}
	return len(page.Flows), a
}

// sleepCtx sleeps d, or less if ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
