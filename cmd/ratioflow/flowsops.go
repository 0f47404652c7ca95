package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/store"
)

func flowsShow(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "show", "ID [--json]",
		"Show one stored flow: its record, its view (with the seal key) and its audit history.")
	jsonOut := c.fs.Bool("json", false, "print the record, view and history as one JSON object")
	id, err := c.parseID(args)
	if err != nil {
		return err
	}
	st, rec, hist, err := c.recordAndHistory(ctx, id)
	if err != nil {
		return err
	}
	defer st.Close()
	v, why := c.view(ctx, st, rec)
	if *jsonOut {
		return json.NewEncoder(e.stdout).Encode(struct {
			Record  recordJSON           `json:"record"`
			View    *flow.View           `json:"view,omitempty"`
			History []store.HistoryEntry `json:"history"`
		}{toJSON(rec), v, hist})
	}
	printRecord(e.stdout, rec)
	fmt.Fprintln(e.stdout)
	if v != nil {
		printView(e.stdout, v)
	} else {
		fmt.Fprintf(e.stdout, "view: not shown: %s\n", why)
	}
	fmt.Fprintln(e.stdout)
	printHistory(e.stdout, hist)
	return nil
}

// view reads the flow's view through an engine with the store's seal key,
// or says why it cannot. It never changes the flow: one past its deadline
// is not read (the engine would expire it).
func (c *flowsCmd) view(ctx context.Context, st store.Store, rec *store.Record) (*flow.View, string) {
	if !rec.Terminal() && !time.Now().Before(rec.ExpiresAt) {
		return nil, "the flow is past its deadline; the next step, resume or 'ratioflow flows sweep' expires it"
	}
	eng, closeRatio, err := c.engine(ctx, st, "")
	if errors.Is(err, errNoSealKey) {
		return nil, "no seal key to open the flow's data (" + err.Error() + ")"
	}
	if err != nil {
		return nil, err.Error()
	}
	defer closeRatio()
	v, err := eng.Get(ctx, rec.ID, rec.Subject)
	if errors.Is(err, flow.ErrSealed) {
		return nil, "the seal keys do not open this flow's data (" + err.Error() + "): set " + envSealKeys +
			" to include the key of the process that wrote it"
	}
	if err != nil {
		return nil, err.Error()
	}
	return v, ""
}

func printRecord(w io.Writer, r *store.Record) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("flow", r.ID)
	row("kind", r.Kind)
	row("state", string(r.State))
	row("subject", r.Subject)
	row("version", fmt.Sprint(r.Version))
	row("graph", r.GraphVersion)
	row("created", stamp(r.CreatedAt))
	row("updated", stamp(r.UpdatedAt))
	if r.Terminal() {
		row("ended", stamp(r.EndedAt))
	} else {
		row("expires", stamp(r.ExpiresAt))
	}
	if p := r.Pending; p != nil {
		row("pending", fmt.Sprintf("%s (%s) since %s", p.Call, p.Event, stamp(p.StartedAt)))
	}
	if r.Data == nil && r.Terminal() {
		row("data", "dropped by a retention policy (flows purge --keep-data)")
	}
	tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05.000 MST")
}

// printView prints what a frontend sees of the flow.
func printView(w io.Writer, v *flow.View) {
	fmt.Fprintf(w, "view: %s", v.State)
	if v.Terminal {
		fmt.Fprint(w, " (ended)")
	}
	fmt.Fprintln(w)
	var next []string
	for _, n := range v.Next {
		s := string(n.Event)
		if len(n.Fields) > 0 {
			s += "(" + strings.Join(n.Fields, ", ") + ")"
		}
		if n.Auto {
			s += " [auto]"
		}
		next = append(next, s)
	}
	if len(next) > 0 {
		fmt.Fprintf(w, "  next      %s\n", strings.Join(next, ", "))
	}
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-9s %s\n", k, v)
		}
	}
	field("wallet", v.WalletAddress)
	field("phone", mask(v.PhoneMask))
	field("email", v.EmailMask)
	if v.User != nil {
		field("user", strings.TrimSpace(v.User.ID+" "+v.User.FirstName+" "+v.User.LastName))
	}
	field("wallets", strings.Join(v.Wallets, ", "))
	if v.RetryAt != nil {
		field("retry at", stamp(*v.RetryAt))
	}
	if v.Last != nil {
		last := string(v.Last.Event) + ": " + string(v.Last.Outcome)
		if v.Last.Status != 0 {
			last += fmt.Sprintf(" (%d %s)", v.Last.Status, v.Last.Code)
		}
		if v.Last.Message != "" {
			last += ": " + v.Last.Message
		}
		field("last", last)
	}
	if v.NextFlow != "" {
		field("next flow", string(v.NextFlow))
	}
}

