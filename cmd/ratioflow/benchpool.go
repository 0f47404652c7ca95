package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

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
