package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

func TestDemo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind transitions.Kind
		want []string
	}{
		{transitions.KindLink, []string{"link flow: Link a new signing wallet",
			"an existing Ratio user, seeded in the sandbox", "WalletAuthed -> PhoneConflict", "409 ALREADY_EXISTS_PHONE",
			"429 TOO_MANY_REQUESTS", "the demo waits 2s, then sends confirm_phone again", "add_wallet (auto)",
			"Linked in ", "is now an authentication method", "PhoneConflict\n  ↻ (4) ", "⚠ confirm_phone: 429 back off",
			"ratioflow flows show", "ratioflow flows audit"}},
		{transitions.KindLinkFactorsFirst, []string{"SmsFirstSent", "start_wallet (auto)", "Linked in "}},
		{transitions.KindSignIn, []string{"linked to the user", "load_wallets (auto)", "SignedIn in ", "signed in with wallet"}},
		{transitions.KindSignUp, []string{"not a Ratio user yet", "create_user (auto)", "UserCreated in "}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			out := mustRun(t, nil, "demo", "--flow", string(tt.kind), "--store", "memory:")
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("demo --flow %s output lacks %q:\n%s", tt.kind, want, out)
				}
			}
			for _, jargon := range []string{"seed page", "pilot", "spec "} { // words only the project's authors know
				if strings.Contains(out, jargon) {
					t.Errorf("demo --flow %s output says %q:\n%s", tt.kind, jargon, out)
				}
			}
		})
	}
}

// TestDemo_Mermaid: the Mermaid diagrams of the path only with --mermaid.
func TestDemo_Mermaid(t *testing.T) {
	t.Parallel()
	out := mustRun(t, nil, "demo", "--store", "memory:", "--mermaid")
	for _, want := range []string{"  ↓ (1) ", "```mermaid\nflowchart TD\n", "```mermaid\nsequenceDiagram\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo --mermaid output lacks %q:\n%s", want, out)
		}
	}
	if plain := mustRun(t, nil, "demo", "--store", "memory:"); strings.Contains(plain, "```mermaid") {
		t.Errorf("demo without --mermaid prints Mermaid:\n%s", plain)
	}
}

func TestDemo_JSON(t *testing.T) {
	t.Parallel()
	for kind, end := range demoEnd {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			out := mustRun(t, nil, "demo", "--flow", string(kind), "--json", "--store", "memory:")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			calls := map[string]bool{}
			for i, line := range lines[:len(lines)-1] {
				var s jsonStep
				dec := json.NewDecoder(strings.NewReader(line))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&s); err != nil {
					t.Fatalf("line %d is not a step: %v\n%s", i+1, err, line)
				}
				if s.Step != int64(i+1) || s.Event == "" || s.From == "" || s.To == "" || s.Outcome == "" {
					t.Errorf("line %d = %+v, want step %d with event, states and outcome", i+1, s, i+1)
				}
				calls[s.Call+" "+s.Code] = true
			}
			var v flow.View
			lastJSON(t, out, &v)
			if v.State != end || !v.Terminal || v.ID == "" || v.Kind != kind {
				t.Errorf("final view = %s %s terminal=%v, want %s", v.Kind, v.State, v.Terminal, end)
			}
			if kind == transitions.KindLink && !calls["otp/sms:send TOO_MANY_REQUESTS"] {
				t.Errorf("the link demo shows no 429 on otp/sms:send: %v", calls)
			}
		})
	}
}

