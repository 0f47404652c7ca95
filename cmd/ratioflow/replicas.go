package main

import (
	"context"
	"math/rand/v2"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/internal/storemeter"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// router sends each call of a pilot to one of several engines (replicas
// sharing one database) at random, as a load balancer would, and marks
// each step for the store meter so that the store's time per step is
// known.
type router struct {
	engines []*flow.Engine
	meter   *storemeter.Meter
}

var _ pilot.Engine = (*router)(nil)

func (r *router) pick() *flow.Engine { return r.engines[rand.IntN(len(r.engines))] }

// Start starts a flow on a replica.
func (r *router) Start(ctx context.Context, kind transitions.Kind, subject string, in flow.Input) (*flow.View, error) {
	ctx, done := r.meter.Step(ctx)
	defer done()
	return r.pick().Start(ctx, kind, subject, in)
}

// Step sends a step to a replica.
func (r *router) Step(ctx context.Context, id, subject string, event transitions.Event, in flow.Input) (*flow.View, error) {
	ctx, done := r.meter.Step(ctx)
	defer done()
	return r.pick().Step(ctx, id, subject, event, in)
}

// Resume resumes a flow on a replica.
func (r *router) Resume(ctx context.Context, id, subject string) (*flow.View, error) {
	ctx, done := r.meter.Step(ctx)
	defer done()
	return r.pick().Resume(ctx, id, subject)
}

// Get reads a flow on a replica; it is no step.
func (r *router) Get(ctx context.Context, id, subject string) (*flow.View, error) {
	return r.pick().Get(ctx, id, subject)
}

// History reads a flow's history on a replica; it is no step.
func (r *router) History(ctx context.Context, id, subject string) ([]store.HistoryEntry, error) {
	return r.pick().History(ctx, id, subject)
}

// openReplicaStores opens the store at url with open once per replica, each with its
// own handle and pool, as separate processes would. The memory store lives
// in one process only: its replicas share one.
func openReplicaStores(ctx context.Context, open func(context.Context, string) (store.Store, error), url string, replicas int) ([]store.Store, error) {
	var stores []store.Store
	for i := range replicas {
		if i > 0 && scheme(url) == "memory" {
			stores = append(stores, stores[0])
			continue
		}
		st, err := open(ctx, url)
		if err != nil {
			closeStores(stores)
			return nil, err
		}
		stores = append(stores, st)
	}
	return stores, nil
}

// closeStores closes each distinct store once.
func closeStores(stores []store.Store) {
	for i, st := range stores {
		if i == 0 || st != stores[0] {
			st.Close()
		}
	}
}
