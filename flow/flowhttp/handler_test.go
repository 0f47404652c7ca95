package flowhttp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
)

const subjectHeader = "X-Ratioflow-Subject"

// api is a frontend talking to the flow API over real HTTP.
type api struct {
	t       *testing.T
	h       *flowtest.Harness
	url     string
	subject string
}

func newAPI(t *testing.T) *api {
	h := flowtest.New(t)
	srv := httptest.NewServer(flowhttp.New(h.Engine, flowhttp.HeaderSubject(subjectHeader)))
	t.Cleanup(srv.Close)
	return &api{t: t, h: h, url: srv.URL, subject: "user-1"}
}

// answer is a decoded response: the view or the problem document.
type answer struct {
	status int
	header http.Header
	view   flow.View
	prob   map[string]any
	raw    string
}

func (a *api) do(method, path, body string, headers ...string) answer {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if a.subject != "" {
		req.Header.Set(subjectHeader, a.subject)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ans := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		_ = json.Unmarshal(raw, &ans.prob)
	} else {
		_ = json.Unmarshal(raw, &ans.view)
	}
	return ans
}

func (a *api) want(ans answer, status int, code string) {
	a.t.Helper()
	if ans.status != status {
		a.t.Fatalf("status %d, want %d: %s", ans.status, status, ans.raw)
	}
	if code != "" && ans.prob["code"] != code {
		a.t.Fatalf("problem code %v, want %s: %s", ans.prob["code"], code, ans.raw)
	}
	if code != "" && ans.header.Get("Content-Type") != "application/problem+json" {
		a.t.Errorf("problem Content-Type %q, want application/problem+json", ans.header.Get("Content-Type"))
	}
}

