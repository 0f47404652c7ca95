package flowhttp

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/internal/problemcodes"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// The schemas of the OpenAPI document: the fields with their formats, the
// request of every kind and every event, the view, the problem.

// fieldSchema is the schema of an input field, with the format Ratio's
// rules give it (package ratio checks them before anything is sent).
// Every name transitions.FieldNames lists has one.
func fieldSchema(name string) obj {
	switch name {
	case ratio.FieldWalletAddress:
		return obj{"type": "string", "pattern": "^0[xX][0-9a-fA-F]{40}$",
			"example": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
			"description": "An EVM wallet address: 0x and 40 hex digits (20 bytes). " +
				"In mixed case it must carry a valid EIP-55 checksum."}
	case ratio.FieldSignature:
		return obj{"type": "string", "pattern": "^(0[xX])?[0-9a-fA-F]{130}$",
			"description": "The wallet's personal_sign (EIP-191) signature of the view's `challenge`: " +
				"65 bytes as hex, with or without 0x."}
	case ratio.FieldPhoneNumber:
		return obj{"type": "string", "pattern": `^\+1[2-9][0-9]{9}$`, "example": "+12025550123",
			"description": "A US phone number in E.164 (Ratio accepts only US numbers)."}
	case ratio.FieldOTP:
		return obj{"type": "string", "pattern": "^[0-9]{6}$", "writeOnly": true, "example": "123456",
			"description": "The 6-digit one-time code of the SMS or email just sent."}
	case ratio.FieldEmailAddress:
		return obj{"type": "string", "format": "email", "maxLength": 254, "example": "ada@example.com",
			"description": "A bare email address whose domain has a dot."}
	case ratio.FieldFirstName, ratio.FieldLastName, ratio.FieldMiddleName:
		return obj{"type": "string", "minLength": 1, "maxLength": 100,
			"description": "A printable name with at least one letter, at most 100 characters."}
	case ratio.FieldCountry:
		return obj{"type": "string", "enum": ratio.CountryCodes(), "example": "US",
			"description": "An ISO 3166-1 alpha-2 country code, in capitals."}
	case ratio.FieldAcceptedTerms:
		return obj{"type": "boolean", "enum": []bool{true},
			"description": `Must be true: the user ticked "I agree to the Ratio terms of use."`}
	}
	panic("flowhttp: no schema for input field " + name)
}

// fieldsSchema is the closed object of the given fields, plus extra
// properties (kind, for a start).
func fieldsSchema(desc string, fields []transitions.Field, extra obj, extraRequired ...string) obj {
	props, req := obj{}, slices.Clone(extraRequired)
	maps.Copy(props, extra)
	for _, f := range fields {
		props[f.Name] = schemaRef(pascal(f.Name))
		if !f.Optional {
			req = append(req, f.Name)
		}
	}
	s := obj{"type": "object", "description": desc, "properties": props, "additionalProperties": false}
	if len(req) > 0 {
		s["required"] = req
	}
	return s
}

// buildSchemas returns the document's schemas.
func buildSchemas(flows []*transitions.Flow, evs []eventDecl) obj {
	s := obj{}
	for _, name := range transitions.FieldNames() {
		s[pascal(name)] = fieldSchema(name)
	}
	var kinds, starts []string
	mapping := obj{}
	for _, f := range flows {
		name := "Start" + pascal(string(f.Kind))
		kinds, starts = append(kinds, string(f.Kind)), append(starts, name)
		mapping[string(f.Kind)] = "#/components/schemas/" + name
		s[name] = fieldsSchema(fmt.Sprintf("Starts a %s flow: %s.", f.Kind, f.Title),
			f.Start, obj{"kind": obj{"type": "string", "enum": []string{string(f.Kind)}}}, "kind")
	}
	var oneOf []obj
	for _, name := range starts {
		oneOf = append(oneOf, schemaRef(name))
	}
	s["StartFlowRequest"] = obj{"oneOf": oneOf, "discriminator": obj{"propertyName": "kind", "mapping": mapping},
		"description": "The flow's kind and its start fields."}
	for _, ev := range evs {
		s[pascal(string(ev.event))+"Request"] = fieldsSchema("The fields of "+string(ev.event)+".", ev.fields, nil)
	}
	s["Kind"] = obj{"type": "string", "enum": kinds, "description": "A flow's kind."}
	s["State"] = obj{"type": "string", "enum": flowStates(flows), "description": "A state of a flow's graph."}
	s["Event"] = obj{"type": "string", "enum": flowEvents(flows), "description": "An event of a flow's graph."}
	s["Outcome"] = obj{"type": "string", "enum": outcomes(flows), "description": "The outcome of a step."}
	s["FieldName"] = obj{"type": "string", "enum": transitions.FieldNames(), "description": "An input field's name."}
	maps.Copy(s, viewSchemas())
	s["Problem"] = problemSchema()
	return s
}

