package flowadmin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/ratioflow/ratioflow/internal/problemcodes"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// OpenAPI returns the OpenAPI 3.0.3 document of the admin API over the
// declared flows, as JSON: every route with its parameters and answers,
// the record, the flow with its timeline and diagrams, the stats and the
// problem document with its closed list of codes. It is built from the
// tables (package transitions) and the handler's table of codes; the
// handler serves the document of its engine's flows at
// Prefix+"openapi.json".
func OpenAPI() []byte { return bytes.Clone(declaredDoc()) }

var declaredDoc = sync.OnceValue(func() []byte { return encodeOpenAPI(transitions.All()) })

func encodeOpenAPI(flows []*transitions.Flow) []byte {
	b, err := json.MarshalIndent(buildOpenAPI(flows), "", "  ")
	if err != nil {
		panic("flowadmin: encode the OpenAPI document: " + err.Error())
	}
	return append(b, '\n')
}

// obj is a JSON object of the document; encoding/json sorts its keys, so
// the document's bytes are stable.
type obj = map[string]any

func ref(kind, name string) obj { return obj{"$ref": "#/components/" + kind + "/" + name} }

func schemaRef(name string) obj { return ref("schemas", name) }

func buildOpenAPI(flows []*transitions.Flow) obj {
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":   "ratioflow admin API",
			"version": "1",
			"description": "The operator console's API: list the stored flows, read one flow's record, view, timeline " +
				"and audit diagrams, count the traffic of every edge, cancel or resume a flow. It is served on an " +
				"admin listener only, never beside the flow API. Nothing it answers holds a secret, a phone number " +
				"or an email: masks only. Errors are RFC 9457 problem documents with a stable `code`.",
		},
		"security": []obj{{"adminToken": []string{}}},
		"tags": []obj{
			{"name": "flows", "description": "Find, read, cancel and resume flows."},
			{"name": "stats", "description": "The traffic of every edge."},
		},
		"paths": buildPaths(),
		"components": obj{
			"securitySchemes": obj{"adminToken": obj{
				"type": "http", "scheme": "bearer",
				"description": "The admin token, when the listener is given one (required on an address other " +
					"hosts can reach). Without a token the API answers only on a loopback address.",
			}},
			"parameters": obj{
				"FlowID": obj{"name": "id", "in": "path", "required": true, "description": "The flow's id.",
					"schema": obj{"type": "string", "minLength": 1}},
			},
			"responses": problemResponses(),
			"schemas":   buildSchemas(flows),
		},
	}
}

func buildPaths() obj {
	flowID := ref("parameters", "FlowID")
	flowAnswer := func(desc string) obj { return answer(http.StatusOK, desc, schemaRef("Flow")) }
	return obj{
		Prefix + "v1/flows": obj{"get": operation("listFlows", "flows", "List the stored flows",
			"The flows the filters select, newest first (order=oldest: oldest first), a page at a time. A filter not given selects every flow; "+
				"an unknown, repeated or malformed parameter is 422 invalid_input naming it.",
			listParameters(), answer(http.StatusOK, "A page of flows.", schemaRef("FlowList")))},
		Prefix + "v1/flows/{id}": obj{"parameters": []obj{flowID}, "get": operation("getFlow", "flows", "Read a flow",
			"The flow's record, its view (masks only), its timeline from the audit history and its audit diagrams. "+
				"Reading never changes the flow: the view of a flow past its deadline is not read (viewNote says so).",
			nil, flowAnswer("The flow."))},
		Prefix + "v1/flows/{id}/cancel": obj{"parameters": []obj{flowID}, "post": operation("cancelFlow", "flows", "Cancel a flow",
			"Moves the flow to Canceled, as its user's cancel would. A flow that has ended is 409 ended.",
			nil, flowAnswer("The flow, now Canceled."))},
		Prefix + "v1/flows/{id}/resume": obj{"parameters": []obj{flowID}, "post": operation("resumeFlow", "flows", "Resume a flow",
			"Brings the flow up to date after an interruption, as any process may: settles a Ratio call left pending "+
				"by a process that died, expires the flow if it is due, and runs the automatic steps its state calls for "+
				"(such as a wallet's link that Ratio refused for a while). It calls Ratio.",
			nil, flowAnswer("The flow, resumed."))},
		Prefix + "v1/stats": obj{"get": operation("getStats", "stats", "Count the traffic of every edge",
			"For each kind: how many flows took each edge and how those flows ended, where flows stopped in each state "+
				"(drop-off), the median time in each state, and the kind's diagram with the figures drawn on it (Mermaid).",
			statsParameters(), answer(http.StatusOK, "The figures, per kind.", schemaRef("Stats")))},
		Prefix + "openapi.json": obj{"get": operation("getOpenAPI", "flows", "This document", "", nil,
			answer(http.StatusOK, "The OpenAPI document of this API.", obj{"type": "object"}))},
	}
}

