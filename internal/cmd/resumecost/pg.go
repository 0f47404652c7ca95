package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/transitions"
)

// pgTarget is a seeded store in a PostgreSQL schema of its own, dropped
// by close.
type pgTarget struct {
	dsn, schema string
	admin       *pgx.Conn // on the schema, for seeding, resets and EXPLAIN
	st          *pgstore.Store
	pool        *pgxpool.Pool
	trace       *tracer
}

func openPG(ctx context.Context, dsn string, n int) (*pgTarget, error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := fmt.Sprintf("ratioflow_resume_%d_%s", n, hex.EncodeToString(b[:]))
	root, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer root.Close(ctx)
	if _, err := root.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, fmt.Errorf("create schema: %w", err)
	}
	t := &pgTarget{dsn: withSearchPath(dsn, schema), schema: schema, trace: &tracer{}}
	if err := t.open(ctx); err != nil {
		t.close(ctx)
		return nil, err
	}
	return t, nil
}

func (t *pgTarget) open(ctx context.Context) error {
	cfg, err := pgstore.ParseConfig(t.dsn)
	if err != nil {
		return err
	}
	cfg.ConnConfig.Tracer = t.trace
	if t.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	t.st = pgstore.New(t.pool)
	if err := t.st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if t.admin, err = pgx.Connect(ctx, t.dsn); err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return nil
}

// withSearchPath returns dsn (a URL) with search_path set to schema.
func withSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func (t *pgTarget) name() string       { return "PostgreSQL" }
func (t *pgTarget) store() store.Store { return t.st }

// seed loads the dataset with COPY, the history's foreign key unchecked
// (the dataset is consistent by construction), then vacuums and analyzes
// the tables as autovacuum would have in a store that grew to this size.
func (t *pgTarget) seed(ctx context.Context, d *dataset) error {
	if _, err := t.admin.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		return err
	}
	var rows [][]any
	flush := func(table string, cols []string) error {
		_, err := t.admin.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		rows = rows[:0]
		return err
	}
	flowCols := []string{"id", "kind", "graph_version", "state", "version", "subject", "data", "created_at",
		"updated_at", "expires_at", "ended_at", "history_seq"}
	err := d.each(func(f *seedFlow) error {
		r := &f.rec
		rows = append(rows, []any{r.ID, r.Kind, r.GraphVersion, string(r.State), r.Version, r.Subject,
			append([]byte(nil), r.Data...), r.CreatedAt, r.UpdatedAt, pgTime(r.ExpiresAt), pgTime(r.EndedAt), f.seq})
		if len(rows) == 10000 {
			return flush("flows", flowCols)
		}
		return nil
	})
	if err == nil {
		err = flush("flows", flowCols)
	}
	if err != nil {
		return fmt.Errorf("copy flows: %w", err)
	}
	histCols := []string{"flow_id", "seq", "at", "from_state", "event", "to_state", "outcome", "call", "status",
		"code", "duration_ns"}
	err = d.each(func(f *seedFlow) error {
		for _, h := range f.hist {
			rows = append(rows, []any{f.rec.ID, h.Seq, h.At, string(h.From), h.Event, string(h.To), h.Outcome,
				h.Call, int32(h.Status), h.Code, int64(h.Duration)})
		}
		if len(rows) >= 50000 {
			return flush("flow_history", histCols)
		}
		return nil
	})
	if err == nil {
		err = flush("flow_history", histCols)
	}
	if err != nil {
		return fmt.Errorf("copy history: %w", err)
	}
	for _, q := range []string{"RESET session_replication_role", "VACUUM ANALYZE flows", "VACUUM ANALYZE flow_history"} {
		if _, err := t.admin.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func pgTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// deleteFlows removes flows made by the measures, with their history.
func (t *pgTarget) deleteFlows(ctx context.Context, ids []string) error {
	_, err := t.admin.Exec(ctx, "DELETE FROM flows WHERE id = ANY($1)", ids)
	return err
}

// rearm puts the due flows back as they were seeded: running, unclaimed,
// past their deadline, without the entries a sweep added.
func (t *pgTarget) rearm(ctx context.Context, due []dueFlow) error {
	b := &pgx.Batch{}
	for _, f := range due {
		b.Queue(`UPDATE flows SET state = $2, ended_at = NULL, claimed_until = NULL, expires_at = $3,
			history_seq = $4, pending = NULL WHERE id = $1`, f.id, f.state, f.expires, f.seq)
		b.Queue(`DELETE FROM flow_history WHERE flow_id = $1 AND seq > $2`, f.id, f.seq)
	}
	return t.admin.SendBatch(ctx, b).Close()
}

// dueFlows returns the first n due flows, in the order ClaimExpired takes
// them.
func (t *pgTarget) dueFlows(ctx context.Context, now time.Time, n int) ([]dueFlow, error) {
	rows, err := t.admin.Query(ctx, `SELECT id, state, expires_at, history_seq FROM flows
		WHERE ended_at IS NULL AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`, now, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (dueFlow, error) {
		var f dueFlow
		return f, r.Scan(&f.id, &f.state, &f.expires, &f.seq)
	})
}

// explain returns the plan of each statement the store ran while the
// tracer recorded: the plan for its arguments, and the generic plan, which
// PostgreSQL may choose for a prepared statement (pgx prepares each) after
// five runs; a plan that differs is shown as a second plan.
func (t *pgTarget) explain(ctx context.Context, stmts []stmt) ([]plan, error) {
	var plans []plan
	for _, mode := range []string{"auto", "force_generic_plan"} {
		if _, err := t.admin.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
			return nil, err
		}
		for i, s := range stmts {
			explain := "EXPLAIN "
			if mode == "auto" && strings.HasPrefix(s.sql, "SELECT") {
				explain = "EXPLAIN (ANALYZE, BUFFERS) " // a read: run it, to show its time and pages
			}
			rows, err := t.admin.Query(ctx, explain+s.sql, s.args...)
			if err != nil {
				return nil, fmt.Errorf("explain %s: %w", s.what, err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return nil, fmt.Errorf("explain %s: %w", s.what, err)
			}
			p := plan{what: s.what, sql: s.sql, lines: lines, seqScan: pgSeqScan(lines)}
			if mode == "auto" {
				plans = append(plans, p)
			} else if shape(lines) != shape(plans[i].lines) {
				p.what += " (generic plan)"
				plans = append(plans, p)
			}
		}
	}
	_, err := t.admin.Exec(ctx, "RESET plan_cache_mode")
	return plans, err
}

// shape is a plan without its costs and values: its nodes.
func shape(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		if node, _, ok := strings.Cut(l, "  (cost="); ok {
			b.WriteString(node + "\n")
		}
	}
	return b.String()
}

