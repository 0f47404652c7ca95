package flow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// Engine runs declared flows. It is safe for concurrent use, and any number
// of engines (in one process or many) may share one store: every write is a
// compare-and-swap on the flow's version.
type Engine struct {
	store  store.Store
	ratio  ratio.API
	sealer *Keyring
	cache  *dataCache
	flows  map[transitions.Kind]*compiled
	policy Policy
	now    func() time.Time
	log    *slog.Logger
	onStep func(context.Context, transitions.Kind, store.HistoryEntry)
	tracer trace.Tracer
}

// Options are the engine's optional settings. The zero value is usable.
type Options struct {
	// Flows are the declared flows the engine runs; nil means transitions.All().
	Flows []*transitions.Flow
	// Policy sets deadlines, attempt limits and back-off; zero fields take
	// DefaultPolicy's values.
	Policy Policy
	// Now is the clock; nil means time.Now. The engine reads it in UTC at
	// microsecond precision, as the stores keep times.
	Now func() time.Time
	// Logger receives one record per step (never a secret); nil means none.
	Logger *slog.Logger
	// OnStep, if set, is called after each write of a step with the step's
	// context (its trace, if any), the flow's kind and the audit entry
	// written (never a secret; Seq unset), for metrics (flowmetrics.Step
	// is one). It runs on the step's goroutine, so it must be quick, and it
	// must be safe for concurrent use.
	OnStep func(ctx context.Context, kind transitions.Kind, entry store.HistoryEntry)
	// Keys, if set, are the seal keys, in place of New's sealKey (which
	// must then be nil): the first key seals every write, and every key
	// opens the flows it sealed (see Keyring and Engine.Reseal).
	Keys *Keyring
	// TracerProvider gives the tracer of the engine's OpenTelemetry spans
	// (see trace.go: a span per step, a child span per Ratio call); nil
	// means the global one, otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
}

// New returns an engine that persists flows in st and calls Ratio through
// api. sealKey, the AES key of 16, 24 or 32 bytes (32: AES-256), seals
// every flow's data with AES-GCM before it reaches the store; it is a
// keyring of one key without an ID. To rotate keys, pass nil and set
// Options.Keys instead. New validates the flows' tables and fails on a
// bad key or a table that does not validate.
func New(st store.Store, api ratio.API, sealKey []byte, opts Options) (*Engine, error) {
	if st == nil || api == nil {
		return nil, errors.New("flow: New needs a store and a Ratio API")
	}
	s, err := keyring(sealKey, opts.Keys)
	if err != nil {
		return nil, err
	}
	e := &Engine{store: st, ratio: api, sealer: s, cache: newDataCache(), flows: map[transitions.Kind]*compiled{},
		policy: opts.Policy.withDefaults(), now: storeClock(opts.Now), log: opts.Logger, onStep: opts.OnStep,
		tracer: newTracer(opts.TracerProvider)}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	flows := opts.Flows
	if flows == nil {
		flows = transitions.All()
	}
	for _, f := range flows {
		if err := f.Validate(); err != nil {
			return nil, err
		}
		e.flows[f.Kind] = compile(f)
	}
	return e, nil
}

// stepped tells Options.OnStep about a step's write.
func (e *Engine) stepped(ctx context.Context, kind string, entry store.HistoryEntry) {
	if e.onStep != nil {
		e.onStep(ctx, transitions.Kind(kind), entry)
	}
}

// Policy returns the engine's effective policy.
func (e *Engine) Policy() Policy { return e.policy }

// Start creates a flow of the given kind for subject, checks the start
// input (every field the flow's Start declares, with Ratio's rules) before
// anything is sent, persists the flow and runs its automatic first steps
// (for the link flow: ask Ratio for the wallet's challenge). Invalid input
// is a *ratio.InputError and creates nothing.
func (e *Engine) Start(ctx context.Context, kind transitions.Kind, subject string, in Input) (*View, error) {
	return e.start(ctx, kind, subject, "", in)
}

// StartKeyed is Start made safe to retry after its answer was lost: the
// flow's ID is derived from subject and key (a client's Idempotency-Key),
// so a start retried with the same key, in this process or another,
// returns the flow the first one created, brought up to date as Resume
// does, instead of creating a second flow. A key that already started a
// flow of another kind is ErrKeyReused. An empty key is Start.
func (e *Engine) StartKeyed(ctx context.Context, kind transitions.Kind, subject, key string, in Input) (*View, error) {
	if key == "" {
		return e.Start(ctx, kind, subject, in)
	}
	sum := sha256.Sum256([]byte("ratioflow start\x00" + subject + "\x00" + key))
	return e.start(ctx, kind, subject, hex.EncodeToString(sum[:16]), in)
}

