package flowadmin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowadmin"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

var update = flag.Bool("update", false, "rewrite docs/admin-openapi.json")

const docPath = "../../docs/admin-openapi.json"

// TestOpenAPI_DocsUpToDate fails when docs/admin-openapi.json differs from
// the document the handler serves, and says how to regenerate it.
func TestOpenAPI_DocsUpToDate(t *testing.T) {
	doc := flowadmin.OpenAPI()
	if *update {
		if err := os.WriteFile(docPath, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v: regenerate it with: go test ./flow/flowadmin -run TestOpenAPI_DocsUpToDate -update", err)
	}
	if !bytes.Equal(committed, doc) {
		t.Fatal("docs/admin-openapi.json is stale: regenerate it with: go test ./flow/flowadmin -run TestOpenAPI_DocsUpToDate -update")
	}
}

// TestOpenAPI_ServedAndValid: the handler serves the document, which
// kin-openapi finds valid.
func TestOpenAPI_ServedAndValid(t *testing.T) {
	c := newChecked(t)
	got := c.do("GET", flowadmin.Prefix+"openapi.json")
	if got.Status != http.StatusOK || got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET openapi.json = %d %s", got.Status, got.Header.Get("Content-Type"))
	}
	if !bytes.Equal(got.Body, flowadmin.OpenAPI()) {
		t.Error("the served document differs from flowadmin.OpenAPI()")
	}
}

// story drives a returning user's link through the phone conflict (409)
// to the email code, with Ratio refusing the wallet's link for a while
// (429): the flow waits in EmailVerified for a resume.
func story(t *testing.T, h *flowtest.Harness) (id string, p flowtest.Person) {
	t.Helper()
	ctx := context.Background()
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)
	v, err := h.Engine.Start(ctx, transitions.KindLink, h.Subject, flow.Input{WalletAddress: w.Address})
	if err != nil {
		t.Fatal(err)
	}
	step := func(ev transitions.Event, in flow.Input, want states.State) {
		t.Helper()
		got, err := h.Engine.Step(ctx, v.ID, h.Subject, ev, in)
		if got == nil || got.State != want {
			t.Fatalf("Step(%s) = %v, %v; want %s", ev, got, err, want)
		}
		v = got
	}
	step(transitions.Sign, flow.Input{Signature: w.Sign(t, v.Challenge)}, states.WalletAuthed)
	step(transitions.SubmitPhone, flow.Input{PhoneNumber: p.Phone}, states.PhoneConflict)
	step(transitions.ConfirmPhone, flow.Input{}, states.SmsFirstSent)
	step(transitions.SubmitOTP, flow.Input{OTP: h.OTP(p.Phone)}, states.SmsVerified)
	step(transitions.SubmitEmail, flow.Input{EmailAddress: p.Email}, states.EmailSent)
	h.Sandbox.ForceRateLimit(ratio.OpAddWalletToUser, 1, 30*time.Second)
	step(transitions.SubmitOTP, flow.Input{OTP: h.OTP(p.Email)}, states.EmailVerified)
	return v.ID, p
}

