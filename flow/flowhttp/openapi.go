package flowhttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/problemcodes"
	"github.com/ratioflow/ratioflow/transitions"
)

// SubjectHeader is the header the document names for the caller's
// identity: the one `ratioflow serve` reads (HeaderSubject(SubjectHeader)).
const SubjectHeader = "X-Ratioflow-Subject"

// OpenAPI returns the OpenAPI 3.0.3 document of the flow API, as JSON:
// every route with its answers and headers, each kind's start fields and
// each event's fields with their formats, the view, and the problem
// document with its closed list of codes. It is built from the declared
// flows (package transitions) and the handler's table of problem codes, so
// it cannot drift from what the engine runs; a frontend can build every
// form from it. The handler serves it at GET /openapi.json.
func OpenAPI() []byte { return bytes.Clone(openAPIDoc()) }

var openAPIDoc = sync.OnceValue(func() []byte { return encodeOpenAPI(transitions.All()) })

// encodeOpenAPI is the document of the API serving flows, as JSON.
func encodeOpenAPI(flows []*transitions.Flow) []byte {
	b, err := json.MarshalIndent(buildOpenAPI(flows), "", "  ")
	if err != nil {
		panic("flowhttp: encode the OpenAPI document: " + err.Error())
	}
	return append(b, '\n')
}

// openAPI serves the document of the flows the handler's engine runs:
// OpenAPI()'s, unless the engine was given other flows.
func (h *Handler) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(h.doc())
}

// obj is a JSON object of the document; encoding/json writes its keys
// sorted, so the document's bytes are stable.
type obj = map[string]any

func ref(kind, name string) obj { return obj{"$ref": "#/components/" + kind + "/" + name} }

func schemaRef(name string) obj { return ref("schemas", name) }

// buildOpenAPI builds the document of the API serving flows.
func buildOpenAPI(flows []*transitions.Flow) obj {
	evs := declaredEvents(flows)
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":   "ratioflow flow API",
			"version": "1",
			"description": "Runs Ratio's authentication and wallet-linking flows for a wallet app's frontend. " +
				"Each request fires one event of a flow and answers with the flow's view, whose `next` lists " +
				"the events the user may send now and their fields. Errors are RFC 9457 problem documents " +
				"with a stable `code`. A POST with an `Idempotency-Key` header is done once. A request's " +
				"W3C trace context (`traceparent`, `tracestate`) is carried into the flow's spans.",
		},
		"security": []obj{{"subject": []string{}}},
		"tags": []obj{
			{"name": "flows", "description": "Start, read, list and cancel flows."},
			{"name": "events", "description": "Send the events a view's `next` lists."},
		},
		"paths": buildPaths(flows, evs),
		"components": obj{
			"securitySchemes": obj{"subject": obj{
				"type": "apiKey", "in": "header", "name": SubjectHeader,
				"description": "The caller's identity, set by an authenticating proxy in front of the API " +
					"(which strips it from client requests). A flow belongs to the subject that started it; " +
					"to every other subject it does not exist.",
			}},
			"parameters": obj{
				"FlowID": obj{"name": "id", "in": "path", "required": true, "description": "The flow's id.",
					"schema": obj{"type": "string", "minLength": 1}},
				"IdempotencyKey": obj{"name": "Idempotency-Key", "in": "header", "required": false,
					"description": "Makes the POST happen once: a repeat with the same key, from the same " +
						"subject, to the same path, with the same body, answers the first answer again " +
						"(with Idempotent-Replayed: true) and makes no second Ratio call.",
					"schema": obj{"type": "string", "minLength": 1}},
			},
			"headers": obj{
				"RetryAfter": obj{"description": "Seconds to wait before retrying.",
					"schema": obj{"type": "integer", "minimum": 1}},
				"IdempotentReplayed": obj{"description": "`true` when the answer is the kept answer of an earlier " +
					"request with the same Idempotency-Key.", "schema": obj{"type": "string", "enum": []string{"true"}}},
				"Location": obj{"description": "The new flow's path, /v1/flows/{id}.", "required": true,
					"schema": obj{"type": "string", "pattern": "^/v1/flows/[^/]+$"}},
			},
			"responses": problemResponses(),
			"schemas":   buildSchemas(flows, evs),
		},
	}
}

// eventDecl is what the tables declare of one event across every flow.
type eventDecl struct {
	event transitions.Event
	// fields are the fields a frontend sends with the event: none for an
	// automatic step, which takes its input from the flow's data.
	fields []transitions.Field
	auto   bool
	// docs are the transitions' distinct docs, each with the kinds it is in.
	docs []string
}

