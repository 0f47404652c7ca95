package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Schema is the subset of an OpenAPI 3.0 schema object that Ratio's file
// uses.
type Schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*Schema `json:"properties"`
	Items      *Schema            `json:"items"`
	Enum       []any              `json:"enum"`
	MinLength  *int               `json:"minLength"`
	MaxLength  *int               `json:"maxLength"`
}

const refPrefix = "#/components/schemas/"

// validateBody decodes body as one JSON value and checks it against s.
// Every violation is reported, joined, each naming its place as a JSON path
// ($.userMask.id).
func (d *document) validateBody(where string, s *Schema, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return schemaErr(where, "not JSON: "+err.Error())
	}
	if dec.More() {
		return schemaErr(where, "more than one JSON value")
	}
	var errs []error
	d.check(s, v, "$", &errs)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", where, errors.Join(errs...))
}

// check appends to errs every way v fails s; at is v's JSON path.
func (d *document) check(s *Schema, v any, at string, errs *[]error) {
	for depth := 0; s != nil && s.Ref != ""; depth++ {
		name := strings.TrimPrefix(s.Ref, refPrefix)
		target, ok := d.schemas[name]
		if !ok || depth > 32 || name == s.Ref {
			*errs = append(*errs, schemaErr(at, "unresolvable $ref "+s.Ref))
			return
		}
		s = target
	}
	if s == nil {
		return
	}
	typ := s.Type
	if typ == "" && s.Properties != nil {
		typ = "object"
	}
	if v == nil {
		*errs = append(*errs, schemaErr(at, "is null (the spec declares no nullable values)"))
		return
	}
	switch typ {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			*errs = append(*errs, schemaErr(at, "must be an object, got "+kind(v)))
			return
		}
		d.checkObject(s, obj, at, errs)
		return
	case "array":
		arr, ok := v.([]any)
		if !ok {
			*errs = append(*errs, schemaErr(at, "must be an array, got "+kind(v)))
			return
		}
		for i, item := range arr {
			p := fmt.Sprintf("%s[%d]", at, i)
			d.check(s.Items, item, p, errs)
			// The generator that wrote Ratio's file (swagger-core) puts an
			// array's item enum on the array itself (User.flags, webhook
			// events). Read it as the items' enum, which is what it means.
			checkEnum(s.Enum, item, p, errs)
		}
		return
	case "string":
		str, ok := v.(string)
		if !ok {
			*errs = append(*errs, schemaErr(at, "must be a string, got "+kind(v)))
			return
		}
		n := utf8.RuneCountInString(str)
		if s.MinLength != nil && n < *s.MinLength {
			*errs = append(*errs, schemaErr(at, fmt.Sprintf("shorter than minLength %d", *s.MinLength)))
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			*errs = append(*errs, schemaErr(at, fmt.Sprintf("longer than maxLength %d", *s.MaxLength)))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			*errs = append(*errs, schemaErr(at, "must be a boolean, got "+kind(v)))
			return
		}
	case "integer":
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			*errs = append(*errs, schemaErr(at, "must be an integer, got "+kind(v)))
			return
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			*errs = append(*errs, schemaErr(at, "must be a number, got "+kind(v)))
			return
		}
	}
	checkEnum(s.Enum, v, at, errs)
}

func (d *document) checkObject(s *Schema, obj map[string]any, at string, errs *[]error) {
	for _, name := range s.Required {
		if _, ok := obj[name]; !ok {
			*errs = append(*errs, schemaErr(at+"."+name, "required, but missing"))
		}
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names) // stable error order
	for _, name := range names {
		if ps, ok := s.Properties[name]; ok {
			d.check(ps, obj[name], at+"."+name, errs)
		}
	}
}

func checkEnum(enum []any, v any, at string, errs *[]error) {
	if len(enum) == 0 {
		return
	}
	for _, e := range enum {
		if enumEqual(e, v) {
			return
		}
	}
	*errs = append(*errs, schemaErr(at, fmt.Sprintf("%v is not one of %v", v, enum)))
}

// enumEqual compares an enum value from the spec (decoded without
// UseNumber) with a body value (decoded with it).
func enumEqual(e, v any) bool {
	switch ev := e.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == ev
	case bool:
		b, ok := v.(bool)
		return ok && b == ev
	case float64:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == ev
	}
	return false
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
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
