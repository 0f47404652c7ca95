//go:build !race

// The browser tests start Chromium, which the race detector would only
// slow down: they stay out of go test -race.

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ratioflow/ratioflow/internal/browsertest"
)

// visitor clicks through the reference frontend in a headless Chromium.
type visitor struct {
	t   *testing.T
	ctx context.Context
}

// do runs steps, failing the test with what it was doing.
func (p *visitor) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v\n%s", what, err, p.page())
	}
}

// until waits for a JavaScript predicate over the page to hold.
func (p *visitor) until(what, predicate string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		p.t.Fatalf("waiting for %s: %v\n%s", what, err, p.page())
	}
}

// text is the visible text of the first element sel finds.
func (p *visitor) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("read %s: %v\n%s", sel, err, p.page())
	}
	return s
}

// page is the page's text, for failure messages.
func (p *visitor) page() string {
	s, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string]("document.body.innerText"))
	return s
}

// button is a button by its label.
func button(label string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//button[normalize-space(.)=%q]`, label))
}

// inState waits for the flow's view to show state.
func (p *visitor) inState(state string) {
	p.t.Helper()
	p.until("state "+state, fmt.Sprintf(`document.querySelector("#state")?.dataset.state === %q`, state))
}

// fill types v into the input name of the form of event.
func (p *visitor) fill(event, name, v string) {
	p.t.Helper()
	sel := chromedp.CSS(fmt.Sprintf(`form[data-event=%q] [name=%q]`, event, name))
	p.do("type "+name, chromedp.SendKeys(sel, v))
}

// submit clicks the button of event's form.
func (p *visitor) submit(event string) {
	p.t.Helper()
	p.do("click "+event, chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[data-event=%q] button[type=submit]`, event))))
}

func TestUI_LinkInTheBrowser(t *testing.T) {
	lines, _ := started(t, nil, "serve", "--sandbox", "--ui", "--addr", "127.0.0.1:0", "--store", sqliteStore(t))
	base := waitLine(t, lines, "ratioflow serve listening on ")
	ctx := browsertest.Start(t, 3*time.Minute, chromedp.WindowSize(1100, 1300))
	p := &visitor{t: t, ctx: ctx}
	const phone, email = "+12025550123", "ada@example.com"

	p.do("open the page", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.ID("dev-wallet")),
		chromedp.WaitVisible(chromedp.ID("start-form")))
	if got := p.text("#dev h2"); !strings.Contains(got, "Development only") {
		t.Errorf("the dev panel's title = %q, want it marked development-only", got)
	}
	wallet := p.text("#dev-wallet")
	p.do("seed a returning user", chromedp.Click(button("Seed a returning user")))
	p.until("the seeded user", `document.querySelector("#seed-result").textContent.includes("seeded")`)
	browsertest.Screenshot(t, ctx, "ui-start")

	p.do("start a link flow", chromedp.Click(button("Use the dev wallet")), chromedp.Click(button("Start")))
	p.inState("ChallengeIssued")
	if got := p.text(`[data-fact="wallet"]`); !strings.Contains(got, wallet) {
		t.Errorf("the flow's wallet: %q, want the dev wallet %s", got, wallet)
	}
	browsertest.Screenshot(t, ctx, "ui-challenge")
	p.do("sign", chromedp.Click(button("Sign with the dev wallet")))
	p.inState("WalletAuthed")
	p.fill("submit_phone", "phoneNumber", phone)
	p.submit("submit_phone")
	p.inState("PhoneConflict")
	if got := p.text(`[data-fact="last step"]`); !strings.Contains(got, "conflict") {
		t.Errorf("after the returning user's phone, the last step shows %q, want the conflict", got)
	}

	p.do("force a 429", chromedp.Click(button("Answer the next call 429")))
	p.until("the armed fault", `document.querySelector("#ratelimit-result").textContent.includes("armed")`)
	p.submit("confirm_phone")
	p.until("the wait", `document.querySelector("#wait") !== null`)
	if got := p.text("#wait"); !strings.Contains(got, "try again in") {
		t.Errorf("the 429 shows %q, want a wait", got)
	}
	p.until("the held-back button", `document.querySelector('form[data-event="confirm_phone"] button').disabled`)
	browsertest.Screenshot(t, ctx, "ui-wait")
	p.do("wait, then confirm", chromedp.WaitEnabled(chromedp.CSS(`form[data-event="confirm_phone"] button`)))
	p.submit("confirm_phone")
	p.inState("SmsFirstSent")

	p.fill("submit_otp", "otp", wrongCode(p))
	p.submit("submit_otp")
	p.until("the field error", `document.querySelector('form[data-event="submit_otp"] .fielderror') !== null`)
	left := p.text(`[data-fact="attempts left"]`)
	if got := p.text(`form[data-event="submit_otp"] .fielderror`); !strings.Contains(got, "("+strings.TrimPrefix(left, "attempts left: ")+" attempts left)") {
		t.Errorf("a wrong code shows %q beside the field, want the attempts left (the view says %q)", got, left)
	}
	browsertest.Screenshot(t, ctx, "ui-wrong-code")
	p.do("use the SMS code", chromedp.Click(button("Use the code sent to "+phone)))
	p.submit("submit_otp")
	p.inState("SmsVerified")
	p.fill("submit_email", "emailAddress", email)
	p.submit("submit_email")
	p.inState("EmailSent")
	p.do("use the email code", chromedp.Click(button("Use the code sent to "+email)))
	p.submit("submit_otp")
	p.inState("Linked")
	if got := p.text("#end"); !strings.Contains(got, "Linked") || len(got) < len("Linked: ")+10 {
		t.Errorf("the end shows %q, want the state and the flow's message", got)
	}
	browsertest.Screenshot(t, ctx, "ui-linked")
}

// wrongCode is a 6-digit code other than the one the page shows as sent.
func wrongCode(p *visitor) string {
	p.t.Helper()
	p.until("the code sent", `document.querySelector("[data-code-to]") !== null`)
	if strings.HasSuffix(p.text("[data-code-to]"), "000000") {
		return "111111"
	}
	return "000000"
}
