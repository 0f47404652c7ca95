package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
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
their durations) in Prometheus's text format.`

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
	handler, eng, err := serveHandler(st, target.client(), key.key, flow.Options{Policy: policy}, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(e.stdout, "ratioflow serve listening on http://%s\n", ln.Addr())
	fmt.Fprintf(e.stdout, "  store %s (seal key: %s)\n", storeURL, key.source)
	fmt.Fprintf(e.stdout, "  ratio %s\n", target.describe())
	if target.mode != realRatio {
		fmt.Fprintf(e.stdout, "  WARNING: Ratio is a SANDBOX: no SMS or email is sent and no real user exists.\n"+
			"  Codes: GET %s/_sandbox/otp?to=PHONE_OR_EMAIL\n", target.url)
	}
	sweepCtx, stopSweeping := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { defer close(swept); sweepEvery(sweepCtx, eng, st, *sweep, keep, log) }()
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
	stats := newMetrics()
	opts.Logger, opts.OnStep = log, stats.step
	eng, err := flow.New(st, api, sealKey, opts)
	if err != nil {
		return nil, nil, err
	}
	h := flowhttp.New(eng, flowhttp.HeaderSubject(subjectHeader))
	h.Logger = log
	if keys, ok := st.(store.KeyStore); ok { // all three stores are
		h.Idempotency = flowhttp.NewStoreIdempotency(keys, 0)
	}
	return withOps(h, st, stats, log), eng, nil
}

// readyTimeout bounds the store read of a readiness probe.
const readyTimeout = 2 * time.Second

// readyProbeID is the flow ID a readiness probe reads: not one the engine
// makes (those are hex), so the read finds nothing, which is a success.
const readyProbeID = "readiness-probe"

// withOps serves, beside api and without a subject, what operators
// need: the probes of a load balancer or an orchestrator, and metrics.
// GET /healthz answers 200 while the process serves; GET /readyz answers
// 200 when the store answers a read within readyTimeout, else 503, so
// that a replica cut off from the store is taken out of rotation. Ratio is
// not probed: a replica can do nothing about Ratio being down, and every
// replica would fail together. GET /metrics answers this process's
// counts in Prometheus's text format. Every other path goes to api as
// sent, which answers a path that is not canonical with a problem.
func withOps(api http.Handler, st store.Store, stats *metrics, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", stats)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeProbe(w, http.StatusOK, "")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if _, err := st.Get(ctx, readyProbeID); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.Warn("not ready: the store does not answer", "err", err)
			writeProbe(w, http.StatusServiceUnavailable, "the flow store does not answer")
			return
		}
		writeProbe(w, http.StatusOK, "")
	})
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

// writeProbe answers a probe: {"status":"ok"}, or "unavailable" and why.
func writeProbe(w http.ResponseWriter, status int, detail string) {
	body := struct {
		Status string `json:"status"`
		Detail string `json:"detail,omitempty"`
	}{"ok", detail}
	if status != http.StatusOK {
		body.Status = "unavailable"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// sweepEvery runs sweepOnce every interval until ctx is done.
func sweepEvery(ctx context.Context, eng *flow.Engine, st store.Store, interval time.Duration, keep store.Retention, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sweepOnce(ctx, eng, st, keep, log)
	}
}

// sweepOnce expires the flows past their deadline, then applies the
// retention policy keep to the ended flows of st and deletes its expired
// idempotency keys (a policy of zeros keeps every flow: Purge then only
// deletes the keys). It logs what it did, and its errors.
func sweepOnce(ctx context.Context, eng *flow.Engine, st store.Store, keep store.Retention, log *slog.Logger) {
	for {
		n, err := eng.Sweep(ctx, 100)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("sweep", "err", err)
			}
			break
		}
		if n > 0 {
			log.Info("swept expired flows", "count", n)
		}
		if n < 100 {
			break
		}
	}
	res, err := st.Purge(ctx, time.Now(), keep)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			log.Error("purge", "err", err)
		}
	case res != store.PurgeResult{}:
		log.Info("purged", "scrubbed_flows", res.Scrubbed, "deleted_flows", res.Deleted, "expired_keys", res.Keys)
	}
}
