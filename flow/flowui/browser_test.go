//go:build !race

// The browser tests start Chromium, which the race detector would only
// slow down: they stay out of go test -race.

package flowui_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowui"
	"github.com/ratioflow/ratioflow/internal/browsertest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/transitions"
)

// walletEmail is a flow no release declares: a wallet, then an email code.
const walletEmailEnding = "Test-only ending: the wallet and the email are verified."

func walletEmail() *transitions.Flow {
	running := []states.State{states.New, states.ChallengeIssued, states.WalletAuthed, states.EmailSent}
	edges := func(to states.State) []transitions.Edge {
		out := []transitions.Edge{{Outcome: transitions.OK, To: to}}
		for _, c := range transitions.ErrorClasses() {
			out = append(out, transitions.Edge{Outcome: c, To: states.Failed})
		}
		return out
	}
	return &transitions.Flow{Kind: "wallet-email", Title: "Test-only: a wallet and an email code", Initial: states.New,
		Start: []transitions.Field{{Name: "walletAddress"}},
		Transitions: []transitions.Transition{
			{Event: transitions.Start, From: running[:1], Auto: true, Input: []transitions.Field{{Name: "walletAddress"}},
				Call: transitions.CallStartWallet, Edges: edges(states.ChallengeIssued)},
			{Event: transitions.Sign, From: running[1:2], Input: []transitions.Field{{Name: "signature"}},
				Call: transitions.CallAuthenticateWallet, Edges: edges(states.WalletAuthed)},
			{Event: transitions.SubmitEmail, From: running[2:3], Input: []transitions.Field{{Name: "emailAddress"}},
				Call: transitions.CallSendEmail, Bearer: true, Edges: edges(states.EmailSent)},
			{Event: transitions.SubmitOTP, From: running[3:4], Input: []transitions.Field{{Name: "otp", Secret: true}},
				Call: transitions.CallAuthenticateEmail, Bearer: true, Edges: append(edges(states.Authenticated),
					transitions.Edge{Outcome: transitions.AttemptsExhausted, To: states.Failed})},
			{Event: transitions.Cancel, From: running, Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.Canceled}}},
			{Event: transitions.Expire, From: running, Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.Expired}}},
		},
		Endings: map[states.State]string{states.Authenticated: walletEmailEnding, states.Failed: "Failed.",
			states.Canceled: "Canceled.", states.Expired: "Expired."}}
}

// TestPage_AFlowThePageNeverSaw serves an engine with a test-only flow
// table beside the declared ones and clicks through it: the page draws it
// from the OpenAPI document and the views alone.
func TestPage_AFlowThePageNeverSaw(t *testing.T) {
	extra := walletEmail()
	if err := extra.Validate(); err != nil {
		t.Fatalf("test table: %v", err)
	}
	sb := sandbox.NewHandler(sandbox.Config{})
	ratioSrv := httptest.NewServer(sb)
	t.Cleanup(ratioSrv.Close)
	eng, err := flow.New(memstore.New(), ratio.NewClient(ratioSrv.URL, "ui", "ui-secret"), []byte("flowui-test-seal-key-32-bytes!!!"),
		flow.Options{Flows: slices.Concat(transitions.All(), []*transitions.Flow{extra})})
	if err != nil {
		t.Fatal(err)
	}
	page, err := flowui.New(sb)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(flowui.Prefix, page)
	mux.Handle("/", flowhttp.New(eng, page.Subject(nil)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := browsertest.Start(t, 2*time.Minute, chromedp.WindowSize(1100, 1000))
	p := &browsertest.Page{T: t, Ctx: ctx}
	kind := `#start-form select[name="kind"]`
	p.Do("open the page", chromedp.Navigate(srv.URL+flowui.Prefix), chromedp.WaitVisible(chromedp.CSS(kind)))
	p.Do("choose the test-only kind", chromedp.SetValue(chromedp.CSS(kind), string(extra.Kind)))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('`+kind+`').dispatchEvent(new Event("change"))`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(kind+` option[value="wallet-email"]`))); !strings.Contains(got, extra.Title) {
		t.Errorf("the kind's option: %q, want its title %q", got, extra.Title)
	}
	p.Do("start", chromedp.Click(browsertest.Button("Use the dev wallet")), chromedp.Click(browsertest.Button("Start")))
	p.InState("ChallengeIssued")
	p.Do("sign", chromedp.Click(browsertest.Button("Sign with the dev wallet")))
	p.InState("WalletAuthed")
	p.Fill("submit_email", "emailAddress", "grace@example.com")
	p.Submit("submit_email")
	p.InState("EmailSent")
	p.Do("use the code", chromedp.Click(browsertest.Button("Use the code sent to grace@example.com")))
	p.Submit("submit_otp")
	p.InState("Authenticated")
	if got := p.Text("#end"); !strings.Contains(got, walletEmailEnding) {
		t.Errorf("the end shows %q, want the test flow's ending", got)
	}
	browsertest.Screenshot(t, ctx, "ui-test-only-flow")
}
