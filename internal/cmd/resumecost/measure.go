package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// target is a seeded store and what the measures do to it behind the
// store's back: remove the flows they made, put the swept flows back.
type target interface {
	name() string
	store() store.Store
	seed(ctx context.Context, d *dataset) error
	deleteFlows(ctx context.Context, ids []string) error
	dueFlows(ctx context.Context, now time.Time, n int) ([]dueFlow, error)
	rearm(ctx context.Context, due []dueFlow) error
	explain(ctx context.Context, stmts []stmt) ([]plan, error)
	size(ctx context.Context) (int64, error)
	// tidy removes what the previous round's resets left behind, as a
	// database's own housekeeping would in a store that churns as much.
	tidy(ctx context.Context) error
	close(ctx context.Context) error
}

// dueFlow is a seeded due flow as it was before a sweep.
type dueFlow struct {
	id, state string
	expires   time.Time
	seq       int64
}

// plan is the query plan of one statement.
type plan struct {
	what, sql string
	lines     []string
	seqScan   bool
}

// The measures, in the order of the table.
const (
	mStep = iota
	mRunningFirst
	mRunningLater
	mSubject
	mClaim
	mSweep
	numMeasures
)

var measureNames = [numMeasures]string{
	"step (Engine.Step submit_phone)",
	"running flows, first page",
	"running flows, later page",
	"one subject's page",
	"claim due flows (ClaimExpired)",
	"sweep due flows (Engine.Sweep)",
}

// Page sizes: the running page is a page of 50 (flows list --running
// asks for 1000, which the 1k store does not have), the subject's page is
// flow.List's default.
const (
	runningPage = 50
	subjectPage = flow.DefaultListLimit
)

// sandboxRatio is one sandbox answering at once, shared by every engine.
type sandboxRatio struct {
	srv    *httptest.Server
	phones atomic.Uint64
}

func newSandbox() *sandboxRatio {
	h := sandbox.NewHandler(sandbox.Config{ClientID: "ratioflow", ClientSecret: "resume"})
	return &sandboxRatio{srv: httptest.NewServer(h)}
}

func (s *sandboxRatio) client() *ratio.Client {
	return ratio.NewClient(s.srv.URL, "ratioflow", "resume")
}

// phone returns a number no flow of this run used: +1 202 NXX XXXX.
func (s *sandboxRatio) phone() string {
	j := s.phones.Add(1) % (800 * 10000)
	return fmt.Sprintf("+1202%03d%04d", 200+j/10000, j%10000)
}

// sealKey seals the flows the measures start; the seeded ones hold random
// bytes of a sealed flow's size, which no measure opens.
var sealKey = []byte("resume-cost-seal-key-32-bytes!!!")

// runner measures one seeded target.
type runner struct {
	t         target
	d         *dataset
	sb        *sandboxRatio
	prep, eng *flow.Engine // prep readies the flows eng steps, as another replica would
	later     string       // the token of a page in the middle of the running flows
	due       []dueFlow
	batch     int
	samples   [numMeasures][]time.Duration
}

func newRunner(ctx context.Context, t target, d *dataset, sb *sandboxRatio, batch int) (*runner, error) {
	r := &runner{t: t, d: d, sb: sb, batch: batch}
	var err error
	if r.prep, err = flow.New(t.store(), sb.client(), sealKey, flow.Options{}); err != nil {
		return nil, err
	}
	if r.eng, err = flow.New(t.store(), sb.client(), sealKey, flow.Options{}); err != nil {
		return nil, err
	}
	_, running, due := d.counts()
	if r.later, err = r.tokenAfter(ctx, (running+due)/2); err != nil {
		return nil, fmt.Errorf("page to the middle of the running flows: %w", err)
	}
	if r.due, err = t.dueFlows(ctx, time.Now(), batch); err != nil {
		return nil, fmt.Errorf("read the due flows: %w", err)
	}
	if len(r.due) < batch {
		return nil, fmt.Errorf("%d due flows, fewer than a batch of %d: seed more flows or lower -batch", len(r.due), batch)
	}
	return r, nil
}

// tokenAfter returns the page token that continues the running flows
// after the first n.
func (r *runner) tokenAfter(ctx context.Context, n int) (string, error) {
	q := store.Query{Running: true, Limit: store.MaxPageSize}
	for n > 0 {
		q.Limit = min(n, store.MaxPageSize)
		p, err := r.t.store().List(ctx, q)
		if err != nil {
			return "", err
		}
		if p.NextPageToken == "" {
			return "", fmt.Errorf("only %d running flows", len(p.Records))
		}
		n -= len(p.Records)
		q.PageToken = p.NextPageToken
	}
	return q.PageToken, nil
}

// op is one sample of a measure on one store: the timed call, and what
// puts the store back afterwards, untimed (nil: nothing).
type op struct {
	run, reset func() error
}