// declaredEvents lists the events a frontend may send (every one but
// expire), sorted. An event must take the same fields in every flow that
// declares it, since its operation has one request schema: a table that
// breaks this is a programmer error.
func declaredEvents(flows []*transitions.Flow) []eventDecl {
	byEvent := map[transitions.Event]*eventDecl{}
	docKinds := map[transitions.Event]map[string][]string{}
	for _, f := range flows {
		for _, t := range f.Transitions {
			if t.Event == transitions.Expire {
				continue
			}
			fields := t.Input
			if t.Auto {
				fields = nil
			}
			d, seen := byEvent[t.Event]
			if !seen {
				d = &eventDecl{event: t.Event, fields: fields, auto: t.Auto}
				byEvent[t.Event] = d
				docKinds[t.Event] = map[string][]string{}
			}
			if d.auto != t.Auto || !slices.Equal(d.fields, fields) {
				panic(fmt.Sprintf("flowhttp: event %s takes different fields in flow %s than in another flow", t.Event, f.Kind))
			}
			if kinds := docKinds[t.Event][t.Doc]; !slices.Contains(kinds, string(f.Kind)) {
				docKinds[t.Event][t.Doc] = append(kinds, string(f.Kind))
			}
		}
	}
	var out []eventDecl
	for _, ev := range slices.Sorted(mapKeys(byEvent)) {
		d := byEvent[ev]
		for _, doc := range slices.Sorted(mapKeys(docKinds[ev])) {
			d.docs = append(d.docs, fmt.Sprintf("%s (%s)", doc, strings.Join(docKinds[ev][doc], ", ")))
		}
		out = append(out, *d)
	}
	return out
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// buildPaths lists every route of the API, one operation per event.
func buildPaths(flows []*transitions.Flow, evs []eventDecl) obj {
	flowID, idemKey := ref("parameters", "FlowID"), ref("parameters", "IdempotencyKey")
	paths := obj{
		"/v1/flows": obj{
			"post": operation("startFlow", "flows", "Start a flow",
				"Starts a flow of the given kind with its start fields, and runs its automatic steps.",
				[]obj{idemKey}, requestBody("StartFlowRequest", true),
				viewAnswer(http.StatusCreated, "The flow was started.", "Location", "IdempotentReplayed")),
			"get": operation("listFlows", "flows", "List the caller's flows",
				"The caller's flows, oldest first, a page at a time, so that a frontend that lost its "+
					"flow's id finds it again. A flow found past its deadline is shown Expired. An unknown, "+
					"repeated or malformed parameter is 422 invalid_input naming it.",
				listParameters(), nil,
				answer(http.StatusOK, "A page of the caller's flows.", "application/json", schemaRef("FlowPage"))),
		},
		"/v1/flows/{id}": obj{
			"parameters": []obj{flowID},
			"get": operation("getFlow", "flows", "Read a flow",
				"The flow's view. A flow past its deadline is shown Expired.", nil, nil,
				viewAnswer(http.StatusOK, "The flow's view.")),
			"delete": operation("cancelFlow", "flows", "Cancel a flow",
				"Ends the flow in Canceled, as the cancel event does.", nil, nil,
				viewAnswer(http.StatusOK, "The flow, now Canceled.")),
		},
		"/openapi.json": obj{
			"get": operation("getOpenAPI", "flows", "This document", "", nil, nil,
				answer(http.StatusOK, "The OpenAPI document of this API.", "application/json", obj{"type": "object"})),
		},
	}
	for _, ev := range evs {
		desc := strings.Join(ev.docs, "\n\n")
		if ev.auto {
			desc = "An automatic step: the engine fires it by itself, with the data given at the start. " +
				"It is listed in `next` (with `auto: true`) so that one that failed transiently can be " +
				"retried.\n\n" + desc
		}
		paths["/v1/flows/{id}/events/"+string(ev.event)] = obj{
			"parameters": []obj{flowID},
			"post": operation("event"+pascal(string(ev.event)), "events", "Send "+string(ev.event), desc,
				[]obj{idemKey}, requestBody(pascal(string(ev.event))+"Request", required(ev.fields)),
				viewAnswer(http.StatusOK, "The flow's view after the step.", "IdempotentReplayed")),
		}
	}
	return paths
}

// required reports whether fields has a required one, so that a body is.
func required(fields []transitions.Field) bool {
	return slices.ContainsFunc(fields, func(f transitions.Field) bool { return !f.Optional })
}

func operation(id, tag, summary, desc string, params []obj, body obj, success obj) obj {
	op := obj{"operationId": id, "tags": []string{tag}, "summary": summary, "responses": withProblems(success)}
	if desc != "" {
		op["description"] = desc
	}
	if params != nil {
		op["parameters"] = params
	}
	if body != nil {
		op["requestBody"] = body
	}
	return op
}

func requestBody(schema string, required bool) obj {
	return obj{"required": required, "content": obj{"application/json": obj{"schema": schemaRef(schema)}}}
}

// answer is a success response.
func answer(status int, desc, media string, schema obj, headers ...string) obj {
	r := obj{"description": desc, "content": obj{media: obj{"schema": schema}}}
	if len(headers) > 0 {
		hs := obj{}
		for _, h := range headers {
			hs[headerNames[h]] = ref("headers", h)
		}
		r["headers"] = hs
	}
	return obj{fmt.Sprint(status): r}
}

// headerNames maps the document's header components to the headers' names.
var headerNames = map[string]string{
	"RetryAfter": "Retry-After", "IdempotentReplayed": "Idempotent-Replayed", "Location": "Location",
}

func viewAnswer(status int, desc string, headers ...string) obj {
	return answer(status, desc, "application/json", schemaRef("View"), headers...)
}

// withProblems adds to an operation's success response a problem response
// for every status the table of codes has.
func withProblems(success obj) obj {
	for _, status := range problemcodes.Statuses(codes) {
		success[fmt.Sprint(status)] = ref("responses", fmt.Sprintf("Problem%d", status))
	}
	return success
}

func listParameters() []obj {
	return []obj{
		{"name": "running", "in": "query", "description": "`true`: only the flows that have not ended.",
			"schema": obj{"type": "boolean"}},
		{"name": "kind", "in": "query", "description": "Only the flows of this kind.", "schema": schemaRef("Kind")},
		{"name": "limit", "in": "query", "description": "The page size.",
			"schema": obj{"type": "integer", "minimum": 1, "maximum": flow.MaxListLimit, "default": flow.DefaultListLimit}},
		{"name": "pageToken", "in": "query", "description": "The nextPageToken of the previous page.",
			"schema": obj{"type": "string", "minLength": 1}},
	}
}

// pascal writes a kind or an event in PascalCase: link-factors-first is
// LinkFactorsFirst, submit_otp SubmitOtp.
func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
