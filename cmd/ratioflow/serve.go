package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowmetrics"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/store"
)

// subjectHeader carries the caller's identity, set by the authenticating
// proxy in front of serve.
const subjectHeader = "X-Ratioflow-Subject"

const serveAbout = `
Serve the engine over HTTP for a wallet app's frontend (package flow/flowhttp):

  POST   /v1/flows                      {"kind":"link","walletAddress":"0x..."}
  GET    /v1/flows?running=true         the caller's flows
  GET    /v1/flows/{id}
  POST   /v1/flows/{id}/events/{event}  the event's fields, {} for none
  DELETE /v1/flows/{id}

Every answer about a flow is its view, never a secret (a list answers a
page of them). The caller's identity is the X-Ratioflow-Subject header,
which an authenticating proxy in front of serve sets; a request without it
is answered 401. A POST repeated with the same Idempotency-Key header
replays the first answer; the keys are kept in the store, so replicas
sharing --store share them. A sweeper expires the flows past their
deadline, and deletes the expired keys, every --sweep interval; with
--keep-data or --keep-history it also applies that retention policy to the
ended flows, as 'ratioflow flows purge' does (without, every ended flow is
kept). Without --ratio or RATIO_BASE_URL, Ratio is a sandbox started in
this process: fine to try the API, useless for real users. Stops
gracefully on Ctrl-C.

For operators, without the header: GET /healthz answers 200 while serve
runs; GET /readyz answers 200 when the store answers a read within 2s,
else 503; GET /metrics counts steps, ended flows and Ratio calls (with
their durations) in Prometheus's text format.

With OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
set, serve sends OpenTelemetry traces over OTLP/HTTP: a span per request,
per step and per Ratio call, joining the trace of a request's W3C
traceparent header. Without, it traces nothing.`

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "serve", "[--addr HOST:PORT] [--store URL] [--ratio URL]", serveAbout)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	remote := fs.Bool("allow-remote", false, "allow an address other hosts can reach")
	storeFlag := fs.String("store", "", "store URL (default $"+envStore+", else "+defaultStore()+")")
	ratioURL := fs.String("ratio", "", "Ratio or sandbox base URL (default $"+envRatioURL+", else a sandbox in this process)")
	sweep := fs.Duration("sweep", 30*time.Second, "how often to expire the flows past their deadline")
	var policy flow.Policy
	pendingTimeoutFlag(fs, &policy.PendingTimeout)
	var keep store.Retention
	retentionFlags(fs, &keep)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := checkRetention("serve", keep); err != nil {
		return err
	}
	if err := checkLoopback("serve", *addr, *remote); err != nil {
		return err
	}
	if *sweep <= 0 {
		return usageErrorf("serve", "--sweep must be positive")
	}
	if policy.PendingTimeout <= 0 {
		return usageErrorf("serve", "--pending-timeout must be positive")
	}
	storeURL := storeOrDefault(e, *storeFlag)
	st, err := openStore(ctx, storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := resolveSealKey(e.getenv, storeURL, true)
	if err != nil {
		return err
	}
	target, err := openRatio(ctx, e.getenv, *ratioURL, ratiotest.Config{})
	if err != nil {
		return err
	}
	defer target.Close()
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	tr, err := startTracing(ctx, e.getenv)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tr.shutdown(sctx); err != nil {
			log.Error("flush the traces", "err", err)
		}
	}()
	client := target.client()
	client.Propagator = tr.propagator
	handler, eng, err := serveHandler(st, client, nil, key.options(flow.Options{Policy: policy, TracerProvider: tr.provider}), log)
	if err != nil {
		return err
	}
	if tr.endpoint != "" {
		handler = otelhttp.NewHandler(handler, "ratioflow", otelhttp.WithTracerProvider(tr.provider),
			otelhttp.WithPropagators(tr.propagator), otelhttp.WithSpanNameFormatter(spanName))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(e.stdout, "ratioflow serve listening on http://%s\n", ln.Addr())
	fmt.Fprintf(e.stdout, "  store %s (seal key: %s)\n", storeURL, key.source)
	fmt.Fprintf(e.stdout, "  ratio %s\n", target.describe())
	if tr.endpoint != "" {
		fmt.Fprintf(e.stdout, "  traces OTLP to %s\n", tr.endpoint)
	}
	if target.mode != realRatio {
		fmt.Fprintf(e.stdout, "  WARNING: Ratio is a SANDBOX: no SMS or email is sent and no real user exists.\n"+
			"  Codes: GET %s/_sandbox/otp?to=PHONE_OR_EMAIL\n", target.url)
	}
	sweepCtx, stopSweeping := context.WithCancel(ctx)
	swept := make(chan struct{})
	sweeper := &flow.Sweeper{Engine: eng, Interval: *sweep, Retention: keep, Logger: log}
	go func() { defer close(swept); _ = sweeper.Run(sweepCtx) }()
	err = serveUntilDone(ctx, ln, handler, e.stderr)
	stopSweeping()
	<-swept // before the store closes
	return err
}

// serveHandler builds what serve serves over st: an engine calling Ratio
// through api with opts (serve sets its Logger and OnStep), the flow API
// keeping its Idempotency-Keys in st, and the operators' probes and
// metrics. It returns the engine too, for the sweeper.
func serveHandler(st store.Store, api ratio.API, sealKey []byte, opts flow.Options, log *slog.Logger) (http.Handler, *flow.Engine, error) {
	stats, metrics := newMetrics()
	opts.Logger, opts.OnStep = log, stats.Step
	eng, err := flow.New(st, api, sealKey, opts)
	if err != nil {
		return nil, nil, err
	}
	h := flowhttp.New(eng, flowhttp.HeaderSubject(subjectHeader))
	h.Logger = log
	if keys, ok := st.(store.KeyStore); ok { // all three stores are
		idem := flowhttp.NewStoreIdempotency(keys, 0)
		// A dead process's key holds its retry as long as its pending call
		// holds its flow: no longer.
		idem.Lease = eng.Policy().PendingTimeout
		h.Idempotency = idem
	}
	return withOps(h, st, metrics, log), eng, nil
}

// withOps serves, beside api and without a subject, what operators
// need: the probes of a load balancer or an orchestrator (GET /healthz
// and GET /readyz, see flowhttp.Liveness and flowhttp.Readiness), and
// metrics (GET /metrics). Every other path goes to api as sent, which
// answers a path that is not canonical with a problem.
func withOps(api http.Handler, st store.Store, metrics http.Handler, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.Handle("GET /healthz", flowhttp.Liveness())
	mux.Handle("GET /readyz", flowhttp.Readiness(st, log))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics", "/healthz", "/readyz":
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				mux.ServeHTTP(w, r)
				return
			}
		}
		api.ServeHTTP(w, r) // past http.ServeMux, which redirects a path it cleans
	})
}

// newMetrics returns the metrics of serve's engine, with the Go runtime's
// and the process's, and the handler of GET /metrics that exposes them.
func newMetrics() (*flowmetrics.Metrics, http.Handler) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return flowmetrics.New(reg), promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
