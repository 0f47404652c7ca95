package flowhttp

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/store"
)

// The API reads its input strictly, so that no two parties (a proxy and
// the handler, a client and the server) can read one request two ways:
// one canonical path, one subject, one Idempotency-Key at most,
// well-formed query pairs, a JSON body
// declared as JSON, exact field names given once, and nothing after the
// body's object. docs/api.md lists the rules.

// refuse returns the problem that answers r before it is routed, or nil
// for a request the API reads unambiguously.
func (h *Handler) refuse(r *http.Request) *problem {
	if p := r.URL.Path; p == "" || p[0] != '/' || path.Clean(p) != p {
		// http.ServeMux would redirect to the cleaned path; the API has
		// one name for each resource.
		return &problem{Code: "no_route", Detail: "the path is not in canonical form (no //, ., .. or trailing /)"}
	}
	subject, err := h.subject(r)
	switch {
	case errors.Is(err, ErrAmbiguousSubject):
		return &problem{Code: "ambiguous_subject", Detail: "the request says more than once who the caller is"}
	case err != nil:
		return &problem{Code: "unauthenticated", Detail: "the request does not say who the caller is"}
	}
	var ie *store.InvalidError
	if errors.As(store.CheckSubject(subject), &ie) {
		return &problem{Code: "invalid_subject", Field: flow.FieldSubject, Detail: "the caller's subject " + ie.Reason}
	}
	if len(r.Header.Values("Idempotency-Key")) > 1 {
		return invalid("Idempotency-Key", "given more than once")
	}
	if p := checkQuery(r); p != nil {
		return p
	}
	return checkMediaType(r)
}

// checkQuery refuses a query that is not made of well-formed pairs, and
// any query on a path that takes no parameters. (url.ParseQuery drops a
// malformed pair and reads on; the list would then answer as if it had not
// been sent.)
func checkQuery(r *http.Request) *problem {
	if r.URL.RawQuery == "" {
		return nil
	}
	var first string
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		_, valErr := url.QueryUnescape(rawVal)
		switch {
		case err != nil || strings.Contains(pair, ";"):
			return invalid(rawKey, fmt.Sprintf("the query pair %q is not URL-encoded", pair))
		case valErr != nil:
			return invalid(key, "the value is not URL-encoded")
		case key == "":
			return &problem{Code: "invalid_input", Detail: fmt.Sprintf("the query pair %q has no name", pair)}
		}
		first = cmp.Or(first, key)
	}
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.Path != "/v1/flows" {
		return invalid(first, r.Method+" "+r.URL.Path+" takes no query parameters")
	}
	return nil
}

// checkMediaType refuses a POST body declared as anything but JSON. A body
// without a Content-Type is read as JSON.
func checkMediaType(r *http.Request) *problem {
	ct := r.Header.Values("Content-Type")
	if r.Method != http.MethodPost || len(ct) == 0 || r.ContentLength == 0 {
		return nil
	}
	p := &problem{Code: "unsupported_media_type",
		Detail: fmt.Sprintf("the body must be JSON (Content-Type: application/json), not %q", strings.Join(ct, ", "))}
	if len(ct) > 1 {
		return p
	}
	mt, params, err := mime.ParseMediaType(ct[0])
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return p
	}
	for name, v := range params {
		if name != "charset" || !strings.EqualFold(v, "utf-8") {
			return p
		}
	}
	return nil
}

// strictJSON checks what encoding/json lets through: the body must be one
// JSON object in UTF-8, with each of its field names given once and spelt
// exactly as one of fields (encoding/json matches names ignoring case and
// keeps the last of duplicates), and nothing after it.
func strictJSON(body []byte, fields map[string]bool) *problem {
	if !utf8.Valid(body) {
		return jsonProblem("", "the body is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return jsonProblem("", "the body must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonProblem("", "the body is not valid JSON")
		}
		name, _ := tok.(string)
		switch {
		case seen[name]:
			return jsonProblem(name, "field "+name+" is given more than once")
		case !fields[name]:
			return unknownField(name, fields)
		}
		seen[name] = true
		if err := skipValue(dec); err != nil {
			return jsonProblem(name, "the value of field "+name+" is not valid JSON")
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return jsonProblem("", "the body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonProblem("", "the body holds something after its JSON object")
	}
	return nil
}

// unknownField refuses a field name, pointing at the one it differs from
// only by case, if any.
func unknownField(name string, fields map[string]bool) *problem {
	for f := range fields {
		if strings.EqualFold(f, name) {
			return jsonProblem(name, fmt.Sprintf("unknown field %s (field names are case-sensitive: %s)", name, f))
		}
	}
	return jsonProblem(name, "unknown field "+name)
}

func jsonProblem(field, detail string) *problem {
	return &problem{Code: "invalid_json", Field: field, Detail: detail}
}

// skipValue reads one JSON value from dec, whatever its nesting.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// jsonFields returns the JSON field names of the struct dst points to,
// those of its embedded structs included.
func jsonFields(dst any) map[string]bool {
	fields := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
			case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
				walk(f.Type)
			case f.IsExported():
				fields[cmp.Or(name, f.Name)] = true
			}
		}
	}
	walk(reflect.TypeOf(dst).Elem())
	return fields
}
