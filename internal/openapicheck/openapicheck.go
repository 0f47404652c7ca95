// Package openapicheck holds an API's tests to the API's own OpenAPI
// document: a Checker sends each request over real HTTP, checks the request
// and its answer with kin-openapi's openapi3filter, and records which
// operation answered which status, so a test can ask that every answer it
// documents was seen.
//
// kin-openapi is for tests only: import this package from _test.go files,
// never from a package the command links.
package openapicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// kin-openapi does not check the email format unless told to; check it
// with the library's own pattern.
var defineFormats sync.Once

// Load parses and validates an OpenAPI document with kin-openapi: its
// structure, every schema, every format named and every example.
func Load(tb testing.TB, data []byte) *openapi3.T {
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

// Checker checks requests and answers against one document.
type Checker struct {
	// Doc is the document, loaded and validated.
	Doc *openapi3.T

	router       routers.Router
	authenticate openapi3filter.AuthenticationFunc
	mu           sync.Mutex
	seen         map[string]bool // "operationId status"
}

// New loads the document (see Load) and returns a Checker that
// authenticates requests with authenticate, as the document's security
// schemes say.
func New(tb testing.TB, document []byte, authenticate openapi3filter.AuthenticationFunc) *Checker {
	tb.Helper()
	doc := Load(tb, document)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		tb.Fatalf("route the document: %v", err)
	}
	return &Checker{Doc: doc, router: router, authenticate: authenticate, seen: map[string]bool{}}
}

// Exchange is the answer to one request.
type Exchange struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode decodes the answer's JSON body into v.
func (x Exchange) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(x.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", x.Body, err)
	}
}

// Do checks req, whose body is body, against its operation, sends it with
// http.DefaultClient, checks the answer against the operation's responses,
// and returns the answer. With refused set the document must refuse the
// request, as the API does: it names no operation for it, or the request
// does not conform; the answer of a request with an operation is still
// checked.
func (c *Checker) Do(tb testing.TB, req *http.Request, body []byte, refused bool) Exchange {
	tb.Helper()
	in := c.checkRequest(tb, req, body, refused)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if in != nil {
		c.checkResponse(tb, in, resp, out)
	}
	return Exchange{Status: resp.StatusCode, Header: resp.Header, Body: out}
}

// checkRequest checks a request against its operation, and returns the
// input its answer is checked with, or nil when it has no operation.
func (c *Checker) checkRequest(tb testing.TB, req *http.Request, body []byte, refused bool) *openapi3filter.RequestValidationInput {
	tb.Helper()
	probe := req.Clone(context.Background())
	probe.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(probe)
	if err != nil {
		if !refused {
			tb.Errorf("%s %s: no operation of the document: %v", req.Method, req.URL.Path, err)
		}
		return nil
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: c.authenticate}}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case err != nil && !refused:
		tb.Errorf("%s %s: the request does not conform to the document: %v\n%s", req.Method, req.URL, err, body)
	case err == nil && refused:
		tb.Errorf("%s %s: the document accepts a request the API refuses\n%s", req.Method, req.URL, body)
	}
	return in
}

func (c *Checker) checkResponse(tb testing.TB, in *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) {
	tb.Helper()
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		tb.Errorf("%s %s: the %d answer does not conform to the document: %v\n%s",
			in.Request.Method, in.Request.URL.Path, resp.StatusCode, err, body)
	}
	c.mu.Lock()
	c.seen[in.Route.Operation.OperationID+" "+http.StatusText(resp.StatusCode)] = true
	c.mu.Unlock()
}

// Saw reports whether an answer of the operation with the status was
// checked.
func (c *Checker) Saw(operationID string, status int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[operationID+" "+http.StatusText(status)]
}

// Operations lists the document's operation ids whose path starts with
// prefix.
func (c *Checker) Operations(prefix string) []string {
	var ids []string
	for path, item := range c.Doc.Paths.Map() {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		for _, op := range item.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	return ids
}
