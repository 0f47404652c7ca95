package flowadmin_test

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

	"github.com/ratioflow/ratioflow/flow/flowadmin"
	"github.com/ratioflow/ratioflow/flow/flowtest"
)

// loadOpenAPI parses and validates the document with kin-openapi: its
// structure, every schema, format and example.
func loadOpenAPI(tb testing.TB, data []byte) *openapi3.T {
	tb.Helper()
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

// checked is a client of the admin API over real HTTP that checks every
// request and every answer against the document.
type checked struct {
	t      *testing.T
	h      *flowtest.Harness
	admin  *flowadmin.Handler
	url    string
	token  string
	doc    *openapi3.T
	router routers.Router
	mu     sync.Mutex
	seen   map[string]bool // "operationId status"
}

func newChecked(t *testing.T) *checked {
	t.Helper()
	h := flowtest.New(t)
	admin := flowadmin.New(h.Engine, h.Store)
	admin.Now = h.Clock.Now
	srv := httptest.NewServer(admin)
	t.Cleanup(srv.Close)
	doc := loadOpenAPI(t, flowadmin.OpenAPI())
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route the document: %v", err)
	}
	return &checked{t: t, h: h, admin: admin, url: srv.URL, doc: doc, router: router, seen: map[string]bool{}}
}

// exchange is one answer.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

func (x exchange) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(x.body, v); err != nil {
		tb.Fatalf("decode %s: %v", x.body, err)
	}
}

// do sends a request with the token (if any) and the header pairs, checks
// it and its answer against the document, and returns the answer.
func (c *checked) do(method, path string, headers ...string) exchange {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	in := c.route(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if in != nil {
		c.checkResponse(in, resp, body)
	}
	return exchange{status: resp.StatusCode, header: resp.Header, body: body}
}

// route finds the request's operation; a request the document has no
// route for is checked by the caller alone.
func (c *checked) route(req *http.Request) *openapi3filter.RequestValidationInput {
	probe := req.Clone(context.Background())
	route, params, err := c.router.FindRoute(probe)
	if err != nil {
		return nil
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error {
			if c.token != "" && !strings.HasPrefix(probe.Header.Get("Authorization"), "Bearer ") {
				return errors.New("no bearer token")
			}
			return nil
		}}}
	return in
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
