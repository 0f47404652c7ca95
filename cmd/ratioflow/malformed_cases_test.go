package main

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/ratioflow/ratioflow/store"
)

// hdr returns a header holding the given names and values, in order.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// asUser is hdr with the subject user-1 first.
func asUser(kv ...string) http.Header {
	return hdr(append([]string{subjectHeader, "user-1"}, kv...)...)
}

// malformedCases are the requests TestServe_MalformedRequests sends.
func malformedCases() []malformed {
	var c cases
	c.subjectCases()
	c.mediaTypeCases()
	c.pathCases()
	c.queryCases()
	c.bodyCases()
	c.stepCases()
	return c
}

// cases collects malformed requests.
type cases []malformed

// add appends a case.
func (c *cases) add(name, method, path string, header http.Header, body string, status int, code, field string) {
	*c = append(*c, malformed{name, method, path, header, body, status, code, field})
}

// The paths and the body the cases use.
const (
	flowPath  = "/v1/flows/{id}"
	phonePath = flowPath + "/events/submit_phone"
	goodStart = `{"kind":"link","walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`
)

// subjectCases are the requests wrong in who is calling: the subject and Idempotency-Key headers.
func (c *cases) subjectCases() {
	long := strings.Repeat("s", store.MaxSubjectLen+1)
	c.add("no subject", "GET", flowPath, hdr(), "", 401, "unauthenticated", "")
	c.add("empty subject", "GET", flowPath, hdr(subjectHeader, ""), "", 401, "unauthenticated", "")
	c.add("blank subject", "GET", flowPath, hdr(subjectHeader, "   "), "", 401, "unauthenticated", "")
	c.add("no subject, create", "POST", "/v1/flows", hdr(), goodStart, 401, "unauthenticated", "")
	c.add("two subjects", "GET", flowPath, hdr(subjectHeader, "user-1", subjectHeader, "user-2"), "", 400, "ambiguous_subject", "")
	c.add("the subject twice", "GET", flowPath, hdr(subjectHeader, "user-1", subjectHeader, "user-1"), "", 400, "ambiguous_subject", "")
	c.add("two subjects, one empty", "GET", flowPath, hdr(subjectHeader, "user-1", subjectHeader, ""), "", 400, "ambiguous_subject", "")
	c.add("two subjects, create", "POST", "/v1/flows", hdr(subjectHeader, "user-1", subjectHeader, "user-2"), goodStart, 400, "ambiguous_subject", "")
	c.add("two subjects, step", "POST", phonePath, hdr(subjectHeader, "user-2", subjectHeader, "user-1"), `{}`, 400, "ambiguous_subject", "")
	c.add("two subjects, list", "GET", "/v1/flows", hdr(subjectHeader, "user-2", subjectHeader, "user-1"), "", 400, "ambiguous_subject", "")
	c.add("two subjects, cancel", "DELETE", flowPath, hdr(subjectHeader, "user-1", subjectHeader, "user-1"), "", 400, "ambiguous_subject", "")
	c.add("subject not UTF-8", "GET", flowPath, hdr(subjectHeader, "user-1\xff"), "", 400, "invalid_subject", "subject")
	c.add("subject not UTF-8, create", "POST", "/v1/flows", hdr(subjectHeader, "\xfe\xff"), goodStart, 400, "invalid_subject", "subject")
	c.add("subject not UTF-8, list", "GET", "/v1/flows", hdr(subjectHeader, "user-1\xc3"), "", 400, "invalid_subject", "subject")
	c.add("subject too long", "GET", flowPath, hdr(subjectHeader, long), "", 400, "invalid_subject", "subject")
	c.add("subject too long, create", "POST", "/v1/flows", hdr(subjectHeader, long), goodStart, 400, "invalid_subject", "subject")
	c.add("subject too long, step", "POST", phonePath, hdr(subjectHeader, long), `{}`, 400, "invalid_subject", "subject")
	c.add("two idempotency keys", "POST", phonePath, asUser("Idempotency-Key", "k1", "Idempotency-Key", "k2"),
		`{"phoneNumber":"+12025550147"}`, 422, "invalid_input", "Idempotency-Key")
	c.add("a key's first use, a bad phone", "POST", phonePath, asUser("Idempotency-Key", "k3"), `{"phoneNumber":"1"}`,
		422, "invalid_input", "phoneNumber")
	c.add("a key reused with another body", "POST", phonePath, asUser("Idempotency-Key", "k3"), `{"phoneNumber":"12"}`,
		422, "idempotency_key_reused", "")
	c.add("another subject's flow", "GET", flowPath, hdr(subjectHeader, "user-2"), "", 404, "not_found", "")
	c.add("another subject's step", "POST", phonePath, hdr(subjectHeader, "user-2"), `{"phoneNumber":"+12025550147"}`, 404, "not_found", "")
	c.add("another subject's cancel", "DELETE", flowPath, hdr(subjectHeader, "user-2"), "", 404, "not_found", "")
}

