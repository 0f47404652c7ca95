package flowhttp_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/internal/openapicheck"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the declared flows")

// docPath is the committed copy of the document.
var docPath = filepath.Join("..", "..", "docs", "openapi.json")

// TestOpenAPI_DocsUpToDate fails when docs/openapi.json differs from the
// document the handler serves, and says how to regenerate it.
func TestOpenAPI_DocsUpToDate(t *testing.T) {
	doc := flowhttp.OpenAPI()
	if *update {
		if err := os.WriteFile(docPath, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v: regenerate it with: go test ./flow/flowhttp -run TestOpenAPI_DocsUpToDate -update", err)
	}
	if !bytes.Equal(committed, doc) {
		t.Fatal("docs/openapi.json is stale: regenerate it with: go test ./flow/flowhttp -run TestOpenAPI_DocsUpToDate -update")
	}
}

// TestOpenAPI_ServedAndValid: GET /openapi.json answers the document, and
// kin-openapi finds it valid, examples and formats included.
func TestOpenAPI_ServedAndValid(t *testing.T) {
	c := newChecked(t)
	got := c.do("GET", "/openapi.json", nil)
	if got.Status != http.StatusOK || got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json = %d %s", got.Status, got.Header.Get("Content-Type"))
	}
	if !bytes.Equal(got.Body, flowhttp.OpenAPI()) {
		t.Error("GET /openapi.json differs from flowhttp.OpenAPI()")
	}
	doc := openapicheck.Load(t, got.Body)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
}

// TestOpenAPI_NoOpenAPILibraryInTheProduct: the document is built with
// encoding/json; kin-openapi, which checks it, is for tests only, and the
// command does not link it.
func TestOpenAPI_NoOpenAPILibraryInTheProduct(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "list", "-deps", "github.com/ratioflow/ratioflow/cmd/ratioflow").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "kin-openapi") || strings.HasSuffix(pkg, "/internal/openapi") {
			t.Errorf("cmd/ratioflow links %s", pkg)
		}
	}
	if !strings.Contains(string(out), "github.com/ratioflow/ratioflow/flow/flowhttp\n") {
		t.Errorf("go list -deps does not list flowhttp: %s", out)
	}
}

// step is one event of a run: the body it sends given the view, and the
// state it must reach.
type step struct {
	event string
	body  func(v flow.View) any
	want  states.State
}

// run starts a flow with start and walks steps, every exchange checked
// against the document, and returns the last view.
func (c *checked) run(start map[string]any, steps []step) flow.View {
	c.t.Helper()
	created := c.do("POST", "/v1/flows", start)
	if created.Status != http.StatusCreated {
		c.t.Fatalf("start %v: %d %s", start["kind"], created.Status, created.Body)
	}
	var v flow.View
	created.Decode(c.t, &v)
	if len(steps) == 0 {
		return v
	}
	return c.walk(v.ID, steps)
}

func otpOf(c *checked, to string) func(flow.View) any {
	return func(flow.View) any { return map[string]string{"otp": c.h.OTP(to).Reveal()} }
}

func signedBy(c *checked, w *flowtest.Wallet) func(flow.View) any {
	return func(v flow.View) any { return map[string]string{"signature": w.Sign(c.t, v.Challenge)} }
}

func fields(k, v string) func(flow.View) any {
	return func(flow.View) any { return map[string]string{k: v} }
}

// TestOpenAPI_FullRunsConform runs each of the four flows to its end over
// HTTP, with the answers a frontend meets on the way (a wrong code, an
// event not permitted, a replayed Idempotency-Key, a list, a cancel, Ratio
// failing an automatic step that the frontend then sends again), and
// checks every request and answer against the document.
func TestOpenAPI_FullRunsConform(t *testing.T) {
	c := newChecked(t)
	c.runLink()
	c.runFactorsFirst()
	c.runSignIn()
	c.runSignUp()

	list := c.do("GET", "/v1/flows?running=false&kind=link&limit=5", nil)
	var page flow.Page
	list.Decode(t, &page)
	if list.Status != http.StatusOK || len(page.Flows) == 0 {
		t.Errorf("list: %d %s", list.Status, list.Body)
	}
	if bad := c.refused("GET", "/v1/flows?limit=500", nil); bad.Status != http.StatusUnprocessableEntity {
		t.Errorf("list with limit=500: %d %s", bad.Status, bad.Body)
	}
	if missing := c.do("GET", "/v1/flows/00112233445566778899aabbccddeeff", nil); missing.Status != http.StatusNotFound {
		t.Errorf("GET of an unknown flow: %d %s", missing.Status, missing.Body)
	}
	// Every operation a frontend drives by hand was answered, and checked.
	for _, op := range c.Operations("/v1/flows") {
		if isAutoOperation(c, op) {
			continue
		}
		if !c.Saw(op, http.StatusOK) && !c.Saw(op, http.StatusCreated) {
			t.Errorf("operation %s was never answered with success", op)
		}
	}
	for _, want := range []struct {
		op     string
		status int
	}{{"eventSubmitOtp", 422}, {"eventSubmitEmail", 409}, {"eventSubmitOtp", 502}, {"eventCreateUser", 200},
		{"listFlows", 422}, {"getFlow", 404}, {"cancelFlow", 409}, {"startFlow", 422}} {
		if !c.Saw(want.op, want.status) {
			t.Errorf("no %d answer of %s was checked", want.status, want.op)
		}
	}
}

