package flowhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowtest"
)

// kin-openapi does not check the email format unless told to; check it
// with the library's own pattern.
var defineFormats sync.Once

// loadOpenAPI parses and validates an OpenAPI document with kin-openapi:
// its structure, every schema, every format named and every example.
func loadOpenAPI(tb testing.TB, data []byte) *openapi3.T {
	tb.Helper()
	defineFormats.Do(func() { openapi3.DefineStringFormat("email", openapi3.FormatOfStringForEmail) })
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		tb.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableSchemaFormatValidation(), openapi3.EnableExamplesValidation()); err != nil {
		tb.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc
}

// checked is a client of the flow API, over real HTTP, that checks every
// request it sends and every answer it gets against the OpenAPI document
// with kin-openapi's openapi3filter.
type checked struct {
	t       *testing.T
	h       *flowtest.Harness
	url     string
	subject string
	doc     *openapi3.T
	router  routers.Router
	// refusing marks a request the document must refuse (see refused).
	refusing bool
	mu       sync.Mutex
	seen     map[string]bool // "operationId status"
}

func newChecked(t *testing.T) *checked {
	t.Helper()
	h := flowtest.New(t)
	srv := httptest.NewServer(flowhttp.New(h.Engine, flowhttp.HeaderSubject(flowhttp.SubjectHeader)))
	t.Cleanup(srv.Close)
	doc := loadOpenAPI(t, flowhttp.OpenAPI())
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route the document: %v", err)
	}
	return &checked{t: t, h: h, url: srv.URL, subject: "user-1", doc: doc, router: router, seen: map[string]bool{}}
}

// exchange is one request and its answer.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// decode decodes the answer's body into v.
func (x exchange) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(x.body, v); err != nil {
		tb.Fatalf("decode %s: %v", x.body, err)
	}
}

// do sends a request (body is JSON-encoded unless nil, or sent as is when a
// string) with the subject and the given header pairs, checks it and its
// answer against the document, and returns the answer.
func (c *checked) do(method, path string, body any, headers ...string) exchange {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, c.url+path, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(flowhttp.SubjectHeader, c.subject)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	in := c.checkRequest(req, raw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if in != nil {
		c.checkResponse(in, resp, out)
	}
	return exchange{status: resp.StatusCode, header: resp.Header, body: out}
}

// refused sends a request that the document must refuse, as the API
// does: its answer is still checked.
func (c *checked) refused(method, path string, body any) exchange {
	c.t.Helper()
	c.refusing = true
	defer func() { c.refusing = false }()
	return c.do(method, path, body)
}

// checkRequest checks a request against its operation, and returns the
// input its answer is checked with.
func (c *checked) checkRequest(req *http.Request, body []byte) *openapi3filter.RequestValidationInput {
	c.t.Helper()
	probe := req.Clone(context.Background())
	probe.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(probe)
	if err != nil {
		c.t.Errorf("%s %s: no operation of the document: %v", req.Method, req.URL.Path, err)
		return nil
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: subjectPresent}}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case err != nil && !c.refusing:
		c.t.Errorf("%s %s: the request does not conform to the document: %v\n%s", req.Method, req.URL.Path, err, body)
	case err == nil && c.refusing:
		c.t.Errorf("%s %s: the document accepts a request the API refuses\n%s", req.Method, req.URL.Path, body)
	}
	return in
}

// subjectPresent authenticates a request as the document's security
// scheme says: the subject header is there.
func subjectPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if name := in.SecurityScheme.Name; in.RequestValidationInput.Request.Header.Get(name) == "" {
		return errors.New("no " + name + " header")
	}
	return nil
}

func (c *checked) checkResponse(in *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) {
	c.t.Helper()
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s: the %d answer does not conform to the document: %v\n%s",
			in.Request.Method, in.Request.URL.Path, resp.StatusCode, err, body)
	}
	c.mu.Lock()
	c.seen[in.Route.Operation.OperationID+" "+http.StatusText(resp.StatusCode)] = true
	c.mu.Unlock()
}

// saw reports whether an answer of the operation with the status was checked.
func (c *checked) saw(operationID string, status int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[operationID+" "+http.StatusText(status)]
}

// operations lists the document's operation ids whose path starts with prefix.
func (c *checked) operations(prefix string) []string {
	var ids []string
	for path, item := range c.doc.Paths.Map() {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		for _, op := range item.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	return ids
}