func operation(id, tag, summary, desc string, params []obj, success obj) obj {
	for _, status := range problemcodes.Statuses(codes) {
		success[fmt.Sprint(status)] = ref("responses", fmt.Sprintf("Problem%d", status))
	}
	op := obj{"operationId": id, "tags": []string{tag}, "summary": summary, "responses": success}
	if desc != "" {
		op["description"] = desc
	}
	if params != nil {
		op["parameters"] = params
	}
	return op
}

func answer(status int, desc string, schema obj) obj {
	return obj{fmt.Sprint(status): obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}}
}

func queryParam(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "description": desc, "schema": schema}
}

var durationSchema = obj{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, "example": "24h"}

func listParameters() []obj {
	return []obj{
		queryParam("kind", "Only the flows of this kind.", schemaRef("Kind")),
		queryParam("state", "Only the flows in this state.", schemaRef("State")),
		queryParam("subject", "Only the flows of this subject.", obj{"type": "string", "minLength": 1}),
		queryParam("running", "`true`: only the flows that have not ended.", obj{"type": "boolean"}),
		queryParam("olderThan", "Only the flows created more than this long ago (Go duration: 90s, 10m, 24h).", durationSchema),
		queryParam("newerThan", "Only the flows created less than this long ago.", durationSchema),
		queryParam("order", "`newest` first (by creation time) or `oldest` first. A page token continues the list in its own order.",
			obj{"type": "string", "enum": []string{"newest", "oldest"}, "default": "newest"}),
		queryParam("limit", "The page size.", obj{"type": "integer", "minimum": 1, "maximum": MaxLimit, "default": DefaultLimit}),
		queryParam("pageToken", "The nextPageToken of the previous page.", obj{"type": "string", "minLength": 1}),
	}
}

func statsParameters() []obj {
	return []obj{
		queryParam("kind", "Only the flows of this kind.", schemaRef("Kind")),
		queryParam("since", "Only the flows created less than this long ago; default every flow.", durationSchema),
		queryParam("view", "The diagram: the overview, or every edge (state).",
			obj{"type": "string", "enum": []string{"overview", "state"}, "default": "overview"}),
	}
}

func problemResponses() obj {
	out := obj{}
	for _, status := range problemcodes.Statuses(codes) {
		cs := problemcodes.Of(codes, status)
		out[fmt.Sprintf("Problem%d", status)] = obj{
			"description": http.StatusText(status) + ": " + strings.Join(cs, ", ") + ".",
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

// enums lists the kinds, states, events and outcomes of flows, sorted.
func enums(flows []*transitions.Flow) (kinds []string, sts []states.State, events []transitions.Event, outcomes []transitions.Outcome) {
	outcomes = []transitions.Outcome{transitions.NewUser}
	for _, f := range flows {
		kinds = append(kinds, string(f.Kind))
		sts = append(sts, f.States()...)
		for _, t := range f.Transitions {
			events = append(events, t.Event)
			for _, e := range t.Edges {
				outcomes = append(outcomes, e.Outcome)
			}
		}
	}
	slices.Sort(kinds)
	slices.Sort(sts)
	slices.Sort(events)
	slices.Sort(outcomes)
	return kinds, slices.Compact(sts), slices.Compact(events), slices.Compact(outcomes)
}
