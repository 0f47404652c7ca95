package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

const flowsAbout = `
Operate on the flows persisted in a store (--store URL, else $RATIOFLOW_STORE,
else the demo's SQLite file):

  list               the flows, newest last; filter by kind, state, subject, age
  show ID            a flow's record, its view and its audit history
  audit ID           the audit diagram of a flow (--format overview|state|sequence)
  resume ID          bring a flow up to date after a crash (calls Ratio)
  cancel ID          move a flow to Canceled
  sweep              expire the flows past their deadline
  purge              apply a retention policy to the ended flows
  stats              the traffic of every edge: how flows end, the errors they hit
  reseal             re-seal the flows under the first seal key, so older keys can go

list, audit and purge need no seal key: records and histories hold no
secret. show needs it to show the view; resume, cancel, sweep and reseal need it
to write.`

// flowsCmd is one 'flows' subcommand: its store and the flags they share.
type flowsCmd struct {
	env      *env
	name     string
	fs       *flag.FlagSet
	storeURL *string
	// policy is the engine's, for the subcommands that step flows.
	policy flow.Policy
}

func newFlowsCmd(e *env, sub, usage, about string) *flowsCmd {
	c := &flowsCmd{env: e, name: "flows " + sub}
	c.fs = flagSet(e, c.name, usage, about)
	c.storeURL = c.fs.String("store", "", "store URL (default $"+envStore+", else "+defaultStore()+")")
	return c
}

func runFlows(ctx context.Context, e *env, args []string) error {
	subs := map[string]func(context.Context, *env, []string) error{
		"list": flowsList, "show": flowsShow, "audit": flowsAudit,
		"resume": flowsResume, "cancel": flowsCancel, "sweep": flowsSweep, "purge": flowsPurge,
		"stats": flowsStats, "reseal": flowsReseal,
	}
	if len(args) == 0 {
		return usageErrorf("flows", "flows needs a subcommand: list, show, audit, resume, cancel, sweep, purge, stats or reseal")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: ratioflow flows list|show ID|audit ID|resume ID|cancel ID|sweep|purge|stats|reseal [flags]\n\n%s\n\n"+
			"Run 'ratioflow flows <subcommand> --help' for its flags.\n", strings.TrimSpace(flowsAbout))
		return flag.ErrHelp
	}
	sub, ok := subs[args[0]]
	if !ok {
		return usageErrorf("flows", "unknown flows subcommand %q: list, show, audit, resume, cancel, sweep, purge, stats or reseal", args[0])
	}
	return sub(ctx, e, args[1:])
}

// parseID parses the flags and the one flow ID the subcommand takes.
func (c *flowsCmd) parseID(args []string) (string, error) {
	pos, err := parse(c.fs, args)
	switch {
	case err != nil:
		return "", err
	case len(pos) == 0:
		return "", usageErrorf(c.name, "missing the flow ID")
	case len(pos) > 1:
		return "", usageErrorf(c.name, "unexpected argument %q", pos[1])
	}
	return pos[0], nil
}

func (c *flowsCmd) store() string { return storeOrDefault(c.env, *c.storeURL) }

// record opens the store and reads flow id.
func (c *flowsCmd) record(ctx context.Context, id string) (store.Store, *store.Record, error) {
	st, err := openExistingStore(ctx, c.store())
	if err != nil {
		return nil, nil, err
	}
	rec, err := st.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		st.Close()
		return nil, nil, fmt.Errorf("no flow %s in %s", id, c.store())
	}
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("read flow %s: %w", id, err)
	}
	return st, rec, nil
}

