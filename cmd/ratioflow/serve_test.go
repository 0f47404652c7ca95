package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
)

func TestSandbox(t *testing.T) {
	t.Parallel()
	env := map[string]string{"RATIO_CLIENT_ID": "app", "RATIO_CLIENT_SECRET": "s3cret"}
	lines, stop := started(t, env, "sandbox", "--addr", "127.0.0.1:0")
	base := waitLine(t, lines, "Ratio sandbox listening on ")
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("sandbox printed base URL %q", base)
	}
	resp, err := http.Get(base + "/_sandbox/stats")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_sandbox/stats: %v, %v", resp, err)
	}
	resp.Body.Close()
	// The credentials of its environment are the only ones it takes.
	for secret, want := range map[string]int{"s3cret": http.StatusOK, "guess": http.StatusUnauthorized} {
		c := ratio.NewClient(base, "app", ratio.Secret(secret))
		_, err := c.StartWallet(t.Context(), "", ratio.StartWalletRequest{WalletAddress: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"})
		got := http.StatusOK
		var ae *ratio.APIError
		if errors.As(err, &ae) {
			got = ae.Status
		} else if err != nil {
			t.Fatalf("StartWallet with secret %q: %v", secret, err)
		}
		if got != want {
			t.Errorf("StartWallet with secret %q: status %d, want %d", secret, got, want)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("sandbox stopped with %v, want nil", err)
	}
}

// TestServe_AdminOff: with --admin-addr off, serve says there is no
// console, and its public listener still answers 404 on every admin
// path, with or without a caller, while it serves the flow API.
func TestServe_AdminOff(t *testing.T) {
	t.Parallel()
	lines, _ := started(t, nil, "serve", "--sandbox", "--addr", "127.0.0.1:0", "--store", "memory:", "--admin-addr", "off")
	base := waitLine(t, lines, "ratioflow serve listening on ")
	if got := waitLine(t, lines, "operator console: "); got != "none (--admin-addr off)" {
		t.Errorf("serve says the operator console is %q, want none", got)
	}
	get := func(method, path, subject string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		if subject != "" {
			req.Header.Set("X-Ratioflow-Subject", subject)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, path := range []string{"/console/", "/console", "/console/app.js", "/console/mermaid.js", "/admin/", "/admin",
		"/admin/openapi.json", "/admin/v1/flows", "/admin/v1/stats", "/admin/v1/flows/00112233445566778899aabbccddeeff",
		"/admin/v1/flows/00112233445566778899aabbccddeeff/cancel"} {
		for _, method := range []string{"GET", "POST"} {
			for _, subject := range []string{"", "operator"} {
				if got := get(method, path, subject); got != http.StatusNotFound {
					t.Errorf("%s %s (subject %q) = %d, want 404", method, path, subject, got)
				}
			}
		}
	}
	if got := get("GET", "/v1/flows", "someone"); got != http.StatusOK {
		t.Errorf("GET /v1/flows = %d, want 200: the flow API is served", got)
	}
}

// TestSandbox_Latency checks that sandbox --latency delays the API's
// answers, and not the hooks': a hook answers while an API call made
// before it is still held back.
func TestSandbox_Latency(t *testing.T) {
	t.Parallel()
	const latency = 3 * time.Second
	lines, stop := started(t, nil, "sandbox", "--addr", "127.0.0.1:0", "--latency", latency.String())
	base := waitLine(t, lines, "Ratio sandbox listening on ")
	if got := waitLine(t, lines, "  every call answers after "); got != "3s" {
		t.Errorf("sandbox says every call answers after %q, want 3s", got)
	}
	c := ratio.NewClient(base, "app", "any")
	start := time.Now()
	answered := make(chan error, 1)
	go func() {
		_, err := c.StartWallet(t.Context(), "", ratio.StartWalletRequest{WalletAddress: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"})
		answered <- err
	}()
	hook := time.Now()
	resp, err := http.Get(base + "/_sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(hook); d >= latency {
		t.Errorf("GET /_sandbox/stats answered in %s, want the hooks without the sandbox's %s", d, latency)
	}
	select {
	case <-answered:
		t.Errorf("GET /_sandbox/stats answered after an API call made before it: the hooks were delayed too")
	default:
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < latency {
		t.Errorf("StartWallet answered in %s, want at least the sandbox's %s", d, latency)
	}
	if err := stop(); err != nil {
		t.Errorf("sandbox stopped with %v, want nil", err)
	}
}

// frontend is a wallet app's frontend calling ratioflow serve.
type frontend struct {
	t       *testing.T
	base    string
	subject string
}

func (f *frontend) do(method, path string, body any) (int, flow.View, string) {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(f.t.Context(), method, f.base+path, r)
	if f.subject != "" {
		req.Header.Set(subjectHeader, f.subject)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v flow.View
	_ = json.Unmarshal(raw, &v)
	return resp.StatusCode, v, string(raw)
}

// step posts an event and checks the state it leads to.
func (f *frontend) step(id, event string, body any, want states.State) flow.View {
	f.t.Helper()
	status, v, raw := f.do(http.MethodPost, "/v1/flows/"+id+"/events/"+event, body)
	if status != http.StatusOK || v.State != want {
		f.t.Fatalf("%s: %d %s, want 200 %s\n%s", event, status, v.State, want, raw)
	}
	return v
}

// TestServe_LinkOverHTTP drives the link flow through ratioflow serve over
// real HTTP, as a frontend would, with a real key signing the challenge
// and the codes read from the sandbox serve started.
func TestServe_LinkOverHTTP(t *testing.T) {
	t.Parallel()
	lines, stop := started(t, nil, "serve", "--sandbox", "--addr", "127.0.0.1:0", "--store", sqliteStore(t))
	base := waitLine(t, lines, "ratioflow serve listening on ")
	sandbox := strings.TrimPrefix(waitLine(t, lines, "ratio "), "sandbox in this process at ")
	waitLine(t, lines, "WARNING: Ratio is a SANDBOX")

	anon := &frontend{t: t, base: base}
	if status, _, raw := anon.do(http.MethodPost, "/v1/flows", map[string]string{"kind": "link"}); status != http.StatusUnauthorized {
		t.Errorf("a request without %s: %d, want 401\n%s", subjectHeader, status, raw)
	}
	for _, probe := range []string{"/healthz", "/readyz"} {
		if status, _, raw := anon.do(http.MethodGet, probe, nil); status != http.StatusOK {
			t.Errorf("GET %s without a subject: %d, want 200\n%s", probe, status, raw)
		}
	}
	app := &frontend{t: t, base: base, subject: "user-42"}
	run := driveLink(t, app, sandbox)
	v, wallet := run.view, run.wallet
	if _, _, raw := app.do(http.MethodGet, "/v1/flows/"+v.ID, nil); strings.Contains(strings.ToLower(raw), "jwt") {
		t.Errorf("a view holds a JWT: %s", raw)
	}
	if status, _, raw := app.do(http.MethodGet, "/v1/flows", nil); status != http.StatusOK || !strings.Contains(raw, `"id":"`+v.ID+`"`) {
		t.Errorf("GET /v1/flows: %d, want the caller's flow\n%s", status, raw)
	}
	if status, _, raw := app.do(http.MethodGet, "/v1/flows?running=true", nil); status != http.StatusOK || raw != `{"flows":[]}`+"\n" {
		t.Errorf("GET /v1/flows?running=true after the flow linked: %d %s, want no flow", status, raw)
	}
	status, _, metrics := anon.do(http.MethodGet, "/metrics", nil)
	for _, want := range []string{
		`ratioflow_flows_ended_total{kind="link",state="Linked"} 1`,
		`ratioflow_steps_total{event="submit_phone",kind="link",outcome="conflict"} 1`,
		`ratioflow_ratio_calls_total{call="cryptoWallet:addToUser",status="2xx"} 1`,
		`ratioflow_ratio_calls_total{call="otp/sms:send",status="409"} 1`,
		`ratioflow_ratio_call_duration_seconds_count{call="otp/sms:send"} 2`,
		"go_goroutines ", // the Go runtime's and the process's own
		"process_cpu_seconds_total ",
	} {
		if status != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("GET /metrics: %d, want a line with %s\n%s", status, want, metrics)
		}
	}
	if strings.Contains(metrics, v.ID) || strings.Contains(metrics, "user-42") || strings.Contains(metrics, wallet) {
		t.Errorf("GET /metrics names a flow, a subject or a wallet:\n%s", metrics)
	}
	other := &frontend{t: t, base: base, subject: "someone-else"}
	if status, _, _ := other.do(http.MethodGet, "/v1/flows/"+v.ID, nil); status != http.StatusNotFound {
		t.Errorf("another subject reads the flow: %d, want 404", status)
	}
	if status, _, raw := other.do(http.MethodGet, "/v1/flows", nil); status != http.StatusOK || strings.Contains(raw, v.ID) {
		t.Errorf("another subject lists the flow: %d %s", status, raw)
	}
	if err := stop(); err != nil {
		t.Errorf("serve stopped with %v, want nil", err)
	}
}

// TestServe_ReplicasShareIdempotencyKeys runs two serve processes on one
// store and one sandbox, as two replicas behind a load balancer: a POST
// retried on the other replica with the same Idempotency-Key replays the
// first answer instead of starting a second flow.
func TestServe_ReplicasShareIdempotencyKeys(t *testing.T) {
	t.Parallel()
	env := map[string]string{"RATIO_CLIENT_ID": "app", "RATIO_CLIENT_SECRET": "s3cret"}
	lines, _ := started(t, env, "sandbox", "--addr", "127.0.0.1:0")
	sandbox := waitLine(t, lines, "Ratio sandbox listening on ")
	storeURL := sqliteStore(t)
	bases := make([]string, 2)
	for i := range bases {
		lines, _ := started(t, env, "serve", "--addr", "127.0.0.1:0", "--store", storeURL, "--ratio", sandbox)
		bases[i] = waitLine(t, lines, "ratioflow serve listening on ")
	}

	post := func(base, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/flows", strings.NewReader(body))
		req.Header.Set(subjectHeader, "user-42")
		req.Header.Set("Idempotency-Key", "start-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /v1/flows: %v", err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp, string(raw)
	}
	const start = `{"kind":"link","walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`
	first, firstRaw := post(bases[0], start)
	if first.StatusCode != http.StatusCreated {
		t.Fatalf("start on replica 0: %d\n%s", first.StatusCode, firstRaw)
	}
	again, againRaw := post(bases[1], start)
	if again.StatusCode != http.StatusCreated || againRaw != firstRaw || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("Location") != first.Header.Get("Location") {
		t.Errorf("retry on replica 1: %d %s (replayed %q)\nwant the first answer: %s",
			again.StatusCode, againRaw, again.Header.Get("Idempotent-Replayed"), firstRaw)
	}
	other, _ := post(bases[1], `{"kind":"link","walletAddress":"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"}`)
	if other.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body on replica 1: %d, want 422", other.StatusCode)
	}

	resp, err := http.Get(sandbox + "/_sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var stats struct{ Calls map[string]int }
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	if n := stats.Calls[ratio.OpStartWallet.Route()]; n != 1 {
		t.Errorf("cryptoWallet:start calls = %d, want 1 (calls %v)", n, stats.Calls)
	}
}

// linkRun is a link flow driven over HTTP: its first view, its wallet,
// and the secrets the person used.
type linkRun struct {
	view                     flow.View
	wallet, phone, email     string
	signature, smsCode, code string
}

// driveLink seeds a returning user in the sandbox and drives a link flow
// with a new wallet through the 409 branch to Linked, as app.
func driveLink(t *testing.T, app *frontend, sandbox string) linkRun {
	t.Helper()
	const phone, email = "+12025550147", "ada@example.com"
	seed, _ := json.Marshal(map[string]string{"phoneNumber": phone, "emailAddress": email, "firstName": "Ada", "lastName": "Lovelace"})
	resp, err := http.Post(sandbox+"/_sandbox/users", "application/json", bytes.NewReader(seed))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("seed the user: %v %v", resp, err)
	}
	resp.Body.Close()
	code := func(to string) string {
		resp, err := http.Get(sandbox + "/_sandbox/otp?to=" + url.QueryEscape(to))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ OTP string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return body.OTP
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	wallet := crypto.PubkeyToAddress(key.PublicKey).Hex()
	status, v, raw := app.do(http.MethodPost, "/v1/flows", map[string]string{"kind": "link", "walletAddress": wallet})
	if status != http.StatusCreated || v.State != states.ChallengeIssued || v.Challenge == "" {
		t.Fatalf("start: %d %s\n%s", status, v.State, raw)
	}
	sig, err := ratio.SignPersonal(key, v.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	app.step(v.ID, "sign", map[string]string{"signature": sig}, states.WalletAuthed)
	app.step(v.ID, "submit_phone", map[string]string{"phoneNumber": phone}, states.PhoneConflict)
	app.step(v.ID, "confirm_phone", map[string]string{}, states.SmsFirstSent)
	smsCode := code(phone)
	app.step(v.ID, "submit_otp", map[string]string{"otp": smsCode}, states.SmsVerified)
	app.step(v.ID, "submit_email", map[string]string{"emailAddress": email}, states.EmailSent)
	emailCode := code(email)
	end := app.step(v.ID, "submit_otp", map[string]string{"otp": emailCode}, states.Linked)
	if !end.Terminal || end.WalletAddress != wallet {
		t.Errorf("final view: %+v", end)
	}
	return linkRun{view: v, wallet: wallet, phone: phone, email: email, signature: sig, smsCode: smsCode, code: emailCode}
}
