package flowui_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowui"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// fakeSandbox records what the hooks asked of it.
type fakeSandbox struct {
	limited ratio.Op
	after   time.Duration
}

func (*fakeSandbox) SeedUser(seed sandbox.UserSeed) (ratio.User, error) {
	return ratio.User{Phone: seed.PhoneNumber}, nil
}
func (*fakeSandbox) LastOTP(to string) (string, bool) { return "123456", to == "+12025550123" }
func (f *fakeSandbox) ForceRateLimit(op ratio.Op, n int, d time.Duration) {
	f.limited, f.after = op, d
}

func do(t *testing.T, h http.Handler, method, path, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPage_WithoutSandboxHasNoHooks(t *testing.T) {
	h, err := flowui.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := do(t, h, "GET", "/ui/", ""); w.Code != 200 || !strings.Contains(w.Body.String(), "app.js") {
		t.Errorf("GET /ui/: %d %q", w.Code, w.Body.String())
	}
	if w := do(t, h, "GET", "/ui", ""); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/ui/" {
		t.Errorf("GET /ui: %d to %q, want a redirect to /ui/", w.Code, w.Header().Get("Location"))
	}
	for _, p := range []string{"/ui/dev/session", "/ui/dev/otp?to=x"} {
		if w := do(t, h, "GET", p, ""); w.Code != http.StatusNotFound {
			t.Errorf("GET %s without a sandbox: %d, want 404", p, w.Code)
		}
	}
	proxy := flowhttp.HeaderSubject("X-Ratioflow-Subject")
	r := httptest.NewRequest("GET", "/v1/flows", nil)
	r.Header.Set("X-Ratioflow-Subject", "user-1")
	if s, err := h.Subject(proxy)(r); s != "user-1" || err != nil {
		t.Errorf("the subject without a sandbox: %q, %v; want the proxy's", s, err)
	}
}

func TestDevHooks(t *testing.T) {
	sb := &fakeSandbox{}
	h, err := flowui.New(sb)
	if err != nil {
		t.Fatal(err)
	}
	if w := do(t, h, "POST", "/ui/dev/sign", `{"message":"hi"}`); w.Code != http.StatusUnauthorized {
		t.Errorf("sign without the cookie: %d, want 401", w.Code)
	}
	w := do(t, h, "GET", "/ui/dev/session", "")
	cookies := w.Result().Cookies()
	var s struct{ Subject, WalletAddress string }
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].Value != s.Subject {
		t.Fatalf("session: %d %s, cookies %v", w.Code, w.Body, cookies)
	}
	r := httptest.NewRequest("GET", "/v1/flows", nil)
	r.AddCookie(cookies[0])
	r.Header.Set("X-Ratioflow-Subject", "someone-else")
	if got, err := h.Subject(flowhttp.HeaderSubject("X-Ratioflow-Subject"))(r); got != s.Subject || err != nil {
		t.Errorf("the subject in development mode: %q, %v; want the cookie's %q", got, err, s.Subject)
	}
	w = do(t, h, "POST", "/ui/dev/sign", `{"message":"challenge"}`, cookies[0])
	var sig struct{ Signature, WalletAddress string }
	if err := json.Unmarshal(w.Body.Bytes(), &sig); err != nil || w.Code != 200 {
		t.Fatalf("sign: %d %s", w.Code, w.Body)
	}
	addr, err := ratio.RecoverAddress("challenge", sig.Signature)
	if err != nil || !strings.EqualFold(addr.Hex(), s.WalletAddress) {
		t.Errorf("the signature recovers %v (%v), want the session's wallet %s", addr, err, s.WalletAddress)
	}
	if w := do(t, h, "GET", "/ui/dev/otp?to=%2B12025550123", "", cookies[0]); w.Code != 200 || !strings.Contains(w.Body.String(), "123456") {
		t.Errorf("otp: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "GET", "/ui/dev/otp?to=nobody", "", cookies[0]); w.Code != http.StatusNotFound {
		t.Errorf("otp of nobody: %d, want 404", w.Code)
	}
	for body, want := range map[string]string{
		`{"op":"nope","count":1,"retryAfterSeconds":3}`:         "op:",
		`{"op":"otp/sms:send","count":0,"retryAfterSeconds":3}`: "count:",
		`{"op":"otp/sms:send","count":1,"retryAfterSeconds":0}`: "retryAfterSeconds:",
		`{"op":"otp/sms:send","extra":1}`:                       "not the expected JSON",
	} {
		if w := do(t, h, "POST", "/ui/dev/ratelimit", body, cookies[0]); w.Code != 400 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("ratelimit %s: %d %s, want 400 naming %q", body, w.Code, w.Body, want)
		}
	}
	if sb.limited != "" {
		t.Errorf("a refused rate limit reached the sandbox: %s", sb.limited)
	}
	if w := do(t, h, "POST", "/ui/dev/ratelimit", `{"op":"otp/sms:send","count":1,"retryAfterSeconds":3}`, cookies[0]); w.Code != 200 || sb.limited != "otp/sms:send" || sb.after != 3*time.Second {
		t.Errorf("ratelimit: %d %s; the sandbox got %s %s", w.Code, w.Body, sb.limited, sb.after)
	}
}
