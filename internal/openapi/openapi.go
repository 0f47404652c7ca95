// Package openapi checks request and response bodies against Ratio's
// published OpenAPI 3.0 description, ratio-openapi-2023.yaml (the newest
// copy found, see ../shared/reference), converted once to JSON and embedded.
//
// It implements the subset of OpenAPI 3.0 schemas that file uses: type
// (object, array, string, boolean, integer, number), required, properties,
// items, enum, minLength, maxLength and $ref to #/components/schemas.
// Properties a schema does not name are allowed, as OpenAPI's default
// additionalProperties is.
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
	"sort"
	"strconv"
	"strings"
	"sync"
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
	rb := op.RequestBody
	if rb == nil {
		if len(bytes.TrimSpace(body)) != 0 {
			return schemaErr(key+": request body", "the operation takes no body")
		}
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if rb.Required {
			return schemaErr(key+": request body", "missing, but required")
		}
		return nil
	}
	media, ok := rb.Content["application/json"]
	if !ok || media.Schema == nil {
		return nil
	}
	return load().validateBody(key+": request body", media.Schema, body)
}

// ValidateResponse checks an answer of method and path: that status is
// documented for the operation (or allow-listed) and that body matches the
// documented schema. An operation documented with no content must answer an
// empty body or an empty JSON object ("{}", what Ratio's docs show).
func ValidateResponse(method, path string, status int, body []byte) error {
	d := load()
	op, key, err := d.find(method, path)
	if err != nil {
		return err
	}
	resp, ok := op.Responses[strconv.Itoa(status)]
	if !ok {
		if why := allowed(key, status); why == "" {
			return fmt.Errorf("%w: %s answered %d (documented: %s)", ErrUndocumentedStatus, key, status, op.statuses())
		}
		resp = response{Content: map[string]media{"application/json": {Schema: &Schema{Ref: "#/components/schemas/Error"}}}}
	}
	where := fmt.Sprintf("%s: %d response body", key, status)
	media, ok := resp.Content["application/json"]
	if !ok || media.Schema == nil {
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 {
			return nil
		}
		var v map[string]any
		if json.Unmarshal(trimmed, &v) == nil && len(v) == 0 {
			return nil
		}
		return schemaErr(where, "must be empty or {} (the spec documents no content)")
	}
	return d.validateBody(where, media.Schema, body)
}

// document is the part of an OpenAPI 3.0 file the checks read.
type document struct {
	ops     map[string]*operation // by "METHOD /template"
	routes  []route
	schemas map[string]*Schema
}

// route matches concrete paths to one path template.
type route struct {
	template string
	segs     []segment
	literal  int // characters of literal text, to prefer the most specific template
}

// segment is one path segment of a template: a literal, or a parameter
// with an optional literal prefix and suffix ("{userId}:calculateAchLimits").
type segment struct {
	param          bool
	prefix, suffix string
}

type operation struct {
	RequestBody *struct {
		Required bool             `json:"required"`
		Content  map[string]media `json:"content"`
	} `json:"requestBody"`
	Responses map[string]response `json:"responses"`
}

type response struct {
	Content map[string]media `json:"content"`
}

type media struct {
	Schema *Schema `json:"schema"`
}

func (o *operation) statuses() string {
	var s []string
	for k := range o.Responses {
		s = append(s, k)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

var (
	loadOnce sync.Once
	loaded   *document
)

// load parses the embedded spec once. The file is part of the source: if
// it does not parse, that is a programmer error.
func load() *document {
	loadOnce.Do(func() {
		d, err := parse(specJSON)
		if err != nil {
			panic("openapi: embedded spec: " + err.Error())
		}
		loaded = d
	})
	return loaded
}

func parse(data []byte) (*document, error) {
	var raw struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]*Schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	d := &document{ops: map[string]*operation{}, schemas: raw.Components.Schemas}
	for tmpl, item := range raw.Paths {
		for method, rawOp := range item {
			m := strings.ToUpper(method)
			switch m {
			case "GET", "POST", "PUT", "PATCH", "DELETE":
			default:
				continue // parameters, summary, ...
			}
			op := new(operation)
			if err := json.Unmarshal(rawOp, op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", m, tmpl, err)
			}
			d.ops[m+" "+tmpl] = op
		}
		d.routes = append(d.routes, compile(tmpl))
	}
	return d, nil
}

func compile(tmpl string) route {
	r := route{template: tmpl}
	for _, part := range strings.Split(strings.TrimPrefix(tmpl, "/"), "/") {
		open, end := strings.IndexByte(part, '{'), strings.IndexByte(part, '}')
		if open < 0 || end < open {
			r.segs = append(r.segs, segment{prefix: part})
			r.literal += len(part)
			continue
		}
		s := segment{param: true, prefix: part[:open], suffix: part[end+1:]}
		r.segs = append(r.segs, s)
		r.literal += len(s.prefix) + len(s.suffix)
	}
	return r
}

func (r route) match(parts []string) bool {
	if len(parts) != len(r.segs) {
		return false
	}
	for i, s := range r.segs {
		p := parts[i]
		if !s.param {
			if p != s.prefix {
				return false
			}
			continue
		}
		if len(p) <= len(s.prefix)+len(s.suffix) || !strings.HasPrefix(p, s.prefix) || !strings.HasSuffix(p, s.suffix) {
			return false
		}
	}
	return true
}

// find returns the operation for method and path, and its key
// "METHOD /template".
func (d *document) find(method, path string) (*operation, string, error) {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	method = strings.ToUpper(method)
	if op, ok := d.ops[method+" "+path]; ok {
		return op, method + " " + path, nil
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var best *route
	for i := range d.routes {
		r := &d.routes[i]
		if _, ok := d.ops[method+" "+r.template]; !ok || !r.match(parts) {
			continue
		}
		if best == nil || r.literal > best.literal {
			best = r
		}
	}
	if best == nil {
		return nil, "", fmt.Errorf("%w: %s %s", ErrUnknownOperation, method, path)
	}
	key := method + " " + best.template
	return d.ops[key], key, nil
}
