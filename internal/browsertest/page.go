package browsertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Page is a tab a test clicks through as a person would; its failures
// show the page's text.
type Page struct {
	T   testing.TB
	Ctx context.Context
}

// Do runs steps, failing the test with what it was doing.
func (p *Page) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	if err := chromedp.Do(p.Ctx, steps...); err != nil {
		p.T.Fatalf("%s: %v\n%s", what, err, p.Body())
	}
}

// Until waits up to 20 s for a JavaScript predicate over the page to hold.
func (p *Page) Until(what, predicate string) {
	p.T.Helper()
	if _, err := chromedp.Run(p.Ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		p.T.Fatalf("waiting for %s: %v\n%s", what, err, p.Body())
	}
}

// Text is the visible text of the first element the CSS selector finds.
func (p *Page) Text(sel string) string {
	p.T.Helper()
	s, err := chromedp.Run(p.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.T.Fatalf("read %s: %v\n%s", sel, err, p.Body())
	}
	return s
}

// Body is the page's text, for failure messages.
func (p *Page) Body() string {
	s, _ := chromedp.Run(p.Ctx, chromedp.Evaluate[string]("document.body.innerText"))
	return s
}

// Button is a button by its label.
func Button(label string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//button[normalize-space(.)=%q]`, label))
}

// The reference frontend (package flowui) marks the flow's state and each
// event's form, for these helpers.

// InState waits for the reference frontend to show the flow in state.
func (p *Page) InState(state string) {
	p.T.Helper()
	p.Until("state "+state, fmt.Sprintf(`document.querySelector("#state")?.dataset.state === %q`, state))
}

// Fill types v into the input name of the form of event.
func (p *Page) Fill(event, name, v string) {
	p.T.Helper()
	p.Do("type "+name, chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`form[data-event=%q] [name=%q]`, event, name)), v))
}

// Submit clicks the button of event's form.
func (p *Page) Submit(event string) {
	p.T.Helper()
	p.Do("click "+event, chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[data-event=%q] button[type=submit]`, event))))
}