// start is Start with the flow's ID, or "" for a new one.
func (e *Engine) start(ctx context.Context, kind transitions.Kind, subject, id string, in Input) (*View, error) {
	c, ok := e.flows[kind]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownKind, kind, transitions.Kinds())
	}
	if subject == "" {
		return nil, errors.New("flow: Start needs a subject")
	}
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	d, err := startData(c.flow, &in)
	if err != nil {
		return nil, err
	}
	now := e.now()
	if id == "" {
		id = newFlowID(now)
	}
	rec := &store.Record{
		ID: id, Kind: string(kind), GraphVersion: c.version, State: c.flow.Initial,
		Subject: subject, CreatedAt: now, UpdatedAt: now,
	}
	d.EnteredAt = now
	rec.ExpiresAt = e.deadline(rec, d)
	if rec.Data, err = e.sealer.seal(rec.ID, d); err != nil {
		return nil, err
	}
	r := &run{e: e, c: c, rec: rec, d: d, chain: true}
	r.preclaim()                     // the first automatic step's call, recorded with the flow
	ctx = context.WithoutCancel(ctx) // as in run.step: the caller may go, the flow goes on
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := e.store.Create(wctx, rec); errors.Is(err, store.ErrAlreadyExists) && id != "" {
		return e.restart(ctx, kind, rec.ID, subject)
	} else if err != nil {
		return nil, fmt.Errorf("create flow: %w", err)
	}
	r.writes++
	e.cache.put(rec, d)
	e.log.LogAttrs(ctx, slog.LevelInfo, "flow started", slog.String("flow", rec.ID), slog.String("kind", rec.Kind))
	err = r.autos(ctx)
	return r.view(), err
}

// restart answers a keyed start whose flow exists: the flow, resumed.
func (e *Engine) restart(ctx context.Context, kind transitions.Kind, id, subject string) (*View, error) {
	r, err := e.load(ctx, id, subject)
	if err != nil {
		return nil, err
	}
	if r.rec.Kind != string(kind) {
		return nil, fmt.Errorf("%w: it started a %s flow", ErrKeyReused, r.rec.Kind)
	}
	return r.resume(ctx)
}

