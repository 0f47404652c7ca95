// Command resumecost measures what resuming a flow costs as a store grows:
// it seeds PostgreSQL and SQLite stores of each size (by default 1000 and
// 10000 flows: 90% ended with their histories, 9% running, 1% running
// past their deadline), then times, sample after sample from one size to
// the next, a step of a running flow (a real Engine.Step against the sandbox,
// on an engine that has never seen the flow), a page of the running flows
// (flows list --running), one subject's page (Engine.List's store query)
// and a sweep of the due flows (ClaimExpired alone, and Engine.Sweep). It
// prints p50 and p99 for each, the ratio of each size's to the first
// size's, the query plan of every statement the measures run on the
// largest store, and the disk size of the stores.
//
//	go run ./internal/cmd/resumecost -sizes 1000,1000000 \
//	    -postgres postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//
// Seeding is bulk and outside the timing: COPY into a schema of its own
// on PostgreSQL, dropped at the end, and one transaction of prepared
// inserts into a file of a temporary directory on SQLite, removed at the
// end. A million flows take about 3 GB on each database while it runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "resumecost:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	sizes           []int
	postgres        string
	sqlite          bool
	dir             string
	rounds, samples int
	batch           int
	statement       bool
}

func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("resumecost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	sizes := fs.String("sizes", "1000,10000", "comma-separated store sizes, in flows; ratios are against the first")
	fs.StringVar(&o.postgres, "postgres", os.Getenv("RATIOFLOW_TEST_POSTGRES"), "PostgreSQL URL (default $RATIOFLOW_TEST_POSTGRES); empty skips PostgreSQL")
	fs.BoolVar(&o.sqlite, "sqlite", true, "measure SQLite")
	fs.StringVar(&o.dir, "dir", os.TempDir(), "where the SQLite files go")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each measures every size in turn")
	fs.IntVar(&o.samples, "samples", 200, "samples of each measure per round (the sweeps take a quarter)")
	fs.IntVar(&o.batch, "batch", 10, "due flows one sweep claims (the first size must have that many)")
	fs.BoolVar(&o.statement, "sql", false, "print each planned statement's SQL")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 100 {
			return nil, fmt.Errorf("-sizes: %q is not a size of at least 100 flows", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.rounds < 1 || o.samples < 1 || o.batch < 1 {
		return nil, errors.New("-rounds, -samples and -batch must be at least 1")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	sb := newSandbox()
	defer sb.srv.Close()
	type db struct {
		name string
		open func(n int) (target, error)
	}
	var dbs []db
	if o.postgres != "" {
		dbs = append(dbs, db{"PostgreSQL", func(n int) (target, error) { return openPG(ctx, o.postgres, n) }})
	}
	if o.sqlite {
		dbs = append(dbs, db{"SQLite", func(n int) (target, error) { return openSQLite(ctx, o.dir, n) }})
	}
	for _, d := range dbs {
		if err := measureDB(ctx, o, sb, d.name, d.open, stdout, stderr); err != nil {
			return err
		}
	}
	return nil
}

// measureDB seeds a store of each size on one database, measures them
// round after round, and prints the figures, the plans and the sizes.
func measureDB(ctx context.Context, o *options, sb *sandboxRatio, name string, open func(int) (target, error),
	stdout, stderr io.Writer) (err error) {
	var runners []*runner
	defer func() {
		for _, r := range runners {
			if cerr := r.t.close(context.WithoutCancel(ctx)); err == nil {
				err = cerr
			}
		}
	}()
	sizes := make([]int64, len(o.sizes))
	for i, n := range o.sizes {
		t, err := open(n)
		if err != nil {
			return fmt.Errorf("%s: open a store for %d flows: %w", name, n, err)
		}
		d := newDataset(n, time.Now())
		start := time.Now()
		if err := t.seed(ctx, d); err != nil {
			t.close(context.WithoutCancel(ctx))
			return fmt.Errorf("%s: seed %d flows: %w", name, n, err)
		}
		fmt.Fprintf(stderr, "%s: seeded %d flows in %s\n", name, n, time.Since(start).Round(time.Millisecond))
		r, err := newRunner(ctx, t, d, sb, o.batch)
		if err != nil {
			t.close(context.WithoutCancel(ctx))
			return err
		}
		runners = append(runners, r)
		if sizes[i], err = t.size(ctx); err != nil {
			return fmt.Errorf("%s: size: %w", name, err)
		}
	}
	for i := range o.rounds {
		fmt.Fprintf(stderr, "%s: round %d of %d\n", name, i+1, o.rounds)
		if err := round(ctx, runners, o.samples); err != nil {
			return err
		}
	}
	printFigures(stdout, name, o.sizes, runners)
	last := runners[len(runners)-1]
	stmts, err := last.t.(interface {
		statements(context.Context, *runner) ([]stmt, error)
	}).statements(ctx, last)
	if err != nil {
		return fmt.Errorf("%s: record the statements: %w", name, err)
	}
	plans, err := last.t.explain(ctx, stmts)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	printPlans(stdout, name, o.sizes[len(o.sizes)-1], plans, o.statement)
	fmt.Fprintf(stdout, "\n%s disk size (flows and history, with indexes):\n", name)
	for i, n := range o.sizes {
		fmt.Fprintf(stdout, "  %d flows: %s, %s per 1M flows\n", n, mib(sizes[i]), mib(sizes[i]*1_000_000/int64(n)))
	}
	fmt.Fprintln(stdout)
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

// printFigures prints a Markdown table: each measure at each size, with
// its ratio to the first size's.
func printFigures(w io.Writer, name string, sizes []int, runners []*runner) {
	fmt.Fprintf(w, "\n%s, samples per measure and size: %d (steps, pages), %d (sweeps)\n\n", name,
		len(runners[0].samples[mStep]), len(runners[0].samples[mSweep]))
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "| measure\t flows\t p50 ms\t p99 ms\t p50 ÷ first\t p99 ÷ first\t")
	fmt.Fprintln(tw, "|---\t---\t---\t---\t---\t---\t")
	for m := range numMeasures {
		base50, base99 := percentile(runners[0].samples[m], 50), percentile(runners[0].samples[m], 99)
		for i, r := range runners {
			p50, p99 := percentile(r.samples[m], 50), percentile(r.samples[m], 99)
			fmt.Fprintf(tw, "| %s\t %d\t %s\t %s\t %.2f\t %.2f\t\n", measureNames[m], sizes[i], ms(p50), ms(p99),
				float64(p50)/float64(base50), float64(p99)/float64(base99))
		}
	}
	tw.Flush()
}

// printPlans prints each statement's plan, and whether it reads a table
// whole.
func printPlans(w io.Writer, name string, n int, plans []plan, withSQL bool) {
	fmt.Fprintf(w, "\n%s query plans at %d flows:\n", name, n)
	for _, p := range plans {
		verdict := "indexes only"
		if p.seqScan {
			verdict = "READS A TABLE WHOLE"
		}
		fmt.Fprintf(w, "\n  %s: %s\n", p.what, verdict)
		if withSQL {
			fmt.Fprintf(w, "    SQL: %s\n", strings.Join(strings.Fields(p.sql), " "))
		}
		for _, l := range p.lines {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}