// mediaTypeCases are the requests wrong in what the body is declared as.
func (c *cases) mediaTypeCases() {
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
		"application/json; charset=latin1", "application/json; version=2", "application/", "json", "text/json"} {
		c.add("create as "+ct, "POST", "/v1/flows", asUser("Content-Type", ct), goodStart, 415, "unsupported_media_type", "")
	}
	c.add("two content types", "POST", "/v1/flows", asUser("Content-Type", "application/json", "Content-Type", "text/plain"), goodStart, 415, "unsupported_media_type", "")
	c.add("step as a form", "POST", phonePath, asUser("Content-Type", "application/x-www-form-urlencoded"), "phoneNumber=%2B12025550147", 415, "unsupported_media_type", "")
	c.add("step as text", "POST", phonePath, asUser("Content-Type", "text/plain"), `{"phoneNumber":"+12025550147"}`, 415, "unsupported_media_type", "")
}

// pathCases are the requests wrong in where the request goes.
func (c *cases) pathCases() {
	c.add("dot-dot path", "GET", "/v1/flows/../../etc/passwd", nil, "", 404, "no_route", "")
	c.add("dot-dot to the flow", "GET", "/v1/flows/x/../{id}", nil, "", 404, "no_route", "")
	c.add("encoded dot-dot", "GET", "/v1/flows/%2e%2e/%2e%2e/etc/passwd", nil, "", 404, "no_route", "")
	c.add("encoded slashes", "GET", "/v1/flows/{id}%2F..%2F..", nil, "", 404, "no_route", "")
	c.add("dot segment", "GET", "/v1/flows/./{id}", nil, "", 404, "no_route", "")
	c.add("leading double slash", "GET", "//v1/flows", nil, "", 404, "no_route", "")
	c.add("inner double slash", "GET", "/v1//flows/{id}", nil, "", 404, "no_route", "")
	c.add("trailing slash", "GET", "/v1/flows/", nil, "", 404, "no_route", "")
	c.add("trailing slash on a flow", "GET", flowPath+"/", nil, "", 404, "no_route", "")
	c.add("dot-dot in a step", "POST", flowPath+"/events/../events/submit_phone", nil, `{}`, 404, "no_route", "")
	c.add("no event", "POST", flowPath+"/events/", nil, `{}`, 404, "no_route", "")
	c.add("unknown path", "GET", "/v2/flows", nil, "", 404, "no_route", "")
	c.add("unknown method", "PUT", flowPath, nil, `{}`, 404, "no_route", "")
	c.add("ID with a NUL", "GET", "/v1/flows/abc%00def", nil, "", 404, "not_found", "")
	c.add("ID not UTF-8", "GET", "/v1/flows/%ff%fe", nil, "", 404, "not_found", "")
	c.add("ID cut in a rune", "GET", "/v1/flows/{id}%c3", nil, "", 404, "not_found", "")
	c.add("ID too long", "GET", "/v1/flows/"+strings.Repeat("a", store.MaxIDLen+1), nil, "", 404, "not_found", "")
	c.add("ID with a NUL, step", "POST", "/v1/flows/{id}%00/events/submit_phone", nil, `{"phoneNumber":"+12025550147"}`, 404, "not_found", "")
	c.add("ID not UTF-8, cancel", "DELETE", "/v1/flows/%ff", nil, "", 404, "not_found", "")
	c.add("ID too long, cancel", "DELETE", "/v1/flows/"+strings.Repeat("0", 200), nil, "", 404, "not_found", "")
	c.add("unknown ID", "GET", "/v1/flows/00112233445566778899aabbccddeeff", nil, "", 404, "not_found", "")
	c.add("unknown event", "POST", flowPath+"/events/teleport", nil, `{}`, 409, "not_permitted", "")
	c.add("event of another state", "POST", flowPath+"/events/submit_otp", nil, `{"otp":"123456"}`, 409, "not_permitted", "")
}

// queryCases are the requests wrong in what the query asks.
func (c *cases) queryCases() {
	for _, q := range []struct{ query, field string }{
		{"%zz=1", "%zz"}, {"running=%zz", "running"}, {"running=true;limit=5", "running"}, {"running=true&", ""},
		{"&running=true", ""}, {"=1", ""}, {"running=true&running=false", "running"}, {"running=yes", "running"},
		{"running=", "running"}, {"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=-1", "limit"},
		{"limit=1e2", "limit"}, {"limit=ten", "limit"}, {"kind=pay", "kind"}, {"kind=LINK", "kind"},
		{"kind=link%00", "kind"}, {"pageToken=garbage", "pageToken"}, {"pageToken=%00", "pageToken"},
		{"pageToken=" + badToken(), "pageToken"}, {"unknown=1", "unknown"}, {"RUNNING=true", "RUNNING"},
	} {
		c.add("list ?"+q.query, "GET", "/v1/flows?"+q.query, nil, "", 422, "invalid_input", q.field)
	}
	c.add("a query on a flow", "GET", flowPath+"?x=1", nil, "", 422, "invalid_input", "x")
	c.add("a malformed query on a flow", "GET", flowPath+"?%zz", nil, "", 422, "invalid_input", "%zz")
	c.add("the input in the query", "POST", phonePath+"?phoneNumber=%2B12025550147", nil, `{}`, 422, "invalid_input", "phoneNumber")
	c.add("a query on cancel", "DELETE", flowPath+"?force=1", nil, "", 422, "invalid_input", "force")
	c.add("the kind in the query", "POST", "/v1/flows?kind=link", nil, `{"walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`, 422, "invalid_input", "kind")
}