func TestAdmin_FindReadResumeCancel(t *testing.T) {
	c := newChecked(t)
	id, p := story(t, c.h)
	c.h.Clock.Advance(time.Second) // the list is in creation order
	other, err := c.h.Engine.Start(context.Background(), transitions.KindSignIn, "someone-else",
		flow.Input{WalletAddress: flowtest.NewWallet(t).Address})
	if err != nil {
		t.Fatal(err)
	}

	// The list and its filters.
	listed := func(query string) []string {
		t.Helper()
		x := c.do("GET", flowadmin.Prefix+"v1/flows?"+query)
		if x.Status != http.StatusOK {
			t.Fatalf("list ?%s = %d %s", query, x.Status, x.Body)
		}
		var l flowadmin.List
		x.Decode(t, &l)
		var ids []string
		for _, r := range l.Flows {
			ids = append(ids, r.ID)
		}
		return ids
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{other.ID, id}}, // newest first
		{"order=newest", []string{other.ID, id}},
		{"order=oldest", []string{id, other.ID}},
		{"kind=link", []string{id}},
		{"state=EmailVerified&running=true", []string{id}},
		{"state=Linked", nil},
		{"subject=someone-else", []string{other.ID}},
		{"newerThan=1h", []string{other.ID, id}},
		{"olderThan=1h", nil},
		{"limit=1", []string{other.ID}},
		{"limit=1&order=oldest", []string{id}},
	} {
		if got := listed(tt.query); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("list ?%s = %v, want %v", tt.query, got, tt.want)
		}
	}
	// The next page, newest first; its token is refused in the other order.
	var first flowadmin.List
	c.do("GET", flowadmin.Prefix+"v1/flows?limit=1").Decode(t, &first)
	tok := url.QueryEscape(first.NextPageToken)
	if got := listed("limit=1&pageToken=" + tok); len(got) != 1 || got[0] != id {
		t.Errorf("the second page, newest first = %v, want [%s]", got, id)
	}
	if x := c.do("GET", flowadmin.Prefix+"v1/flows?order=oldest&pageToken="+tok); x.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(x.Body), `"field":"pageToken"`) {
		t.Errorf("a newest-first token in an oldest-first list = %d %s, want 422 naming pageToken", x.Status, x.Body)
	}

	// One flow: waiting for its wallet's link after a 429.
	var f flowadmin.Flow
	x := c.do("GET", flowadmin.Prefix+"v1/flows/"+id)
	x.Decode(t, &f)
	if x.Status != http.StatusOK || f.View == nil || f.View.State != states.EmailVerified || f.Record.Subject != c.h.Subject {
		t.Fatalf("GET the flow = %d %s", x.Status, x.Body)
	}
	checkNoSecret(t, x.Body, p)
	var conflict, limited bool
	for _, s := range f.Timeline {
		conflict = conflict || (s.Event == "submit_phone" && s.Status == http.StatusConflict && s.To == states.PhoneConflict)
		limited = limited || (s.Event == "add_wallet" && s.Outcome == "rate_limited" && s.Call == "cryptoWallet:addToUser")
	}
	if !conflict || !limited {
		t.Errorf("the timeline lacks the 409 (%v) or the 429 (%v): %+v", conflict, limited, f.Timeline)
	}
	if f.Diagrams == nil || !strings.Contains(f.Diagrams.Overview, "class EmailVerified current") ||
		!strings.Contains(f.Diagrams.Overview, "linkStyle") || !strings.HasPrefix(f.Diagrams.Sequence, "sequenceDiagram") {
		t.Errorf("the diagrams do not draw the path: %+v", f.Diagrams)
	}

	// Resume too early: 429, with the wait; then once Ratio takes the
	// link again: Linked.
	if x = c.do("POST", flowadmin.Prefix+"v1/flows/"+id+"/resume"); x.Status != http.StatusTooManyRequests ||
		!strings.Contains(string(x.Body), `"code":"too_early"`) {
		t.Errorf("resume before the back-off ends = %d %s, want 429 too_early", x.Status, x.Body)
	}
	c.h.Clock.Advance(31 * time.Second)
	x = c.do("POST", flowadmin.Prefix+"v1/flows/"+id+"/resume")
	x.Decode(t, &f)
	if x.Status != http.StatusOK || f.Record.State != states.Linked {
		t.Fatalf("resume = %d %s", x.Status, x.Body)
	}
	checkNoSecret(t, x.Body, p)
	if got := listed("state=Linked"); len(got) != 1 || got[0] != id {
		t.Errorf("list ?state=Linked = %v, want the resumed flow", got)
	}

	// Cancel the other; again is 409.
	if x = c.do("POST", flowadmin.Prefix+"v1/flows/"+other.ID+"/cancel"); x.Status != http.StatusOK || !strings.Contains(string(x.Body), `"state":"Canceled"`) {
		t.Errorf("cancel = %d %s", x.Status, x.Body)
	}
	if x = c.do("POST", flowadmin.Prefix+"v1/flows/"+other.ID+"/cancel"); x.Status != http.StatusConflict || !strings.Contains(string(x.Body), `"code":"ended"`) {
		t.Errorf("cancel again = %d %s, want 409 ended", x.Status, x.Body)
	}
	if x = c.do("POST", flowadmin.Prefix+"v1/flows/"+id+"/resume"); x.Status != http.StatusOK {
		t.Errorf("resume of an ended flow = %d %s, want 200 (nothing to do)", x.Status, x.Body)
	}

	// The stats: the kinds' traffic and drop-off.
	var st flowadmin.Stats
	x = c.do("GET", flowadmin.Prefix+"v1/stats?view=state")
	x.Decode(t, &st)
	if x.Status != http.StatusOK || len(st.Kinds) != 2 {
		t.Fatalf("stats = %d %s", x.Status, x.Body)
	}
	for _, k := range st.Kinds {
		switch k.Kind {
		case transitions.KindLink:
			if k.Finished != 1 || !strings.Contains(k.Diagram, "flowchart TD") {
				t.Errorf("link stats: finished %d, diagram %.40q", k.Finished, k.Diagram)
			}
		case transitions.KindSignIn:
			for _, s := range k.States {
				if s.State == states.ChallengeIssued && s.Canceled != 1 {
					t.Errorf("signin: %d canceled in ChallengeIssued, want 1", s.Canceled)
				}
			}
		}
	}
	for _, op := range []string{"listFlows", "getFlow", "resumeFlow", "cancelFlow", "getStats"} {
		if !c.Saw(op, http.StatusOK) {
			t.Errorf("operation %s was never answered 200", op)
		}
	}
}

