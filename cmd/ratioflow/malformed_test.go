package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

// malformed is one request the API must refuse: its answer's status, code
// and the field it names ("" when the request has none to name).
type malformed struct {
	name         string
	method, path string // path may hold {id}, the flow's ID
	header       http.Header
	body         string
	status       int
	code, field  string
}

// TestServe_MalformedRequests sends serve's handler, over HTTP, more than
// a hundred requests that are malformed in their body, headers, path or
// query, on each store. Each gets a typed 4xx problem naming the field at
// fault, none a 500, none a redirect; the flow they aim at and the
// caller's list of flows stay as they were, and Ratio is never called.
func TestServe_MalformedRequests(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) store.Store{
		"memory": func(t *testing.T) store.Store { return memstore.New() },
		"sqlite": func(t *testing.T) store.Store {
			s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "flows.db"))
			if err != nil {
				t.Fatalf("sqlitestore.Open() = %v", err)
			}
			return s
		},
		"postgres": func(t *testing.T) store.Store {
			s, err := pgstore.Open(t.Context(), pgtest.Schema(t))
			if err != nil {
				t.Fatalf("pgstore.Open() = %v", err)
			}
			return s
		},
	}
	cases := malformedCases()
	if len(cases) < 100 {
		t.Fatalf("%d malformed requests, want at least 100", len(cases))
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkMalformed(t, open(t), cases)
		})
	}
}

// checkMalformed serves st as serve does and sends every case to a link
// flow waiting for its phone number.
func checkMalformed(t *testing.T, st store.Store, cases []malformed) {
	h := flowtest.New(t, flowtest.Options{Store: st})
	var logs lockedBuffer
	handler, _, err := serveHandler(st, h.Ratio, flowtest.SealKey, flow.Options{Now: h.Clock.Now},
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("serveHandler() = %v", err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	w := flowtest.NewWallet(t)
	send := func(c malformed) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		req.Header = c.header.Clone()
		if req.Header == nil {
			req.Header = http.Header{subjectHeader: {"user-1"}}
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, body
	}
	status, _, body := send(malformed{method: "POST", path: "/v1/flows",
		body: fmt.Sprintf(`{"kind":"link","walletAddress":%q}`, w.Address)})
	var v flow.View
	if err := json.Unmarshal(body, &v); status != http.StatusCreated || err != nil {
		t.Fatalf("create: %d %s", status, body)
	}
	status, _, body = send(malformed{method: "POST", path: "/v1/flows/" + v.ID + "/events/sign",
		body: fmt.Sprintf(`{"signature":%q}`, w.Sign(t, v.Challenge))})
	if err := json.Unmarshal(body, &v); status != http.StatusOK || err != nil || v.State != states.WalletAuthed {
		t.Fatalf("sign: %d %s", status, body)
	}
	before := snapshot(t, h, st, v.ID)

	for _, c := range cases {
		c.path = strings.ReplaceAll(c.path, "{id}", v.ID)
		status, header, body := send(c)
		var p struct {
			Status      int
			Code, Field string
		}
		err := json.Unmarshal(body, &p)
		switch {
		case err != nil || header.Get("Content-Type") != "application/problem+json":
			t.Errorf("%s: %d %q %s, want a problem document", c.name, status, header.Get("Content-Type"), body)
		case status != c.status || p.Status != c.status || p.Code != c.code || p.Field != c.field:
			t.Errorf("%s: %d %s field %q, want %d %s field %q: %s", c.name, status, p.Code, p.Field,
				c.status, c.code, c.field, body)
		}
	}
	if after := snapshot(t, h, st, v.ID); after != before {
		t.Errorf("after the malformed requests:\n%s\nwant, as before them:\n%s", after, before)
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "status=5") {
		t.Errorf("a malformed request was answered or logged as a server error:\n%s", logs.String())
	}
}

// snapshot describes the flow id as stored, the subject's flows and the
// calls Ratio received.
func snapshot(t *testing.T, h *flowtest.Harness, st store.Store, id string) string {
	t.Helper()
	ctx := context.Background()
	rec, err := st.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get(%s) = %v", id, err)
	}
	hist, err := st.History(ctx, id)
	if err != nil {
		t.Fatalf("History(%s) = %v", id, err)
	}
	page, err := st.List(ctx, store.Query{})
	if err != nil {
		t.Fatalf("List() = %v", err)
	}
	calls := 0
	for _, n := range h.Sandbox.Stats().Calls {
		calls += n
	}
	return fmt.Sprintf("state %s, version %d, data %x, %d history entries, %d flows stored, %d Ratio calls",
		rec.State, rec.Version, rec.Data, len(hist), len(page.Records), calls)
}

// Headers of the cases.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func asUser(kv ...string) http.Header {
	return hdr(append([]string{subjectHeader, "user-1"}, kv...)...)
}

