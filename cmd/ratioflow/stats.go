package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

const statsAbout = `
Count the traffic of every edge of the stored flows, from their audit
histories: how many flows took each edge and how those flows ended, the
errors they hit and how many of them finished anyway, the share of flows
that reached each ending, where flows stopped (expired, canceled, failed,
or abandoned: still running with no step for longer than --state-ttl) and
the median time spent in each state (within 1%).

--format text answers in words and tables; json gives every figure;
mermaid draws the flow's diagram (of one kind: give --kind when the store
holds several) with the figures on its arrows and states, the busiest
arrows heaviest, in the --view of 'ratioflow diagram': the overview, or
the complete state view. It reads each history entry once, a thousand flows
at a time, and needs no seal key.`

func flowsStats(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "stats", "[--kind K] [--since D] [--state-ttl D] [--format text|json|mermaid] [--view overview|state]", statsAbout)
	kind := c.fs.String("kind", "", "only flows of this kind: "+kindList())
	since := c.fs.Duration("since", 0, "only flows created less than this long ago (e.g. 24h; default all)")
	ttl := c.fs.Duration("state-ttl", flow.DefaultPolicy().StateTTL, "a running flow with no step for longer is abandoned")
	format := c.fs.String("format", "text", "text, json or mermaid")
	view := c.fs.String("view", "overview", "with --format mermaid: overview or state (every edge)")
	if err := noArgs(c.fs, args); err != nil {
		return err
	}
	if *kind != "" {
		if _, err := lookupFlow(c.name, *kind, false); err != nil {
			return err
		}
	}
	switch {
	case *since < 0:
		return usageErrorf(c.name, "--since %s: must not be negative", *since)
	case *ttl <= 0:
		return usageErrorf(c.name, "--state-ttl %s: must be positive", *ttl)
	case *format != "text" && *format != "json" && *format != "mermaid":
		return usageErrorf(c.name, "--format %q: want text, json or mermaid", *format)
	case *view != "overview" && *view != "state":
		return usageErrorf(c.name, "--view %q: want overview or state", *view)
	}
	now := time.Now()
	q := store.Query{Kind: *kind}
	if *since > 0 {
		q.CreatedAfter = now.Add(-*since)
	}
	st, err := openExistingStore(ctx, c.store())
	if err != nil {
		return err
	}
	defer st.Close()
	all, err := flowstats.Read(ctx, st, q, flowstats.Options{StateTTL: *ttl, Now: func() time.Time { return now }})
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(statsJSON{Kinds: nonNil(all), StateTTL: ttl.String(), CreatedAfter: q.CreatedAfter})
	case "mermaid":
		return printStatsMermaid(e.stdout, all, *view)
	}
	if len(all) == 0 {
		fmt.Fprintf(e.stdout, "no flows%s in %s\n", sinceText(q.CreatedAfter), c.store())
	}
	for i, s := range all {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printStats(e.stdout, s, q.CreatedAfter, *ttl)
	}
	return nil
}

// statsJSON is the output of --format json.
type statsJSON struct {
	// CreatedAfter is the --since bound; zero: every flow.
	CreatedAfter time.Time          `json:"createdAfter,omitzero"`
	StateTTL     string             `json:"stateTTL"`
	Kinds        []*flowstats.Stats `json:"kinds"`
}

func nonNil(all []*flowstats.Stats) []*flowstats.Stats {
	if all == nil {
		return []*flowstats.Stats{}
	}
	return all
}

func sinceText(after time.Time) string {
	if after.IsZero() {
		return ""
	}
	return " created since " + after.UTC().Format("2006-01-02 15:04:05 UTC")
}

// printStats prints the figures of one kind for a person.
func printStats(w io.Writer, s *flowstats.Stats, after time.Time, ttl time.Duration) {
	fmt.Fprintf(w, "%s: %s%s; %d finished (%s)\n", s.Kind, count(int(s.Flows), "flow"), sinceText(after), s.Finished, pct(s.Finished, s.Flows))

	fmt.Fprintln(w, "\nHow they ended:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range s.Ends {
		note := ""
		switch c.Ending {
		case flowstats.Running:
			note = "\t(a step in the last " + ttl.String() + ")"
		case flowstats.Abandoned:
			note = "\t(no step for " + ttl.String() + ")"
		}
		fmt.Fprintf(tw, "  %s\t%*d\t%6.1f%%%s\n", c.Ending, digits(s.Flows), c.Flows, 100*c.Share, note)
	}
	tw.Flush()

	printStatsErrors(w, s)
	printStatsEdges(w, s)
	printStatsStates(w, s)
}