func TestAPI_LinkFlowEndToEnd(t *testing.T) {
	a := newAPI(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	a.h.SeedUser(p)

	created := a.do("POST", "/v1/flows", fmt.Sprintf(`{"kind":"link","walletAddress":%q}`, w.Address))
	a.want(created, http.StatusCreated, "")
	v := created.view
	if created.header.Get("Location") != "/v1/flows/"+v.ID || v.State != states.ChallengeIssued || v.Challenge == "" ||
		v.Kind != "link" || v.Version == 0 || v.ExpiresAt.IsZero() || len(v.Next) == 0 {
		t.Fatalf("create answered %s", created.raw)
	}
	// A real key signs the challenge, as the user's wallet would.
	sig := w.Sign(t, v.Challenge)
	steps := []struct {
		event, body string
		want        states.State
	}{
		{"sign", fmt.Sprintf(`{"signature":%q}`, sig), states.WalletAuthed},
		{"submit_phone", fmt.Sprintf(`{"phoneNumber":%q}`, p.Phone), states.PhoneConflict},
		{"confirm_phone", `{}`, states.SmsFirstSent},
		{"submit_otp", "", states.SmsVerified},
		{"submit_email", fmt.Sprintf(`{"emailAddress":%q}`, p.Email), states.EmailSent},
		{"submit_otp", "", states.Linked},
	}
	for _, s := range steps {
		body := s.body
		if s.event == "submit_otp" {
			to := p.Phone
			if v.State == states.EmailSent {
				to = p.Email
			}
			body = fmt.Sprintf(`{"otp":%q}`, a.h.OTP(to).Reveal())
		}
		ans := a.do("POST", "/v1/flows/"+v.ID+"/events/"+s.event, body)
		a.want(ans, http.StatusOK, "")
		if ans.view.State != s.want {
			t.Fatalf("%s: state %s, want %s: %s", s.event, ans.view.State, s.want, ans.raw)
		}
		if strings.Contains(ans.raw, "eyJ") || strings.Contains(ans.raw, `"jwt"`) {
			t.Fatalf("%s: the answer holds a JWT: %s", s.event, ans.raw)
		}
		v = ans.view
	}
	got := a.do("GET", "/v1/flows/"+v.ID, "")
	a.want(got, http.StatusOK, "")
	if got.view.State != states.Linked || !got.view.Terminal {
		t.Errorf("GET after the flow: %s", got.raw)
	}
	if n := a.h.Sandbox.Stats().AddToUser[w.Address]; n != 1 {
		t.Errorf("addToUser applied %d times, want 1", n)
	}
}

func TestAPI_Errors(t *testing.T) {
	a := newAPI(t)
	w, other, p := flowtest.NewWallet(t), flowtest.NewWallet(t), flowtest.NewPerson()
	a.h.SeedUser(p)
	v := a.do("POST", "/v1/flows", fmt.Sprintf(`{"kind":"link","walletAddress":%q}`, w.Address)).view
	flowPath := "/v1/flows/" + v.ID

	tests := []struct {
		name, method, path, body string
		subject                  string
		status                   int
		code, field              string
	}{
		{"no subject", "GET", flowPath, "", "-", 401, "unauthenticated", ""},
		{"another subject's flow", "GET", flowPath, "", "user-2", 404, "not_found", ""},
		{"unknown flow", "GET", "/v1/flows/00112233445566778899aabbccddeeff", "", "", 404, "not_found", ""},
		{"unknown kind", "POST", "/v1/flows", `{"kind":"pay"}`, "", 422, "invalid_input", "kind"},
		{"missing kind", "POST", "/v1/flows", `{}`, "", 422, "invalid_input", "kind"},
		{"unknown field", "POST", "/v1/flows", `{"kind":"link","wallet":"0x"}`, "", 400, "invalid_json", "wallet"},
		{"wrong type", "POST", "/v1/flows", `{"kind":"signup","acceptedTerms":"yes"}`, "", 400, "invalid_json", "acceptedTerms"},
		{"not JSON", "POST", "/v1/flows", `{"kind":`, "", 400, "invalid_json", "kind"},
		{"bad checksum", "POST", "/v1/flows", `{"kind":"link","walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}`, "", 422, "invalid_input", "walletAddress"},
		{"event not permitted", "POST", flowPath + "/events/submit_otp", `{"otp":"123456"}`, "", 409, "not_permitted", ""},
		{"bad signature", "POST", flowPath + "/events/sign", `{"signature":"0x1234"}`, "", 422, "invalid_input", "signature"},
		{"signed by another key", "POST", flowPath + "/events/sign", fmt.Sprintf(`{"signature":%q}`, other.Sign(t, v.Challenge)),
			"", 422, "invalid_input", "signature"},
		{"no route", "GET", "/v2/flows", "", "", 404, "no_route", ""},
		{"body too large", "POST", "/v1/flows", `{"kind":"link","walletAddress":"` + strings.Repeat(" ", 64<<10) + `"}`,
			"", 413, "body_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.subject = map[string]string{"": "user-1", "-": ""}[tt.subject]
			if a.subject == "" && tt.subject != "-" {
				a.subject = tt.subject
			}
			ans := a.do(tt.method, tt.path, tt.body)
			a.want(ans, tt.status, tt.code)
			if ans.prob["field"] != nil && ans.prob["field"] != tt.field || (tt.field != "" && ans.prob["field"] != tt.field) {
				t.Errorf("field %v, want %q: %s", ans.prob["field"], tt.field, ans.raw)
			}
			if ans.prob["type"] == nil || ans.prob["title"] == nil || ans.prob["status"] != float64(tt.status) {
				t.Errorf("not an RFC 9457 document: %s", ans.raw)
			}
		})
	}
}

