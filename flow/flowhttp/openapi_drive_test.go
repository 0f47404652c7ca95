package flowhttp_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/internal/openapicheck"
)

// TestOpenAPI_DrivesTheLinkFlowFromTheDocument plays a frontend that knows
// nothing but the document GET /openapi.json answers, and what its user
// has (a wallet, a phone, an email, the codes they receive). It starts a
// link flow with the fields the document's start schema requires, and then
// at each view sends one of the view's `next` events, filling the fields
// the event's request schema requires, until the flow ends. No Go type of
// the API is used: views are plain JSON.
func TestOpenAPI_DrivesTheLinkFlowFromTheDocument(t *testing.T) {
	c := newChecked(t)
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	c.h.SeedUser(p)
	served := c.do("GET", "/openapi.json", nil)
	doc := openapicheck.Load(t, served.Body)

	// What the user has, by the field names the document uses.
	fill := func(field string, view map[string]any) any {
		switch field {
		case "walletAddress":
			return w.Address
		case "signature":
			challenge, _ := view["challenge"].(string)
			return w.Sign(t, challenge)
		case "phoneNumber":
			return p.Phone
		case "emailAddress":
			return p.Email
		case "otp":
			if view["emailMask"] != nil {
				return c.h.OTP(p.Email).Reveal()
			}
			return c.h.OTP(p.Phone).Reveal()
		}
		t.Fatalf("the document asks for field %q, which this user cannot fill", field)
		return nil
	}

	start := startSchema(t, doc, "link")
	body := map[string]any{"kind": start.Properties["kind"].Value.Enum[0]}
	for _, field := range start.Required {
		if field != "kind" {
			body[field] = fill(field, nil)
		}
	}
	ans := c.do("POST", "/v1/flows", body)
	if ans.Status != http.StatusCreated {
		t.Fatalf("start: %d %s", ans.Status, ans.Body)
	}
	var view map[string]any
	ans.Decode(t, &view)
	var path []string
	for range 20 {
		if view["terminal"] == true {
			break
		}
		event, schema := pickEvent(t, doc, view)
		body := map[string]any{}
		for _, field := range schema.Required {
			body[field] = fill(field, view)
		}
		if err := schema.VisitJSON(body); err != nil {
			t.Fatalf("%s: the filled body does not match its schema: %v", event, err)
		}
		ans := c.do("POST", "/v1/flows/"+view["id"].(string)+"/events/"+event, body)
		if ans.Status != http.StatusOK {
			t.Fatalf("%s in %v: %d %s", event, view["state"], ans.Status, ans.Body)
		}
		view = nil
		ans.Decode(t, &view)
		path = append(path, event+">"+view["state"].(string))
	}
	want := "sign>WalletAuthed submit_phone>PhoneConflict confirm_phone>SmsFirstSent submit_otp>SmsVerified " +
		"submit_email>EmailSent submit_otp>Linked"
	if got := strings.Join(path, " "); got != want {
		t.Errorf("the document led the frontend through\n%s\nwant\n%s", got, want)
	}
}

// startSchema returns the document's start schema of a kind: the
// discriminator's mapping of the start request's body.
func startSchema(t *testing.T, doc *openapi3.T, kind string) *openapi3.Schema {
	t.Helper()
	op := doc.Paths.Find("/v1/flows").Post
	body := op.RequestBody.Value.Content.Get("application/json").Schema.Value
	target := body.Discriminator.Mapping[kind].Ref
	for _, one := range body.OneOf {
		if one.Ref == target {
			return one.Value
		}
	}
	t.Fatalf("the start request has no schema for kind %s", kind)
	return nil
}

// pickEvent chooses what a user does next in view: among the events of
// `next` a user sends (not automatic ones, not cancel), the first whose
// request schema asks for a field (a step forward), else the first. It
// checks that `next` lists the fields the event's schema has.
func pickEvent(t *testing.T, doc *openapi3.T, view map[string]any) (string, *openapi3.Schema) {
	t.Helper()
	var firstEvent string
	var firstSchema *openapi3.Schema
	for _, n := range view["next"].([]any) {
		next := n.(map[string]any)
		event := next["event"].(string)
		if next["auto"] == true || event == "cancel" {
			continue
		}
		item := doc.Paths.Find("/v1/flows/{id}/events/" + event)
		if item == nil || item.Post == nil {
			t.Fatalf("view in %v offers %s, which the document has no operation for", view["state"], event)
		}
		schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
		var listed, props []string
		for _, f := range next["fields"].([]any) {
			listed = append(listed, f.(string))
		}
		for name := range schema.Properties {
			props = append(props, name)
		}
		slices.Sort(listed)
		slices.Sort(props)
		if !slices.Equal(listed, props) {
			t.Errorf("view in %v lists fields %v for %s, its schema %v", view["state"], listed, event, props)
		}
		if len(schema.Required) > 0 {
			return event, schema
		}
		if firstEvent == "" {
			firstEvent, firstSchema = event, schema
		}
	}
	if firstEvent == "" {
		t.Fatalf("view in %v offers nothing a user sends: %v", view["state"], view["next"])
	}
	return firstEvent, firstSchema
}
