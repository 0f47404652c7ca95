package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
)

// Persona sets: the engine's people and the replay's never meet.
const (
	setEngine  = 0
	setReplay  = 1
	setDurable = 2
)

// benchRounds is how many times runAll alternates the raw replay and the
// engine, each on its share of the flows. A machine whose speed drifts
// during a run (other processes, a noisy host: the raw replay of 1000
// flows was seen to vary by a fifth from one run to the next) then weighs
// on both alike, where one long phase after the other carries the drift
// into the ratio.
const benchRounds = 4

// runAll seeds the sandbox, then replays the raw calls and runs the flows,
// round after round.
func (b *bench) runAll(ctx context.Context) (*benchResult, error) {
	n, c, kind := b.o.flows, b.o.concurrency, b.o.kind
	sets := []int{setEngine}
	if b.o.replay {
		sets = append(sets, setReplay)
	}
	if b.durable != nil {
		sets = append(sets, setDurable)
	}
	b.makePeople(sets, n)
	if needsUser(kind) {
		if err := b.seed(ctx, sets); err != nil {
			return nil, err
		}
	}
	res := &benchResult{Flow: kind, Store: b.o.storeURL, Flows: n, Concurrency: c, Replicas: b.o.replicas}
	rounds := benchRounds
	if b.o.cpuProfile != "" || !b.o.replay || n < 4*c*benchRounds {
		rounds = 1 // a profile covers one whole phase; small runs would be all ramp
	}
	var (
		raw              = b.newReplay()
		rawTime, engTime time.Duration
		durTime          time.Duration
		rawCPU, engCPU   cpuTime
		durCPU           cpuTime
		calls            int
		failed           = &failures{}
		lat              = &latencies{}
		prog             = newProgress(b.env.stderr, "engine", n)
	)
	for r := range rounds {
		lo, hi := n*r/rounds, n*(r+1)/rounds
		if b.o.replay {
			t, cpu, err := b.baseline(ctx, "the raw replay", rawProfile(b.o.cpuProfile), lo, hi, func(ctx context.Context, i int) error {
				return raw.fly(ctx, kind, b.people[setReplay][i])
			})
			if err != nil {
				return nil, err
			}
			rawTime, rawCPU = rawTime+t, rawCPU.add(cpu)
		}
		if b.durable != nil {
			t, cpu, err := b.baseline(ctx, "the durable baseline", "", lo, hi, func(ctx context.Context, i int) error {
				return raw.flyDurably(ctx, b.durable, fmt.Sprintf("durable-%d-%d", b.o.seed, i), kind, b.people[setDurable][i])
			})
			if err != nil {
				return nil, err
			}
			durTime, durCPU = durTime+t, durCPU.add(cpu)
		}
		calls0, err := b.ratioCalls(ctx)
		if err != nil {
			return nil, err
		}
		t, cpu, engFailed, err := timed(ctx, b.o.cpuProfile, hi-lo, c, prog, func(ctx context.Context, i int) error {
			v, err := b.pilot(lo+i, lat).Fly(ctx, kind)
			return ended(v, err)
		})
		if err != nil {
			prog.done()
			return nil, err
		}
		calls1, err := b.ratioCalls(ctx)
		if err != nil {
			return nil, err
		}
		engTime, engCPU, calls = engTime+t, engCPU.add(cpu), calls+calls1-calls0
		failed.merge(engFailed)
	}
	prog.done()
	res.ProcessCPUMS = perFlow(engCPU.process, n)
	if engCPU.machineKnown {
		res.CPUMS = perFlow(engCPU.machine, n)
	}
	if b.o.replay {
		res.RawFlowsPerSec = float64(n) / rawTime.Seconds()
		if rawCPU.machineKnown {
			res.RawCPUMS = perFlow(rawCPU.machine, n)
		}
	}
	if b.durable != nil {
		res.DurableFlowsPerSec = float64(n) / durTime.Seconds()
		if durCPU.machineKnown {
			res.DurableCPUMS = perFlow(durCPU.machine, n)
		}
	}
	return b.finish(res, engTime, failed, lat, calls), nil
}