// printStatsErrors answers, for each error a flow hit, how many flows hit
// it and how many of those finished.
func printStatsErrors(w io.Writer, s *flowstats.Stats) {
	fmt.Fprintln(w, "\nErrors the flows hit, and how many of those flows finished:")
	n := 0
	for _, es := range s.Edges {
		if es.Flows == 0 || es.Outcome == transitions.OK || es.Outcome == transitions.NewUser {
			continue
		}
		n++
		fmt.Fprintf(w, "  %s hit %s in %s (%s)", count(int(es.Flows), "flow"), errorName(es), es.From, es.Event)
		if es.Times != es.Flows {
			fmt.Fprintf(w, ", %d times", es.Times)
		}
		fmt.Fprintf(w, ": %d finished (%s); ended %s\n", es.Finished, pct(es.Finished, es.Flows), endsText(es.Ends))
	}
	if n == 0 {
		fmt.Fprintln(w, "  none")
	}
}

// errorName is how an error edge reads: its label, else its outcome.
func errorName(es flowstats.EdgeStats) string {
	if es.Label != "" {
		return fmt.Sprintf("%q", es.Label)
	}
	return string(es.Outcome)
}

// printStatsEdges lists the edges taken, in table order.
func printStatsEdges(w io.Writer, s *flowstats.Stats) {
	fmt.Fprintln(w, "\nEdges taken (flows, steps), and how those flows ended:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FLOWS\tSTEPS\tFROM\tEVENT\tOUTCOME\tTO\tENDED")
	for _, es := range s.Edges {
		if es.Times == 0 {
			continue
		}
		outcome := string(es.Outcome)
		if !es.Declared {
			outcome += " (not in the table)"
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%s\t%s\t%s\n", es.Flows, es.Times, es.From, es.Event, outcome, es.To, endsText(es.Ends))
	}
	tw.Flush()
}

// printStatsStates lists the states: stays, median and stops.
func printStatsStates(w io.Writer, s *flowstats.Stats) {
	fmt.Fprintln(w, "\nStates (stays that ended, their median time, and where flows stopped):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STATE\tSTAYS\tMEDIAN\tEXPIRED\tCANCELED\tFAILED\tABANDONED\tRUNNING")
	for _, st := range s.States {
		if st.State.Terminal() {
			continue
		}
		median := "-"
		if st.Stays > 0 {
			median = flowstats.Round(st.Median).String()
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\n", st.State, st.Stays, median,
			st.Expired, st.Canceled, st.Failed, st.Abandoned, st.Running)
	}
	tw.Flush()
}

// endsText lists endings with their counts: "Linked 380, Expired 20".
func endsText(cs []flowstats.Count) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %d", c.Ending, c.Flows))
	}
	return strings.Join(parts, ", ")
}

// pct is n of total as a percentage.
func pct(n, total int64) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

// digits is how many digits n has.
func digits(n int64) int { return len(fmt.Sprint(n)) }

// printStatsMermaid draws the figures of the one kind in all.
func printStatsMermaid(w io.Writer, all []*flowstats.Stats, view string) error {
	switch {
	case len(all) == 0:
		return errors.New("no flows to draw")
	case len(all) > 1:
		return fmt.Errorf("--format mermaid draws one flow, and the store holds %d kinds: give --kind", len(all))
	}
	f, ok := transitions.Lookup(all[0].Kind)
	if !ok {
		return fmt.Errorf("no declared flow %q to draw", all[0].Kind)
	}
	v := visualize.Overview
	if view == "state" {
		v = visualize.Complete
	}
	_, err := io.WriteString(w, visualize.StatsState(f, all[0], v))
	return err
}