// recordAndHistory is record, with the flow's audit history: empty, not
// nil, for a flow with none yet, so that JSON shows [].
func (c *flowsCmd) recordAndHistory(ctx context.Context, id string) (store.Store, *store.Record, []store.HistoryEntry, error) {
	st, rec, err := c.record(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	hist, err := st.History(ctx, id)
	if err != nil {
		st.Close()
		return nil, nil, nil, fmt.Errorf("read the history of flow %s: %w", id, err)
	}
	if hist == nil {
		hist = []store.HistoryEntry{}
	}
	return st, rec, hist, nil
}

// engine returns an engine on st with the store's seal key, and a
// function that releases its Ratio. Without a Ratio URL its Ratio refuses
// every call: enough to read, cancel and expire flows.
func (c *flowsCmd) engine(ctx context.Context, st store.Store, url string) (*flow.Engine, func(), error) {
	key, err := resolveSealKey(c.env.getenv, c.store(), false)
	if err != nil {
		return nil, nil, err
	}
	if url == "" {
		e, err := flow.New(st, offlineRatio{}, nil, key.options(flow.Options{Policy: c.policy}))
		return e, func() {}, err
	}
	t, err := openRatio(ctx, c.env.getenv, url, sandbox.Config{})
	if err != nil {
		return nil, nil, err
	}
	e, err := flow.New(st, t.client(), nil, key.options(flow.Options{Policy: c.policy}))
	if err != nil {
		t.Close()
		return nil, nil, err
	}
	return e, func() { t.Close() }, nil
}

// pendingTimeoutFlag declares --pending-timeout, the lease of a pending
// Ratio call (flow.Policy.PendingTimeout), with the engine's default.
func pendingTimeoutFlag(fs *flag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "pending-timeout", flow.DefaultPolicy().PendingTimeout,
		"how long a Ratio call left pending by a process that stopped renewing it holds its flow")
}

func flowsList(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "list", "[--kind K] [--state S] [--subject S] [--running] [--older-than D] [--newer-than D] [--limit N] [--json]",
		"List the stored flows, oldest first; --limit keeps the most recently created, read newest\nfirst so that the list costs the same however many flows the store holds.")
	kind := c.fs.String("kind", "", "only flows of this kind: "+kindList())
	state := c.fs.String("state", "", "only flows in this state")
	subject := c.fs.String("subject", "", "only flows of this subject")
	running := c.fs.Bool("running", false, "only flows that have not ended")
	older := c.fs.Duration("older-than", 0, "only flows created more than this long ago (e.g. 1h)")
	newer := c.fs.Duration("newer-than", 0, "only flows created less than this long ago (e.g. 10m)")
	limit := c.fs.Int("limit", 50, "show at most this many, the most recent (0: all, and count them)")
	jsonOut := c.fs.Bool("json", false, "print one JSON object per flow")
	if err := noArgs(c.fs, args); err != nil {
		return err
	}
	if *kind != "" {
		if _, err := lookupFlow(c.name, *kind, false); err != nil {
			return usageErrorf(c.name, "--kind %q: no such flow (flows: %s)", *kind, kindList())
		}
	}
	if *state != "" && !knownState(states.State(*state)) {
		return usageErrorf(c.name, "--state %q: no such state (states: %s)", *state, stateList())
	}
	q := store.Query{Kind: *kind, State: states.State(*state), Subject: *subject, Running: *running,
		Limit: store.MaxPageSize}
	now := time.Now()
	if *older > 0 {
		q.CreatedBefore = now.Add(-*older)
	}
	if *newer > 0 {
		q.CreatedAfter = now.Add(-*newer)
	}
	st, err := openExistingStore(ctx, c.store())
	if err != nil {
		return err
	}
	defer st.Close()
	var (
		recs []*store.Record
		more bool
	)
	if *limit > 0 {
		recs, more, err = newestRecords(ctx, st, q, *limit)
	} else {
		recs, err = listRecords(ctx, st, q)
	}
	if err != nil {
		return err
	}
	if *jsonOut {
		return printRecordsJSON(e.stdout, recs)
	}
	printRecords(e.stdout, recs, now)
	if more {
		fmt.Fprintf(e.stdout, "%s shown, the most recent; more match (--limit 0 shows all)\n", count(len(recs), "flow"))
	} else {
		fmt.Fprintln(e.stdout, count(len(recs), "flow"))
	}
	return nil
}

// newestRecords returns the limit most recently created records q
// matches, oldest first, and whether more match. It reads them newest
// first (store.Query.Descending), so it costs the same whatever the
// store holds.
func newestRecords(ctx context.Context, st store.Store, q store.Query, limit int) ([]*store.Record, bool, error) {
	q.Descending = true
	q.Limit = min(limit+1, store.MaxPageSize)
	var recs []*store.Record
	for len(recs) <= limit {
		page, err := st.List(ctx, q)
		if err != nil {
			return nil, false, fmt.Errorf("list flows: %w", err)
		}
		recs = append(recs, page.Records...)
		if page.NextPageToken == "" {
			break
		}
		q.PageToken = page.NextPageToken
	}
	more := len(recs) > limit
	recs = recs[:min(len(recs), limit)]
	slices.Reverse(recs)
	return recs, more, nil
}