// baseline times a baseline's flows lo to hi-1 (fly's i) on the bench's
// workers; any failure fails the run, the yardstick being wrong.
func (b *bench) baseline(ctx context.Context, what, profile string, lo, hi int, fly func(context.Context, int) error) (time.Duration, cpuTime, error) {
	t, cpu, failed, err := timed(ctx, profile, hi-lo, b.o.concurrency, nil, func(ctx context.Context, i int) error {
		return fly(ctx, lo+i)
	})
	if err != nil {
		return 0, cpuTime{}, err
	}
	if failed.n > 0 {
		return 0, cpuTime{}, fmt.Errorf("%s failed %d of %d flows: %s", what, failed.n, hi-lo, failed.first)
	}
	return t, cpu, nil
}

// timed runs a pool of n jobs on c workers, with a CPU profile into
// profile if not empty, after a garbage collection so that the run starts
// without the garbage of what came before (as testing.B does). It returns
// the time the jobs took and the processor time they used.
func timed(ctx context.Context, profile string, n, c int, prog *progress, job func(context.Context, int) error) (time.Duration, cpuTime, *failures, error) {
	stop, err := startProfile(profile)
	if err != nil {
		return 0, cpuTime{}, nil, err
	}
	defer stop()
	runtime.GC()
	before := readCPU()
	t, failed, err := pool(ctx, n, c, prog, job)
	return t, readCPU().sub(before), failed, err
}

// finish fills the result's measures.
func (b *bench) finish(res *benchResult, elapsed time.Duration, failed *failures, lat *latencies, calls int) *benchResult {
	res.Failed, res.failures = failed.n, failed.all
	res.Completed = res.Flows - res.Failed
	res.Seconds = elapsed.Seconds()
	res.FlowsPerSec = float64(res.Flows) / elapsed.Seconds()
	res.StepP50MS, res.StepP99MS = lat.percentile(50), lat.percentile(99)
	res.RatioCalls = calls
	res.LatencyMS = float64(b.o.latency) / float64(time.Millisecond)
	if res.RawFlowsPerSec > 0 {
		res.EngineToRaw = res.FlowsPerSec / res.RawFlowsPerSec
	}
	if res.DurableFlowsPerSec > 0 {
		res.EngineToDurable = res.FlowsPerSec / res.DurableFlowsPerSec
	}
	if res.Flows > 0 {
		storeCalls, writes := b.meter.Counts()
		res.WritesPerFlow = float64(writes) / float64(res.Flows)
		res.CallsPerFlow = float64(storeCalls) / float64(res.Flows)
	}
	res.StoreP50MS, res.StoreP99MS = ms(b.meter.StepPercentile(50)), ms(b.meter.StepPercentile(99))
	var ws pgstore.WriteStats
	for _, st := range b.stores {
		if pg, ok := st.(*pgstore.Store); ok {
			w := pg.WriteStats()
			ws.Writes, ws.Batches = ws.Writes+w.Writes, ws.Batches+w.Batches
		}
	}
	if ws.Batches > 0 {
		res.WritesPerTx = float64(ws.Writes) / float64(ws.Batches)
	}
	return res
}

// seed creates the users the flows need, for each persona set, before
// anything is timed.
func (b *bench) seed(ctx context.Context, sets []int) error {
	for _, set := range sets {
		_, failed, err := pool(ctx, b.o.flows, b.o.concurrency, nil, func(ctx context.Context, i int) error {
			return b.target.seedUser(ctx, userSeed(b.people[set][i], b.o.kind))
		})
		if err != nil {
			return err
		}
		if failed.n > 0 {
			if failed.conflict {
				return fmt.Errorf("seed the sandbox: its users already include seed %d's (%s): "+
					"give another --seed, or a fresh sandbox", b.o.seed, failed.first)
			}
			return fmt.Errorf("seed the sandbox: %d of %d users failed: %s", failed.n, b.o.flows, failed.first)
		}
	}
	return nil
}

// makePeople derives the people of each set before anything is timed:
// a key takes a scalar multiplication, the cost of a signature.
func (b *bench) makePeople(sets []int, n int) {
	b.people = make([][]pilot.Persona, len(benchSets))
	for _, set := range sets {
		b.people[set] = make([]pilot.Persona, n)
		_, _, _ = pool(context.Background(), n, runtime.GOMAXPROCS(0), nil, func(_ context.Context, i int) error {
			b.people[set][i] = benchPersona(b.o.seed, set, i)
			return nil
		})
	}
}