// isAutoOperation reports whether the operation sends an automatic step,
// which a frontend sends only to retry one that failed.
func isAutoOperation(c *checked, operationID string) bool {
	for _, item := range c.Doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID == operationID {
				return bytes.Contains([]byte(op.Description), []byte("An automatic step"))
			}
		}
	}
	return false
}

// runLink: the seed's story (409, SMS first, email, linked), with a wrong
// code, an event not permitted, a resend after the cooldown, a fresh
// challenge and a replayed Idempotency-Key; then a second flow canceled
// twice over (the event, then DELETE on the ended flow).
func (c *checked) runLink() {
	w, p := flowtest.NewWallet(c.t), flowtest.NewPerson()
	c.h.SeedUser(p)
	v := c.run(map[string]any{"kind": "link", "walletAddress": w.Address}, []step{
		{event: "new_challenge", want: states.ChallengeIssued},
		{event: "sign", body: signedBy(c, w), want: states.WalletAuthed},
		{event: "submit_phone", body: fields("phoneNumber", p.Phone), want: states.PhoneConflict},
		{event: "confirm_phone", body: func(flow.View) any { return map[string]any{} }, want: states.SmsFirstSent},
	})
	path := "/v1/flows/" + v.ID + "/events/"
	if wrong := c.do("POST", path+"submit_otp", map[string]string{"otp": c.h.WrongOTP(p.Phone).Reveal()}); wrong.Status != 422 {
		c.t.Fatalf("a wrong code: %d %s", wrong.Status, wrong.Body)
	}
	if early := c.do("POST", path+"submit_email", map[string]string{"emailAddress": p.Email}); early.Status != 409 {
		c.t.Fatalf("submit_email before the SMS code: %d %s", early.Status, early.Body)
	}
	c.h.Clock.Advance(time.Minute)
	if resent := c.do("POST", path+"resend_otp", nil); resent.Status != http.StatusOK {
		c.t.Fatalf("resend_otp: %d %s", resent.Status, resent.Body)
	}
	c.walk(v.ID, []step{
		{event: "submit_otp", body: otpOf(c, p.Phone), want: states.SmsVerified},
	})
	email := map[string]string{"emailAddress": p.Email}
	first := c.do("POST", path+"submit_email", email, "Idempotency-Key", "email-1")
	again := c.do("POST", path+"submit_email", email, "Idempotency-Key", "email-1")
	if first.Status != http.StatusOK || again.Header.Get("Idempotent-Replayed") != "true" {
		c.t.Fatalf("a replayed submit_email: %d, then %d %v", first.Status, again.Status, again.Header)
	}
	if end := c.walk(v.ID, []step{{event: "submit_otp", body: otpOf(c, p.Email), want: states.Linked}}); !end.Terminal {
		c.t.Fatalf("Linked is not terminal: %+v", end)
	}
	if got := c.do("GET", "/v1/flows/"+v.ID, nil); got.Status != http.StatusOK {
		c.t.Fatalf("GET: %d %s", got.Status, got.Body)
	}
	other := c.run(map[string]any{"kind": "link", "walletAddress": flowtest.NewWallet(c.t).Address},
		[]step{{event: "cancel", want: states.Canceled}})
	if again := c.do("DELETE", "/v1/flows/"+other.ID, nil); again.Status != http.StatusConflict {
		c.t.Fatalf("DELETE of an ended flow: %d %s", again.Status, again.Body)
	}
	live := c.run(map[string]any{"kind": "link", "walletAddress": flowtest.NewWallet(c.t).Address}, nil)
	if del := c.do("DELETE", "/v1/flows/"+live.ID, nil); del.Status != http.StatusOK {
		c.t.Fatalf("DELETE: %d %s", del.Status, del.Body)
	}
}

