package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/internal/storemeter"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/storeurl"
	"github.com/ratioflow/ratioflow/transitions"
)

const benchAbout = `
Run --flows flows with --concurrency workers against a Ratio sandbox (one
started in this process on loopback, or the 'ratioflow sandbox' at --ratio),
each worker playing one user and wallet at a time: keys, phones and emails
derived from --seed, codes read from the sandbox. The users the flows need
are seeded first, outside the timing. Then the same Ratio calls are replayed
with plain net/http for as many other users, at the same concurrency, to
measure what the engine costs over a hand-written client.

The last line of stdout is one JSON object: flows, completed, failed,
flows_per_sec, step_p50_ms, step_p99_ms, ratio_calls, raw_flows_per_sec,
engine_to_raw, store, flow, replicas, writes_per_flow, store_calls_per_flow,
store_p50_ms, store_p99_ms, process_cpu_ms_per_flow, cpu_ms_per_flow and
raw_cpu_ms_per_flow (and ratio_latency_ms with --latency,
writes_per_transaction with PostgreSQL).
writes_per_flow counts the store's Create and Update calls per flow;
store_calls_per_flow counts all its calls. SQLite and PostgreSQL commit the
writes of concurrent flows together (group commit), so their transactions
are fewer than their writes: writes_per_transaction says how many writes
a PostgreSQL transaction carried. store_p50_ms and store_p99_ms are the
time the engine spent in the store within one step.

cpu_ms_per_flow is the processor time the whole machine spent per flow
while the engine ran (read from /proc/stat, on Linux): the engine, the
sandbox and the database together, and anything else running;
process_cpu_ms_per_flow is this process's share (the engine and an
in-process sandbox), and raw_cpu_ms_per_flow (durable_cpu_ms_per_flow)
the machine's per flow of the raw replay (the durable baseline). When the
machine is otherwise idle, they tell where a run's processor time goes.

--replicas N runs N engines in the process, each with its own handle on
--store (its own pool with PostgreSQL; memory: is one store they share),
and sends each step to one of them at random, as a load balancer in front
of N replicas of 'ratioflow serve' would.

--durable measures a third phase beside the raw replay, the hand-written
durable baseline: the same calls, plus what a team writing the flows by
hand would do at the least to survive a restart: one row per flow in a
table of its own in --store's database (id primary key, state, version,
data, no other index, no history), inserted at the start, then moved on
by a compare-and-swap UPDATE after every Ratio call, through a pool the
size of the engine's. It adds durable_flows_per_sec and engine_to_durable
to the JSON line; the table is dropped at the end. With PostgreSQL each replica's
pool opens up to --concurrency connections, at most --pool-max, within
what the server's max_connections leaves free (a pool_max_conns in the
URL wins). A
progress bar goes to stderr when it is a terminal.

By default the sandbox answers at once, so both phases are bound by CPU
and engine_to_raw is what the engine costs over the bare calls. Ratio
itself answers in tens to hundreds of milliseconds: --latency D makes the
sandbox take D to answer every call, so that both phases wait on Ratio as
a service does, and the step times show the engine's added latency.

--resume finishes every unfinished bench-<seed>-* flow in --store, as after
a bench killed half way: it needs that run's durable store and seal key,
and its sandbox (a 'ratioflow sandbox' given with --ratio). Calls the killed
process left pending are taken for dead after --pending-timeout.`

// benchOpts are bench's flags.
type benchOpts struct {
	flows, concurrency int
	kind               transitions.Kind
	storeURL, ratioURL string
	seed               int64
	resume, replay     bool
	pendingTimeout     time.Duration
	latency            time.Duration
	cpuProfile         string
	replicas, poolMax  int
	durable            bool
}

func runBench(ctx context.Context, e *env, args []string) error {
	o, err := parseBench(e, args)
	if err != nil {
		return err
	}
	if o.resume {
		if err := checkResumable(e, o); err != nil {
			return err
		}
	}
	b := &bench{env: e, o: o}
	defer b.close()
	if err := b.setUp(ctx); err != nil {
		return err
	}
	var res *benchResult
	if o.resume {
		res, err = b.resumeAll(ctx)
	} else {
		res, err = b.runAll(ctx)
	}
	if err != nil {
		return err
	}
	return b.report(res)
}