// checkNoSecret fails when an answer shows p's phone number or email, or
// a code the sandbox sent.
func checkNoSecret(t *testing.T, body []byte, p flowtest.Person) {
	t.Helper()
	for _, s := range []string{p.Phone, strings.TrimPrefix(p.Phone, "+1"), p.Email, `"challenge"`} {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("an answer shows %q", s)
		}
	}
}

func TestAdmin_Refusals(t *testing.T) {
	c := newChecked(t)
	for _, tt := range []struct {
		method, path string
		status       int
		code, field  string
		refused      bool // the document refuses it too
	}{
		{"GET", "v1/flows?kind=nope", 422, "invalid_input", "kind", true},
		{"GET", "v1/flows?state=Nowhere", 422, "invalid_input", "state", true},
		{"GET", "v1/flows?running=yes", 422, "invalid_input", "running", true},
		{"GET", "v1/flows?olderThan=-1h", 422, "invalid_input", "olderThan", true},
		{"GET", "v1/flows?newerThan=soon", 422, "invalid_input", "newerThan", true},
		{"GET", "v1/flows?limit=0", 422, "invalid_input", "limit", true},
		{"GET", "v1/flows?order=sideways", 422, "invalid_input", "order", true},
		{"GET", "v1/flows?pageToken=forged", 422, "invalid_input", "pageToken", false},
		{"GET", "v1/flows?kind=link&kind=signin", 422, "invalid_input", "kind", false},
		{"GET", "v1/flows?color=red", 422, "invalid_input", "color", false},
		{"GET", "v1/stats?view=pie", 422, "invalid_input", "view", true},
		{"GET", "v1/flows/00112233445566778899aabbccddeeff", 404, "not_found", "", false},
		{"POST", "v1/flows/00112233445566778899aabbccddeeff/cancel", 404, "not_found", "", false},
		{"GET", "v1/nothing", 404, "no_route", "", true},
	} {
		x := c.send(tt.method, flowadmin.Prefix+tt.path, tt.refused)
		var p struct{ Code, Field string }
		x.Decode(t, &p)
		if x.Status != tt.status || p.Code != tt.code || p.Field != tt.field {
			t.Errorf("%s %s = %d %s, want %d %s naming %q", tt.method, tt.path, x.Status, x.Body, tt.status, tt.code, tt.field)
		}
	}
}

