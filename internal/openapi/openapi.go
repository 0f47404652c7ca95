// Package openapi checks request and response bodies against Ratio's
// published OpenAPI 3.0 description of 2023, ratio-openapi-2023.yaml (the
// newest published copy), converted once to JSON and embedded.
//
// The checks are kin-openapi's (github.com/getkin/kin-openapi), the
// validator that also checks ratioflow's own API document: its router finds
// the operation of a method and a path, and its schema validator checks
// bodies. Properties a schema does not name are allowed, as OpenAPI's
// default additionalProperties is. One reading is ours: the generator that
// wrote Ratio's file (swagger-core) puts an array's item enum on the array
// itself (User.flags, webhook events); the enum is moved to the items,
// which is what it means.
//
// A response status the file does not list for an operation is reported,
// except for the statuses in this package's allow-list (allow.go): answers
// the contract found in Ratio's guides (409 ALREADY_EXISTS_PHONE on
// sms:send, for one) or that ratioflow's sandbox gives on purpose (401 for a
// wrong wallet signature, 429 and 5xx for injected faults). Those must carry
// the Error schema.
//
// Tests use it to hold the sandbox, and the client's requests, to Ratio's
// published shapes.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

//go:embed ratio-openapi-2023.json
var specJSON []byte

// ErrUnknownOperation means the spec describes no operation for the method
// and path.
var ErrUnknownOperation = errors.New("openapi: no such operation in the spec")

// ErrUndocumentedStatus means the spec (and the allow-list) does not list
// the response status for the operation.
var ErrUndocumentedStatus = errors.New("openapi: status not documented for the operation")

// ErrSchema means a body does not conform to its schema. Every schema
// violation matches it with errors.Is.
var ErrSchema = errors.New("openapi: body does not match its schema")

// ValidateRequest checks body, the JSON request body of method and path
// (a concrete path such as /v1/users/0b5…, or a template), against the
// operation's request schema. A query string on path is ignored. An empty
// body is accepted only when the operation declares no required body.
func ValidateRequest(method, path string, body []byte) error {
	op, key, err := load().find(method, path)
	if err != nil {
		return err
	}
	where := key + ": request body"
	empty := len(bytes.TrimSpace(body)) == 0
	switch {
	case op.RequestBody == nil && empty:
		return nil
	case op.RequestBody == nil:
		return schemaErr(where, "the operation takes no body")
	case empty && op.RequestBody.Value.Required:
		return schemaErr(where, "missing, but required")
	case empty:
		return nil
	}
	return validateBody(where, op.RequestBody.Value.Content, body, false)
}

// ValidateResponse checks an answer of method and path: that status is
// documented for the operation (or allow-listed) and that body matches the
// documented schema. An operation documented with no content must answer an
// empty body or an empty JSON object ("{}", what Ratio's docs show).
func ValidateResponse(method, path string, status int, body []byte) error {
	s := load()
	op, key, err := s.find(method, path)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%s: %d response body", key, status)
	resp := op.Responses.Status(status)
	if resp == nil {
		if why := allowed(key, status); why == "" {
			return fmt.Errorf("%w: %s answered %d (documented: %s)", ErrUndocumentedStatus, key, status, statuses(op))
		}
		return validateBody(where, openapi3.NewContentWithJSONSchemaRef(s.errorSchema), body, true)
	}
	content := resp.Value.Content
	if content.Get("application/json") == nil {
		trimmed := bytes.TrimSpace(body)
		var v map[string]any
		if len(trimmed) == 0 || json.Unmarshal(trimmed, &v) == nil && len(v) == 0 {
			return nil
		}
		return schemaErr(where, "must be empty or {} (the spec documents no content)")
	}
	return validateBody(where, content, body, true)
}

// spec is the loaded document and its router.
type spec struct {
	doc         *openapi3.T
	router      routers.Router
	errorSchema *openapi3.SchemaRef
}

// load parses the embedded spec once. The file is part of the source: if
// it does not load, that is a programmer error.
var load = sync.OnceValue(func() *spec {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(specJSON)
	if err != nil {
		panic("openapi: embedded spec: " + err.Error())
	}
	doc.Servers = nil // match paths on any host
	for _, s := range doc.Components.Schemas {
		itemsEnum(s.Value, map[*openapi3.Schema]bool{})
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		panic("openapi: route the embedded spec: " + err.Error())
	}
	return &spec{doc: doc, router: router, errorSchema: doc.Components.Schemas["Error"]}
})

// itemsEnum moves the enum swagger-core put on an array to its items.
func itemsEnum(s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	if s.Type.Is(openapi3.TypeArray) && len(s.Enum) > 0 && s.Items != nil && len(s.Items.Value.Enum) == 0 {
		s.Items.Value.Enum, s.Enum = s.Enum, nil
	}
	for _, p := range s.Properties {
		itemsEnum(p.Value, seen)
	}
	if s.Items != nil {
		itemsEnum(s.Items.Value, seen)
	}
}

// find returns the operation for method and path, and its key
// "METHOD /template".
func (s *spec) find(method, path string) (*openapi3.Operation, string, error) {
	u, err := url.Parse(path)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s %s", ErrUnknownOperation, method, path)
	}
	method = strings.ToUpper(method)
	route, _, err := s.router.FindRoute(&http.Request{Method: method, URL: &url.URL{Path: u.Path}})
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s %s", ErrUnknownOperation, method, u.Path)
	}
	return route.Operation, method + " " + route.Path, nil
}

func statuses(op *openapi3.Operation) string {
	return strings.Join(slices.Sorted(func(yield func(string) bool) {
		for k := range op.Responses.Map() {
			if !yield(k) {
				return
			}
		}
	}), ", ")
}

// validateBody decodes body as one JSON value and checks it against the
// JSON schema of content. Every violation is reported, joined, each naming
// its place as a JSON path ($.userMask.id).
func validateBody(where string, content openapi3.Content, body []byte, response bool) error {
	media := content.Get("application/json")
	if media == nil || media.Schema == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var v any
	if err := dec.Decode(&v); err != nil {
		return schemaErr(where, "not JSON: "+err.Error())
	}
	if dec.More() {
		return schemaErr(where, "more than one JSON value")
	}
	opts := []openapi3.SchemaValidationOption{openapi3.MultiErrors()}
	if response {
		opts = append(opts, openapi3.VisitAsResponse())
	} else {
		opts = append(opts, openapi3.VisitAsRequest())
	}
	err := media.Schema.Value.VisitJSON(v, opts...)
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", where, violations(err))
}

// violations turns kin-openapi's schema errors into violations that match
// ErrSchema, each at its JSON path.
func violations(err error) error {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		var errs []error
		for _, e := range multi {
			errs = append(errs, violations(e))
		}
		return errors.Join(errs...)
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		at := "$"
		for _, p := range se.JSONPointer() {
			if _, err := strconv.Atoi(p); err == nil {
				at += "[" + p + "]"
			} else {
				at += "." + p
			}
		}
		return schemaErr(at, se.Reason)
	}
	return schemaErr("$", err.Error())
}

func schemaErr(at, msg string) error {
	return &violation{at: at, msg: msg}
}

// violation is one way a body fails its schema.
type violation struct{ at, msg string }

// Error returns the error text.
func (v *violation) Error() string { return v.at + ": " + v.msg }

// Is reports whether target is the sentinel this error stands for.
func (v *violation) Is(target error) bool { return target == ErrSchema }
