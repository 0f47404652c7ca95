//go:build !race

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ratioflow/ratioflow/internal/browsertest"
)

// startKind chooses kind in the start form, as a person picks it in the
// list, and waits for its fields.
func startKind(p *browsertest.Page, kind string) {
	p.T.Helper()
	sel := `#start-form select[name="kind"]`
	p.Do("choose "+kind, chromedp.SetValue(chromedp.CSS(sel), kind))
	if _, err := chromedp.Run(p.Ctx, chromedp.Evaluate[bool](`document.querySelector('`+sel+`').dispatchEvent(new Event("change"))`)); err != nil {
		p.T.Fatal(err)
	}
	p.Until(kind+"'s form", fmt.Sprintf(`document.querySelector('%s').value === %q`, sel, kind))
}

// TestUI_SignupThenSignin creates a user with the page's start form (a
// text field, a list of countries, a checkbox for the terms), then signs
// them in with the same wallet: two more flows through the one page.
func TestUI_SignupThenSignin(t *testing.T) {
	lines, _ := started(t, nil, "serve", "--sandbox", "--ui", "--addr", "127.0.0.1:0", "--store", sqliteStore(t))
	base := waitLine(t, lines, "ratioflow serve listening on ")
	ctx := browsertest.Start(t, 2*time.Minute, chromedp.WindowSize(1100, 1400))
	p := &browsertest.Page{T: t, Ctx: ctx}
	const phone = "+12025550188"
	field := func(name string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`#start-form [name=%q]`, name)) }

	p.Do("open the page", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.ID("start-form")))
	startKind(p, "signup")
	p.Do("fill the sign-up form", chromedp.Click(browsertest.Button("Use the dev wallet")),
		chromedp.SendKeys(field("firstName"), "Grace"), chromedp.SendKeys(field("lastName"), "Hopper"),
		chromedp.SendKeys(field("emailAddress"), "grace@example.com"), chromedp.SetValue(field("country"), "US"),
		chromedp.SendKeys(field("phoneNumber"), phone), chromedp.Click(field("acceptedTerms")))
	browsertest.Screenshot(t, ctx, "ui-signup-form")
	p.Do("start", chromedp.Click(browsertest.Button("Start")))
	p.InState("ChallengeIssued")
	p.Do("sign", chromedp.Click(browsertest.Button("Sign with the dev wallet")))
	p.InState("SmsSent")
	useCode(p, phone, "UserCreated")
	if got := p.Text(`[data-fact="user"]`); !strings.Contains(got, "Grace Hopper") {
		t.Errorf("the created user shows %q, want Grace Hopper", got)
	}

	startKind(p, "signin")
	p.Do("start a sign-in", chromedp.Click(browsertest.Button("Use the dev wallet")), chromedp.Click(browsertest.Button("Start")))
	p.InState("ChallengeIssued")
	p.Do("sign", chromedp.Click(browsertest.Button("Sign with the dev wallet")))
	p.InState("WalletAuthed")
	send(p, "submit_phone", "phoneNumber", phone, "SmsSent")
	useCode(p, phone, "SignedIn")
	if got := p.Text("#end"); !strings.Contains(got, "signed in") {
		t.Errorf("the end shows %q, want the sign-in's message", got)
	}
	browsertest.Screenshot(t, ctx, "ui-signed-in")
}

// TestUI_LinkFactorsFirst links a new wallet to a returning user by the
// codes first, the fourth flow through the one page, and asks for a new
// code too early: the resend cooldown shows as a wait.
func TestUI_LinkFactorsFirst(t *testing.T) {
	lines, _ := started(t, nil, "serve", "--sandbox", "--ui", "--addr", "127.0.0.1:0", "--store", sqliteStore(t))
	base := waitLine(t, lines, "ratioflow serve listening on ")
	ctx := browsertest.Start(t, 2*time.Minute, chromedp.WindowSize(1100, 1300))
	p := &browsertest.Page{T: t, Ctx: ctx}
	const phone, email = "+12025550123", "ada@example.com" // the seed form's

	p.Do("open the page", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.ID("start-form")))
	p.Do("seed a returning user", chromedp.Click(browsertest.Button("Seed a returning user")))
	p.Until("the seeded user", `document.querySelector("#seed-result").textContent.includes("seeded")`)
	startKind(p, "link-factors-first")
	p.Do("start", chromedp.Click(browsertest.Button("Use the dev wallet")), chromedp.Click(browsertest.Button("Start")))
	p.InState("New")
	send(p, "submit_phone", "phoneNumber", phone, "SmsFirstSent")
	p.Submit("resend_otp")
	p.Until("the cooldown", `document.querySelector("#wait") !== null`)
	if got := p.Text("#wait"); !strings.Contains(got, "resend_otp has to wait") {
		t.Errorf("a resend within the cooldown shows %q, want a wait", got)
	}
	useCode(p, phone, "SmsVerified")
	send(p, "submit_email", "emailAddress", email, "EmailSent")
	useCode(p, email, "ChallengeIssued")
	p.Do("sign", chromedp.Click(browsertest.Button("Sign with the dev wallet")))
	p.InState("Linked")
}