// startData checks a flow's start input and returns the initial data.
func startData(f *transitions.Flow, in *Input) (*data, error) {
	if err := in.checkFields("the start of a "+string(f.Kind)+" flow", f.Start); err != nil {
		return nil, err
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	d := &data{WalletAddress: in.WalletAddress, PhoneNumber: in.PhoneNumber, EmailAddress: in.EmailAddress}
	for _, fd := range f.Start {
		if fd.Name == "firstName" {
			if err := in.checkProfile(); err != nil {
				return nil, err
			}
			d.Profile = &profile{FirstName: in.FirstName, MiddleName: in.MiddleName, LastName: in.LastName,
				Country: in.Country, AcceptedTerms: true}
		}
	}
	return d, nil
}

// Step fires event on the flow id of subject with the event's input. It
// checks the input before any Ratio call, records the call it is about to
// make, makes it, moves the flow along the edge of the call's outcome,
// persists the new state with an audit entry, then runs the automatic
// steps that follow. The returned view says what the user must do next.
//
// A Ratio failure that leaves the flow where it was (a wrong code, a 429, a
// 5xx) is a *StepError returned with the view; one that moves it (409 on
// the phone, a JWT expired) is not an error. Step returns ErrNotFound for
// another subject's flow, a *NotPermittedError for an event the state does
// not permit, a *ratio.InputError for bad input, ErrConcurrentStep when
// another step won the race, a *WaitError when the step must wait, and
// ErrExpired when the flow passed its deadline.
func (e *Engine) Step(ctx context.Context, id, subject string, event transitions.Event, in Input) (*View, error) {
	return e.StepKeyed(ctx, id, subject, event, "", in)
}

// StepKeyed is Step made safe to retry after its answer was lost: the
// flow keeps key (a client's Idempotency-Key) with the step it applied, so
// the same event retried with the same key, in this process or another,
// is not made again: it answers as the step did (the view, with the
// automatic steps that follow made, and the step's error rebuilt from its
// outcome), where Step would refuse it as not permitted in the state the
// step led to, or make it a second time. A new attempt needs a new key.
// An empty key is Step.
func (e *Engine) StepKeyed(ctx context.Context, id, subject string, event transitions.Event, key string,
	in Input) (*View, error) {
	if err := checkRef(id, subject); err != nil {
		return nil, err
	}
	if r := e.cached(id, subject); r != nil {
		r.stepKey = keyHash(key)
		first := in // the step may normalize its input
		v, err := r.step(ctx, event, &first)
		if err == nil || r.writes > 0 {
			return v, err
		}
		// Nothing was written: the cached copy may have been stale, and
		// the answer must come from the flow as stored.
		e.cache.drop(id)
	}
	r, err := e.load(ctx, id, subject)
	if err != nil {
		return nil, err
	}
	r.stepKey = keyHash(key)
	return r.step(ctx, event, &in)
}

// step is Step on a loaded flow. From here on the step no longer depends
// on its caller: a caller that goes away (a frontend dropping its request)
// does not cut short a Ratio call or the write of its answer, and the flow
// moves exactly as if the caller had stayed. Each write is bounded by
// writeTimeout and each Ratio call by Policy.CallTimeout instead.
func (r *run) step(ctx context.Context, event transitions.Event, in *Input) (*View, error) {
	ctx = context.WithoutCancel(ctx)
	if err := r.prepare(ctx); err != nil {
		return r.viewOrNil(), err
	}
	if r.applied(event) {
		return r.replay(ctx) // this very request was applied; its answer was lost
	}
	t, ok := r.c.flow.Find(r.rec.State, event)
	if !ok || event == transitions.Expire {
		return r.view(), r.notPermitted(event)
	}
	if err := r.checkInput(t, in); err != nil {
		return r.view(), err
	}
	r.chain = true // the automatic steps follow at once
	if err := r.fire(ctx, t, in); err != nil {
		return r.view(), err
	}
	err := r.autos(ctx)
	return r.view(), err
}

// Get returns the view of flow id of subject. A flow past its deadline is
// moved to Expired first.
func (e *Engine) Get(ctx context.Context, id, subject string) (*View, error) {
	if err := checkRef(id, subject); err != nil {
		return nil, err
	}
	r, err := e.load(ctx, id, subject)
	if err != nil {
		return nil, err
	}
	if err := r.expireIfDue(ctx); err != nil && !errors.Is(err, ErrExpired) {
		return nil, err
	}
	return r.view(), nil
}

// Cancel moves flow id of subject to Canceled. It returns ErrEnded if the
// flow already ended.
func (e *Engine) Cancel(ctx context.Context, id, subject string) (*View, error) {
	return e.Step(ctx, id, subject, transitions.Cancel, Input{})
}

// Resume brings flow id of subject up to date after an interruption: it
// reconciles a Ratio call left pending by a process that died, expires the
// flow if it is due, and runs the automatic steps its state calls for.
// Any process may resume any flow.
func (e *Engine) Resume(ctx context.Context, id, subject string) (*View, error) {
	if err := checkRef(id, subject); err != nil {
		return nil, err
	}
	r, err := e.load(ctx, id, subject)
	if err != nil {
		return nil, err
	}
	return r.resume(context.WithoutCancel(ctx)) // as in run.step
}

// resume is Resume on a loaded flow: reconcile, expire if due, then the
// automatic steps.
func (r *run) resume(ctx context.Context) (*View, error) {
	if err := r.prepare(ctx); err != nil {
		return r.viewOrNil(), err
	}
	r.chain = true
	err := r.autos(ctx)
	return r.view(), err
}

// History returns the audit history of flow id of subject: one entry per
// transition and per attempt that left the state unchanged, never a secret.
func (e *Engine) History(ctx context.Context, id, subject string) ([]store.HistoryEntry, error) {
	if err := checkRef(id, subject); err != nil {
		return nil, err
	}
	if _, err := e.load(ctx, id, subject); err != nil {
		return nil, err
	}
	h, err := e.store.History(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("history of flow %s: %w", id, err)
	}
	return h, nil
}

// Sweep expires up to limit flows whose deadline passed and returns how
// many it moved to Expired. Several sweepers may run at once, in one
// process or many: the store hands each flow to one of them.
func (e *Engine) Sweep(ctx context.Context, limit int) (int, error) {
	recs, err := e.store.ClaimExpired(ctx, e.now(), limit, time.Minute)
	if err != nil {
		return 0, fmt.Errorf("claim expired flows: %w", err)
	}
	n := 0
	for _, rec := range recs {
		c, ok := e.flows[transitions.Kind(rec.Kind)]
		if !ok {
			continue
		}
		d, err := e.sealer.open(rec.ID, rec.Data)
		if err != nil {
			d = &data{} // expire it all the same; the view will be bare
		}
		r := &run{e: e, c: c, rec: rec, d: d}
		if err := r.expireIfDue(ctx); errors.Is(err, ErrExpired) {
			n++
		} else if err != nil && !errors.Is(err, ErrConcurrentStep) {
			return n, err
		}
	}
	return n, nil
}

// load reads a flow, checks its subject and graph version and opens its data.
func (e *Engine) load(ctx context.Context, id, subject string) (*run, error) {
	rec, err := e.store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Subject != subject) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", id, err)
	}
	return e.open(rec)
}