func parseBench(e *env, args []string) (*benchOpts, error) {
	fs := flagSet(e, "bench", "[--flows N] [--concurrency C] [--flow NAME] [--store URL] [--ratio URL] [--seed S] [--resume]", benchAbout)
	o := &benchOpts{}
	fs.IntVar(&o.flows, "flows", 100, "how many flows to run")
	fs.IntVar(&o.concurrency, "concurrency", 8, "how many flows run at once")
	kind := fs.String("flow", string(transitions.KindLink), "the flow to run: "+kindList())
	fs.StringVar(&o.storeURL, "store", "", "store URL (default $"+envStore+", else "+defaultBenchStore()+")")
	fs.StringVar(&o.ratioURL, "ratio", "", "sandbox base URL (default $"+envRatioURL+", else a sandbox in this process)")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the users' keys, phones and emails, and of the flows' subjects")
	fs.BoolVar(&o.resume, "resume", false, "finish the unfinished flows of an earlier bench with the same --seed")
	fs.BoolVar(&o.replay, "replay", true, "measure the raw replay too (--replay=false skips it)")
	fs.BoolVar(&o.durable, "durable", false, "measure the hand-written durable baseline too: the raw replay plus a compare-and-swap UPDATE per Ratio call in --store's database")
	pendingTimeoutFlag(fs, &o.pendingTimeout)
	fs.DurationVar(&o.latency, "latency", 0, "how long the sandbox takes to answer each Ratio call (0: at once); Ratio takes tens to hundreds of ms")
	fs.IntVar(&o.replicas, "replicas", 1, "how many engines share the store, each with its own store handle and pool; each step goes to one at random")
	poolMaxFlag(fs, &o.poolMax)
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the engine's run to this file, and of the raw replay to FILE.raw (go tool pprof)")
	if err := noArgs(fs, args); err != nil {
		return nil, err
	}
	f, err := lookupFlow("bench", *kind, false)
	if err != nil {
		return nil, err
	}
	o.kind = f.Kind
	switch {
	case o.flows < 1:
		return nil, usageErrorf("bench", "--flows must be at least 1")
	case o.concurrency < 1:
		return nil, usageErrorf("bench", "--concurrency must be at least 1")
	case o.pendingTimeout < time.Second:
		return nil, usageErrorf("bench", "--pending-timeout must be at least 1s")
	case o.latency < 0:
		return nil, usageErrorf("bench", "--latency must not be negative")
	case o.replicas < 1 || o.replicas > maxReplicas:
		return nil, usageErrorf("bench", "--replicas must be from 1 to %d", maxReplicas)
	case o.poolMax < 1:
		return nil, usageErrorf("bench", "--pool-max must be at least 1")
	case o.durable && o.resume:
		return nil, usageErrorf("bench", "--durable measures a new run: --resume, which finishes an old one, has no baseline")
	}
	o.storeURL = firstNonEmpty(o.storeURL, e.getenv(envStore), defaultBenchStore())
	return o, nil
}

// maxReplicas bounds --replicas: each replica opens its own pool.
const maxReplicas = 16

// defaultBenchStore is bench's store given none: SQLite, as a service on
// one machine would run, in the temporary directory.
func defaultBenchStore() string {
	return "sqlite:" + filepath.Join(os.TempDir(), "ratioflow-bench.db")
}

// checkResumable says what --resume lacks before anything is opened.
func checkResumable(e *env, o *benchOpts) error {
	if firstNonEmpty(o.ratioURL, e.getenv(envRatioURL)) == "" {
		return errors.New("bench --resume needs the sandbox the killed run used, which must have outlived it: " +
			"run 'ratioflow sandbox' and give its URL with --ratio to both runs (an in-process sandbox dies with its process)")
	}
	if scheme(o.storeURL) == "memory" {
		return errors.New("bench --resume needs the durable store of the killed run (--store sqlite:PATH or postgres://...): memory: died with it")
	}
	return nil
}

// bench is one run of the bench command.
type bench struct {
	env    *env
	o      *benchOpts
	target *ratioTarget
	stores []store.Store // one per replica (memory: one shared)
	meter  *storemeter.Meter
	router *router
	// durable is the durable baseline's table, with --durable.
	durable durableTable
	hc      *http.Client      // the engine's and the replay's HTTP client
	people  [][]pilot.Persona // per set, per flow index
	// latencySet says the sandbox was given --latency, to take back.
	latencySet bool
}