// pgSeqScan reports whether a plan reads a table whole.
func pgSeqScan(lines []string) bool {
	for _, l := range lines {
		if strings.Contains(l, "Seq Scan") {
			return true
		}
	}
	return false
}

// size returns the bytes of the flows and flow_history tables with their
// indexes and TOAST.
func (t *pgTarget) size(ctx context.Context) (int64, error) {
	var n int64
	err := t.admin.QueryRow(ctx, `SELECT pg_total_relation_size('flows') + pg_total_relation_size('flow_history')`).Scan(&n)
	return n, err
}

// tidy vacuums the tables, index entries included: the sweeps' resets
// update the same few rows over and over, leaving dead versions of them
// at the head of the indexes that a store of a million flows, whose
// autovacuum waits for a fifth of its rows to change, keeps for long
// after the thousand-flow store's autovacuum removed them. A store in
// service churns evenly and is vacuumed as it goes.
func (t *pgTarget) tidy(ctx context.Context) error {
	_, err := t.admin.Exec(ctx, "VACUUM (INDEX_CLEANUP ON) flows, flow_history")
	return err
}

// close drops the schema and everything in it.
func (t *pgTarget) close(ctx context.Context) error {
	if t.admin != nil {
		t.admin.Close(ctx)
	}
	if t.pool != nil {
		t.pool.Close()
	}
	root, err := pgx.Connect(ctx, t.dsn)
	if err != nil {
		return err
	}
	defer root.Close(ctx)
	_, err = root.Exec(ctx, "DROP SCHEMA "+t.schema+" CASCADE")
	return err
}

// tracer records the statements the store's pool runs while on, with the
// arguments of their first run, for EXPLAIN.
type tracer struct {
	mu    sync.Mutex
	on    string // what is being recorded; empty: nothing
	stmts []stmt
	seen  map[string]bool
}

// stmt is a statement the store ran.
type stmt struct {
	what, sql string
	args      []any
}

func (tr *tracer) record(what string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.on = what
	if tr.seen == nil {
		tr.seen = map[string]bool{}
	}
}

func (tr *tracer) take() []stmt {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.on = ""
	s := tr.stmts
	tr.stmts = nil
	return s
}

// TraceQueryStart implements pgx.QueryTracer.
func (tr *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.on != "" && !tr.seen[d.SQL] {
		tr.seen[d.SQL] = true
		tr.stmts = append(tr.stmts, stmt{what: tr.on, sql: d.SQL, args: d.Args})
	}
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (tr *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// statements records the statements the store runs for one of each
// measure, with their arguments.
func (t *pgTarget) statements(ctx context.Context, r *runner) ([]stmt, error) {
	flows, err := r.prepare(ctx, 1)
	if err != nil {
		return nil, err
	}
	defer t.deleteFlows(ctx, []string{flows[0].id})
	ops := []struct {
		what string
		op   func() error
	}{
		{measureNames[mStep], func() error {
			f := flows[0]
			_, err := r.eng.Step(ctx, f.id, f.subject, transitions.SubmitPhone, flow.Input{PhoneNumber: f.phone})
			return err
		}},
		{measureNames[mRunningFirst], func() error {
			_, err := t.st.List(ctx, store.Query{Running: true, Limit: runningPage})
			return err
		}},
		{measureNames[mRunningLater], func() error {
			_, err := t.st.List(ctx, store.Query{Running: true, Limit: runningPage, PageToken: r.later})
			return err
		}},
		{measureNames[mSubject], func() error {
			_, err := t.st.List(ctx, store.Query{Subject: subject(1), Limit: subjectPage})
			return err
		}},
		{measureNames[mClaim], func() error {
			_, err := t.st.ClaimExpired(ctx, time.Now(), r.batch, time.Minute)
			return err
		}},
	}
	var all []stmt
	for _, o := range ops {
		t.trace.record(o.what)
		err := o.op()
		stmts := t.trace.take()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.what, err)
		}
		for _, s := range stmts {
			s.what = o.what
			all = append(all, s)
		}
	}
	return all, t.rearm(ctx, r.due)
}