// TestAdmin_Token: with a Token, every path needs it as a bearer token.
func TestAdmin_Token(t *testing.T) {
	c := newChecked(t)
	c.admin.Token = "an admin token"
	for _, auth := range []string{"", "Bearer wrong", "Basic YWRtaW46YW4gYWRtaW4gdG9rZW4=", "Bearer an admin token!"} {
		for _, path := range []string{"v1/flows", "v1/stats", "openapi.json"} {
			x := c.do("GET", flowadmin.Prefix+path, "Authorization", auth)
			if x.Status != http.StatusUnauthorized || !strings.HasPrefix(x.Header.Get("WWW-Authenticate"), "Bearer") ||
				!strings.Contains(string(x.Body), `"code":"unauthenticated"`) {
				t.Errorf("GET %s with %q = %d %s, want 401", path, auth, x.Status, x.Body)
			}
			if strings.Contains(string(x.Body), "an admin token") {
				t.Errorf("the 401 shows the token: %s", x.Body)
			}
		}
	}
	c.token = "an admin token"
	if x := c.do("GET", flowadmin.Prefix+"v1/flows"); x.Status != http.StatusOK {
		t.Errorf("with the token: %d %s", x.Status, x.Body)
	}
}

// TestAdmin_CrossOriginRefused: a page of another origin cannot make the
// operator's browser cancel a flow.
func TestAdmin_CrossOriginRefused(t *testing.T) {
	c := newChecked(t)
	v, err := c.h.Engine.Start(context.Background(), transitions.KindSignIn, c.h.Subject,
		flow.Input{WalletAddress: flowtest.NewWallet(t).Address})
	if err != nil {
		t.Fatal(err)
	}
	path := flowadmin.Prefix + "v1/flows/" + v.ID + "/cancel"
	if x := c.do("POST", path, "Sec-Fetch-Site", "cross-site"); x.Status != http.StatusForbidden {
		t.Errorf("a cross-site cancel = %d %s, want 403", x.Status, x.Body)
	}
	if x := c.do("POST", path, "Origin", "https://evil.example"); x.Status != http.StatusForbidden {
		t.Errorf("a cancel from another origin = %d %s, want 403", x.Status, x.Body)
	}
	if x := c.do("POST", path, "Sec-Fetch-Site", "same-origin"); x.Status != http.StatusOK {
		t.Errorf("a same-origin cancel = %d %s", x.Status, x.Body)
	}
}

func TestLoopbackOnly(t *testing.T) {
	h := flowadmin.LoopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for host, want := range map[string]int{
		"127.0.0.1:8081": 204, "localhost:8081": 204, "[::1]:8081": 204, "LOCALHOST": 204, "127.1.2.3": 204,
		"evil.example:8081": 421, "10.0.0.1:8081": 421, "": 421, "localhost.evil.example": 421,
	} {
		r := httptest.NewRequest("GET", "/console/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
	}
}

// TestProblemCodes_Documented: docs/console.md documents every code the
// admin API answers, with its status.
func TestProblemCodes_Documented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/console.md")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Code struct{ Enum []string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(flowadmin.OpenAPI(), &d); err != nil {
		t.Fatal(err)
	}
	codes := d.Components.Schemas.Problem.Properties.Code.Enum
	if len(codes) < 5 {
		t.Fatalf("the document lists %d codes", len(codes))
	}
	for _, code := range codes {
		if !strings.Contains(string(doc), `<a id="`+code+`"></a>`) {
			t.Errorf("docs/console.md does not document the code %s", code)
		}
	}
}