func flowStates(flows []*transitions.Flow) []states.State {
	var out []states.State
	for _, f := range flows {
		out = append(out, f.States()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func flowEvents(flows []*transitions.Flow) []transitions.Event {
	var out []transitions.Event
	for _, f := range flows {
		for _, t := range f.Transitions {
			out = append(out, t.Event)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// outcomes lists every outcome a table declares an edge for, and new_user,
// which a step records where its edge falls back to ok's.
func outcomes(flows []*transitions.Flow) []transitions.Outcome {
	out := []transitions.Outcome{transitions.NewUser}
	for _, f := range flows {
		for _, t := range f.Transitions {
			for _, e := range t.Edges {
				out = append(out, e.Outcome)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// viewSchemas describe flow.View as flowhttp writes it.
func viewSchemas() obj {
	str := obj{"type": "string"}
	when := obj{"type": "string", "format": "date-time"}
	return obj{
		"View": obj{
			"type": "object", "description": "What a frontend sees of a flow after each step. It never holds a JWT, a one-time code or any other secret.",
			"required": []string{"id", "kind", "state", "version", "terminal", "createdAt", "expiresAt", "next"},
			"properties": obj{
				"id": str, "kind": schemaRef("Kind"), "state": schemaRef("State"),
				"version":   obj{"type": "integer", "format": "int64", "minimum": 1},
				"terminal":  obj{"type": "boolean", "description": "The flow has ended."},
				"createdAt": when, "expiresAt": when,
				"next": obj{"type": "array", "items": schemaRef("Next"),
					"description": "The events the user may send now, each with its fields."},
				"challenge":          obj{"type": "string", "description": "The exact text the wallet signs with personal_sign (EIP-191)."},
				"challengeExpiresAt": when,
				"walletAddress":      schemaRef("WalletAddress"),
				"phoneMask":          obj{"type": "string", "description": "Where the SMS code went."},
				"emailMask":          obj{"type": "string", "description": "Where the email code went."},
				"attemptsLeft":       obj{"type": "integer", "minimum": 0, "description": "Tries left for the current code."},
				"retryAt":            obj{"type": "string", "format": "date-time", "description": "When a held-back send may be tried again."},
				"last":               schemaRef("LastStep"),
				"user":               schemaRef("User"),
				"wallets":            obj{"type": "array", "items": str, "description": "The signed-in user's wallets."},
				"nextFlow":           schemaRef("Kind"),
				"message":            obj{"type": "string", "description": "Once the flow has ended: what happened and what comes next."},
			},
		},
		"Next": obj{
			"type": "object", "required": []string{"event", "fields"},
			"description": "An event the user may send now: POST /v1/flows/{id}/events/{event} with these fields.",
			"properties": obj{
				"event":  schemaRef("Event"),
				"fields": obj{"type": "array", "items": schemaRef("FieldName")},
				"auto":   obj{"type": "boolean", "description": "A step the engine fires by itself, listed so that one that failed transiently can be retried."},
			},
		},
		"LastStep": obj{
			"type": "object", "required": []string{"event", "outcome"}, "description": "The outcome of the latest step.",
			"properties": obj{
				"event": schemaRef("Event"), "outcome": schemaRef("Outcome"),
				"status":  obj{"type": "integer", "description": "Ratio's HTTP status, when it answered one."},
				"code":    obj{"type": "string", "description": "Ratio's error code."},
				"message": obj{"type": "string"},
			},
		},
		"User": obj{
			"type": "object", "required": []string{"id"}, "description": "What a view shows of a Ratio user.",
			"properties": obj{"id": str, "firstName": str, "lastName": str, "kycStatus": str},
		},
		"FlowPage": obj{
			"type": "object", "required": []string{"flows"}, "description": "A page of the caller's flows, oldest first.",
			"properties": obj{
				"flows":         obj{"type": "array", "items": schemaRef("View")},
				"nextPageToken": obj{"type": "string", "description": "Continues the listing; absent on the last page."},
			},
		},
	}
}

func problemSchema() obj {
	return obj{
		"type": "object", "required": []string{"type", "title", "status", "code"},
		"description": "An RFC 9457 problem document. Branch on `code`, never on `title` or `detail`.",
		"properties": obj{
			"type":   obj{"type": "string", "format": "uri", "description": "Where the code is documented."},
			"title":  obj{"type": "string"},
			"status": obj{"type": "integer"},
			"detail": obj{"type": "string"},
			"code":   obj{"type": "string", "enum": problemcodes.All(codes), "description": "ratioflow's stable error code."},
			"field":  obj{"type": "string", "description": "The input field at fault, as Ratio names it."},
			"retryAfter": obj{"type": "integer", "minimum": 1,
				"description": "Seconds to wait before retrying (also the Retry-After header)."},
			"permitted": obj{"type": "array", "items": schemaRef("Event"),
				"description": "The events the flow's state permits."},
			"attemptsLeft": obj{"type": "integer", "minimum": 0, "description": "One-time code tries left."},
			"flow":         schemaRef("View"),
		},
	}
}

// problemResponses has a response per status of the table of codes, whose
// code is one of that status's.
func problemResponses() obj {
	out := obj{}
	for _, status := range problemcodes.Statuses(codes) {
		cs := problemcodes.Of(codes, status)
		out[fmt.Sprintf("Problem%d", status)] = obj{
			"description": http.StatusText(status) + ": " + strings.Join(cs, ", ") + ".",
			"headers": obj{
				"Retry-After":         ref("headers", "RetryAfter"),
				"Idempotent-Replayed": ref("headers", "IdempotentReplayed"),
			},
			"content": obj{"application/problem+json": obj{"schema": obj{"allOf": []obj{
				schemaRef("Problem"),
				{"type": "object", "properties": obj{
					"status": obj{"type": "integer", "enum": []int{status}},
					"code":   obj{"type": "string", "enum": cs},
				}},
			}}}},
		}
	}
	return out
}