func (b *bench) setUp(ctx context.Context) error {
	var err error
	if b.target, err = openRatio(ctx, b.env.getenv, b.o.ratioURL, sandbox.Config{}); err != nil {
		return err
	}
	if b.target.mode == realRatio {
		return fmt.Errorf("bench runs against a sandbox only, and %s is not one (it has no /_sandbox/ hooks)", b.target.url)
	}
	if b.o.latency > 0 {
		if err := b.target.setLatency(ctx, b.o.latency); err != nil {
			return fmt.Errorf("set the sandbox's latency: %w", err)
		}
		b.latencySet = true
	}
	maxConns, err := b.poolSize(ctx)
	if err != nil {
		return err
	}
	open := func(ctx context.Context, url string) (store.Store, error) {
		if b.o.resume { // the killed run's store: a typo must not make an empty one
			if err := storeExists(url); err != nil {
				return nil, err
			}
		}
		return openStoreWith(ctx, url, maxConns)
	}
	if b.stores, err = openReplicaStores(ctx, open, b.o.storeURL, b.o.replicas); err != nil {
		return err
	}
	key, err := resolveSealKey(b.env.getenv, b.o.storeURL, !b.o.resume)
	if err != nil {
		return err
	}
	b.hc = benchHTTPClient(b.o.concurrency)
	client := b.target.client()
	client.HTTPClient = b.hc
	policy := flow.Policy{PendingTimeout: b.o.pendingTimeout,
		// A send whose outcome a killed process never learned blocks the
		// next one for this long; a bench has no person to wait for it.
		ResendCooldown: min(b.o.pendingTimeout, 2*time.Second)}
	if b.o.durable {
		if pg, ok := b.stores[0].(*pgstore.Store); ok {
			maxConns = pg.MaxConns() // the engine's pool, as sized
		}
		if b.durable, err = openDurable(ctx, b.o.storeURL, maxConns); err != nil {
			return err
		}
	}
	b.meter = &storemeter.Meter{}
	b.router = &router{meter: b.meter}
	for _, st := range b.stores {
		e, err := flow.New(b.meter.Wrap(st), client, nil, key.options(flow.Options{Policy: policy}))
		if err != nil {
			return err
		}
		b.router.engines = append(b.router.engines, e)
	}
	return nil
}

// poolSize is each replica's pool: it follows the workers, up to
// --pool-max, and with PostgreSQL the pools of all replicas (and of the
// durable baseline) fit within the connections the server has free.
func (b *bench) poolSize(ctx context.Context) (int, error) {
	size := min(b.o.concurrency, b.o.poolMax)
	t, err := storeurl.Parse(b.o.storeURL)
	if err != nil || t.Kind != storeurl.Postgres {
		return size, nil
	}
	free, err := pgstore.FreeConns(ctx, t.DSN)
	if err != nil {
		return 0, fmt.Errorf("open store: %w", err)
	}
	pools := b.o.replicas
	if b.o.durable {
		pools++
	}
	if pools*size > free {
		size = max(free/pools, 2)
		fmt.Fprintf(b.env.stderr, "PostgreSQL has %d connections free: %d pools of %d\n", free, pools, size)
	}
	return size, nil
}

