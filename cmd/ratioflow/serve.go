package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowadmin"
	"github.com/ratioflow/ratioflow/flow/flowconsole"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowmetrics"
	"github.com/ratioflow/ratioflow/flow/flowui"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/storeurl"
	"github.com/ratioflow/ratioflow/visualize"
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
kept). Stops gracefully on Ctrl-C.

Which Ratio is always said: --ratio URL (or RATIO_BASE_URL) names Ratio,
or a 'ratioflow sandbox'; --sandbox starts a sandbox in this process, fine
to try the API and useless for real users. Without --sandbox, --store is
required; against the real Ratio the seal keys must come from
RATIOFLOW_SEAL_KEYS (or RATIOFLOW_SEAL_KEY). Every flag can also come from
the environment: RATIOFLOW_ and its name in capitals, '_' for '-'
(RATIOFLOW_ADDR, RATIOFLOW_PENDING_TIMEOUT); --ratio is RATIO_BASE_URL.

With --ui, serve also serves a reference frontend at /ui/, a page that runs
any flow in a browser (docs/ui.md). With --sandbox as well, the page is
in development mode: a dev wallet, the codes the sandbox sent, seeding a
returning user and forcing a 429, and the caller is the page's own
identity, in a cookie, instead of the header.

For operators, an admin listener (--admin-addr, 127.0.0.1:8081 unless
told otherwise; off for none) serves the operator console at /console/:
the stored flows with filters, one flow's timeline and audit diagrams, the
traffic of every edge, cancel and resume (docs/console.md). Its JSON API is
under /admin/, with its OpenAPI document at /admin/openapi.json. None of
it is served on --addr. An admin address other hosts can reach needs
--admin-token (or RATIOFLOW_ADMIN_TOKEN): every admin API request must
then carry the header Authorization: Bearer TOKEN. The console draws its
diagrams with mermaid loaded from --mermaid-js: by default the CDN address
of the version the project checks its diagrams with; give a local copy's
path to work offline, and the admin listener serves it.

Also for operators, on --addr and without the header: GET /healthz answers 200 while serve
runs; GET /readyz answers 200 when the store answers a read within 2s,
else 503; GET /metrics counts steps, ended flows and Ratio calls (with
their durations) in Prometheus's text format.

With OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
set, serve sends OpenTelemetry traces over OTLP/HTTP: a span per request,
per step and per Ratio call, joining the trace of a request's W3C
traceparent header. Without, it traces nothing.`

// serveConfig is serve's configuration, from its flags and environment.
type serveConfig struct {
	addr, storeURL, ratioURL, logFormat string
	// The admin listener: its address (adminOff: none), its bearer token
	// (never printed or logged) and the console's mermaid script.
	adminAddr, adminToken, mermaidJS string
	remote, sandbox, ui              bool
	sweep                            time.Duration
	poolMax                          int
	policy                           flow.Policy
	keep                             store.Retention
}

// parseServe reads serve's flags, each of which can also come from the
// environment (see envFlags), and checks them.
func parseServe(e *env, args []string) (*serveConfig, error) {
	c := &serveConfig{}
	fs := flagSet(e, "serve", "(--ratio URL | --sandbox) [--store URL] [--addr HOST:PORT]", serveAbout)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	fs.BoolVar(&c.remote, "allow-remote", false, "allow an address other hosts can reach")
	fs.StringVar(&c.storeURL, "store", "", "store URL: memory:, sqlite:PATH or postgres://... (required without --sandbox)")
	fs.StringVar(&c.ratioURL, "ratio", "", "Ratio's base URL, or a 'ratioflow sandbox' one ($"+envRatioURL+")")
	fs.BoolVar(&c.sandbox, "sandbox", false, "call a Ratio sandbox started in this process, to try the API (no real user)")
	fs.BoolVar(&c.ui, "ui", false, "serve the reference frontend at /ui/ (with --sandbox, its development hooks too)")
	fs.StringVar(&c.adminAddr, "admin-addr", "127.0.0.1:8081", "address of the admin listener: the operator console at /console/ and its API ("+adminOff+": none)")
	fs.StringVar(&c.adminToken, "admin-token", "", "bearer token of every admin API request; required when --admin-addr is reachable from other hosts")
	fs.StringVar(&c.mermaidJS, "mermaid-js", visualize.MermaidCDN, "the console's mermaid script: a URL, or a local copy's path, which the admin listener serves")
	fs.DurationVar(&c.sweep, "sweep", 30*time.Second, "how often to expire the flows past their deadline")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format on stderr: text or json")
	pendingTimeoutFlag(fs, &c.policy.PendingTimeout)
	retentionFlags(fs, &c.keep)
	poolMaxFlag(fs, &c.poolMax)
	if err := noArgs(fs, args); err != nil {
		return nil, err
	}
	if err := envFlags(fs, e.getenv, map[string]string{"ratio": envRatioURL}); err != nil {
		return nil, err
	}
	if c.sweep <= 0 {
		return nil, usageErrorf("serve", "--sweep must be positive")
	}
	if c.poolMax < 1 {
		return nil, usageErrorf("serve", "--pool-max must be at least 1")
	}
	if c.policy.PendingTimeout <= 0 {
		return nil, usageErrorf("serve", "--pending-timeout must be positive")
	}
	if err := oneOf("serve", "log-format", c.logFormat, []string{"text", "json"}); err != nil {
		return nil, err
	}
	if err := checkRetention("serve", c.keep); err != nil {
		return nil, err
	}
	if err := checkLoopback("serve", c.addr, c.remote); err != nil {
		return nil, err
	}
	if err := checkAdmin(c); err != nil {
		return nil, err
	}
	switch {
	case c.sandbox && c.ratioURL != "":
		return nil, usageErrorf("serve", "--sandbox and --ratio (or %s) both name a Ratio: give one", envRatioURL)
	case !c.sandbox && c.ratioURL == "":
		return nil, usageErrorf("serve", "which Ratio? give --ratio URL (or %s), or --sandbox to try the API "+
			"against a sandbox in this process", envRatioURL)
	case !c.sandbox && c.storeURL == "":
		return nil, usageErrorf("serve", "give --store URL (or %s): where the flows are kept (%s); "+
			"only --sandbox defaults to %s", envStore, storeurl.Supported, defaultStore())
	case c.storeURL == "":
		c.storeURL = defaultStore()
	}
	return c, nil
}

func runServe(ctx context.Context, e *env, args []string) error {
	c, err := parseServe(e, args)
	if err != nil {
		return err
	}
	var target *ratioTarget
	if c.sandbox {
		target, err = openRatio(ctx, e.getenv, "", sandbox.Config{})
	} else {
		target, err = openRatio(ctx, e.getenv, c.ratioURL, sandbox.Config{})
	}
	if err != nil {
		return err
	}
	defer target.Close()
	if target.mode == realRatio && e.getenv(envSealKeys) == "" && e.getenv(envSealKey) == "" {
		return fmt.Errorf("serving the real Ratio needs %s (or %s) in the environment: the keys that seal "+
			"the flows' JWTs, phone numbers and emails, shared by every replica (see docs/operations.md)", envSealKeys, envSealKey)
	}
	// The pool grows with the concurrent requests, up to --pool-max.
	st, err := openStoreWith(ctx, c.storeURL, c.poolMax)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := resolveSealKey(e.getenv, c.storeURL, target.mode != realRatio)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, c.logFormat)
	tr, err := startTracing(ctx, e.getenv)
	if err != nil {
		return err
	}
	defer flushTraces(ctx, tr, log)
	client := target.client()
	client.Propagator = tr.propagator
	ui, err := uiHandler(c.ui, target)
	if err != nil {
		return err
	}
	handler, eng, err := serveHandler(st, client, nil, key.options(flow.Options{Policy: c.policy, TracerProvider: tr.provider}), log, ui)
	if err != nil {
		return err
	}
	if tr.endpoint != "" {
		handler = otelhttp.NewHandler(handler, "ratioflow", otelhttp.WithTracerProvider(tr.provider),
			otelhttp.WithPropagators(tr.propagator), otelhttp.WithSpanNameFormatter(spanName))
	}
	var admin http.Handler
	if c.adminAddr != adminOff {
		if admin, err = adminHandler(c, eng, st, log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var adminLn net.Listener
	if admin != nil {
		if adminLn, err = net.Listen("tcp", c.adminAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen on the admin address (--admin-addr, or --admin-addr %s for none): %w", adminOff, err)
		}
	}
	fmt.Fprintf(e.stdout, "ratioflow serve listening on http://%s\n", ln.Addr())
	fmt.Fprintf(e.stdout, "  store %s (seal key: %s)\n", c.storeURL, key.source)
	fmt.Fprintf(e.stdout, "  ratio %s\n", target.describe())
	if ui != nil {
		fmt.Fprintf(e.stdout, "  reference frontend: http://%s%s\n", ln.Addr(), flowui.Prefix)
	}
	if adminLn != nil {
		fmt.Fprintf(e.stdout, "  operator console: http://%s%s (admin API %s, token %s)\n", adminLn.Addr(), flowconsole.Prefix,
			flowadmin.Prefix, map[bool]string{true: "required", false: "none"}[c.adminToken != ""])
	} else {
		fmt.Fprintf(e.stdout, "  operator console: none (--admin-addr %s)\n", adminOff)
	}
	if tr.endpoint != "" {
		fmt.Fprintf(e.stdout, "  traces OTLP to %s\n", tr.endpoint)
	}
	if target.mode != realRatio {
		fmt.Fprintf(e.stdout, "  WARNING: Ratio is a SANDBOX: no SMS or email is sent and no real user exists.\n"+
			"  Codes: GET %s/_sandbox/otp?to=PHONE_OR_EMAIL\n", target.url)
	}
	sweepCtx, stopSweeping := context.WithCancel(ctx)
	swept := make(chan struct{})
	sweeper := &flow.Sweeper{Engine: eng, Interval: c.sweep, Retention: c.keep, Logger: log}
	go func() { defer close(swept); _ = sweeper.Run(sweepCtx) }()
	err = serveBoth(ctx, ln, handler, adminLn, admin, e.stderr)
	stopSweeping()
	<-swept // before the store closes
	return err
}

// serveBoth serves the public listener and, when adminLn is not nil, the
// admin one until ctx is done or either fails.
func serveBoth(ctx context.Context, ln net.Listener, h http.Handler, adminLn net.Listener, admin http.Handler, stderr io.Writer) error {
	if adminLn == nil {
		return serveUntilDone(ctx, ln, h, stderr)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	adminDone := make(chan error, 1)
	go func() {
		err := serveUntilDone(ctx, adminLn, admin, stderr)
		stop() // a failed admin listener stops the public one too
		adminDone <- err
	}()
	err := serveUntilDone(ctx, ln, h, stderr)
	stop()
	if aerr := <-adminDone; aerr != nil {
		return errors.Join(err, fmt.Errorf("admin listener: %w", aerr))
	}
	return err
}

// newLogger returns serve's logger on w, in the given format.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// flushTraces sends the spans still buffered, for at most 5 s.
func flushTraces(ctx context.Context, tr *tracing, log *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := tr.shutdown(sctx); err != nil {
		log.Error("flush the traces", "err", err)
	}
}

// serveHandler builds what serve serves over st: an engine calling Ratio
// through api with opts (serve sets its Logger and OnStep), the flow API
// keeping its Idempotency-Keys in st, and the operators' probes and
// metrics; with ui, the reference frontend, whose development mode then
// says who the caller is. It returns the engine too, for the sweeper.
func serveHandler(st store.Store, api ratio.API, sealKey []byte, opts flow.Options, log *slog.Logger, ui *flowui.Handler) (http.Handler, *flow.Engine, error) {
	stats, metrics := newMetrics()
	opts.Logger, opts.OnStep = log, stats.Step
	eng, err := flow.New(st, api, sealKey, opts)
	if err != nil {
		return nil, nil, err
	}
	subject := flowhttp.HeaderSubject(subjectHeader)
	var page http.Handler
	if ui != nil {
		subject, page = ui.Subject(subject), ui
	}
	h := flowhttp.New(eng, subject)
	h.Logger = log
	if keys, ok := st.(store.KeyStore); ok { // all three stores are
		idem := flowhttp.NewStoreIdempotency(keys, 0)
		// A dead process's key holds its retry as long as its pending call
		// holds its flow: no longer.
		idem.Lease = eng.Policy().PendingTimeout
		h.Idempotency = idem
	}
	return withOps(h, st, metrics, log, page), eng, nil
}

// withOps serves, beside api and without a subject, what operators
// need: the probes of a load balancer or an orchestrator (GET /healthz
// and GET /readyz, see flowhttp.Liveness and flowhttp.Readiness), and
// metrics (GET /metrics), and the page ui when not nil (under
// flowui.Prefix). Every other path goes to api as sent, which answers a
// path that is not canonical with a problem.
func withOps(api http.Handler, st store.Store, metrics http.Handler, log *slog.Logger, ui http.Handler) http.Handler {
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
		if isAdminPath(r.URL.Path) {
			// The console and its API live on the admin listener only.
			http.NotFound(w, r)
			return
		}
		if ui != nil && (strings.HasPrefix(r.URL.Path, flowui.Prefix) || r.URL.Path+"/" == flowui.Prefix) {
			ui.ServeHTTP(w, r)
			return
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

// uiHandler returns the reference frontend when on is set, with its
// development hooks when target is a sandbox in this process; else nil.
func uiHandler(on bool, target *ratioTarget) (*flowui.Handler, error) {
	switch {
	case !on:
		return nil, nil
	case target.handler != nil:
		return flowui.New(target.handler)
	default:
		return flowui.New(nil)
	}
}