// walk sends steps to a running flow and returns its last view.
func (c *checked) walk(id string, steps []step) flow.View {
	c.t.Helper()
	var v flow.View
	c.do("GET", "/v1/flows/"+id, nil).Decode(c.t, &v)
	for _, s := range steps {
		var body any
		if s.body != nil {
			body = s.body(v)
		}
		ans := c.do("POST", "/v1/flows/"+id+"/events/"+s.event, body)
		if ans.Status != http.StatusOK {
			c.t.Fatalf("%s in %s: %d %s", s.event, v.State, ans.Status, ans.Body)
		}
		ans.Decode(c.t, &v)
		if v.State != s.want {
			c.t.Fatalf("%s: state %s, want %s", s.event, v.State, s.want)
		}
	}
	return v
}

func (c *checked) runFactorsFirst() {
	w, p := flowtest.NewWallet(c.t), flowtest.NewPerson()
	c.h.SeedUser(p)
	c.run(map[string]any{"kind": "link-factors-first", "walletAddress": w.Address}, []step{
		{event: "submit_phone", body: fields("phoneNumber", p.Phone), want: states.SmsFirstSent},
		{event: "submit_otp", body: otpOf(c, p.Phone), want: states.SmsVerified},
		{event: "submit_email", body: fields("emailAddress", p.Email), want: states.EmailSent},
		{event: "submit_otp", body: otpOf(c, p.Email), want: states.ChallengeIssued},
		{event: "sign", body: signedBy(c, w), want: states.Linked},
	})
}

func (c *checked) runSignIn() {
	w, p := flowtest.NewWallet(c.t), flowtest.NewPerson()
	c.h.SeedUser(p, w)
	v := c.run(map[string]any{"kind": "signin", "walletAddress": w.Address}, []step{
		{event: "sign", body: signedBy(c, w), want: states.WalletAuthed},
		{event: "submit_phone", body: fields("phoneNumber", p.Phone), want: states.SmsSent},
		{event: "submit_otp", body: otpOf(c, p.Phone), want: states.SignedIn},
	})
	if v.User == nil || len(v.Wallets) == 0 {
		c.t.Errorf("signed in without a user or wallets: %+v", v)
	}
	unknown := flowtest.NewWallet(c.t)
	v = c.run(map[string]any{"kind": "signin", "walletAddress": unknown.Address}, []step{
		{event: "sign", body: signedBy(c, unknown), want: states.UnknownWallet},
	})
	if v.NextFlow != "link" {
		c.t.Errorf("an unknown wallet's sign-in: nextFlow %q, want link", v.NextFlow)
	}
}

func (c *checked) runSignUp() {
	w, p := flowtest.NewWallet(c.t), flowtest.NewPerson()
	v := c.run(map[string]any{"kind": "signup", "walletAddress": w.Address, "firstName": p.FirstName,
		"middleName": "Byron", "lastName": p.LastName, "emailAddress": p.Email, "country": p.Country,
		"phoneNumber": p.Phone, "acceptedTerms": true}, []step{
		{event: "sign", body: signedBy(c, w), want: states.SmsSent},
		{event: "submit_otp", body: otpOf(c, p.Phone), want: states.UserCreated},
	})
	if v.User == nil {
		c.t.Errorf("signed up without a user: %+v", v)
	}
	c.retryCreateUser()
	if bad := c.refused("POST", "/v1/flows", fmt.Sprintf(`{"kind":"signup","walletAddress":%q}`, w.Address)); bad.Status != 422 {
		c.t.Errorf("signup without its fields: %d %s", bad.Status, bad.Body)
	}
}

// retryCreateUser: Ratio fails the automatic create_user; the frontend
// sends it again, as the view's next offers.
func (c *checked) retryCreateUser() {
	w, p := flowtest.NewWallet(c.t), flowtest.NewPerson()
	v := c.run(map[string]any{"kind": "signup", "walletAddress": w.Address, "firstName": p.FirstName,
		"lastName": p.LastName, "emailAddress": p.Email, "country": p.Country, "phoneNumber": p.Phone,
		"acceptedTerms": true}, []step{{event: "sign", body: signedBy(c, w), want: states.SmsSent}})
	c.h.Sandbox.FailNext(ratio.OpCreateUser, 100, http.StatusServiceUnavailable)
	failed := c.do("POST", "/v1/flows/"+v.ID+"/events/submit_otp", map[string]string{"otp": c.h.OTP(p.Phone).Reveal()})
	var prob struct{ Flow flow.View }
	failed.Decode(c.t, &prob)
	if failed.Status != http.StatusBadGateway || len(prob.Flow.Next) == 0 || prob.Flow.Next[0].Event != "create_user" {
		c.t.Fatalf("submit_otp with users:create failing: %d %s", failed.Status, failed.Body)
	}
	c.h.Sandbox.FailNext(ratio.OpCreateUser, 0, 0)
	c.walk(v.ID, []step{{event: "create_user", body: nil, want: states.UserCreated}})
}
