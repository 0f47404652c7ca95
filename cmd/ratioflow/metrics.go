package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// durationBuckets are the upper bounds, in seconds, of the Ratio call
// duration histogram: Prometheus's default buckets, which span Ratio's
// tens to hundreds of milliseconds and its slow answers.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics counts what serve's engine writes to the flows' histories, for
// GET /metrics in Prometheus's text format. Every label comes from the
// declared tables or from Ratio's HTTP status, so the series are few and
// none holds a flow ID, a subject or a secret. It is fed by flow.Options.OnStep
// and safe for concurrent use.
type metrics struct {
	mu    sync.Mutex
	steps map[[3]string]uint64 // kind, event, outcome
	ended map[[2]string]uint64 // kind, state
	calls map[[2]string]uint64 // call, status
	times map[string]*histogram
}

// histogram is one call's durations: counts per bucket (not cumulative),
// the rest above the last bucket, and their sum.
type histogram struct {
	counts []uint64
	over   uint64
	sum    float64
}

func newMetrics() *metrics {
	return &metrics{steps: map[[3]string]uint64{}, ended: map[[2]string]uint64{}, calls: map[[2]string]uint64{},
		times: map[string]*histogram{}}
}

// step counts one history entry of a flow of kind. A Ratio call was made
// when the entry has a duration: an entry with a call but none is a step
// a guard refused, an expiry, or a reconciliation of a call whose answer
// was lost.
func (m *metrics) step(kind transitions.Kind, e store.HistoryEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.steps[[3]string{string(kind), e.Event, e.Outcome}]++
	if e.To.Terminal() && !e.From.Terminal() {
		m.ended[[2]string{string(kind), string(e.To)}]++
	}
	if e.Call == "" || e.Duration <= 0 {
		return
	}
	// The history keeps Ratio's status when it answered an error; a call
	// that succeeded has none, nor has one without a usable answer.
	status := "none"
	switch {
	case e.Status != 0:
		status = strconv.Itoa(e.Status)
	case e.Outcome == string(transitions.OK) || e.Outcome == string(transitions.NewUser):
		status = "2xx"
	}
	m.calls[[2]string{e.Call, status}]++
	h := m.times[e.Call]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(durationBuckets))}
		m.times[e.Call] = h
	}
	s := e.Duration.Seconds()
	h.sum += s
	if i, _ := slices.BinarySearch(durationBuckets, s); i < len(durationBuckets) {
		h.counts[i]++
	} else {
		h.over++
	}
}

// ServeHTTP answers GET /metrics.
func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	m.write(w)
}

// write prints every series in Prometheus's text exposition format, in
// a stable order.
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	family(w, "ratioflow_steps_total", "counter", "Entries written to flows' histories: steps, expiries, reconciliations.")
	for _, k := range sortedKeys(m.steps) {
		fmt.Fprintf(w, "ratioflow_steps_total{%s} %d\n", labels("kind", k[0], "event", k[1], "outcome", k[2]), m.steps[k])
	}
	family(w, "ratioflow_flows_ended_total", "counter", "Flows that reached a terminal state, by kind and state.")
	for _, k := range sortedKeys(m.ended) {
		fmt.Fprintf(w, "ratioflow_flows_ended_total{%s} %d\n", labels("kind", k[0], "state", k[1]), m.ended[k])
	}
	family(w, "ratioflow_ratio_calls_total", "counter", `Ratio calls made, by operation and HTTP status ("2xx": success; "none": no usable answer).`)
	for _, k := range sortedKeys(m.calls) {
		fmt.Fprintf(w, "ratioflow_ratio_calls_total{%s} %d\n", labels("call", k[0], "status", k[1]), m.calls[k])
	}
	family(w, "ratioflow_ratio_call_duration_seconds", "histogram", "How long Ratio calls took, retries included, by operation.")
	for _, call := range slices.Sorted(maps.Keys(m.times)) {
		h := m.times[call]
		var n uint64
		for i, le := range durationBuckets {
			n += h.counts[i]
			fmt.Fprintf(w, "ratioflow_ratio_call_duration_seconds_bucket{%s} %d\n",
				labels("call", call, "le", strconv.FormatFloat(le, 'g', -1, 64)), n)
		}
		n += h.over
		fmt.Fprintf(w, "ratioflow_ratio_call_duration_seconds_bucket{%s} %d\n", labels("call", call, "le", "+Inf"), n)
		fmt.Fprintf(w, "ratioflow_ratio_call_duration_seconds_sum{%s} %s\n", labels("call", call),
			strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(w, "ratioflow_ratio_call_duration_seconds_count{%s} %d\n", labels("call", call), n)
	}
}

func family(w io.Writer, name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// labels renders name="value" pairs, escaping the values as the format
// requires.
func labels(kv ...string) string {
	var b strings.Builder
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=\"%s\"", kv[i], esc.Replace(kv[i+1]))
	}
	return b.String()
}

func sortedKeys[K [2]string | [3]string](m map[K]uint64) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int {
		for i := range len(a) {
			if c := cmp.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return keys
}