// pilot returns the pilot of the i-th flow of the engine's set.
func (b *bench) pilot(i int, lat *latencies) *pilot.Pilot {
	return &pilot.Pilot{
		Engine: b.router, Codes: b.target.codes(nil, nil), Subject: benchSubject(b.o.seed, i),
		Persona: b.people[setEngine][i], NoEntries: true,
		Observe: func(s pilot.Step) { lat.add(s.Duration) },
	}
}

// ended checks that a flow ended where its kind should.
func ended(v *flow.View, err error) error {
	if err != nil {
		if v != nil {
			return fmt.Errorf("flow %s in %s: %w", v.ID, v.State, err)
		}
		return err
	}
	if want := demoEnd[v.Kind]; v.State != want {
		return fmt.Errorf("flow %s ended in %s, not %s%s", v.ID, v.State, want, lastMessage(v))
	}
	return nil
}

// resumeAll finishes the unfinished flows of an earlier run with the
// same seed.
func (b *bench) resumeAll(ctx context.Context) (*benchResult, error) {
	ids, idx, total, err := b.unfinished(ctx)
	if err != nil {
		return nil, err
	}
	b.makePeople([]int{setEngine}, slices.Max(append(idx, -1))+1)
	switch {
	case total == 0:
		fmt.Fprintf(b.env.stdout, "nothing to resume: no bench-%d flow in %s (was the killed run's --seed another?)\n", b.o.seed, b.o.storeURL)
	case len(ids) == 0:
		fmt.Fprintf(b.env.stdout, "nothing to resume: the %d bench-%d flows in %s have all ended (the run was killed after its last flow)\n",
			total, b.o.seed, b.o.storeURL)
	default:
		fmt.Fprintf(b.env.stdout, "resuming %d unfinished of %d bench-%d flows in %s\n", len(ids), total, b.o.seed, b.o.storeURL)
	}
	res := &benchResult{Flow: b.o.kind, Store: b.o.storeURL, Resumed: true, Flows: len(ids), Concurrency: b.o.concurrency,
		Replicas: b.o.replicas}
	calls0, err := b.ratioCalls(ctx)
	if err != nil {
		return nil, err
	}
	lat := &latencies{}
	prog := newProgress(b.env.stderr, "resume", len(ids))
	elapsed, failed, err := pool(ctx, len(ids), b.o.concurrency, prog, func(ctx context.Context, j int) error {
		v, err := b.pilot(idx[j], lat).Resume(ctx, ids[j])
		return ended(v, err)
	})
	prog.done()
	if err != nil {
		return nil, err
	}
	calls, err := b.ratioCalls(ctx)
	if err != nil {
		return nil, err
	}
	return b.finish(res, elapsed, failed, lat, calls-calls0), nil
}

// unfinished lists the store's flows of subject bench-<seed>-<i> that have
// not ended, with each one's i, and counts all of them.
func (b *bench) unfinished(ctx context.Context) (ids []string, idx []int, total int, err error) {
	prefix := fmt.Sprintf("bench-%d-", b.o.seed)
	q := store.Query{Limit: store.MaxPageSize}
	for {
		page, err := b.stores[0].List(ctx, q)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("list flows: %w", err)
		}
		for _, r := range page.Records {
			i, err := strconv.Atoi(strings.TrimPrefix(r.Subject, prefix))
			if !strings.HasPrefix(r.Subject, prefix) || err != nil {
				continue
			}
			total++
			if !r.Terminal() {
				ids, idx = append(ids, r.ID), append(idx, i)
			}
		}
		if page.NextPageToken == "" {
			return ids, idx, total, nil
		}
		q.PageToken = page.NextPageToken
	}
}

// rawProfile is where the raw replay's CPU profile goes when the engine's
// goes to path: beside it, for comparing the two with go tool pprof -diff_base.
func rawProfile(path string) string {
	if path == "" {
		return ""
	}
	return path + ".raw"
}

// startProfile starts a CPU profile into path (none when path is empty) and
// returns the function that stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
