//go:build !race

// The browser tests start Chromium, which the race detector would only
// slow down: they stay out of go test -race.

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ratioflow/ratioflow/internal/browsertest"
)

func TestUI_LinkInTheBrowser(t *testing.T) {
	lines, _ := started(t, nil, "serve", "--sandbox", "--ui", "--addr", "127.0.0.1:0", "--store", sqliteStore(t))
	base := waitLine(t, lines, "ratioflow serve listening on ")
	ctx := browsertest.Start(t, 3*time.Minute, chromedp.WindowSize(1100, 1300))
	p := &browsertest.Page{T: t, Ctx: ctx}
	const phone, email = "+12025550123", "ada@example.com"

	p.Do("open the page", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.ID("dev-wallet")),
		chromedp.WaitVisible(chromedp.ID("start-form")))
	if got := p.Text("#dev h2"); !strings.Contains(got, "Development only") {
		t.Errorf("the dev panel's title = %q, want it marked development-only", got)
	}
	wallet := p.Text("#dev-wallet")
	p.Do("seed a returning user", chromedp.Click(browsertest.Button("Seed a returning user")))
	p.Until("the seeded user", `document.querySelector("#seed-result").textContent.includes("seeded")`)
	browsertest.Screenshot(t, ctx, "ui-start")

	p.Do("start a link flow", chromedp.Click(browsertest.Button("Use the dev wallet")), chromedp.Click(browsertest.Button("Start")))
	p.InState("ChallengeIssued")
	if got := p.Text(`[data-fact="wallet"]`); !strings.Contains(got, wallet) {
		t.Errorf("the flow's wallet: %q, want the dev wallet %s", got, wallet)
	}
	browsertest.Screenshot(t, ctx, "ui-challenge")
	p.Do("sign", chromedp.Click(browsertest.Button("Sign with the dev wallet")))
	p.InState("WalletAuthed")
	send(p, "submit_phone", "phoneNumber", phone, "PhoneConflict")
	if got := p.Text(`[data-fact="last step"]`); !strings.Contains(got, "conflict") {
		t.Errorf("after the returning user's phone, the last step shows %q, want the conflict", got)
	}

	p.Do("force a 429", chromedp.Click(browsertest.Button("Answer the next call 429")))
	p.Until("the armed fault", `document.querySelector("#ratelimit-result").textContent.includes("armed")`)
	p.Submit("confirm_phone")
	p.Until("the wait", `document.querySelector("#wait") !== null`)
	if got := p.Text("#wait"); !strings.Contains(got, "try again in") {
		t.Errorf("the 429 shows %q, want a wait", got)
	}
	p.Until("the held-back button", `document.querySelector('form[data-event="confirm_phone"] button').disabled`)
	browsertest.Screenshot(t, ctx, "ui-wait")
	p.Do("wait, then confirm", chromedp.WaitEnabled(chromedp.CSS(`form[data-event="confirm_phone"] button`)))
	p.Submit("confirm_phone")
	p.InState("SmsFirstSent")

	p.Fill("submit_otp", "otp", wrongCode(p))
	p.Submit("submit_otp")
	p.Until("the field error", `document.querySelector('form[data-event="submit_otp"] .fielderror') !== null`)
	left := p.Text(`[data-fact="attempts left"]`)
	if got := p.Text(`form[data-event="submit_otp"] .fielderror`); !strings.Contains(got, "("+strings.TrimPrefix(left, "attempts left: ")+" attempts left)") {
		t.Errorf("a wrong code shows %q beside the field, want the attempts left (the view says %q)", got, left)
	}
	browsertest.Screenshot(t, ctx, "ui-wrong-code")
	useCode(p, phone, "SmsVerified")
	send(p, "submit_email", "emailAddress", email, "EmailSent")
	useCode(p, email, "Linked")
	if got := p.Text("#end"); !strings.Contains(got, "Linked") || len(got) < len("Linked: ")+10 {
		t.Errorf("the end shows %q, want the state and the flow's message", got)
	}
	browsertest.Screenshot(t, ctx, "ui-linked")
}

// send types v into the field of event's form, sends it, and waits for
// the flow to reach want.
func send(p *browsertest.Page, event, field, v, want string) {
	p.T.Helper()
	p.Fill(event, field, v)
	p.Submit(event)
	p.InState(want)
}

// useCode sends the code the sandbox sent to to, and waits for the flow
// to reach want.
func useCode(p *browsertest.Page, to, want string) {
	p.T.Helper()
	p.Do("use the code sent to "+to, chromedp.Click(browsertest.Button("Use the code sent to "+to)))
	p.Submit("submit_otp")
	p.InState(want)
}

// wrongCode is a 6-digit code other than the one the page shows as sent.
func wrongCode(p *browsertest.Page) string {
	p.T.Helper()
	p.Until("the code sent", `document.querySelector("[data-code-to]") !== null`)
	if strings.HasSuffix(p.Text("[data-code-to]"), "000000") {
		return "111111"
	}
	return "000000"
}
