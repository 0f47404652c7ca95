package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/store"
)

// Persona sets: the engine's people and the replay's never meet.
const (
	setEngine = 0
	setReplay = 1
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
		calls            int
		failed           = &failures{}
		lat              = &latencies{}
		prog             = newProgress(b.env.stderr, "engine", n)
	)
	for r := range rounds {
		lo, hi := n*r/rounds, n*(r+1)/rounds
		if b.o.replay {
			t, rawFailed, err := timed(ctx, rawProfile(b.o.cpuProfile), hi-lo, c, nil, func(ctx context.Context, i int) error {
				return raw.fly(ctx, kind, b.people[setReplay][lo+i])
			})
			if err != nil {
				return nil, err
			}
			if rawFailed.n > 0 {
				return nil, fmt.Errorf("the raw replay failed %d of %d flows: %s", rawFailed.n, hi-lo, rawFailed.first)
			}
			rawTime += t
		}
		calls0, err := b.ratioCalls(ctx)
		if err != nil {
			return nil, err
		}
		t, engFailed, err := timed(ctx, b.o.cpuProfile, hi-lo, c, prog, func(ctx context.Context, i int) error {
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
		engTime, calls = engTime+t, calls+calls1-calls0
		failed.merge(engFailed)
	}
	prog.done()
	if b.o.replay {
		res.RawFlowsPerSec = float64(n) / rawTime.Seconds()
	}
	return b.finish(res, engTime, failed, lat, calls), nil
}

// timed runs a pool of n jobs on c workers, with a CPU profile into
// profile if not empty, after a garbage collection so that the run starts
// without the garbage of what came before (as testing.B does).
func timed(ctx context.Context, profile string, n, c int, prog *progress, job func(context.Context, int) error) (time.Duration, *failures, error) {
	stop, err := startProfile(profile)
	if err != nil {
		return 0, nil, err
	}
	defer stop()
	runtime.GC()
	return pool(ctx, n, c, prog, job)
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
	if res.Flows > 0 {
		storeCalls, writes := b.meter.Counts()
		res.WritesPerFlow = float64(writes) / float64(res.Flows)
		res.CallsPerFlow = float64(storeCalls) / float64(res.Flows)
	}
	res.StoreP50MS, res.StoreP99MS = ms(b.meter.StepPercentile(50)), ms(b.meter.StepPercentile(99))
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

// failures collects the failed jobs of a pool.
type failures struct {
	mu       sync.Mutex
	n        int
	first    string
	all      []string // the first few
	conflict bool     // some failed on a 409
}

// merge adds the failures of o to f.
func (f *failures) merge(o *failures) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n += o.n
	if f.first == "" {
		f.first = o.first
	}
	f.all = append(f.all, o.all[:min(len(o.all), max(5-len(f.all), 0))]...)
	f.conflict = f.conflict || o.conflict
}

func (f *failures) add(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.first == "" {
		f.first = err.Error()
	}
	if len(f.all) < 5 {
		f.all = append(f.all, err.Error())
	}
	f.conflict = f.conflict || errors.Is(err, ratio.ErrConflict)
}

// pool runs job(0..n-1) on c workers and returns the wall time. A failed
// job is counted; only ctx's end stops the pool.
func pool(ctx context.Context, n, c int, prog *progress, job func(context.Context, int) error) (time.Duration, *failures, error) {
	failed := &failures{}
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range min(c, n) {
		wg.Go(func() {
			for i := range jobs {
				if err := job(ctx, i); err != nil {
					failed.add(err)
				}
				prog.add()
			}
		})
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return time.Since(start), failed, ctx.Err()
}

// latencies collects the duration of every engine call.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// percentile returns the p-th percentile in milliseconds.
func (l *latencies) percentile(p int) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	slices.Sort(l.d)
	i := min(len(l.d)*p/100, len(l.d)-1)
	return ms(l.d[i])
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

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
