package flowadmin

import (
	"github.com/ratioflow/ratioflow/internal/problemcodes"
	"github.com/ratioflow/ratioflow/transitions"
)

// buildSchemas returns the document's schemas. A record, a timeline and
// the stats come from the store, whose flows may have run on an older
// graph: their states and events are strings; the view and the filters
// take the engine's.
func buildSchemas(flows []*transitions.Flow) obj {
	kinds, sts, events, outcomes := enums(flows)
	str := obj{"type": "string"}
	when := obj{"type": "string", "format": "date-time"}
	count := obj{"type": "integer", "format": "int64", "minimum": 0}
	s := obj{
		"Kind":    obj{"type": "string", "enum": kinds, "description": "A kind of flow the engine runs."},
		"State":   obj{"type": "string", "enum": sts, "description": "A state of a flow's graph."},
		"Event":   obj{"type": "string", "enum": events, "description": "An event of a flow's graph."},
		"Outcome": obj{"type": "string", "enum": outcomes, "description": "The outcome of a step."},
		"Record": closed("A stored flow's record, without its sealed data.",
			[]string{"id", "kind", "state", "terminal", "subject", "version", "graphVersion", "createdAt", "updatedAt"}, obj{
				"id": str, "kind": str, "state": str, "subject": obj{"type": "string", "description": "The identity that started the flow."},
				"terminal":     obj{"type": "boolean", "description": "The flow has ended."},
				"version":      obj{"type": "integer", "format": "int64", "minimum": 1, "description": "Counts the record's writes."},
				"graphVersion": obj{"type": "string", "description": "The content hash of the graph the flow started on."},
				"createdAt":    when, "updatedAt": when,
				"expiresAt":   obj{"type": "string", "format": "date-time", "description": "The flow's (or its state's) deadline."},
				"endedAt":     obj{"type": "string", "format": "date-time", "description": "When the flow ended."},
				"pending":     schemaRef("Pending"),
				"dataDropped": obj{"type": "boolean", "description": "A retention policy dropped the flow's sealed data."},
			}),
		"Pending": closed("A Ratio call a step recorded before making it, still in flight or left by a process that died.",
			[]string{"call", "event", "startedAt"}, obj{"call": str, "event": str, "startedAt": when}),
		"FlowList": closed("A page of flows, newest first unless order=oldest.", []string{"flows"}, obj{
			"flows":         obj{"type": "array", "items": schemaRef("Record")},
			"nextPageToken": obj{"type": "string", "description": "Continues the listing; absent on the last page."},
		}),
		"Step": closed("One step of a flow's timeline: a transition taken, or an attempt that left the state unchanged.",
			[]string{"seq", "at", "from", "to", "event", "outcome"}, obj{
				"seq": obj{"type": "integer", "format": "int64", "minimum": 1}, "at": when,
				"from": str, "to": str, "event": str, "outcome": str,
				"call":       obj{"type": "string", "description": "The Ratio operation the step made."},
				"status":     obj{"type": "integer", "description": "Ratio's HTTP status, when it answered an error."},
				"code":       obj{"type": "string", "description": "Ratio's error code."},
				"durationMs": obj{"type": "number", "minimum": 0, "description": "How long the Ratio call took, in milliseconds."},
			}),
		"Diagrams": closed("A flow's audit diagrams in Mermaid: the path taken over the overview and over every edge "+
			"(a flowchart whose taken arrows and states are styled), and the sequence of its steps.",
			[]string{"overview", "state", "sequence"}, obj{"overview": str, "state": str, "sequence": str}),
		"Flow": closed("One flow as the console shows it.", []string{"record", "timeline"}, obj{
			"record": schemaRef("Record"),
			"view":   schemaRef("View"),
			"viewNote": obj{"type": "string", "description": "Why the view is not shown: the flow is past its deadline, " +
				"its data was dropped, or the seal keys do not open it."},
			"title":    obj{"type": "string", "description": "The kind's title."},
			"timeline": obj{"type": "array", "items": schemaRef("Step")},
			"diagrams": schemaRef("Diagrams"),
		}),
		"View": closed("What the flow's frontend sees of it, without the challenge: masks only, never a secret, "+
			"a phone number or an email.", []string{"id", "kind", "state", "version", "terminal", "createdAt", "expiresAt", "next"}, obj{
			"id": str, "kind": schemaRef("Kind"), "state": schemaRef("State"),
			"version": obj{"type": "integer", "format": "int64", "minimum": 1}, "terminal": obj{"type": "boolean"},
			"createdAt": when, "expiresAt": when,
			"next":          obj{"type": "array", "items": schemaRef("Next")},
			"walletAddress": str,
			"phoneMask":     obj{"type": "string", "description": "Where the SMS code went, masked."},
			"emailMask":     obj{"type": "string", "description": "Where the email code went, masked."},
			"attemptsLeft":  obj{"type": "integer", "minimum": 0},
			"retryAt":       when,
			"last":          schemaRef("LastStep"),
			"user":          schemaRef("User"),
			"wallets":       obj{"type": "array", "items": str},
			"nextFlow":      schemaRef("Kind"),
			"message":       str,
		}),
		"Next": closed("An event the flow's user (or the engine, when auto) may send now.", []string{"event", "fields"}, obj{
			"event": schemaRef("Event"), "fields": obj{"type": "array", "items": str}, "auto": obj{"type": "boolean"},
		}),
		"LastStep": closed("The outcome of the latest step.", []string{"event", "outcome"}, obj{
			"event": schemaRef("Event"), "outcome": schemaRef("Outcome"), "status": obj{"type": "integer"}, "code": str, "message": str,
		}),
		"User": closed("What a view shows of a Ratio user.", []string{"id"}, obj{"id": str, "firstName": str, "lastName": str, "kycStatus": str}),
		"Stats": closed("The figures of the stored flows, per kind.", []string{"stateTTL", "kinds"}, obj{
			"createdAfter": obj{"type": "string", "format": "date-time", "description": "The since bound; absent: every flow."},
			"stateTTL":     obj{"type": "string", "description": "A running flow with no step for longer counts as abandoned."},
			"kinds":        obj{"type": "array", "items": schemaRef("KindStats")},
		}),
		"KindStats": closed("The figures of one kind (see docs/stats.md).", []string{"kind", "flows", "finished", "ends", "edges", "states", "diagram"}, obj{
			"kind": str, "flows": count,
			"finished": obj{"type": "integer", "format": "int64", "minimum": 0, "description": "Flows that reached a terminal state other than Failed, Expired and Canceled."},
			"ends":     obj{"type": "array", "items": schemaRef("Count"), "description": "The flows by how they ended."},
			"edges":    obj{"type": "array", "items": schemaRef("EdgeStats"), "description": "Every declared edge, then those taken that the table does not declare."},
			"states":   obj{"type": "array", "items": schemaRef("StateStats"), "description": "Every state: its stays, their median and where flows stopped in it."},
			"diagram":  obj{"type": "string", "description": "The kind's diagram with the figures drawn on it (Mermaid); empty for a kind the engine does not run."},
		}),
		"Count": closed("How many flows ended one way, and their share.", []string{"ending", "flows", "share"}, obj{
			"ending": obj{"type": "string", "description": "A terminal state, running or abandoned."},
			"flows":  count, "share": obj{"type": "number", "minimum": 0, "maximum": 1},
		}),
		"EdgeStats": closed("The traffic of one edge.", []string{"from", "event", "outcome", "to", "declared", "times", "flows", "finished"}, obj{
			"from": str, "event": str, "outcome": str, "to": str, "label": str, "call": str,
			"declared": obj{"type": "boolean"}, "times": count, "flows": count, "finished": count,
			"ends": obj{"type": "array", "items": schemaRef("Count")},
		}),
		"StateStats": closed("The figures of one state: the stays that ended in it and where flows stopped (drop-off).",
			[]string{"state", "stays", "medianNanoseconds", "expired", "canceled", "failed", "abandoned", "running"}, obj{
				"state": str, "stays": count, "medianNanoseconds": count,
				"expired": count, "canceled": count, "failed": count, "abandoned": count, "running": count,
			}),
		"Problem": obj{
			"type": "object", "required": []string{"type", "title", "status", "code"},
			"description": "An RFC 9457 problem document. Branch on `code`, never on `title` or `detail`.",
			"properties": obj{
				"type":   obj{"type": "string", "format": "uri", "description": "Where the code is documented."},
				"title":  str,
				"status": obj{"type": "integer"},
				"detail": str,
				"code":   obj{"type": "string", "enum": problemcodes.All(codes), "description": "ratioflow's stable error code."},
				"field":  obj{"type": "string", "description": "The query parameter at fault."},
			},
		},
	}
	return s
}

// closed is an object schema with exactly these properties.
func closed(desc string, required []string, props obj) obj {
	return obj{"type": "object", "description": desc, "required": required, "properties": props, "additionalProperties": false}
}
