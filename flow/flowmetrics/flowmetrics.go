// Package flowmetrics counts what a flow engine does, as Prometheus
// metrics a service registers on its own registry.
//
// The engine reports every entry it writes to a flow's audit history
// through flow.Options.OnStep; Metrics.Step turns each into counts: steps
// by kind, event and outcome, flows ended by kind and state, Ratio calls by
// operation and HTTP status, and a histogram of the calls' durations. Every
// label comes from the declared tables or from Ratio's HTTP status, so the
// series are few, and none holds a flow ID, a subject, a wallet or a
// secret.
//
//	reg := prometheus.NewRegistry()
//	m := flowmetrics.New(reg)
//	engine, err := flow.New(st, client, key, flow.Options{OnStep: m.Step})
//	http.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
package flowmetrics

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// DurationBuckets are the upper bounds, in seconds, of the Ratio call
// duration histogram: Prometheus's default buckets, which span Ratio's tens
// to hundreds of milliseconds and its slow answers.
var DurationBuckets = prometheus.DefBuckets

// Metrics holds the engine's metrics. It is safe for concurrent use.
type Metrics struct {
	steps    *prometheus.CounterVec
	ended    *prometheus.CounterVec
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New returns the metrics, registered on reg (nil: not registered, for a
// caller that registers them itself through Collectors). It panics if reg
// already holds metrics of the same names, as prometheus.MustRegister does.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioflow_steps_total",
			Help: "Entries written to flows' histories: steps, expiries, reconciliations.",
		}, []string{"kind", "event", "outcome"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioflow_flows_ended_total",
			Help: "Flows that reached a terminal state, by kind and state.",
		}, []string{"kind", "state"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioflow_ratio_calls_total",
			Help: `Ratio calls made, by operation and HTTP status ("2xx": success; "none": no usable answer).`,
		}, []string{"call", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ratioflow_ratio_call_duration_seconds",
			Help:    "How long Ratio calls took, retries included, by operation.",
			Buckets: DurationBuckets,
		}, []string{"call"}),
	}
	if reg != nil {
		reg.MustRegister(m.Collectors()...)
	}
	return m
}

// Collectors returns the metrics' collectors.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.steps, m.ended, m.calls, m.duration}
}

// Step counts one history entry of a flow of kind: a flow.Options.OnStep.
// A Ratio call was made when the entry has a duration: an entry with a
// call but none is a step a guard refused, an expiry, or the
// reconciliation of a call whose answer was lost.
func (m *Metrics) Step(_ context.Context, kind transitions.Kind, e store.HistoryEntry) {
	m.steps.WithLabelValues(string(kind), e.Event, e.Outcome).Inc()
	if e.To.Terminal() && !e.From.Terminal() {
		m.ended.WithLabelValues(string(kind), string(e.To)).Inc()
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
	m.calls.WithLabelValues(e.Call, status).Inc()
	m.duration.WithLabelValues(e.Call).Observe(e.Duration.Seconds())
}