// TestDemo_ExternalSandbox runs the demo against a sandbox served by
// another process: seeded, faulted and read over its /_sandbox/ hooks.
func TestDemo_ExternalSandbox(t *testing.T) {
	t.Parallel()
	sb := ratiotest.NewServer(t)
	out := mustRun(t, nil, "demo", "--ratio", sb.URL, "--store", sqliteStore(t))
	for _, want := range []string{"sandbox at " + sb.URL, "429 TOO_MANY_REQUESTS", "Linked in "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := len(sb.Stats().AddToUser); n != 1 {
		t.Errorf("the sandbox added %d wallets, want 1", n)
	}
}

// zeros makes the sandbox's codes predictable: every one is 000000.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestDemo_RealRatio runs the demo against a Ratio without sandbox hooks:
// it asks for the phone, the email and each code at the terminal.
func TestDemo_RealRatio(t *testing.T) {
	t.Parallel()
	h := sandbox.NewHandler(sandbox.Config{ClientID: "app", ClientSecret: "s3cret", Rand: zeros{}})
	const phone, email = "+12025550199", "real.person@example.com"
	if _, err := h.SeedUser(sandbox.UserSeed{PhoneNumber: phone, EmailAddress: email}); err != nil {
		t.Fatal(err)
	}
	ratioOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ratioOnly.Close)
	env := map[string]string{"RATIO_BASE_URL": ratioOnly.URL, "RATIO_CLIENT_ID": "app", "RATIO_CLIENT_SECRET": "s3cret",
		"RATIOFLOW_STORE": "memory:"}
	r := runCmdIn(t, context.Background(), env, phone+"\n"+email+"\n000000\n000000\n", "demo")
	if r.code != 0 {
		t.Fatalf("demo against Ratio: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Your phone number", "Your email address", "Enter the code sent to " + phone, "Enter the code sent to " + email} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks the prompt %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "Ratio at "+ratioOnly.URL) || !strings.Contains(r.stdout, "Linked in ") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	// Match the answer, not the digits: random wallet addresses and flow
	// IDs contain "429" now and then.
	if strings.Contains(r.stdout, "429 TOO_MANY_REQUESTS") || strings.Contains(r.stdout, "rate_limited") {
		t.Errorf("the demo forced a 429 on Ratio itself:\n%s", r.stdout)
	}
}

// TestDemo_KeyFileNextToSQLite checks that the demo keeps its seal key in
// a private file next to its SQLite store, and that a second run uses it.
func TestDemo_KeyFileNextToSQLite(t *testing.T) {
	t.Parallel()
	st := sqliteStore(t)
	env := map[string]string{"RATIOFLOW_STORE": st}
	var first, second flow.View
	lastJSON(t, mustRun(t, env, "demo", "--flow", "signup", "--json"), &first)
	key, err := os.Stat(sqlitePath(st) + ".key")
	if err != nil {
		t.Fatalf("no key file next to the store: %v", err)
	}
	if key.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", key.Mode().Perm())
	}
	lastJSON(t, mustRun(t, env, "demo", "--flow", "signin", "--json"), &second)
	out := mustRun(t, env, "flows", "show", first.ID)
	if !strings.Contains(out, "view: UserCreated") {
		t.Errorf("flows show of the first demo's flow does not open its view:\n%s", out)
	}
	if first.State != states.UserCreated || second.State != states.SignedIn {
		t.Errorf("demos ended in %s and %s", first.State, second.State)
	}
}

func TestBenchPersona(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for set := range 2 {
		for i := range 500 {
			p := benchPersona(7, set, i)
			if err := checkPersona(p); err != nil {
				t.Fatalf("persona %d/%d: %v", set, i, err)
			}
			for _, k := range []string{p.Phone, p.Email, p.Wallet()} {
				if seen[k] {
					t.Fatalf("persona %d/%d reuses %s", set, i, k)
				}
				seen[k] = true
			}
		}
	}
	if a, b := benchPersona(7, 0, 3), benchPersona(7, 0, 3); a.Wallet() != b.Wallet() || a.Phone != b.Phone {
		t.Errorf("personas are not derived from the seed and the index")
	}
	if _, err := ratio.NormalizePhone(phone(phoneSpace - 1)); err != nil {
		t.Errorf("the last number of the space: %v", err)
	}
}

// TestDemo_InterruptedAtAPrompt checks that the end of the context (Ctrl-C)
// ends a demo waiting for the person at the terminal.
func TestDemo_InterruptedAtAPrompt(t *testing.T) {
	t.Parallel()
	ratioOnly := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(ratioOnly.Close)
	env := map[string]string{"RATIO_CLIENT_ID": "app", "RATIO_CLIENT_SECRET": "s3cret"}
	stdin, w := io.Pipe() // nobody types
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background()) // as signal.NotifyContext does on SIGINT
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	var out, errb strings.Builder
	err := run(ctx, []string{"demo", "--store", "memory:", "--ratio", ratioOnly.URL}, func(k string) string { return env[k] }, stdin, &out, &errb)
	if err == nil || errorLine(err) != "error: interrupted" {
		t.Errorf("run = %v, want interrupted", err)
	}
	if !strings.Contains(errb.String(), "Your phone number") {
		t.Errorf("stderr lacks the prompt:\n%s", errb.String())
	}
}