// listRecords pages through every record q matches.
func listRecords(ctx context.Context, st store.Store, q store.Query) ([]*store.Record, error) {
	var recs []*store.Record
	for {
		page, err := st.List(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list flows: %w", err)
		}
		recs = append(recs, page.Records...)
		if page.NextPageToken == "" {
			return recs, nil
		}
		q.PageToken = page.NextPageToken
	}
}

func printRecords(w io.Writer, recs []*store.Record, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tSUBJECT\tCREATED\tUPDATED")
	for _, r := range recs {
		state := string(r.State)
		if r.Pending != nil {
			state += " (" + r.Pending.Call + " pending)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s ago\n", r.ID, r.Kind, state, r.Subject,
			r.CreatedAt.Local().Format(time.DateTime+" MST"), ago(now.Sub(r.UpdatedAt)))
	}
	tw.Flush()
}

// count says "1 flow", "2 flows".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func ago(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// recordJSON is a record as flows list --json and flows show --json print
// it: everything but the sealed data.
type recordJSON struct {
	ID           string             `json:"id"`
	Kind         string             `json:"kind"`
	State        states.State       `json:"state"`
	Terminal     bool               `json:"terminal"`
	Subject      string             `json:"subject"`
	Version      int64              `json:"version"`
	GraphVersion string             `json:"graphVersion"`
	CreatedAt    time.Time          `json:"createdAt"`
	UpdatedAt    time.Time          `json:"updatedAt"`
	ExpiresAt    time.Time          `json:"expiresAt"`
	EndedAt      *time.Time         `json:"endedAt,omitempty"`
	Pending      *store.PendingCall `json:"pending,omitempty"`
}

func toJSON(r *store.Record) recordJSON {
	j := recordJSON{ID: r.ID, Kind: r.Kind, State: r.State, Terminal: r.Terminal(), Subject: r.Subject, Version: r.Version,
		GraphVersion: r.GraphVersion, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ExpiresAt: r.ExpiresAt, Pending: r.Pending}
	if !r.EndedAt.IsZero() {
		j.EndedAt = &r.EndedAt
	}
	if j.Pending != nil {
		j.Pending = &store.PendingCall{Call: r.Pending.Call, Event: r.Pending.Event, StartedAt: r.Pending.StartedAt}
	}
	return j
}

func printRecordsJSON(w io.Writer, recs []*store.Record) error {
	enc := json.NewEncoder(w)
	for _, r := range recs {
		if err := enc.Encode(toJSON(r)); err != nil {
			return err
		}
	}
	return nil
}

func knownState(s states.State) bool {
	for _, k := range states.All() {
		if k == s {
			return true
		}
	}
	return false
}

func stateList() string {
	var ss []string
	for _, s := range states.All() {
		ss = append(ss, string(s))
	}
	return strings.Join(ss, ", ")
}

func flowsAudit(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "audit", "ID [--format overview|state|sequence]",
		"Draw the path one stored flow took, in Mermaid: the flow's overview with the path highlighted\n(overview), the complete state diagram with the path highlighted (state), or the sequence of\nits steps (sequence).")
	format := c.fs.String("format", string(visualize.FormatOverview), "overview, state or sequence")
	id, err := c.parseID(args)
	if err != nil {
		return err
	}
	if err := oneOf(c.name, "format", *format, []string{"overview", "state", "sequence"}); err != nil {
		return err
	}
	st, rec, hist, err := c.recordAndHistory(ctx, id)
	if err != nil {
		return err
	}
	defer st.Close()
	f, ok := transitions.Lookup(transitions.Kind(rec.Kind))
	if !ok {
		return fmt.Errorf("flow %s is of kind %q, which this ratioflow does not declare", id, rec.Kind)
	}
	out, err := visualize.RenderAudit(f, rec, hist, visualize.Format(*format))
	if err != nil {
		return err
	}
	_, err = io.WriteString(e.stdout, out)
	return err
}