// bodyCases are the requests wrong in what the body says.
func (c *cases) bodyCases() {
	create := func(name, body string, status int, code, field string) {
		c.add("create: "+name, "POST", "/v1/flows", asUser("Content-Type", "application/json"), body, status, code, field)
	}
	const wallet = `"walletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"`
	create("upper-case name", `{"KIND":"link",`+wallet+`}`, 400, "invalid_json", "KIND")
	create("capitalised name", `{"Kind":"link",`+wallet+`}`, 400, "invalid_json", "Kind")
	create("capitalised wallet", `{"kind":"link","WalletAddress":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}`, 400, "invalid_json", "WalletAddress")
	create("kind twice", `{"kind":"link","kind":"signin",`+wallet+`}`, 400, "invalid_json", "kind")
	create("kind twice, same value", `{"kind":"link",`+wallet+`,"kind":"link"}`, 400, "invalid_json", "kind")
	create("wallet twice", `{"kind":"link",`+wallet+`,`+wallet+`}`, 400, "invalid_json", "walletAddress")
	create("a trailing brace", goodStart+`}`, 400, "invalid_json", "")
	create("a trailing bracket", goodStart+`]`, 400, "invalid_json", "")
	create("two objects", goodStart+goodStart, 400, "invalid_json", "")
	create("trailing text", goodStart+` x`, 400, "invalid_json", "")
	create("trailing comma", `{"kind":"link",`+wallet+`,}`, 400, "invalid_json", "")
	create("an array", `[`+goodStart+`]`, 400, "invalid_json", "")
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
}

// stepCases are the steps whose body is wrong.
func (c *cases) stepCases() {
	step := func(name, path, body string, status int, code, field string) {
		c.add("step: "+name, "POST", path, nil, body, status, code, field)
	}
	step("no phone", phonePath, `{}`, 422, "invalid_input", "phoneNumber")
	step("a Toronto phone", phonePath, `{"phoneNumber":"+14165551234"}`, 422, "invalid_input", "phoneNumber")
	step("not E.164", phonePath, `{"phoneNumber":"(202) 555-0143"}`, 422, "invalid_input", "phoneNumber")
	step("a phone with a NUL", phonePath, `{"phoneNumber":"+1202555014\u0000"}`, 422, "invalid_input", "phoneNumber")
	step("a phone number as a number", phonePath, `{"phoneNumber":12025550147}`, 400, "invalid_json", "phoneNumber")
	step("a capitalised phone", phonePath, `{"PhoneNumber":"+12025550147"}`, 400, "invalid_json", "PhoneNumber")
	step("the phone twice", phonePath, `{"phoneNumber":"+12025550147","phoneNumber":"+12025550148"}`, 400, "invalid_json", "phoneNumber")
	step("a trailing brace", phonePath, `{"phoneNumber":"+12025550147"}}`, 400, "invalid_json", "")
	step("a trailing bracket", phonePath, `{"phoneNumber":"+12025550147"}]`, 400, "invalid_json", "")
	step("an array", phonePath, `[]`, 400, "invalid_json", "")
	step("not UTF-8", phonePath, "{\"phoneNumber\":\"+1202555014\xff\"}", 400, "invalid_json", "")
	step("a field the event does not take", phonePath, `{"phoneNumber":"+12025550147","emailAddress":"ada@example.com"}`, 422, "invalid_input", "emailAddress")
	step("an unknown field", phonePath, `{"phoneNumber":"+12025550147","phone":"x"}`, 400, "invalid_json", "phone")
	step("cancel with a field", flowPath+"/events/cancel", `{"x":1}`, 400, "invalid_json", "x")
	step("cancel with a trailing brace", flowPath+"/events/cancel", `{}}`, 400, "invalid_json", "")
	step("too large", phonePath, `{"phoneNumber":"`+strings.Repeat("1", 64<<10)+`"}`, 413, "body_too_large", "")
}

// badToken is a page token naming an ID no store keeps.
func badToken() string {
	b := append(bytes.Repeat([]byte{0}, 9), "abc\x00"...)
	b[0] = 1
	return base64.RawURLEncoding.EncodeToString(b)
}
