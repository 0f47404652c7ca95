package flowadmin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/ratioflow/ratioflow/flow/flowadmin"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/internal/openapicheck"
)

// checked is a client of the admin API over real HTTP that checks every
// request and every answer against the document.
type checked struct {
	*openapicheck.Checker
	t     *testing.T
	h     *flowtest.Harness
	admin *flowadmin.Handler
	url   string
	token string
}

func newChecked(t *testing.T) *checked {
	t.Helper()
	h := flowtest.New(t)
	admin := flowadmin.New(h.Engine, h.Store)
	admin.Now = h.Clock.Now
	srv := httptest.NewServer(admin)
	t.Cleanup(srv.Close)
	c := &checked{t: t, h: h, admin: admin, url: srv.URL}
	c.Checker = openapicheck.New(t, flowadmin.OpenAPI(), c.bearer)
	return c
}

// bearer authenticates a request as the document's security scheme says:
// once the client has a token, it sends it as a bearer token.
func (c *checked) bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if c.token != "" && !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// exchange is one answer.
type exchange = openapicheck.Exchange

// do sends a request with the token (if any) and the header pairs, checks
// it and its answer against the document, and returns the answer.
func (c *checked) do(method, path string, headers ...string) exchange {
	c.t.Helper()
	return c.send(method, path, false, headers...)
}

// send is do, and with refused set the document must refuse the request,
// as the API does: its answer is still checked when the document has its
// operation.
func (c *checked) send(method, path string, refused bool, headers ...string) exchange {
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
	return c.Do(c.t, req, nil, refused)
}
