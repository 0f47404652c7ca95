package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

// sqliteTarget is a seeded store in a SQLite file of a temporary
// directory, removed by close.
type sqliteTarget struct {
	dir, path string
	st        *sqlitestore.Store
	admin     *sql.DB // for seeding, resets and EXPLAIN QUERY PLAN
}

func openSQLite(ctx context.Context, parent string, n int) (*sqliteTarget, error) {
	dir, err := os.MkdirTemp(parent, fmt.Sprintf("ratioflow-resume-%d-", n))
	if err != nil {
		return nil, err
	}
	t := &sqliteTarget{dir: dir, path: filepath.Join(dir, "flows.db")}
	if t.st, err = sqlitestore.Open(ctx, t.path); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// The store's settings, without the foreign keys: the dataset is
	// consistent by construction, and the resets delete history first.
	t.admin, err = sql.Open("sqlite", strings.Replace(sqlitestore.DSN(t.path), "foreign_keys(ON)", "foreign_keys(OFF)", 1))
	if err != nil {
		t.close(ctx)
		return nil, err
	}
	t.admin.SetMaxOpenConns(1)
	return t, nil
}

func (t *sqliteTarget) name() string       { return "SQLite" }
func (t *sqliteTarget) store() store.Store { return t.st }

// micro is a time as the SQLite store keeps it; NULL for the zero time.
func micro(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// seed loads the dataset in one transaction of prepared inserts.
func (t *sqliteTarget) seed(ctx context.Context, d *dataset) error {
	tx, err := t.admin.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insFlow, err := tx.PrepareContext(ctx, `INSERT INTO flows (id, kind, graph_version, state, version, subject, data,
		created_at, updated_at, expires_at, ended_at, history_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`)
	if err != nil {
		return err
	}
	insHist, err := tx.PrepareContext(ctx, `INSERT INTO flow_history (flow_id, seq, at, from_state, event, to_state,
		outcome, call, status, code, duration_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`)
	if err != nil {
		return err
	}
	err = d.each(func(f *seedFlow) error {
		r := &f.rec
		if _, err := insFlow.ExecContext(ctx, r.ID, r.Kind, r.GraphVersion, string(r.State), r.Version, r.Subject, r.Data,
			r.CreatedAt.UnixMicro(), r.UpdatedAt.UnixMicro(), micro(r.ExpiresAt), micro(r.EndedAt), f.seq); err != nil {
			return err
		}
		for _, h := range f.hist {
			if _, err := insHist.ExecContext(ctx, r.ID, h.Seq, h.At.UnixMicro(), string(h.From), h.Event, string(h.To),
				h.Outcome, h.Call, h.Status, h.Code, int64(h.Duration)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert flows: %w", err)
	}
	return tx.Commit()
}

func (t *sqliteTarget) deleteFlows(ctx context.Context, ids []string) error {
	tx, err := t.admin.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM flow_history WHERE flow_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM flows WHERE id = $1`, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (t *sqliteTarget) rearm(ctx context.Context, due []dueFlow) error {
	tx, err := t.admin.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, f := range due {
		if _, err := tx.ExecContext(ctx, `UPDATE flows SET state = $2, ended_at = NULL, claimed_until = NULL,
			expires_at = $3, history_seq = $4, pending = NULL WHERE id = $1`, f.id, f.state, f.expires.UnixMicro(), f.seq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM flow_history WHERE flow_id = $1 AND seq > $2`, f.id, f.seq); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (t *sqliteTarget) dueFlows(ctx context.Context, now time.Time, n int) ([]dueFlow, error) {
	rows, err := t.admin.QueryContext(ctx, `SELECT id, state, expires_at, history_seq FROM flows
		WHERE ended_at IS NULL AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`, now.UnixMicro(), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var due []dueFlow
	for rows.Next() {
		var (
			f  dueFlow
			us int64
		)
		if err := rows.Scan(&f.id, &f.state, &us, &f.seq); err != nil {
			return nil, err
		}
		f.expires = time.UnixMicro(us).UTC()
		due = append(due, f)
	}
	return due, rows.Err()
}

// explain returns the query plan of each statement. The statements are
// the PostgreSQL store's, as recorded, which the SQLite store shares for
// reads (List's SQL comes from one builder), with the SQLite store's own
// claim; times become microseconds.
func (t *sqliteTarget) explain(ctx context.Context, stmts []stmt) ([]plan, error) {
	var plans []plan
	for _, s := range stmts {
		args := make([]any, len(s.args))
		for i, a := range s.args {
			if tm, ok := a.(time.Time); ok {
				a = tm.UnixMicro()
			}
			args[i] = a
		}
		rows, err := t.admin.QueryContext(ctx, "EXPLAIN QUERY PLAN "+s.sql, args...)
		if err != nil {
			return nil, fmt.Errorf("explain %s: %w", s.what, err)
		}
		var lines []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				rows.Close()
				return nil, err
			}
			lines = append(lines, detail)
		}
		rows.Close()
		plans = append(plans, plan{what: s.what, sql: s.sql, lines: lines, seqScan: sqliteFullScan(lines)})
	}
	return plans, nil
}

// sqliteFullScan reports whether a plan reads a table whole, or sorts
// what an index should have given in order.
func sqliteFullScan(lines []string) bool {
	for _, l := range lines {
		if (strings.HasPrefix(l, "SCAN ") && !strings.Contains(l, " USING ")) || strings.Contains(l, "TEMP B-TREE") {
			return true
		}
	}
	return false
}

// size checkpoints the WAL into the file and returns the file's size
// with its WAL's.
func (t *sqliteTarget) size(ctx context.Context) (int64, error) {
	if _, err := t.admin.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return 0, err
	}
	var n int64
	for _, p := range []string{t.path, t.path + "-wal"} {
		fi, err := os.Stat(p)
		if err == nil {
			n += fi.Size()
		}
	}
	return n, nil
}

// tidy has nothing to do: SQLite removes index entries as it deletes
// them.
func (t *sqliteTarget) tidy(context.Context) error { return nil }

func (t *sqliteTarget) close(context.Context) error {
	if t.admin != nil {
		t.admin.Close()
	}
	if t.st != nil {
		t.st.Close()
	}
	return os.RemoveAll(t.dir)
}

// sqliteFlowCols are the columns the SQLite store reads of a flow.
const sqliteFlowCols = `id, kind, graph_version, state, version, subject, data, pending,
	created_at, updated_at, expires_at, ended_at`

// statements returns the statements the SQLite store runs for the
// measures, as store/sqlitestore writes them (List's from the builder it
// shares with the PostgreSQL store), with arguments for this store.
func (t *sqliteTarget) statements(_ context.Context, r *runner) ([]stmt, error) {
	now := time.Now().UnixMicro()
	sel := `SELECT ` + sqliteFlowCols + ` FROM flows`
	return []stmt{
		{measureNames[mStep] + ": load", sel + ` WHERE id = $1`, []any{r.due[0].id}},
		{measureNames[mStep] + ": compare-and-swap", `UPDATE flows SET graph_version = $3, state = $4, data = $5, pending = $6,
		updated_at = $7, expires_at = $8, ended_at = $9,
		version = version + 1, history_seq = history_seq + $10, claimed_until = NULL
		WHERE id = $1 AND version = $2
		RETURNING history_seq`, []any{r.due[0].id, 1, "", "", nil, nil, now, now, nil, 1}},
		{measureNames[mRunningFirst], sel + ` WHERE ended_at IS NULL ORDER BY created_at, id LIMIT $1`, []any{runningPage + 1}},
		{measureNames[mRunningLater], sel + ` WHERE ended_at IS NULL AND (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3`,
			[]any{now, r.due[0].id, runningPage + 1}},
		{measureNames[mSubject], sel + ` WHERE subject = $1 ORDER BY created_at, id LIMIT $2`, []any{subject(1), subjectPage + 1}},
		{measureNames[mClaim], `UPDATE flows SET claimed_until = $1
	WHERE id IN (
		SELECT id FROM flows
		WHERE ended_at IS NULL AND expires_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
		ORDER BY expires_at, id LIMIT $3)
	RETURNING ` + sqliteFlowCols, []any{now, now, r.batch}},
	}, nil
}
