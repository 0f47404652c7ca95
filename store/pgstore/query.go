package pgstore

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
	tail, args := backend.ListSQL(q, after, hasAfter, func(t time.Time) any { return t })
	rows, err := s.pool.Query(ctx, `SELECT `+flowCols+` FROM flows`+tail, args...)
	if err != nil {
		return store.Page{}, s.fail(ctx, "list flows", err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return store.Page{}, s.fail(ctx, "list flows", err)
	}
	return backend.Page(q, recs), nil
}

// ClaimExpired implements store.Store. Each sweeper locks the rows it
// claims with FOR UPDATE SKIP LOCKED, so concurrent sweepers pass over each
// other's rows instead of waiting for them; a row another sweeper claimed
// and committed meanwhile fails the re-checked WHERE clause.
func (s *Store) ClaimExpired(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*store.Record, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, nil
	}
	now = backend.Micro(now)
	rows, err := s.pool.Query(ctx, `WITH due AS MATERIALIZED (
			SELECT id FROM flows
			WHERE ended_at IS NULL AND expires_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
			ORDER BY expires_at, id
			LIMIT $3
			FOR UPDATE SKIP LOCKED)
		UPDATE flows SET claimed_until = $1 FROM due WHERE flows.id = due.id
		RETURNING `+qualified, backend.Micro(now.Add(lease)), now, limit)
	if err != nil {
		return nil, s.fail(ctx, "claim expired flows", err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, s.fail(ctx, "claim expired flows", err)
	}
	// RETURNING does not follow the ORDER BY of the CTE.
	slices.SortFunc(recs, backend.ByExpiry)
	return recs, nil
}

// qualified is flowCols qualified by the flows table, for statements that
// join another relation with an id column.
const qualified = `flows.id, flows.kind, flows.graph_version, flows.state, flows.version, flows.subject,
	flows.data, flows.pending, flows.created_at, flows.updated_at, flows.expires_at, flows.ended_at`

// purgeBatch bounds the rows one Purge statement touches, so that a large
// purge holds few locks at a time.
const purgeBatch = 500

// Purge implements store.Store in batches of purgeBatch records, each
// batch one statement. The conditions are repeated outside the subquery so
// that PostgreSQL re-checks them on rows changed by a concurrent Purge.
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
		{historyCutoff, `DELETE FROM flows WHERE ended_at < $1 AND id IN (
			SELECT id FROM flows WHERE ended_at < $1 LIMIT $2)`, &res.Deleted},
		{dataCutoff, `UPDATE flows SET data = NULL, pending = NULL, version = version + 1
			WHERE ended_at < $1 AND (data IS NOT NULL OR pending IS NOT NULL) AND id IN (
			SELECT id FROM flows WHERE ended_at < $1 AND (data IS NOT NULL OR pending IS NOT NULL) LIMIT $2)`, &res.Scrubbed},
		// Whatever the policy: the idempotency keys expired at now.
		{backend.Micro(now), `DELETE FROM idempotency_keys WHERE expires_at <= $1 AND key IN (
			SELECT key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`, &res.Keys},
	}
	for _, b := range batches {
		if b.cutoff.IsZero() {
			continue
		}
		for {
			tag, err := s.pool.Exec(ctx, b.sql, b.cutoff, purgeBatch)
			if err != nil {
				return res, s.fail(ctx, "purge", err)
			}
			*b.count += int(tag.RowsAffected())
			if tag.RowsAffected() < purgeBatch {
				break
			}
		}
	}
	return res, nil
}
