package flowhttp_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The flow API's request decoding under fuzzing: any method, path, query,
// subject headers, content type and body reach the whole handler, in front
// of a real engine on memstore and the sandbox (called in-process, without
// a network), and every answer must hold what docs/api.md promises: never
// a 5xx, every error a problem+json document with a code, no secret in any
// answer, and a flow that no Ratio call touched unchanged by a refusal.

// problemDoc is the part of a problem document every error carries.
type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
}

var problemCode = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// bareCode finds the one-time code, not a run of zeros in a flow's ID.
var bareCode = regexp.MustCompile(`(^|[^0-9a-f])` + fuzzCode + `([^0-9a-f]|$)`)

// holdsCode reports whether a string of the JSON answer holds the code.
func holdsCode(answer []byte) bool {
	var v any
	if json.Unmarshal(answer, &v) != nil {
		return bareCode.Match(answer)
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return bareCode.MatchString(v)
		case []any:
			return slices.ContainsFunc(v, walk)
		case map[string]any:
			for k, e := range v {
				if bareCode.MatchString(k) || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

func FuzzHandler(f *testing.F) {
	const js = "application/json"
	type seed struct {
		method, target string
		hdr            uint8
		ct, body       string
	}
	seeds := []seed{
		{"POST", "/v1/flows", 0, js, `{"kind":"link","walletAddress":"$ADDR"}`},
		{"POST", "/v1/flows", 8, js, `{"kind":"signin","walletAddress":"$ADDR"}`},
		{"POST", "/v1/flows", 0, "", `{"kind":"signup","walletAddress":"$ADDR"}`},
		{"POST", "/v1/flows", 0, js, `{"kind":"link-factors-first","phoneNumber":"+12025550123"}`},
		{"POST", "/v1/flows", 0, js, `{"KIND":"link","walletAddress":"$ADDR"}`},
		{"POST", "/v1/flows", 0, js, `{"kind":"link","walletAddress":"$ADDR"}}`},
		{"POST", "/v1/flows", 0, js, `{"kind":"link","kind":"signin","walletAddress":"$ADDR"}`},
		{"POST", "/v1/flows", 0, "application/x-www-form-urlencoded", `kind=link`},
		{"POST", "/v1/flows", 0, "text/plain; charset=utf-8", `{"kind":"link","walletAddress":"$ADDR"}`},
		{"POST", "/v1/flows", 1, js, `{"kind":"nope"}`},
		{"POST", "/v1/flows", 0, js, `[]`},
		{"POST", "/v1/flows", 0, js, `{"kind":"signup","acceptedTerms":"yes"}`},
		{"GET", "/v1/flows", 0, "", ""},
		{"GET", "/v1/flows?running=true&kind=link&limit=2", 0, "", ""},
		{"GET", "/v1/flows?%zz=1", 0, "", ""},
		{"GET", "/v1/flows?limit=0&limit=1", 0, "", ""},
		{"GET", "/v1/flows?pageToken=abc", 0, "", ""},
		{"GET", "/v1/flows/$NEW", 0, "", ""},
		{"GET", "/v1/flows/$OTP", 1, "", ""},
		{"GET", "/v1/flows/$OTP", 2, "", ""},
		{"GET", "/v1/flows/$OTP", 3, "", ""},
		{"GET", "/v1/flows/$OTP", 4, "", ""},
		{"GET", "/v1/flows/$OTP", 5, "", ""},
		{"GET", "/v1/flows/abc\x00def", 0, "", ""},
		{"GET", "/v1/flows/\xff\xfe", 0, "", ""},
		{"GET", "/v1/flows/../../etc/passwd", 0, "", ""},
		{"GET", "//v1/flows", 0, "", ""},
		{"GET", "/v1/flows/$NEW/", 0, "", ""},
		{"POST", "/v1/flows/$NEW/events/sign", 0, js, `{"signature":"$SIG"}`},
		{"POST", "/v1/flows/$NEW/events/sign", 8, js, `{"signature":"0x00"}`},
		{"POST", "/v1/flows/$NEW/events/sign", 1, js, `{"signature":"$SIG"}`},
		{"POST", "/v1/flows/$OTP/events/submit_otp", 0, js, `{"otp":"000000"}`},
		{"POST", "/v1/flows/$OTP/events/submit_otp", 8, js, `{"otp":"000001"}`},
		{"POST", "/v1/flows/$OTP/events/submit_otp", 0, js, `{"otp":"12"}`},
		{"POST", "/v1/flows/$OTP/events/submit_otp", 0, js, `{"otp":123456}`},
		{"POST", "/v1/flows/$OTP/events/resend_otp", 0, "", ``},
		{"POST", "/v1/flows/$OTP/events/sign", 0, js, `{}`},
		{"POST", "/v1/flows/$OTP/events/nope", 0, js, `{}`},
		{"DELETE", "/v1/flows/$NEW", 0, "", ""},
		{"DELETE", "/v1/flows/$OTP", 1, "", ""},
		{"PUT", "/v1/flows/$NEW", 0, js, `{}`},
		{"OPTIONS", "/", 0, "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.hdr, "", s.ct, []byte(s.body))
	}
	for _, subject := range []string{fuzzOwner, " " + fuzzOwner + " ", "user\x00-1", "\xff\xfe", strings.Repeat("s", 257), "ünïcode"} {
		f.Add("GET", "/v1/flows/$NEW", uint8(7), subject, "", []byte(nil))
		f.Add("POST", "/v1/flows", uint8(7), subject, js, []byte(`{"kind":"link","walletAddress":"$ADDR"}`))
	}
	var a *fuzzAPI // shared by the requests of one fuzzing process
	f.Fuzz(func(t *testing.T, method, target string, hdr uint8, subject, contentType string, body []byte) {
		if !httpToken.MatchString(method) {
			method = http.MethodPost // net/http delivers no other method
		}
		if a == nil || a.uses >= fuzzReuse {
			a = newFuzzAPI(t)
		}
		a.uses++
		target, body = a.vars.Replace(target), []byte(a.vars.Replace(string(body)))
		before := a.snapshot(t)
		r := a.request(method, target, hdr, subject, contentType, body)
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, r)
		a.restore(t, a.check(t, r, target, body, w, before))
	})
}

// httpToken is what net/http accepts as a method.
var httpToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// check holds an answer to what every answer of the flow API promises.
// It returns the snapshot taken after the request.
func (a *fuzzAPI) check(t *testing.T, r *http.Request, target string, body []byte, w *httptest.ResponseRecorder, before snapshot) snapshot {
	t.Helper()
	what := r.Method + " " + target
	ct, out := w.Header().Get("Content-Type"), w.Body.String()
	if w.Code >= 500 {
		t.Fatalf("%s: %d %s, want no 5xx: nothing failed", what, w.Code, out)
	}
	// The code may come back only as the client sent it elsewhere than as
	// its otp (a method, a path, a field name).
	sent := r.Method + target + r.Header.Get("Content-Type") + strings.ReplaceAll(string(body), `"otp":"`+fuzzCode+`"`, "")
	echoed := strings.Contains(sent, fuzzCode)
	if strings.Contains(out, "eyJ") || (holdsCode(w.Body.Bytes()) && !echoed) {
		t.Fatalf("%s: the answer holds a JWT or a one-time code: %s", what, out)
	}
	after := a.snapshot(t)
	if w.Code/100 == 2 {
		if ct != "application/json" || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s: %d with Content-Type %q, want JSON: %s", what, w.Code, ct, out)
		}
		if r.Method == http.MethodGet && before.flows != after.flows {
			t.Fatalf("%s: a GET changed the flows from %v to %v", what, before.flows, after.flows)
		}
		return after
	}
	var p problemDoc
	if ct != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil ||
		p.Status != w.Code || !problemCode.MatchString(p.Code) || p.Type == "" || p.Title == "" {
		t.Fatalf("%s: %d with Content-Type %q, want a problem+json document with its status and a code: %s", what, w.Code, ct, out)
	}
	// A refusal that asked Ratio nothing changed nothing.
	if maps.Equal(before.calls, after.calls) && before.flows != after.flows {
		t.Fatalf("%s: refused %d %s, but the flows went from %v to %v", what, w.Code, p.Code, before.flows, after.flows)
	}
	return after
}
