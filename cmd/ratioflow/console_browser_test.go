//go:build !race

// The browser tests start Chromium, which the race detector would only
// slow down: they stay out of go test -race.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ratioflow/ratioflow/internal/browsertest"
)

// TestConsole_InTheBrowser drives a returning user's link through the
// phone conflict (409) against serve's sandbox, up to the wallet's link,
// which Ratio refuses once (429); then, in one browser, the operator
// finds the flow in the console, reads its timeline and the diagram of
// its path, resumes it to Linked, cancels another flow and reads the
// stats. The admin paths are not served on the public listener, and a
// console with a token asks for it.
func TestConsole_InTheBrowser(t *testing.T) {
	script := mermaidScript(t)
	const token = "console-test-token"
	lines, _ := started(t, nil, "serve", "--sandbox", "--ui", "--addr", "127.0.0.1:0", "--store", sqliteStore(t),
		"--mermaid-js", script)
	base := waitLine(t, lines, "ratioflow serve listening on ")
	console := strings.Fields(waitLine(t, lines, "operator console: "))[0]
	guarded, _ := started(t, map[string]string{"RATIOFLOW_ADMIN_TOKEN": token}, "serve", "--sandbox", "--addr", "127.0.0.1:0",
		"--store", sqliteStore(t), "--mermaid-js", script)
	waitLine(t, guarded, "ratioflow serve listening on ")
	guardedConsole := strings.Fields(waitLine(t, guarded, "operator console: "))[0]

	u := newDevUser(t, base)
	const phone, email = "+12025550177", "grace@example.com"
	linkID := u.linkToTheWalletsLink(phone, email)
	other := u.post("/v1/flows", map[string]any{"kind": "signin", "walletAddress": u.wallet})["id"].(string)

	ctx := browsertest.Start(t, 2*time.Minute, chromedp.WindowSize(1280, 1000))
	p := &browsertest.Page{T: t, Ctx: ctx}

	t.Run("the list", func(t *testing.T) {
		p.T = t
		p.Do("open the console", chromedp.Navigate(console), chromedp.WaitVisible(chromedp.ID("filters")))
		p.Until("the two flows", `document.querySelectorAll("#flows tbody tr").length === 2`)
		p.Do("keep the link flows", chromedp.SetValue(chromedp.CSS(`#filters select[name="kind"]`), "link"),
			chromedp.Click(browsertest.Button("Filter")))
		p.Until("the link flow alone", fmt.Sprintf(`document.querySelectorAll("#flows tbody tr").length === 1 && `+
			`document.querySelector('#flows tr[data-id=%q] [data-state="EmailVerified"]') !== null`, linkID))
	})

	t.Run("one flow", func(t *testing.T) {
		p.T = t
		p.Do("open the flow", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#flows tr[data-id=%q] a`, linkID))))
		p.Until("the timeline", `document.querySelector("#timeline") !== null`)
		timeline := p.Text("#timeline")
		for _, want := range []string{"submit_phone", "WalletAuthed → PhoneConflict", "409 ALREADY_EXISTS_PHONE", "otp/sms:send",
			"add_wallet", "429 TOO_MANY_REQUESTS", "cryptoWallet:addToUser", " ms"} {
			if !strings.Contains(timeline, want) {
				t.Errorf("the timeline lacks %q:\n%s", want, timeline)
			}
		}
		checkTakenPath(p, "EmailVerified")
		if body := p.Body(); strings.Contains(body, phone) || strings.Contains(body, strings.TrimPrefix(phone, "+1")) ||
			strings.Contains(body, email) || !strings.Contains(body, "ending in 0177") {
			t.Errorf("the flow page shows a phone or an email, or not the phone's mask:\n%s", body)
		}

		u.waitRetry(linkID)
		p.Do("resume", chromedp.Click(browsertest.Button("Resume")))
		p.Until("Linked", `document.querySelector("#state")?.dataset.state === "Linked"`)
		if got := p.Text("#action-result"); !strings.Contains(got, "Resumed") {
			t.Errorf("after resume the page says %q", got)
		}
		checkTakenPath(p, "Linked")
		browsertest.Screenshot(t, ctx, "console-flow")
		p.Do("the sequence diagram", chromedp.Click(chromedp.CSS(`.tabs button[data-tab="sequence"]`)))
		p.Until("the sequence's SVG", `document.querySelector('#diagram[data-diagram="sequence"][data-rendered="true"] svg') !== null`)
	})

	t.Run("cancel", func(t *testing.T) {
		p.T = t
		p.Do("open the other flow", chromedp.Navigate(console+"#/flows/"+other))
		p.Until("the flow", `document.querySelector("#state")?.dataset.state === "ChallengeIssued"`)
		p.Do("cancel", chromedp.Click(browsertest.Button("Cancel flow…")), chromedp.Click(browsertest.Button("Yes, cancel it")))
		p.Until("Canceled", `document.querySelector("#state")?.dataset.state === "Canceled"`)
		p.Until("the buttons off", `[...document.querySelectorAll(".actions button")].slice(0, 2).every((b) => b.disabled)`)
		p.Do("back to the list", chromedp.Click(chromedp.CSS(`a[href="#/flows"]`)))
		p.Until("both flows ended", `document.querySelectorAll("#flows [data-state=Linked], #flows [data-state=Canceled]").length === 2`)
		browsertest.Screenshot(t, ctx, "console-flows")
	})

	t.Run("stats", func(t *testing.T) {
		p.T = t
		p.Do("open the stats", chromedp.Click(chromedp.ID("nav-stats")))
		p.Until("the link diagram", `document.querySelector('[data-diagram="stats-link"][data-rendered="true"] svg') !== null`)
		p.Until("signin's drop-off", `document.querySelector('table.dropoff[data-kind="signin"] tr[data-state="ChallengeIssued"]')?.cells[4].textContent === "1"`)
		if got := p.Text(`.kind-stats[data-kind="link"] h2`); !strings.Contains(got, "1 flow, 1 finished") {
			t.Errorf("the link stats say %q", got)
		}
		p.Do("the link flows alone", chromedp.SetValue(chromedp.CSS(`#stats-filters select[name="kind"]`), "link"),
			chromedp.Click(browsertest.Button("Show")))
		p.Until("one kind", `document.querySelectorAll(".kind-stats").length === 1 && `+
			`document.querySelector('[data-diagram="stats-link"][data-rendered="true"] svg') !== null`)
		browsertest.Screenshot(t, ctx, "console-stats")
	})

	t.Run("a token", func(t *testing.T) {
		p.T = t
		p.Do("open the guarded console", chromedp.Navigate(guardedConsole), chromedp.WaitVisible(chromedp.ID("token-form")))
		p.Do("give the token", chromedp.SendKeys(chromedp.CSS(`#token-form input`), token), chromedp.Click(browsertest.Button("Use the token")))
		p.Until("the list", `document.querySelector("#count")?.textContent.startsWith("0 flows")`)
	})

	t.Run("not on the public listener", func(t *testing.T) {
		adminBase := strings.TrimSuffix(console, "/console/")
		for _, path := range []string{"/console/", "/console", "/console/app.js", "/admin/v1/flows", "/admin/v1/stats", "/admin/openapi.json",
			"/admin/v1/flows/" + linkID} {
			if got := status(t, "GET", base+path, ""); got != http.StatusNotFound {
				t.Errorf("GET %s on the public listener = %d, want 404", path, got)
			}
			if !strings.HasPrefix(path, "/console") && status(t, "POST", base+path, "") != http.StatusNotFound {
				t.Errorf("POST %s on the public listener is not 404", path)
			}
		}
		if got := status(t, "GET", adminBase+"/admin/openapi.json", ""); got != http.StatusOK {
			t.Errorf("GET /admin/openapi.json on the admin listener = %d", got)
		}
		guardedBase := strings.TrimSuffix(guardedConsole, "/console/")
		for _, path := range []string{"/admin/v1/flows", "/admin/v1/stats", "/admin/openapi.json"} {
			if got := status(t, "GET", guardedBase+path, ""); got != http.StatusUnauthorized {
				t.Errorf("GET %s without the token = %d, want 401", path, got)
			}
			if got := status(t, "GET", guardedBase+path, token); got != http.StatusOK {
				t.Errorf("GET %s with the token = %d, want 200", path, got)
			}
		}
	})
}

// checkTakenPath waits for the path diagram's SVG and checks what Mermaid
// drew: the taken arrows heavy and blue, the current state dark blue.
func checkTakenPath(p *browsertest.Page, current string) {
	p.T.Helper()
	p.Until("the path's SVG", `document.querySelector('#diagram[data-diagram="overview"][data-rendered="true"] svg') !== null`)
	p.Until("the taken arrows styled", `[...document.querySelectorAll("#diagram svg path")].filter((e) => `+
		`getComputedStyle(e).stroke === "rgb(36, 113, 163)" && getComputedStyle(e).strokeWidth === "4px").length >= 6`)
	p.Until("the current state dark blue", fmt.Sprintf(`[...document.querySelectorAll("#diagram svg g.node.current")].some((g) => `+
		`g.id.includes(%q) && getComputedStyle(g.querySelector("rect, path, polygon")).fill === "rgb(36, 113, 163)")`, current))
}

// mermaidScript is the local mermaid copy the browser tests load.
func mermaidScript(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs("../../visualize/mermaidcheck/node_modules/mermaid/dist/mermaid.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		browsertest.Missing(t, "the mermaid package is not installed; install it with: npm ci --prefix visualize/mermaidcheck")
	}
	return path
}

// status sends a request, with a bearer token when not empty, and
// returns the answer's status.
func status(t *testing.T, method, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// devUser is a person using serve's development hooks over HTTP, as the
// reference frontend does.
type devUser struct {
	t      *testing.T
	base   string
	client *http.Client
	wallet string
}

func newDevUser(t *testing.T, base string) *devUser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &devUser{t: t, base: base, client: &http.Client{Jar: jar}}
	u.wallet = u.call("GET", "/ui/dev/session", nil, http.StatusOK)["walletAddress"].(string)
	return u
}

// call sends a JSON request and decodes the answer, which must have status.
func (u *devUser) call(method, path string, body any, status int) map[string]any {
	u.t.Helper()
	var in bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&in).Encode(body); err != nil {
			u.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, u.base+path, &in)
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.client.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != status {
		u.t.Fatalf("%s %s = %d %v, want %d", method, path, resp.StatusCode, out, status)
	}
	return out
}

