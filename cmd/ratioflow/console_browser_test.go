//go:build !race

// The browser tests start Chromium, which the race detector would only
// slow down: they stay out of go test -race.

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
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
	storeURL := sqliteStore(t)
	lines, _ := started(t, nil, "serve", "--sandbox", "--ui", "--addr", "127.0.0.1:0", "--store", storeURL,
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
		p.Until("the two flows, newest first", fmt.Sprintf(`document.querySelectorAll("#flows tbody tr").length === 2 && `+
			`document.querySelector("#flows tbody tr")?.dataset.id === %q`, other))
		if got := p.Text("#count"); !strings.Contains(got, "newest first") {
			t.Errorf("the list says %q, want newest first", got)
		}
		p.Do("oldest first", chromedp.SetValue(chromedp.CSS(`#filters select[name="order"]`), "oldest"),
			chromedp.Click(browsertest.Button("Filter")))
		p.Until("the link flow first", fmt.Sprintf(`document.querySelector("#count")?.textContent.includes("oldest first") && `+
			`document.querySelector("#flows tbody tr")?.dataset.id === %q`, linkID))
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
		body := p.Body()
		newSecrets(t, storeURL, u.codes, phone, email).check(t, "the flow page", []byte(body))
		if !strings.Contains(body, "ending in 0177") {
			t.Errorf("the flow page does not show the phone's mask:\n%s", body)
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

	t.Run("no secret in the admin answers", func(t *testing.T) {
		secrets := newSecrets(t, storeURL, u.codes, phone, email)
		secrets.check(t, "the console", []byte(p.Body()))
		checkAdminAnswers(t, strings.TrimSuffix(console, "/console/"), secrets, linkID, other)
	})

	t.Run("a demo run", func(t *testing.T) {
		p.T = t
		demoStore := sqliteStore(t)
		id, phone, email := demoRun(t, mustRun(t, nil, "demo", "--store", demoStore))
		served, _ := started(t, nil, "serve", "--sandbox", "--addr", "127.0.0.1:0", "--store", demoStore, "--mermaid-js", script)
		waitLine(t, served, "ratioflow serve listening on ")
		demoConsole := strings.Fields(waitLine(t, served, "operator console: "))[0]
		p.Do("open the console on the demo's store", chromedp.Navigate(demoConsole))
		p.Until("the demo's flow, Linked", fmt.Sprintf(`document.querySelectorAll("#flows tbody tr").length === 1 && `+
			`document.querySelector('#flows tr[data-id=%q] [data-state="Linked"]') !== null`, id))
		p.Do("open the demo's flow", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#flows tr[data-id=%q] a`, id))))
		p.Until("the timeline", `document.querySelector("#timeline") !== null`)
		timeline := p.Text("#timeline")
		for _, want := range []string{"WalletAuthed → PhoneConflict", "409 ALREADY_EXISTS_PHONE", "429 TOO_MANY_REQUESTS",
			"EmailVerified → Linked", "cryptoWallet:addToUser"} {
			if !strings.Contains(timeline, want) {
				t.Errorf("the demo's timeline lacks %q:\n%s", want, timeline)
			}
		}
		checkTakenPath(p, "Linked")
		secrets := newSecrets(t, demoStore, nil, phone, email)
		secrets.check(t, "the demo's flow page", []byte(p.Body()))
		checkAdminAnswers(t, strings.TrimSuffix(demoConsole, "/console/"), secrets, id)
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

// demoRun reads the flow's id and the person's phone number and email
// from what ratioflow demo printed.
func demoRun(t *testing.T, out string) (id, phone, email string) {
	t.Helper()
	user := regexp.MustCompile(`(?m)^  user +[^,]+, (\+1\d{10}), ([^ ,]+@[^ ,]+) `).FindStringSubmatch(out)
	flow := regexp.MustCompile(`(?m)^Flow ([0-9a-f]{32}) is kept in `).FindStringSubmatch(out)
	if user == nil || flow == nil {
		t.Fatalf("the demo did not print its user and its flow:\n%s", out)
	}
	return flow[1], user[1], user[2]
}

// secrets are what no console page or admin answer may show: a person's
// phone number and email, the codes the sandbox sent, the seal key of
// the store, a JWT.
type secrets struct {
	words []string
	codes []string
}

// newSecrets returns the secrets of a serve on the SQLite store at
// storeURL, whose seal key is kept beside it.
func newSecrets(t *testing.T, storeURL string, codes []string, phone, email string) secrets {
	t.Helper()
	key, err := os.ReadFile(strings.TrimPrefix(storeURL, "sqlite:") + ".key")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(key)))
	if err != nil || len(raw) != 32 {
		t.Fatalf("the seal key file holds %q: %v", key, err)
	}
	return secrets{codes: codes, words: []string{phone, strings.TrimPrefix(phone, "+1"), email,
		hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
		"eyJ"}} // every JWT starts with eyJ, the base64 of {"
}

// check fails when body, named what, shows a secret: a code counts only
// as a number of its own, not inside an id, a hash or a time's fraction.
func (s secrets) check(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, w := range s.words {
		if bytes.Contains(body, []byte(w)) {
			t.Errorf("%s shows %q", what, w)
		}
	}
	for _, c := range s.codes {
		if regexp.MustCompile(`(^|[^0-9A-Za-z.])` + c + `([^0-9A-Za-z]|$)`).Match(body) {
			t.Errorf("%s shows the code %s", what, c)
		}
	}
}

// checkAdminAnswers reads every answer of the admin listener at base
// about the flows ids (the list, each flow, the stats in both views, the
// OpenAPI document, the console's page and script) and checks that none
// shows a secret.
func checkAdminAnswers(t *testing.T, base string, s secrets, ids ...string) {
	t.Helper()
	paths := []string{"/admin/v1/flows", "/admin/v1/flows?running=true", "/admin/v1/stats", "/admin/v1/stats?view=state",
		"/admin/openapi.json", "/console/", "/console/app.js"}
	for _, id := range ids {
		paths = append(paths, "/admin/v1/flows/"+id)
	}
	for _, path := range paths {
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %v", path, resp.StatusCode, err)
		}
		for _, id := range ids {
			if strings.HasSuffix(path, id) && !bytes.Contains(b, []byte(`"timeline"`)) {
				t.Errorf("GET %s has no timeline: %s", path, b)
			}
		}
		s.check(t, "GET "+path, b)
	}
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
	// codes are the one-time codes the sandbox sent, as the user read them.
	codes []string
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
	c := u.call("GET", "/ui/dev/otp?to="+strings.ReplaceAll(to, "+", "%2B"), nil, http.StatusOK)["otp"].(string)
	u.codes = append(u.codes, c)
	return c
}

// waitRetry waits until the flow's retryAt has passed.
func (u *devUser) waitRetry(id string) {
	u.t.Helper()
	at, _ := u.call("GET", "/v1/flows/"+id, nil, http.StatusOK)["retryAt"].(string)
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		time.Sleep(time.Until(t) + 50*time.Millisecond)
	}
}
