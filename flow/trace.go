package flow

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/transitions"
)

// The engine traces with the OpenTelemetry API: a span per step (each
// transition fired, user or automatic, and each reconciliation), and a
// child span per Ratio call. Their attributes come from the declared
// tables and from Ratio's status and error code, and the flow's ID: never
// a JWT, a code, a signature, a phone number or an email address. Without
// a TracerProvider (Options or the global one) the spans cost next to
// nothing: attributes are only built for a span that records.

// TracerName is the instrumentation scope of the engine's spans.
const TracerName = "github.com/ratioflow/ratioflow/flow"

// Span attribute keys.
const (
	AttrKind       = attribute.Key("ratioflow.flow.kind")
	AttrFlowID     = attribute.Key("ratioflow.flow.id")
	AttrEvent      = attribute.Key("ratioflow.event")
	AttrFrom       = attribute.Key("ratioflow.from")
	AttrTo         = attribute.Key("ratioflow.to")
	AttrOutcome    = attribute.Key("ratioflow.outcome")
	AttrCall       = attribute.Key("ratioflow.ratio.call")
	AttrStatus     = attribute.Key("ratioflow.ratio.status")
	AttrCode       = attribute.Key("ratioflow.ratio.code")
	AttrReconciled = attribute.Key("ratioflow.reconciled")
)

func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(TracerName)
}

// startStep starts the span of a step firing t on the flow as loaded.
func (r *run) startStep(ctx context.Context, name string, event transitions.Event) (context.Context, trace.Span) {
	ctx, span := r.e.tracer.Start(ctx, name)
	if span.IsRecording() {
		span.SetAttributes(AttrKind.String(r.rec.Kind), AttrFlowID.String(r.rec.ID), AttrEvent.String(string(event)),
			AttrFrom.String(string(r.rec.State)))
	}
	return ctx, span
}

// endStep ends a step's span with the state the flow is in and err's class.
func (r *run) endStep(span trace.Span, err error) {
	if span.IsRecording() {
		span.SetAttributes(AttrTo.String(string(r.rec.State)))
		if err != nil {
			span.SetStatus(codes.Error, errorClass(err))
		}
	}
	span.End()
}

// traceOutcome records the outcome a step reached on its span.
func traceOutcome(ctx context.Context, o transitions.Outcome) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(AttrOutcome.String(string(o)))
	}
}

// tracedCall makes t's Ratio call in a child span of ctx's step.
func (e *Engine) tracedCall(ctx context.Context, t *transitions.Transition, call func(context.Context) result) result {
	ctx, span := e.tracer.Start(ctx, "ratio "+string(t.Call), trace.WithSpanKind(trace.SpanKindClient))
	res := call(ctx)
	if span.IsRecording() {
		span.SetAttributes(AttrCall.String(string(t.Call)), AttrOutcome.String(string(res.outcome)))
		if res.status != 0 {
			span.SetAttributes(AttrStatus.Int(res.status))
		}
		if res.code != "" {
			span.SetAttributes(AttrCode.String(res.code))
		}
		if failure(res.outcome) {
			span.SetStatus(codes.Error, string(res.outcome))
		}
	}
	span.End()
	return res
}

// errorClass names what kind of error ended a step, for a span's status:
// a class, never the error's text, which may quote input.
func errorClass(err error) string {
	var se *StepError
	var in *ratio.InputError
	switch {
	case errors.As(err, &se):
		return string(se.Outcome)
	case errors.As(err, &in):
		return "invalid input: " + in.Field
	case errors.Is(err, ErrNotPermitted):
		return "not permitted"
	case errors.Is(err, ErrConcurrentStep):
		return "concurrent step"
	case errors.Is(err, ErrTooEarly):
		return "too early"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrEnded):
		return "ended"
	case errors.Is(err, ErrRefused):
		return "refused"
	}
	return "error"
}
