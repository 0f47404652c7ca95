package backend

import (
	"fmt"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// ListSQL returns the WHERE ... ORDER BY ... LIMIT tail of a List query on
// the flows table and its arguments, with $N placeholders (which both
// PostgreSQL and SQLite accept). timeArg converts a time to the column's
// representation. The LIMIT is one more than the page size, so that the
// caller learns whether another page follows without an empty last page.
func ListSQL(q store.Query, after Cursor, hasAfter bool, timeArg func(time.Time) any) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, vals ...any) {
		ph := make([]any, len(vals))
		for i, v := range vals {
			args = append(args, v)
			ph[i] = len(args)
		}
		conds = append(conds, fmt.Sprintf(cond, ph...))
	}
	if q.Kind != "" {
		add("kind = $%d", q.Kind)
	}
	if q.State != "" {
		add("state = $%d", string(q.State))
	}
	if q.Subject != "" {
		add("subject = $%d", q.Subject)
	}
	if q.Running {
		add("ended_at IS NULL")
	}
	if !q.CreatedBefore.IsZero() {
		add("created_at < $%d", timeArg(Micro(q.CreatedBefore)))
	}
	if !q.CreatedAfter.IsZero() {
		add("created_at > $%d", timeArg(Micro(q.CreatedAfter)))
	}
	order, past := "created_at, id", ">"
	if q.Descending {
		// The indexes on (…, created_at, id) serve this order too, read
		// backwards.
		order, past = "created_at DESC, id DESC", "<"
	}
	if hasAfter {
		add("(created_at, id) "+past+" ($%d, $%d)", timeArg(after.CreatedAt), after.ID)
	}
	var b strings.Builder
	if len(conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(conds, " AND "))
	}
	args = append(args, q.PageSize()+1)
	fmt.Fprintf(&b, " ORDER BY %s LIMIT $%d", order, len(args))
	return b.String(), args
}

// Page cuts recs, read with the LIMIT of ListSQL, to the page size of q and
// sets the token of the next page if there is one.
func Page(q store.Query, recs []*store.Record) store.Page {
	n := q.PageSize()
	if len(recs) <= n {
		return store.Page{Records: recs}
	}
	recs = recs[:n]
	last := recs[n-1]
	return store.Page{Records: recs, NextPageToken: Cursor{CreatedAt: last.CreatedAt, ID: last.ID, Descending: q.Descending}.Token()}
}

// ByExpiry orders records as ClaimExpired returns them: by ExpiresAt, then
// ID.
func ByExpiry(a, b *store.Record) int {
	if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