func mask(m string) string {
	if m == "" {
		return ""
	}
	return "ending in " + m
}

func printHistory(w io.Writer, hist []store.HistoryEntry) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tAT\tEVENT\tFROM -> TO\tOUTCOME\tRATIO CALL\tANSWER\tTIME")
	for _, h := range hist {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s -> %s\t%s\t%s\t%s\t%s\n", h.Seq, h.At.Local().Format("15:04:05.000"), h.Event,
			h.From, h.To, h.Outcome, h.Call, statusCode(h), millis(h.Duration))
	}
	tw.Flush()
}

func statusCode(h store.HistoryEntry) string {
	if h.Status == 0 {
		return ""
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", h.Status, h.Code))
}

func flowsResume(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "resume", "ID [--ratio URL]", `
Bring one stored flow up to date after an interruption, as any process may:
settle a Ratio call its process left pending when it died, expire it if due,
and run the automatic steps its state calls for. It calls Ratio, so it needs
--ratio or RATIO_BASE_URL (with RATIO_CLIENT_ID and RATIO_CLIENT_SECRET), and
the seal key of the process that wrote the flow.`)
	ratioURL := c.fs.String("ratio", "", "Ratio or sandbox base URL (default $"+envRatioURL+")")
	pendingTimeoutFlag(c.fs, &c.policy.PendingTimeout)
	id, err := c.parseID(args)
	if err != nil {
		return err
	}
	if c.policy.PendingTimeout <= 0 {
		return usageErrorf(c.name, "--pending-timeout must be positive")
	}
	url := firstNonEmpty(*ratioURL, e.getenv(envRatioURL))
	if url == "" {
		return fmt.Errorf("resume calls Ratio: give --ratio URL or set %s (a flow the demo started against "+
			"its in-process sandbox cannot be resumed: that sandbox ended with the demo)", envRatioURL)
	}
	return c.act(ctx, id, url, func(eng *flow.Engine, rec *store.Record) (*flow.View, error) {
		return eng.Resume(ctx, rec.ID, rec.Subject)
	})
}

func flowsCancel(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "cancel", "ID", "Move one stored flow to Canceled. It needs the seal key of the process that wrote it.")
	id, err := c.parseID(args)
	if err != nil {
		return err
	}
	return c.act(ctx, id, "", func(eng *flow.Engine, rec *store.Record) (*flow.View, error) {
		v, err := eng.Cancel(ctx, rec.ID, rec.Subject)
		if errors.Is(err, flow.ErrEnded) {
			return nil, fmt.Errorf("flow %s already ended in %s", rec.ID, rec.State)
		}
		return v, err
	})
}

// act runs one engine call on flow id as its subject and prints the view.
func (c *flowsCmd) act(ctx context.Context, id, ratioURL string, do func(*flow.Engine, *store.Record) (*flow.View, error)) error {
	st, rec, err := c.record(ctx, id)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, closeRatio, err := c.engine(ctx, st, ratioURL)
	if err != nil {
		return err
	}
	defer closeRatio()
	v, err := do(eng, rec)
	if v != nil {
		fmt.Fprintf(c.env.stdout, "flow %s (%s): %s -> %s\n", rec.ID, rec.Kind, rec.State, v.State)
		printView(c.env.stdout, v)
	}
	return err
}

func flowsSweep(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "sweep", "[--limit N]",
		"Expire the stored flows past their deadline (any number of sweepers may run at once).\nIt needs the store's seal key.")
	limit := c.fs.Int("limit", 1000, "expire at most this many")
	if err := noArgs(c.fs, args); err != nil {
		return err
	}
	if *limit < 1 {
		return usageErrorf(c.name, "--limit must be at least 1")
	}
	st, err := openExistingStore(ctx, c.store())
	if err != nil {
		return err
	}
	defer st.Close()
	eng, closeRatio, err := c.engine(ctx, st, "")
	if err != nil {
		return err
	}
	defer closeRatio()
	n, err := eng.Sweep(ctx, *limit)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "expired %s\n", count(n, "flow"))
	return nil
}