func (u *devUser) post(path string, body any) map[string]any {
	u.t.Helper()
	if path == "/v1/flows" {
		return u.call("POST", path, body, http.StatusCreated)
	}
	return u.call("POST", path, body, http.StatusOK)
}

// linkToTheWalletsLink seeds a returning user and links the dev wallet
// through the phone conflict, with Ratio answering the wallet's link 429
// once: the flow waits in EmailVerified. It returns the flow's id.
func (u *devUser) linkToTheWalletsLink(phone, email string) string {
	u.t.Helper()
	u.call("POST", "/ui/dev/users", map[string]string{"phoneNumber": phone, "emailAddress": email}, http.StatusCreated)
	v := u.post("/v1/flows", map[string]any{"kind": "link", "walletAddress": u.wallet})
	id := v["id"].(string)
	ev := func(event string, body map[string]any, want string) {
		u.t.Helper()
		if got := u.post("/v1/flows/"+id+"/events/"+event, body)["state"]; got != want {
			u.t.Fatalf("%s: state %v, want %s", event, got, want)
		}
	}
	sig := u.post("/ui/dev/sign", map[string]any{"message": v["challenge"]})["signature"]
	ev("sign", map[string]any{"signature": sig}, "WalletAuthed")
	ev("submit_phone", map[string]any{"phoneNumber": phone}, "PhoneConflict")
	ev("confirm_phone", map[string]any{}, "SmsFirstSent")
	ev("submit_otp", map[string]any{"otp": u.code(phone)}, "SmsVerified")
	ev("submit_email", map[string]any{"emailAddress": email}, "EmailSent")
	u.post("/ui/dev/ratelimit", map[string]any{"op": "cryptoWallet:addToUser", "count": 1, "retryAfterSeconds": 3})
	u.call("POST", "/v1/flows/"+id+"/events/submit_otp", map[string]any{"otp": u.code(email)}, http.StatusTooManyRequests)
	if got := u.call("GET", "/v1/flows/"+id, nil, http.StatusOK)["state"]; got != "EmailVerified" {
		u.t.Fatalf("after the 429 on the wallet's link: %v, want EmailVerified", got)
	}
	return id
}

func (u *devUser) code(to string) string {
	u.t.Helper()
	return u.call("GET", "/ui/dev/otp?to="+strings.ReplaceAll(to, "+", "%2B"), nil, http.StatusOK)["otp"].(string)
}

// waitRetry waits until the flow's retryAt has passed.
func (u *devUser) waitRetry(id string) {
	u.t.Helper()
	at, _ := u.call("GET", "/v1/flows/"+id, nil, http.StatusOK)["retryAt"].(string)
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		time.Sleep(time.Until(t) + 50*time.Millisecond)
	}
}