// open readies a stored flow for a step or a view: its compiled table, a
// record migrated to that table's version, and its data, from the cache
// when this engine wrote the version read.
func (e *Engine) open(rec *store.Record) (*run, error) {
	c, ok := e.flows[transitions.Kind(rec.Kind)]
	if !ok {
		return nil, fmt.Errorf("flow %s: %w %q", rec.ID, ErrUnknownKind, rec.Kind)
	}
	if err := c.migrate(rec); err != nil {
		return nil, fmt.Errorf("flow %s: %w", rec.ID, err)
	}
	d := e.cache.get(rec.ID, rec.Version)
	if d == nil {
		var err error
		if d, err = e.openData(rec); err != nil {
			return nil, fmt.Errorf("flow %s: %w", rec.ID, err)
		}
	}
	return &run{e: e, c: c, rec: rec, d: d}, nil
}

// openData opens rec's sealed data. An ended flow whose data a retention
// policy scrubbed (store.Retention.KeepData) has none: it opens empty,
// and its view shows its state and times only.
func (e *Engine) openData(rec *store.Record) (*data, error) {
	if rec.Data == nil && rec.State.Terminal() {
		return &data{}, nil
	}
	return e.sealer.open(rec.ID, rec.Data)
}

// cached returns flow id of subject as this engine last wrote it, without
// reading the store, or nil. The copy may be stale: see dataCache.
func (e *Engine) cached(id, subject string) *run {
	rec, d := e.cache.latest(id)
	if rec == nil || rec.Subject != subject || rec.Pending != nil {
		return nil
	}
	c, ok := e.flows[transitions.Kind(rec.Kind)]
	if !ok || rec.GraphVersion != c.version {
		return nil
	}
	return &run{e: e, c: c, rec: rec, d: d}
}

// deadline is when a flow in its current state expires: the earlier of
// the flow's time to live and the state's, to the microsecond a store
// keeps.
func (e *Engine) deadline(rec *store.Record, d *data) time.Time {
	end := rec.CreatedAt.Add(e.policy.FlowTTL)
	if st := d.EnteredAt.Add(e.policy.StateTTL); st.Before(end) {
		end = st
	}
	return end.Truncate(time.Microsecond)
}

// newID returns 128 random bits, hex encoded.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newFlowID returns a flow ID created at now: 128 bits, hex encoded, laid
// out as a UUIDv7's (RFC 9562) without its version bits: the 48 bits of
// the Unix time in milliseconds, then 80 random bits. Flows started
// together then sit together in every index keyed by ID (the stores' keys,
// the SQLite store's history), so the writes of the flows in progress
// touch a few pages instead of one page each, and a batch of them costs
// the SQLite store a few page writes. 80 random bits keep IDs unguessable
// (and a flow is only ever shown to its subject).
func newFlowID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// storeClock returns now (time.Now if nil) in UTC, truncated to the
// microsecond: the times the engine sets on a flow are then the ones a
// store gives back, and a view built after a write shows the same times
// as one built from a later read, in any process.
func storeClock(now func() time.Time) func() time.Time {
	if now == nil {
		now = time.Now
	}
	return func() time.Time { return now().UTC().Truncate(time.Microsecond) }
}
