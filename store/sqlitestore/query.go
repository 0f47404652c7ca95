package sqlitestore

import (
	"context"
	"slices"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

// List implements store.Store.
func (s *Store) List(ctx context.Context, q store.Query) (store.Page, error) {
	after, hasAfter, err := backend.ListToken(q)
	if err != nil {
		return store.Page{}, err
	}
	if err := s.begin(ctx); err != nil {
		return store.Page{}, err
	}
	if backend.MatchesNothing(q) {
		return store.Page{}, nil
	}
	tail, args := backend.ListSQL(q, after, hasAfter, timeArg)
	rows, err := s.read.QueryContext(ctx, `SELECT `+flowCols+` FROM flows`+tail, args...)
	if err != nil {
		return store.Page{}, s.fail(ctx, "list flows", err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return store.Page{}, s.fail(ctx, "list flows", err)
	}
	return backend.Page(q, recs), nil
}

// ClaimExpired implements store.Store with one UPDATE ... RETURNING
// statement, which the writer runs in the transaction of its batch:
// concurrent sweepers, in this process or another, are serialised by the
// write lock.
func (s *Store) ClaimExpired(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*store.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, nil
	}
	now = backend.Micro(now)
	args := []any{micros(backend.Micro(now.Add(lease))), micros(now), limit}
	var recs []*store.Record
	err := s.w.do(newRequest(ctx, false, func(ctx context.Context, c *writeConn) error {
		st, err := c.stmt(ctx, claimExpired)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		recs, err = scanRecords(rows)
		return err
	}))
	if err != nil {
		return nil, s.fail(ctx, "claim expired flows", err)
	}
	// RETURNING does not follow the ORDER BY of the subquery.
	slices.SortFunc(recs, backend.ByExpiry)
	return recs, nil
}

// claimExpired leases up to $3 expired running flows, unclaimed at $2,
// until $1.
const claimExpired = `UPDATE flows SET claimed_until = $1
	WHERE id IN (
		SELECT id FROM flows
		WHERE ended_at IS NULL AND expires_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
		ORDER BY expires_at, id LIMIT $3)
	RETURNING ` + flowCols

// purgeBatch bounds the rows one Purge statement touches, so that a large
// purge never holds the write lock for long.
const purgeBatch = 500

// Purge implements store.Store in batches of purgeBatch records, each
// batch one statement, which the writer runs as it runs any write.
func (s *Store) Purge(ctx context.Context, now time.Time, policy store.Retention) (store.PurgeResult, error) {
	var res store.PurgeResult
	if err := s.begin(ctx); err != nil {
		return res, err
	}
	dataCutoff, historyCutoff := backend.Cutoffs(now, policy)
	batches := []struct {
		cutoff time.Time
		sql    string
		count  *int
	}{
		// Deleting a flow deletes its history (ON DELETE CASCADE).
		{historyCutoff, `DELETE FROM flows WHERE id IN (
			SELECT id FROM flows WHERE ended_at < $1 LIMIT $2)`, &res.Deleted},
		{dataCutoff, `UPDATE flows SET data = NULL, pending = NULL, version = version + 1 WHERE id IN (
			SELECT id FROM flows WHERE ended_at < $1 AND (data IS NOT NULL OR pending IS NOT NULL) LIMIT $2)`, &res.Scrubbed},
		// Whatever the policy: the idempotency keys expired at now.
		{backend.Micro(now), `DELETE FROM idempotency_keys WHERE key IN (
			SELECT key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`, &res.Keys},
	}
	for _, b := range batches {
		if b.cutoff.IsZero() {
			continue
		}
		for {
			var n int64
			err := s.w.do(newRequest(ctx, false, func(ctx context.Context, c *writeConn) error {
				r, err := c.execResult(ctx, b.sql, micros(b.cutoff), purgeBatch)
				if err != nil {
					return err
				}
				n, err = r.RowsAffected()
				return err
			}))
			if err != nil {
				return res, s.fail(ctx, "purge", err)
			}
			*b.count += int(n)
			if n < purgeBatch {
				break
			}
		}
	}
	return res, nil
}