// ops returns the calls of each measure on r's store for a round of k
// samples, after readying the k+1 flows the steps take (one warms the
// statements up), and what deletes them at the end of the round.
func (r *runner) ops(ctx context.Context, k int) ([numMeasures]op, func() error, error) {
	var ops [numMeasures]op
	flows, err := r.prepare(ctx, k+1)
	if err != nil {
		return ops, nil, fmt.Errorf("%s: ready flows to step: %w", r.t.name(), err)
	}
	done := func() error {
		ids := make([]string, len(flows))
		for j, f := range flows {
			ids[j] = f.id
		}
		if err := r.t.deleteFlows(ctx, ids); err != nil {
			return fmt.Errorf("%s: delete the stepped flows: %w", r.t.name(), err)
		}
		return nil
	}
	// A step on a flow the step engine has never seen: it loads it from
	// the store, as a replica resuming a flow another one started.
	next := 0
	ops[mStep].run = func() error {
		f := flows[next]
		next++
		v, err := r.eng.Step(ctx, f.id, f.subject, transitions.SubmitPhone, flow.Input{PhoneNumber: f.phone})
		if err == nil && v.State != states.SmsSent {
			err = fmt.Errorf("state %s, want %s", v.State, states.SmsSent)
		}
		return err
	}
	st := r.t.store()
	list := func(q store.Query) func() error {
		return func() error {
			p, err := st.List(ctx, q)
			if err == nil && len(p.Records) == 0 {
				err = fmt.Errorf("empty page")
			}
			return err
		}
	}
	ops[mRunningFirst].run = list(store.Query{Running: true, Limit: runningPage})
	ops[mRunningLater].run = list(store.Query{Running: true, Limit: runningPage, PageToken: r.later})
	var seq uint64
	ops[mSubject].run = func() error {
		seq++
		_, err := st.List(ctx, store.Query{Subject: subject(int(seq*7919) % r.d.subjects), Limit: subjectPage})
		return err
	}
	rearm := func() error { return r.t.rearm(ctx, r.due) }
	ops[mClaim] = op{func() error {
		recs, err := st.ClaimExpired(ctx, time.Now(), r.batch, time.Minute)
		if err == nil && len(recs) != r.batch {
			err = fmt.Errorf("claimed %d flows, want %d", len(recs), r.batch)
		}
		return err
	}, rearm}
	ops[mSweep] = op{func() error {
		n, err := r.eng.Sweep(ctx, r.batch)
		if err == nil && n != r.batch {
			err = fmt.Errorf("expired %d flows, want %d", n, r.batch)
		}
		return err
	}, rearm}
	return ops, done, nil
}

// round takes k samples of every measure on every runner's store (a
// quarter as many sweeps, at least 10), sample after sample from one
// store to the next, so that whatever else the machine does weighs on
// every size alike. The first call of each measure on each store warms
// its statements up and is not timed.
func round(ctx context.Context, runners []*runner, k int) (err error) {
	ops := make([][numMeasures]op, len(runners))
	for i, r := range runners {
		if err := r.t.tidy(ctx); err != nil {
			return fmt.Errorf("%s: tidy: %w", r.t.name(), err)
		}
		var done func() error
		if ops[i], done, err = r.ops(ctx, k); err != nil {
			return err
		}
		defer func() {
			if derr := done(); err == nil {
				err = derr
			}
		}()
	}
	for m := range numMeasures {
		n := k
		if m == mClaim || m == mSweep {
			n = max(k/4, 10)
		}
		for i := range n + 1 {
			for j, r := range runners {
				o := ops[j][m]
				start := time.Now()
				if err := o.run(); err != nil {
					return fmt.Errorf("%s: %s: %w", r.t.name(), measureNames[m], err)
				}
				if i > 0 {
					r.samples[m] = append(r.samples[m], time.Since(start))
				}
				if o.reset != nil {
					if err := o.reset(); err != nil {
						return fmt.Errorf("%s: reset after %s: %w", r.t.name(), measureNames[m], err)
					}
				}
			}
		}
	}
	return nil
}

// ready is a flow the prep engine took to WalletAuthed.
type ready struct{ id, subject, phone string }

// prepare starts k link flows on the prep engine and signs their wallet
// challenges: each waits in WalletAuthed for its phone number.
func (r *runner) prepare(ctx context.Context, k int) ([]ready, error) {
	out := make([]ready, 0, k)
	for i := range k {
		key, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		subj := fmt.Sprintf("resume-%d", i)
		v, err := r.prep.Start(ctx, transitions.KindLink, subj, flow.Input{WalletAddress: crypto.PubkeyToAddress(key.PublicKey).Hex()})
		if err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
		sig, err := ratio.SignPersonal(key, v.Challenge)
		if err != nil {
			return nil, err
		}
		if v, err = r.prep.Step(ctx, v.ID, subj, transitions.Sign, flow.Input{Signature: sig}); err != nil || v.State != states.WalletAuthed {
			return nil, fmt.Errorf("sign: %v, state %v", err, v)
		}
		out = append(out, ready{id: v.ID, subject: subj, phone: r.sb.phone()})
	}
	return out, nil
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}