// benchHTTPClient keeps a connection per worker open to the sandbox, for
// the engine's client and the replay alike.
func benchHTTPClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 2*concurrency+10, 2*concurrency+10
	return &http.Client{Transport: t, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (b *bench) close() {
	closeStores(b.stores)
	if b.durable != nil {
		if err := b.durable.drop(); err != nil {
			fmt.Fprintf(b.env.stderr, "drop the durable baseline's table: %v\n", err)
		}
	}
	if b.latencySet { // a sandbox outliving the bench answers at once again
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.target.setLatency(ctx, 0)
		cancel()
	}
	if b.target != nil {
		b.target.Close()
	}
}

// ratioCalls counts the sandbox's calls so far.
func (b *bench) ratioCalls(ctx context.Context) (int, error) {
	s, err := b.target.stats(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the sandbox's counters: %w", err)
	}
	n := 0
	for _, c := range s.Calls {
		n += c
	}
	return n, nil
}

// benchResult is the last line of bench's output.
type benchResult struct {
	Flow               transitions.Kind `json:"flow"`
	Store              string           `json:"store"`
	Resumed            bool             `json:"resumed,omitempty"`
	Flows              int              `json:"flows"`
	Completed          int              `json:"completed"`
	Failed             int              `json:"failed"`
	Concurrency        int              `json:"concurrency"`
	Replicas           int              `json:"replicas"`
	LatencyMS          float64          `json:"ratio_latency_ms,omitempty"`
	Seconds            float64          `json:"seconds"`
	FlowsPerSec        float64          `json:"flows_per_sec"`
	StepP50MS          float64          `json:"step_p50_ms"`
	StepP99MS          float64          `json:"step_p99_ms"`
	RatioCalls         int              `json:"ratio_calls"`
	RawFlowsPerSec     float64          `json:"raw_flows_per_sec,omitempty"`
	EngineToRaw        float64          `json:"engine_to_raw,omitempty"`
	DurableFlowsPerSec float64          `json:"durable_flows_per_sec,omitempty"`
	EngineToDurable    float64          `json:"engine_to_durable,omitempty"`
	WritesPerFlow      float64          `json:"writes_per_flow"`
	CallsPerFlow       float64          `json:"store_calls_per_flow"`
	StoreP50MS         float64          `json:"store_p50_ms"`
	StoreP99MS         float64          `json:"store_p99_ms"`
	WritesPerTx        float64          `json:"writes_per_transaction,omitempty"`
	CPUMS              float64          `json:"cpu_ms_per_flow,omitempty"`
	ProcessCPUMS       float64          `json:"process_cpu_ms_per_flow"`
	RawCPUMS           float64          `json:"raw_cpu_ms_per_flow,omitempty"`
	DurableCPUMS       float64          `json:"durable_cpu_ms_per_flow,omitempty"`

	failures []string // the first few failures, for stderr
}

func (b *bench) report(r *benchResult) error {
	w := b.env.stdout
	what := "ran"
	if r.Resumed {
		what = "resumed"
	}
	latency := ""
	if b.o.latency > 0 {
		latency = fmt.Sprintf(", answering in %s", b.o.latency)
	}
	fmt.Fprintf(w, "engine: %s %d %s flows, %d workers, %d engine(s), store %s, %s%s\n", what, r.Flows, r.Flow, r.Concurrency,
		r.Replicas, r.Store, b.target.describe(), latency)
	fmt.Fprintf(w, "  %d completed, %d failed in %.2fs: %.1f flows/s; step p50 %.2fms, p99 %.2fms; %d Ratio calls\n",
		r.Completed, r.Failed, r.Seconds, r.FlowsPerSec, r.StepP50MS, r.StepP99MS, r.RatioCalls)
	fmt.Fprintf(w, "  store: %.1f writes and %.1f calls per flow; its time per step p50 %.2fms, p99 %.2fms\n",
		r.WritesPerFlow, r.CallsPerFlow, r.StoreP50MS, r.StoreP99MS)
	if r.WritesPerTx > 0 {
		fmt.Fprintf(w, "  PostgreSQL: %.1f writes per transaction (group commit)\n", r.WritesPerTx)
	}
	if r.CPUMS > 0 {
		fmt.Fprintf(w, "  processor time per flow: %.2fms on the machine, %.2fms of it in this process (engine and sandbox)\n",
			r.CPUMS, r.ProcessCPUMS)
	}
	if r.RawFlowsPerSec > 0 {
		fmt.Fprintf(w, "raw replay: %.1f flows/s with plain net/http; the engine runs at %.2f of it", r.RawFlowsPerSec, r.EngineToRaw)
		if r.RawCPUMS > 0 {
			fmt.Fprintf(w, "; %.2fms of processor time per flow", r.RawCPUMS)
		}
		fmt.Fprintln(w)
	}
	if r.DurableFlowsPerSec > 0 {
		fmt.Fprintf(w, "durable baseline: %.1f flows/s with a compare-and-swap per call; the engine runs at %.2f of it",
			r.DurableFlowsPerSec, r.EngineToDurable)
		if r.DurableCPUMS > 0 {
			fmt.Fprintf(w, "; %.2fms of processor time per flow", r.DurableCPUMS)
		}
		fmt.Fprintln(w)
	}
	for _, f := range r.failures {
		fmt.Fprintf(b.env.stderr, "failed: %s\n", f)
	}
	if err := json.NewEncoder(w).Encode(r); err != nil {
		return err
	}
	if r.Failed > 0 {
		return fmt.Errorf("%d of %d flows failed", r.Failed, r.Flows)
	}
	return nil
}

// newReplay returns the raw replay for the bench's sandbox, on the
// engine's HTTP client settings.
func (b *bench) newReplay() *replay {
	return &replay{base: b.target.url, id: b.target.id, secret: string(b.target.secret), hc: b.hc,
		codes: b.target.codes(nil, nil)}
}