// malformedCases are the requests TestServe_MalformedRequests sends.
func malformedCases() []malformed {
	var cs []malformed
	add := func(name, method, path string, header http.Header, body string, status int, code, field string) {
		cs = append(cs, malformed{name, method, path, header, body, status, code, field})
	}
	const (
		flowPath = "/v1/flows/{id}"
		phone    = flowPath + "/events/submit_phone"
		good     = `{"kind":"link","walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`
	)
	long := strings.Repeat("s", store.MaxSubjectLen+1)

	// Who is calling.
	add("no subject", "GET", flowPath, hdr(), "", 401, "unauthenticated", "")
	add("empty subject", "GET", flowPath, hdr(subjectHeader, ""), "", 401, "unauthenticated", "")
	add("blank subject", "GET", flowPath, hdr(subjectHeader, "   "), "", 401, "unauthenticated", "")
	add("no subject, create", "POST", "/v1/flows", hdr(), good, 401, "unauthenticated", "")
	add("two subjects", "GET", flowPath, hdr(subjectHeader, "user-1", subjectHeader, "user-2"), "", 400, "ambiguous_subject", "")
	add("the subject twice", "GET", flowPath, hdr(subjectHeader, "user-1", subjectHeader, "user-1"), "", 400, "ambiguous_subject", "")
	add("two subjects, one empty", "GET", flowPath, hdr(subjectHeader, "user-1", subjectHeader, ""), "", 400, "ambiguous_subject", "")
	add("two subjects, create", "POST", "/v1/flows", hdr(subjectHeader, "user-1", subjectHeader, "user-2"), good, 400, "ambiguous_subject", "")
	add("two subjects, step", "POST", phone, hdr(subjectHeader, "user-2", subjectHeader, "user-1"), `{}`, 400, "ambiguous_subject", "")
	add("two subjects, list", "GET", "/v1/flows", hdr(subjectHeader, "user-2", subjectHeader, "user-1"), "", 400, "ambiguous_subject", "")
	add("two subjects, cancel", "DELETE", flowPath, hdr(subjectHeader, "user-1", subjectHeader, "user-1"), "", 400, "ambiguous_subject", "")
	add("subject not UTF-8", "GET", flowPath, hdr(subjectHeader, "user-1\xff"), "", 400, "invalid_subject", "subject")
	add("subject not UTF-8, create", "POST", "/v1/flows", hdr(subjectHeader, "\xfe\xff"), good, 400, "invalid_subject", "subject")
	add("subject not UTF-8, list", "GET", "/v1/flows", hdr(subjectHeader, "user-1\xc3"), "", 400, "invalid_subject", "subject")
	add("subject too long", "GET", flowPath, hdr(subjectHeader, long), "", 400, "invalid_subject", "subject")
	add("subject too long, create", "POST", "/v1/flows", hdr(subjectHeader, long), good, 400, "invalid_subject", "subject")
	add("subject too long, step", "POST", phone, hdr(subjectHeader, long), `{}`, 400, "invalid_subject", "subject")
	add("two idempotency keys", "POST", phone, asUser("Idempotency-Key", "k1", "Idempotency-Key", "k2"),
		`{"phoneNumber":"+12025550147"}`, 422, "invalid_input", "Idempotency-Key")
	add("a key's first use, a bad phone", "POST", phone, asUser("Idempotency-Key", "k3"), `{"phoneNumber":"1"}`,
		422, "invalid_input", "phoneNumber")
	add("a key reused with another body", "POST", phone, asUser("Idempotency-Key", "k3"), `{"phoneNumber":"12"}`,
		422, "idempotency_key_reused", "")
	add("another subject's flow", "GET", flowPath, hdr(subjectHeader, "user-2"), "", 404, "not_found", "")
	add("another subject's step", "POST", phone, hdr(subjectHeader, "user-2"), `{"phoneNumber":"+12025550147"}`, 404, "not_found", "")
	add("another subject's cancel", "DELETE", flowPath, hdr(subjectHeader, "user-2"), "", 404, "not_found", "")

	// What the body is.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
		"application/json; charset=latin1", "application/json; version=2", "application/", "json", "text/json"} {
		add("create as "+ct, "POST", "/v1/flows", asUser("Content-Type", ct), good, 415, "unsupported_media_type", "")
	}
	add("two content types", "POST", "/v1/flows", asUser("Content-Type", "application/json", "Content-Type", "text/plain"), good, 415, "unsupported_media_type", "")
	add("step as a form", "POST", phone, asUser("Content-Type", "application/x-www-form-urlencoded"), "phoneNumber=%2B12025550147", 415, "unsupported_media_type", "")
	add("step as text", "POST", phone, asUser("Content-Type", "text/plain"), `{"phoneNumber":"+12025550147"}`, 415, "unsupported_media_type", "")

	// Where it goes.
	add("dot-dot path", "GET", "/v1/flows/../../etc/passwd", nil, "", 404, "no_route", "")
	add("dot-dot to the flow", "GET", "/v1/flows/x/../{id}", nil, "", 404, "no_route", "")
	add("encoded dot-dot", "GET", "/v1/flows/%2e%2e/%2e%2e/etc/passwd", nil, "", 404, "no_route", "")
	add("encoded slashes", "GET", "/v1/flows/{id}%2F..%2F..", nil, "", 404, "no_route", "")
	add("dot segment", "GET", "/v1/flows/./{id}", nil, "", 404, "no_route", "")
	add("leading double slash", "GET", "//v1/flows", nil, "", 404, "no_route", "")
	add("inner double slash", "GET", "/v1//flows/{id}", nil, "", 404, "no_route", "")
	add("trailing slash", "GET", "/v1/flows/", nil, "", 404, "no_route", "")
	add("trailing slash on a flow", "GET", flowPath+"/", nil, "", 404, "no_route", "")
	add("dot-dot in a step", "POST", flowPath+"/events/../events/submit_phone", nil, `{}`, 404, "no_route", "")
	add("no event", "POST", flowPath+"/events/", nil, `{}`, 404, "no_route", "")
	add("unknown path", "GET", "/v2/flows", nil, "", 404, "no_route", "")
	add("unknown method", "PUT", flowPath, nil, `{}`, 404, "no_route", "")
	add("ID with a NUL", "GET", "/v1/flows/abc%00def", nil, "", 404, "not_found", "")
	add("ID not UTF-8", "GET", "/v1/flows/%ff%fe", nil, "", 404, "not_found", "")
	add("ID cut in a rune", "GET", "/v1/flows/{id}%c3", nil, "", 404, "not_found", "")
	add("ID too long", "GET", "/v1/flows/"+strings.Repeat("a", store.MaxIDLen+1), nil, "", 404, "not_found", "")
	add("ID with a NUL, step", "POST", "/v1/flows/{id}%00/events/submit_phone", nil, `{"phoneNumber":"+12025550147"}`, 404, "not_found", "")
	add("ID not UTF-8, cancel", "DELETE", "/v1/flows/%ff", nil, "", 404, "not_found", "")
	add("ID too long, cancel", "DELETE", "/v1/flows/"+strings.Repeat("0", 200), nil, "", 404, "not_found", "")
	add("unknown ID", "GET", "/v1/flows/00112233445566778899aabbccddeeff", nil, "", 404, "not_found", "")
	add("unknown event", "POST", flowPath+"/events/teleport", nil, `{}`, 409, "not_permitted", "")
	add("event of another state", "POST", flowPath+"/events/submit_otp", nil, `{"otp":"123456"}`, 409, "not_permitted", "")

	// What it asks.
	for _, q := range []struct{ query, field string }{
		{"%zz=1", "%zz"}, {"running=%zz", "running"}, {"running=true;limit=5", "running"}, {"running=true&", ""},
		{"&running=true", ""}, {"=1", ""}, {"running=true&running=false", "running"}, {"running=yes", "running"},
		{"running=", "running"}, {"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=-1", "limit"},
		{"limit=1e2", "limit"}, {"limit=ten", "limit"}, {"kind=pay", "kind"}, {"kind=LINK", "kind"},
		{"kind=link%00", "kind"}, {"pageToken=garbage", "pageToken"}, {"pageToken=%00", "pageToken"},
		{"pageToken=" + badToken(), "pageToken"}, {"unknown=1", "unknown"}, {"RUNNING=true", "RUNNING"},
	} {
		add("list ?"+q.query, "GET", "/v1/flows?"+q.query, nil, "", 422, "invalid_input", q.field)
	}
	add("a query on a flow", "GET", flowPath+"?x=1", nil, "", 422, "invalid_input", "x")
	add("a malformed query on a flow", "GET", flowPath+"?%zz", nil, "", 422, "invalid_input", "%zz")
	add("the input in the query", "POST", phone+"?phoneNumber=%2B12025550147", nil, `{}`, 422, "invalid_input", "phoneNumber")
	add("a query on cancel", "DELETE", flowPath+"?force=1", nil, "", 422, "invalid_input", "force")
	add("the kind in the query", "POST", "/v1/flows?kind=link", nil, `{"walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`, 422, "invalid_input", "kind")

	// What the body says.
	create := func(name, body string, status int, code, field string) {
		add("create: "+name, "POST", "/v1/flows", asUser("Content-Type", "application/json"), body, status, code, field)
	}
	const wallet = `"walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"`
	create("upper-case name", `{"KIND":"link",`+wallet+`}`, 400, "invalid_json", "KIND")
	create("capitalised name", `{"Kind":"link",`+wallet+`}`, 400, "invalid_json", "Kind")
	create("capitalised wallet", `{"kind":"link","WalletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`, 400, "invalid_json", "WalletAddress")
	create("kind twice", `{"kind":"link","kind":"signin",`+wallet+`}`, 400, "invalid_json", "kind")
	create("kind twice, same value", `{"kind":"link",`+wallet+`,"kind":"link"}`, 400, "invalid_json", "kind")
	create("wallet twice", `{"kind":"link",`+wallet+`,`+wallet+`}`, 400, "invalid_json", "walletAddress")
	create("a trailing brace", good+`}`, 400, "invalid_json", "")
	create("a trailing bracket", good+`]`, 400, "invalid_json", "")
	create("two objects", good+good, 400, "invalid_json", "")
	create("trailing text", good+` x`, 400, "invalid_json", "")
	create("trailing comma", `{"kind":"link",`+wallet+`,}`, 400, "invalid_json", "")
	create("an array", `[`+good+`]`, 400, "invalid_json", "")
	create("a string", `"link"`, 400, "invalid_json", "")
	create("null", `null`, 400, "invalid_json", "")
	create("a number", `42`, 400, "invalid_json", "")
	create("cut short", `{"kind":"link",`, 400, "invalid_json", "")
	create("a comment", `{"kind":"link" /* a */,`+wallet+`}`, 400, "invalid_json", "")
	create("not UTF-8", "{\"kind\":\"link\xff\","+wallet+"}", 400, "invalid_json", "")
	create("kind a number", `{"kind":1,`+wallet+`}`, 400, "invalid_json", "kind")
	create("wallet an object", `{"kind":"link","walletAddress":{"a":1}}`, 400, "invalid_json", "walletAddress")
	create("wallet an array", `{"kind":"link","walletAddress":["0x"]}`, 400, "invalid_json", "walletAddress")
	create("unknown field", `{"kind":"link","wallet":"0x"}`, 400, "invalid_json", "wallet")
	create("no kind", `{`+wallet+`}`, 422, "invalid_input", "kind")
	create("empty kind", `{"kind":"",`+wallet+`}`, 422, "invalid_input", "kind")
	create("unknown kind", `{"kind":"pay",`+wallet+`}`, 422, "invalid_input", "kind")
	create("kind with a NUL", `{"kind":"link\u0000",`+wallet+`}`, 422, "invalid_input", "kind")
	create("no wallet", `{"kind":"link"}`, 422, "invalid_input", "walletAddress")
	create("short wallet", `{"kind":"link","walletAddress":"0x1234"}`, 422, "invalid_input", "walletAddress")
	create("wallet with a NUL", `{"kind":"link","walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe\u0000"}`, 422, "invalid_input", "walletAddress")
	create("bad checksum", `{"kind":"link","walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}`, 422, "invalid_input", "walletAddress")
	create("a field the start does not take", `{"kind":"link",`+wallet+`,"otp":"123456"}`, 422, "invalid_input", "otp")
	const person = `"firstName":"Ada","lastName":"Lovelace","emailAddress":"ada@example.com","country":"US","phoneNumber":"+12025550147"`
	create("terms a string", `{"kind":"signup",`+wallet+`,`+person+`,"acceptedTerms":"yes"}`, 400, "invalid_json", "acceptedTerms")
	create("terms refused", `{"kind":"signup",`+wallet+`,`+person+`,"acceptedTerms":false}`, 422, "invalid_input", "acceptedTerms")
	create("terms twice", `{"kind":"signup",`+wallet+`,`+person+`,"acceptedTerms":true,"acceptedTerms":true}`, 400, "invalid_json", "acceptedTerms")
	create("country unknown", `{"kind":"signup",`+wallet+`,`+strings.Replace(person, `"US"`, `"XX"`, 1)+`,"acceptedTerms":true}`, 422, "invalid_input", "country")
	create("a Toronto phone", `{"kind":"signup",`+wallet+`,`+strings.Replace(person, "+12025550147", "+14165551234", 1)+`,"acceptedTerms":true}`, 422, "invalid_input", "phoneNumber")
	create("an email without @", `{"kind":"signup",`+wallet+`,`+strings.Replace(person, "ada@", "ada.", 1)+`,"acceptedTerms":true}`, 422, "invalid_input", "emailAddress")
	create("a name with a NUL", `{"kind":"signup",`+wallet+`,`+strings.Replace(person, `"Ada"`, `"A\u0000da"`, 1)+`,"acceptedTerms":true}`, 422, "invalid_input", "firstName")
	create("too large", `{"kind":"link","walletAddress":"`+strings.Repeat(" ", 64<<10)+`"}`, 413, "body_too_large", "")

	step := func(name, path, body string, status int, code, field string) {
		add("step: "+name, "POST", path, nil, body, status, code, field)
	}
	step("no phone", phone, `{}`, 422, "invalid_input", "phoneNumber")
	step("a Toronto phone", phone, `{"phoneNumber":"+14165551234"}`, 422, "invalid_input", "phoneNumber")
	step("not E.164", phone, `{"phoneNumber":"(202) 555-0143"}`, 422, "invalid_input", "phoneNumber")
	step("a phone with a NUL", phone, `{"phoneNumber":"+1202555014\u0000"}`, 422, "invalid_input", "phoneNumber")
	step("a phone number as a number", phone, `{"phoneNumber":12025550147}`, 400, "invalid_json", "phoneNumber")
	step("a capitalised phone", phone, `{"PhoneNumber":"+12025550147"}`, 400, "invalid_json", "PhoneNumber")
	step("the phone twice", phone, `{"phoneNumber":"+12025550147","phoneNumber":"+12025550148"}`, 400, "invalid_json", "phoneNumber")
	step("a trailing brace", phone, `{"phoneNumber":"+12025550147"}}`, 400, "invalid_json", "")
	step("a trailing bracket", phone, `{"phoneNumber":"+12025550147"}]`, 400, "invalid_json", "")
	step("an array", phone, `[]`, 400, "invalid_json", "")
	step("not UTF-8", phone, "{\"phoneNumber\":\"+1202555014\xff\"}", 400, "invalid_json", "")
	step("a field the event does not take", phone, `{"phoneNumber":"+12025550147","emailAddress":"ada@example.com"}`, 422, "invalid_input", "emailAddress")
	step("an unknown field", phone, `{"phoneNumber":"+12025550147","phone":"x"}`, 400, "invalid_json", "phone")
	step("cancel with a field", flowPath+"/events/cancel", `{"x":1}`, 400, "invalid_json", "x")
	step("cancel with a trailing brace", flowPath+"/events/cancel", `{}}`, 400, "invalid_json", "")
	step("too large", phone, `{"phoneNumber":"`+strings.Repeat("1", 64<<10)+`"}`, 413, "body_too_large", "")
	return cs
}

// badToken is a page token naming an ID no store keeps.
func badToken() string {
	b := append(bytes.Repeat([]byte{0}, 9), "abc\x00"...)
	b[0] = 1
	return base64.RawURLEncoding.EncodeToString(b)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use: the handler logs
// from its requests' goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
