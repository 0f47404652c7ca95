package flowhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/internal/openapicheck"
)

// checked is a client of the flow API, over real HTTP, that checks every
// request it sends and every answer it gets against the OpenAPI document.
type checked struct {
	*openapicheck.Checker
	t       *testing.T
	h       *flowtest.Harness
	url     string
	subject string
}

func newChecked(t *testing.T) *checked {
	t.Helper()
	h := flowtest.New(t)
	srv := httptest.NewServer(flowhttp.New(h.Engine, flowhttp.HeaderSubject(flowhttp.SubjectHeader)))
	t.Cleanup(srv.Close)
	return &checked{Checker: openapicheck.New(t, flowhttp.OpenAPI(), subjectPresent), t: t, h: h, url: srv.URL, subject: "user-1"}
}

// subjectPresent authenticates a request as the document's security
// scheme says: the subject header is there.
func subjectPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if name := in.SecurityScheme.Name; in.RequestValidationInput.Request.Header.Get(name) == "" {
		return errors.New("no " + name + " header")
	}
	return nil
}

// exchange is one request's answer.
type exchange = openapicheck.Exchange

// do sends a request (body is JSON-encoded unless nil, or sent as is when a
// string) with the subject and the given header pairs, checks it and its
// answer against the document, and returns the answer.
func (c *checked) do(method, path string, body any, headers ...string) exchange {
	c.t.Helper()
	return c.send(method, path, body, false, headers...)
}

// refused sends a request that the document must refuse, as the API
// does: its answer is still checked.
func (c *checked) refused(method, path string, body any) exchange {
	c.t.Helper()
	return c.send(method, path, body, true)
}

func (c *checked) send(method, path string, body any, refused bool, headers ...string) exchange {
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
	return c.Do(c.t, req, raw, refused)
}
