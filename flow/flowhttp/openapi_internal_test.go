package flowhttp

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/transitions"
)

// TestOpenAPI_SchemasHaveTheJSONFields: each schema of an answer names
// exactly the JSON fields of the Go type flowhttp encodes, so a field added
// to a view or a problem cannot be left out of the document.
func TestOpenAPI_SchemasHaveTheJSONFields(t *testing.T) {
	schemas := buildSchemas(transitions.All(), declaredEvents(transitions.All()))
	for name, v := range map[string]any{"View": flow.View{}, "Next": flow.Next{}, "LastStep": flow.LastStep{},
		"User": flow.User{}, "FlowPage": flow.Page{}, "Problem": problem{}} {
		var fields []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			if tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); tag != "" && tag != "-" {
				fields = append(fields, tag)
			}
		}
		var props []string
		for p := range schemas[name].(obj)["properties"].(obj) {
			props = append(props, p)
		}
		slices.Sort(fields)
		slices.Sort(props)
		if !slices.Equal(fields, props) {
			t.Errorf("schema %s has properties %v, the Go type %T encodes %v", name, props, v, fields)
		}
	}
}

// TestOpenAPI_FieldFormatsAdmitWhatRatioAccepts: a value the input checks
// accept always matches its field's pattern, so a frontend that checks the
// document's formats never refuses a good value.
func TestOpenAPI_FieldFormatsAdmitWhatRatioAccepts(t *testing.T) {
	pattern := func(field string) *regexp.Regexp {
		return regexp.MustCompile(fieldSchema(field)["pattern"].(string))
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	digits := func(n int, from string) string {
		var b strings.Builder
		for range n {
			b.WriteByte(from[rnd.IntN(len(from))])
		}
		return b.String()
	}
	checks := []struct {
		field    string
		generate func() string
		accepts  func(string) bool
	}{
		{ratio.FieldPhoneNumber, func() string { return "+1" + digits(10, "0123456789") },
			func(s string) bool { _, err := ratio.NormalizePhone(s); return err == nil }},
		{ratio.FieldWalletAddress, func() string { return "0x" + digits(40, "0123456789abcdefg") },
			func(s string) bool { _, err := ratio.ParseWalletAddress(s); return err == nil }},
		{ratio.FieldOTP, func() string { return digits(6, "0123456789a") },
			func(s string) bool { return ratio.CheckOTP(ratio.Secret(s)) == nil }},
	}
	for _, c := range checks {
		re, accepted := pattern(c.field), 0
		for range 2000 {
			v := c.generate()
			if !c.accepts(v) {
				continue
			}
			accepted++
			if !re.MatchString(v) {
				t.Errorf("%s %q passes the input check but not the pattern %s", c.field, v, re)
			}
		}
		if accepted < 100 {
			t.Errorf("%s: only %d of 2000 generated values passed the input check", c.field, accepted)
		}
	}
	for field, refused := range map[string][]string{
		ratio.FieldPhoneNumber:   {"+14165551234x", "12025550123", "+1 202 555 0123", "+442071838750"},
		ratio.FieldWalletAddress: {"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"},
		ratio.FieldOTP:           {"12345", "1234567", "12345a"},
		ratio.FieldSignature:     {"0x1234", strings.Repeat("g", 130)},
	} {
		for _, v := range refused {
			if pattern(field).MatchString(v) {
				t.Errorf("%s pattern admits %q, which the input check refuses", field, v)
			}
		}
	}
}

// TestOpenAPI_ProblemCodesAreTheTable: the codes of the problem schema, and
// of the response of each status, are those of the table the handler
// answers from.
func TestOpenAPI_ProblemCodesAreTheTable(t *testing.T) {
	enum := problemSchema()["properties"].(obj)["code"].(obj)["enum"].([]string)
	if len(enum) != len(codes) {
		t.Errorf("problem schema lists %d codes, the table has %d", len(enum), len(codes))
	}
	responses := problemResponses()
	for code, status := range codes {
		if !slices.Contains(enum, code) {
			t.Errorf("code %s is missing from the problem schema", code)
		}
		r := responses[fmt.Sprintf("Problem%d", status)].(obj)
		if !strings.Contains(r["description"].(string), code) {
			t.Errorf("the %d response does not list code %s: %s", status, code, r["description"])
		}
	}
}