func flowsPurge(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "purge", "[--keep-data D] [--keep-history D]", purgeAbout)
	var keep store.Retention
	retentionFlags(c.fs, &keep)
	if err := noArgs(c.fs, args); err != nil {
		return err
	}
	if err := checkRetention(c.name, keep); err != nil {
		return err
	}
	if keep == (store.Retention{}) {
		return usageErrorf(c.name, "give --keep-data, --keep-history or both: with neither, every ended flow is kept")
	}
	st, err := openExistingStore(ctx, c.store())
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.Purge(ctx, time.Now(), keep)
	if err != nil {
		return fmt.Errorf("purge %s: %w", c.store(), err)
	}
	fmt.Fprintf(e.stdout, "scrubbed the data of %s, deleted %s with their history, deleted %s\n",
		count(res.Scrubbed, "ended flow"), count(res.Deleted, "ended flow"), count(res.Keys, "expired idempotency key"))
	return nil
}

const purgeAbout = `Apply a retention policy to the ended flows (Linked, SignedIn, Expired,
Canceled, Failed...), counted from when each ended:

  --keep-data D      after D, drop a flow's sealed data (what remains of the
                     wallet, phone and email it used), keep its record and
                     audit history
  --keep-history D   after D, delete the flow with its audit history

A flow that has not ended is never touched; expire the stale ones first
with 'ratioflow flows sweep'. The idempotency keys whose ttl passed are
deleted too. Purge needs no seal key, and any number of purges may run at
once. 'ratioflow serve' takes the same flags and applies them at every
--sweep.`

// retentionFlags adds --keep-data and --keep-history, into keep.
func retentionFlags(fs *flag.FlagSet, keep *store.Retention) {
	fs.DurationVar(&keep.KeepData, "keep-data", 0,
		"drop the sealed data of flows that ended longer ago than this, keeping their record and history (0: never)")
	fs.DurationVar(&keep.KeepHistory, "keep-history", 0,
		"delete the flows that ended longer ago than this, with their history (0: never)")
}

// checkRetention refuses negative retention durations.
func checkRetention(cmd string, keep store.Retention) error {
	switch {
	case keep.KeepData < 0:
		return usageErrorf(cmd, "--keep-data must not be negative")
	case keep.KeepHistory < 0:
		return usageErrorf(cmd, "--keep-history must not be negative")
	}
	return nil
}

// offlineRatio is the Ratio of commands that must not call it: every call
// fails, so a step that needs Ratio stays where it was.
type offlineRatio struct{}

var errOffline = errors.New("this command does not call Ratio")

func (offlineRatio) StartWallet(context.Context, ratio.Secret, ratio.StartWalletRequest) (*ratio.StartWalletResponse, error) {
	return nil, errOffline
}

func (offlineRatio) AuthenticateWallet(context.Context, ratio.Secret, ratio.AuthenticateWalletRequest) (*ratio.AuthResponse, error) {
	return nil, errOffline
}

func (offlineRatio) AddWalletToUser(context.Context, ratio.Secret, ratio.AddWalletRequest) (*ratio.AddWalletResponse, error) {
	return nil, errOffline
}

func (offlineRatio) SendSMS(context.Context, ratio.Secret, ratio.SendSMSRequest) (*ratio.SendSMSResponse, error) {
	return nil, errOffline
}

func (offlineRatio) AuthenticateSMS(context.Context, ratio.Secret, ratio.AuthenticateSMSRequest) (*ratio.AuthResponse, error) {
	return nil, errOffline
}

func (offlineRatio) SendEmail(context.Context, ratio.Secret, ratio.SendEmailRequest) (*ratio.SendEmailResponse, error) {
	return nil, errOffline
}

func (offlineRatio) AuthenticateEmail(context.Context, ratio.Secret, ratio.AuthenticateEmailRequest) (*ratio.AuthResponse, error) {
	return nil, errOffline
}

func (offlineRatio) CreateUser(context.Context, ratio.Secret, ratio.CreateUserRequest) (*ratio.User, error) {
	return nil, errOffline
}

func (offlineRatio) GetUser(context.Context, ratio.Secret, string) (*ratio.User, error) {
	return nil, errOffline
}

func (offlineRatio) ListWallets(context.Context, ratio.Secret, string) (*ratio.Wallets, error) {
	return nil, errOffline
}