// TestAPI_BodyUnreadable: a body that stops half way (the client went
// away, or the server's read timeout passed) is a 400 that does nothing,
// not a body too large.
func TestAPI_BodyUnreadable(t *testing.T) {
	h := flowtest.New(t)
	api := flowhttp.New(h.Engine, flowhttp.HeaderSubject(subjectHeader))
	body := io.MultiReader(strings.NewReader(`{"kind":"link","walletAddress":"0x5aAeb6053F`), iotest.ErrReader(io.ErrUnexpectedEOF))
	req := httptest.NewRequest("POST", "/v1/flows", body)
	req.Header.Set(subjectHeader, "user-1")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"code":"body_unreadable"`) {
		t.Errorf("a body cut short: %d %s, want 400 body_unreadable", rec.Code, rec.Body)
	}
	if p, err := h.Engine.List(t.Context(), "user-1", flow.ListQuery{}); err != nil || len(p.Flows) != 0 {
		t.Errorf("a body cut short started %v (%v), want no flow", p, err)
	}
}

// toConflict drives a link flow to PhoneConflict and returns its path.
func toConflict(a *api) (string, *flowtest.Wallet, flowtest.Person) {
	a.t.Helper()
	w, p := flowtest.NewWallet(a.t), flowtest.NewPerson()
	a.h.SeedUser(p)
	v := a.do("POST", "/v1/flows", fmt.Sprintf(`{"kind":"link","walletAddress":%q}`, w.Address)).view
	path := "/v1/flows/" + v.ID
	a.want(a.do("POST", path+"/events/sign", fmt.Sprintf(`{"signature":%q}`, w.Sign(a.t, v.Challenge))), 200, "")
	a.want(a.do("POST", path+"/events/submit_phone", fmt.Sprintf(`{"phoneNumber":%q}`, p.Phone)), 200, "")
	return path, w, p
}

func TestAPI_RatioFailures(t *testing.T) {
	a := newAPI(t)
	path, _, p := toConflict(a)

	a.h.Sandbox.ForceRateLimit(ratio.OpSendSMS, 1, 20*time.Second)
	ans := a.do("POST", path+"/events/confirm_phone", `{}`)
	a.want(ans, http.StatusTooManyRequests, "rate_limited")
	if ra := ans.header.Get("Retry-After"); ra != "20" {
		t.Errorf("Retry-After %q, want 20 (passed through from Ratio)", ra)
	}
	if flowView := ans.prob["flow"].(map[string]any); flowView["state"] != "PhoneConflict" {
		t.Errorf("the problem's flow view: %v", flowView)
	}
	a.want(a.do("POST", path+"/events/confirm_phone", `{}`), http.StatusTooManyRequests, "too_early")
	a.h.Clock.Advance(20 * time.Second)

	a.h.Sandbox.FailNext(ratio.OpSendSMS, 1, http.StatusServiceUnavailable)
	a.want(a.do("POST", path+"/events/confirm_phone", `{}`), http.StatusBadGateway, "ratio_failed")
	a.h.Clock.Advance(30 * time.Second) // the failed send may still arrive: cooldown
	a.want(a.do("POST", path+"/events/confirm_phone", `{}`), http.StatusOK, "")

	ans = a.do("POST", path+"/events/submit_otp", fmt.Sprintf(`{"otp":%q}`, a.h.WrongOTP(p.Phone).Reveal()))
	a.want(ans, http.StatusUnprocessableEntity, "invalid_otp")
	if ans.prob["attemptsLeft"] != float64(2) || ans.prob["field"] != "otp" {
		t.Errorf("wrong code: %s", ans.raw)
	}

	a.want(a.do("DELETE", path, ""), http.StatusOK, "")
	a.want(a.do("DELETE", path, ""), http.StatusConflict, "ended")
}

func TestAPI_Expired(t *testing.T) {
	a := newAPI(t)
	path, _, _ := toConflict(a)
	a.h.Clock.Advance(10 * time.Minute)
	a.want(a.do("POST", path+"/events/confirm_phone", `{}`), http.StatusGone, "expired")
	ans := a.do("GET", path, "")
	a.want(ans, http.StatusOK, "")
	if ans.view.State != states.Expired {
		t.Errorf("GET of an expired flow: %s", ans.raw)
	}
}

func TestAPI_IdempotencyKey(t *testing.T) {
	a := newAPI(t)
	path, _, _ := toConflict(a)
	sends := func() int { return a.h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()] }
	before := sends()
	first := a.do("POST", path+"/events/confirm_phone", `{}`, "Idempotency-Key", "k1")
	a.want(first, http.StatusOK, "")
	again := a.do("POST", path+"/events/confirm_phone", `{}`, "Idempotency-Key", "k1")
	a.want(again, http.StatusOK, "")
	if again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %s (replayed %q), want the first answer %s", again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
	}
	if got := sends() - before; got != 1 {
		t.Errorf("sms:send calls for two requests with one key = %d, want 1", got)
	}
	a.want(a.do("POST", path+"/events/confirm_phone", `{"otp":"123456"}`, "Idempotency-Key", "k1"),
		http.StatusUnprocessableEntity, "idempotency_key_reused")
	// The same key from another subject is another key.
	a.subject = "user-2"
	a.want(a.do("POST", path+"/events/confirm_phone", `{}`, "Idempotency-Key", "k1"), http.StatusNotFound, "not_found")
}

func TestAPI_ConcurrentRequestsOneStep(t *testing.T) {
	a := newAPI(t)
	path, _, _ := toConflict(a)
	a.h.Sandbox.SetLatency(ratio.OpSendSMS, 50*time.Millisecond)
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	codes := make([]any, 6)
	for i := range statuses {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", a.url+path+"/events/confirm_phone", bytes.NewReader([]byte(`{}`)))
			req.Header.Set(subjectHeader, a.subject)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var prob map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&prob)
			statuses[i], codes[i] = resp.StatusCode, prob["code"]
		})
	}
	wg.Wait()
	ok := 0
	for i, s := range statuses {
		switch {
		case s == http.StatusOK:
			ok++
		case s == http.StatusConflict && (codes[i] == "concurrent_step" || codes[i] == "not_permitted"):
		default:
			t.Errorf("request %d: %d %v", i, s, codes[i])
		}
	}
	if ok != 1 {
		t.Errorf("%d requests applied the step, want 1 (statuses %v)", ok, statuses)
	}
}

// TestAPI_List: GET /v1/flows answers the caller's own flows, a page at a
// time, so that a frontend reopened after the app closed finds the flow
// its user left half way; its parameters are checked strictly.
func TestAPI_List(t *testing.T) {
	a := newAPI(t)
	start := func(subject string) flow.View {
		t.Helper()
		a.h.Clock.Advance(time.Second)
		a.subject = subject
		ans := a.do("POST", "/v1/flows", fmt.Sprintf(`{"kind":"link","walletAddress":%q}`, flowtest.NewWallet(t).Address))
		a.want(ans, http.StatusCreated, "")
		return ans.view
	}
	first, second := start("user-1"), start("user-1")
	start("user-2")
	a.subject = "user-1"
	a.want(a.do("DELETE", "/v1/flows/"+first.ID, ""), http.StatusOK, "")

	list := func(query string) (flow.Page, answer) {
		t.Helper()
		ans := a.do("GET", "/v1/flows"+query, "")
		var p flow.Page
		if ans.status == http.StatusOK {
			if err := json.Unmarshal([]byte(ans.raw), &p); err != nil {
				t.Fatalf("GET /v1/flows%s: %v: %s", query, err, ans.raw)
			}
		}
		return p, ans
	}
	ids := func(p flow.Page) []string {
		var got []string
		for _, v := range p.Flows {
			got = append(got, v.ID+" "+string(v.State))
		}
		return got
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{first.ID + " Canceled", second.ID + " ChallengeIssued"}},
		{"?running=true", []string{second.ID + " ChallengeIssued"}},
		{"?kind=link&running=false", []string{first.ID + " Canceled", second.ID + " ChallengeIssued"}},
		{"?kind=signin", nil},
	} {
		p, ans := list(tt.query)
		a.want(ans, http.StatusOK, "")
		if got := ids(p); fmt.Sprint(got) != fmt.Sprint(tt.want) || p.NextPageToken != "" {
			t.Errorf("GET /v1/flows%s = %v (next %q), want %v", tt.query, got, p.NextPageToken, tt.want)
		}
		if tt.query == "" && (!strings.Contains(ans.raw, `"flows":[`) || strings.Contains(ans.raw, "eyJ")) {
			t.Errorf("GET /v1/flows answered %s", ans.raw)
		}
	}
	if p, ans := list(""); ans.status == http.StatusOK && len(p.Flows) == 2 && p.Flows[1].Challenge != second.Challenge {
		t.Errorf("the listed view has challenge %q, want the flow's %q", p.Flows[1].Challenge, second.Challenge)
	}

	page1, ans := list("?limit=1")
	a.want(ans, http.StatusOK, "")
	if len(page1.Flows) != 1 || page1.NextPageToken == "" {
		t.Fatalf("a page of 1: %s", ans.raw)
	}
	page2, ans := list("?limit=1&pageToken=" + page1.NextPageToken)
	a.want(ans, http.StatusOK, "")
	if got := ids(page2); len(got) != 1 || got[0] != second.ID+" ChallengeIssued" {
		t.Errorf("the second page of 1 = %v, want %s", got, second.ID)
	}

	a.subject = "user-3"
	if p, ans := list(""); ans.status != http.StatusOK || len(p.Flows) != 0 || !strings.Contains(ans.raw, `"flows":[]`) {
		t.Errorf("a caller with no flow: %s, want an empty list", ans.raw)
	}
	a.subject = ""
	a.want(a.do("GET", "/v1/flows", ""), http.StatusUnauthorized, "unauthenticated")

	a.subject = "user-1"
	for _, tt := range []struct{ query, field string }{
		{"?kind=nope", "kind"},
		{"?running=maybe", "running"},
		{"?limit=0", "limit"},
		{"?limit=101", "limit"},
		{"?limit=ten", "limit"},
		{"?pageToken=garbage", "pageToken"},
		{"?running=true&running=false", "running"},
		{"?subject=user-2", "subject"},
	} {
		_, ans := list(tt.query)
		a.want(ans, http.StatusUnprocessableEntity, "invalid_input")
		if ans.prob["field"] != tt.field {
			t.Errorf("GET /v1/flows%s names field %v, want %s: %s", tt.query, ans.prob["field"], tt.field, ans.raw)
		}
	}
}
