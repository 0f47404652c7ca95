package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// The standard OpenTelemetry variables serve reads.
const (
	envOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envOTelDisabled       = "OTEL_SDK_DISABLED"
	envOTelServiceName    = "OTEL_SERVICE_NAME"
)

// tracing is serve's OpenTelemetry set-up: the tracer provider of the
// engine's spans and the propagator of W3C trace context.
type tracing struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	endpoint   string // where spans go, or "" when they go nowhere
	shutdown   func(context.Context) error
}

// startTracing exports spans with OTLP over HTTP/protobuf when the
// environment names an endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, a
// full URL, or OTEL_EXPORTER_OTLP_ENDPOINT, a base URL to which
// /v1/traces is added), and is silent otherwise, or when
// OTEL_SDK_DISABLED is true. Nothing global is changed: the provider is
// handed to the engine and the HTTP layers. The exporter's other settings
// (headers, timeout, compression) come from the standard variables too.
func startTracing(ctx context.Context, getenv func(string) string) (*tracing, error) {
	t := &tracing{provider: noop.NewTracerProvider(), propagator: propagation.TraceContext{},
		shutdown: func(context.Context) error { return nil }}
	url := getenv(envOTLPTracesEndpoint)
	if base := getenv(envOTLPEndpoint); url == "" && base != "" {
		url = strings.TrimSuffix(base, "/") + "/v1/traces"
	}
	if url == "" || strings.EqualFold(getenv(envOTelDisabled), "true") {
		return t, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url))
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry exporter for %s: %w", url, err)
	}
	name := getenv(envOTelServiceName)
	if name == "" {
		name = "ratioflow"
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", name), attribute.String("service.version", version())))
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t.provider, t.endpoint, t.shutdown = tp, url, tp.Shutdown
	return t, nil
}

// spanName names the server span of a request by its method and route,
// with the flow's ID and event left out: "POST /v1/flows/{id}/events".
func spanName(_ string, r *http.Request) string {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/v1/flows/"); ok && rest != "" {
		path = "/v1/flows/{id}"
		if strings.Contains(rest, "/events/") {
			path += "/events/{event}"
		}
	}
	return r.Method + " " + path
}
