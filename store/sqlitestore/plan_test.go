package sqlitestore

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

// The reads a step, a page, a subject's page and a sweep make must each
// go straight to their rows through an index, so that they cost the same
// with a thousand flows or a million (internal/cmd/resumecost measures
// it). SQLite's plans do not depend on the data without ANALYZE, which
// the store never runs: an empty file shows the plans of a full one.
func TestQueryPlans_UseIndexes(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	micro := func(t time.Time) any { return micros(t) }
	list := func(q store.Query, after *backend.Cursor) (string, []any) {
		tail, args := backend.ListSQL(q, ptrOr(after), after != nil, micro)
		return `SELECT ` + flowCols + ` FROM flows` + tail, args
	}
	id := "0190a1b2c3d4e5f60718293a4b5c6d7e"
	tests := []struct {
		name, want string // want: the index the plan must search or walk
		sql        string
		args       []any
	}{
		{name: "get", want: "sqlite_autoindex_flows_1", sql: `SELECT ` + flowCols + ` FROM flows WHERE id = $1`, args: []any{id}},
		{name: "claim expired", want: "flows_expiry", sql: claimExpired, args: []any{micros(now), micros(now), 100}},
	}
	for _, q := range []struct {
		name, want string
		q          store.Query
		after      *backend.Cursor
	}{
		{"running, first page", "flows_running", store.Query{Running: true, Limit: 50}, nil},
		{"running, later page", "flows_running", store.Query{Running: true, Limit: 50}, &backend.Cursor{CreatedAt: now, ID: id}},
		{"running, newest first", "flows_running", store.Query{Running: true, Descending: true, Limit: 50}, nil},
		{"running, newest first, later page", "flows_running", store.Query{Running: true, Descending: true, Limit: 50},
			&backend.Cursor{CreatedAt: now, ID: id}},
		{"subject", "flows_subject", store.Query{Subject: "user-1", Limit: 20}, nil},
		{"subject, later page", "flows_subject", store.Query{Subject: "user-1", Limit: 20}, &backend.Cursor{CreatedAt: now, ID: id}},
		{"subject, running", "flows_subject", store.Query{Subject: "user-1", Running: true, Limit: 20}, nil},
	} {
		sql, args := list(q.q, q.after)
		tests = append(tests, struct {
			name, want, sql string
			args            []any
		}{q.name, q.want, sql, args})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tt.sql, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, "INDEX "+tt.want+" ") && !strings.HasSuffix(text, "INDEX "+tt.want) {
				t.Errorf("plan does not use %s:\n%s", tt.want, text)
			}
			if strings.Contains(text, "TEMP B-TREE") {
				t.Errorf("plan sorts what the index should give in order:\n%s", text)
			}
		})
	}
}

func ptrOr(c *backend.Cursor) backend.Cursor {
	if c == nil {
		return backend.Cursor{}
	}
	return *c
}
